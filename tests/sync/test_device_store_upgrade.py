"""Upgrades never lose a phone's work: a phone database of the first release (schema version 1),
with commands and photos not yet sent, is migrated when the new app opens it and then syncs
everything — once — to a live server; a database of a newer app is refused and left as it was;
every user's store on a shared device migrates (``sync/device_migrations.py``)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from fieldapp.device import DeviceSession
from fieldapp.viewmodels.sync_status import SyncStatus
from sync import device_migrations
from sync.client import SyncClient, device_identity
from sync.device_migrations import LATEST, Migration, NewerStore
from sync.device_store import DeviceStore
from tests.conftest import Backend
from tests.support.device_worker import (
    add_photo,
    edit_description,
    record_case,
    small_jpeg,
    sync_until_quiet,
)
from tests.support.live_server import LiveServer, fresh_live_server
from tests.support.release_store import RELEASE_1_SCHEMA, as_release_1, schema_of
from tests.support.server_ledger import ServerLedger

ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the phone's part

NOW = datetime(2026, 11, 3, 2, tzinfo=UTC)


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    yield from fresh_live_server(backend, tmp_path)


def ledger_of(live: LiveServer) -> ServerLedger:
    return ServerLedger(Path(live.db_url.removeprefix("sqlite:///")), live.photo_dir)


def offline_work(store: DeviceStore, shelf: Path, seed: int) -> tuple[list[str], dict[str, str]]:
    """Three cases recorded offline, two photos each and one edit: case ids, sha256 → case."""
    cases, photos = [], {}
    for n in range(3):
        case_id = str(uuid.uuid4())
        record_case(store, case_id=case_id, description=f"升级前未同步 {seed}-{n}", now=NOW)
        for k in range(2):
            data = small_jpeg(seed * 100 + n * 10 + k)
            photos[add_photo(store, case_id=case_id, data=data, photo_dir=shelf, now=NOW)] = case_id
        cases.append(case_id)
    edit_description(store, case_id=cases[0], value="升级前改过的描述", now=NOW)
    return cases, photos


def assert_arrived_once(
    ledger: ServerLedger,
    store: DeviceStore,
    cases: list[str],
    photos: dict[str, str],
    files: dict[str, Path],
    gone: str | None = None,
) -> None:
    """Every case, command and photo on the server once (``gone``: a photo whose file was lost
    on the phone; its link arrives, its bytes cannot, and the phone shows it under 同步问题)."""
    held = ledger.cases()
    assert set(cases) <= set(held), "a case recorded before the upgrade never arrived"
    created = [e.case_id for e in ledger.events() if e.kind == "CaseCreated" and e.case_id in cases]
    assert sorted(created) == sorted(cases), "a case was created twice or not at all"
    assert held[cases[0]]["description"] == "升级前改过的描述"
    commands = store.commands()
    assert commands and all(c.status == "applied" for c in commands)
    results = ledger.results(store.get("device_id") or "")
    assert sorted(results) == [c.id for c in commands], "a command lost or applied twice"
    stored, links = ledger.photos(), ledger.links()
    for sha, case_id in photos.items():
        assert (sha, case_id) in links
        if sha != gone:
            assert stored.get(sha, (False, 0))[0], f"photo {sha[:12]} never uploaded"
            assert ledger.photo_bytes(sha) == files[sha].read_bytes()
    assert not store.photos_to_upload()
    assert [(p.sha256, p.refused) for p in store.refused_photos()] == (
        [(gone, "照片文件不在本机 / the photo's file is no longer on this device")] if gone else []
    )


def release_phone(
    tmp_path: Path,
    live: LiveServer,
    username: str,
    target: Path,
    *,
    seed: int,
    moved: bool,
    identity: tuple[str, str] | None = None,
) -> tuple[list[str], dict[str, str], dict[str, Path]]:
    """A phone of the first release at ``target``: registered, synced once, then offline work
    with photos; ``moved``: its data directory has moved since (the paths it stored are gone).
    ``identity``: (client id, user id) of a shared device's per-user store."""
    scratch = tmp_path / f"scratch-{seed}" / "device.db"
    store = DeviceStore(scratch)
    client = SyncClient(store, live.base_url, sleep=lambda _s: None, attempts=2)
    if identity is not None:
        store.set("client_id", identity[0])
    client.register(live.login(username), "release-1", user_id=identity and identity[1])
    client.sync_once()
    cases, photos = offline_work(store, scratch.parent / "device-photos", seed)
    store.close()
    old_home = tmp_path / f"old-home-{seed}" if moved else None
    files = as_release_1(scratch, target, photos_were_in=old_home)
    shutil.rmtree(scratch.parent)  # nothing of today's store is left but the release's copy
    return cases, photos, files


@ON_SQLITE
@pytest.mark.parametrize("moved", [False, True], ids=["in-place", "data-dir-moved"])
def test_a_release_1_phone_with_unsent_commands_and_photos_upgrades_then_syncs_everything_once(
    tmp_path: Path, live: LiveServer, moved: bool
) -> None:
    """``data-dir-moved``: the paths the release stored name a folder that is gone; the files
    are found under the database's folder, except one the user deleted meanwhile — shown under
    同步问题, and it stops nothing else."""
    path = tmp_path / "phone" / "device.db"
    cases, photos, files = release_phone(tmp_path, live, "inspector", path, seed=1, moved=moved)
    assert device_migrations.file_version(path) == 0 and schema_of(path) == set(RELEASE_1_SCHEMA)
    gone = next(iter(photos)) if moved else None
    if gone:
        files[gone].unlink()

    store = DeviceStore(path)  # the new app opens it: migrated
    assert (store.opened_at_version, store.schema_version()) == (1, LATEST)
    assert store.pending_count() == len(cases) + len(photos) + 1
    assert {p.sha256 for p in store.photos_to_upload()} == set(photos)
    for photo in store.photos_to_upload():
        if photo.sha256 != gone:
            assert not Path(photo.path).is_absolute()  # relative to the database's folder now
            assert store.photo_file(photo).read_bytes() == files[photo.sha256].read_bytes()

    ledger = ledger_of(live)
    sync_until_quiet(SyncClient(store, live.base_url, sleep=lambda _s: None, attempts=2))
    assert_arrived_once(ledger, store, cases, photos, files, gone)
    events, counter = len(ledger.events()), ledger.change_counter()
    store.close()

    again = DeviceStore(path)  # opened again: already at the newest version, nothing re-sent
    assert again.opened_at_version == LATEST
    SyncClient(again, live.base_url, sleep=lambda _s: None).sync_once()
    assert (len(ledger.events()), ledger.change_counter()) == (events, counter)
    assert_arrived_once(ledger, again, cases, photos, files, gone)
    again.close()


@ON_SQLITE
def test_every_users_store_on_a_shared_device_migrates_and_syncs_as_that_user(
    tmp_path: Path, live: LiveServer
) -> None:
    browser = str(uuid.uuid4())
    data_dir = tmp_path / "app"
    folder = data_dir / "devices" / browser
    users = {}
    for seed, username in enumerate(("inspector", "zhzf_handler"), start=1):
        user_id = _user_id(live, username)
        identity = device_identity(browser, user_id)
        target = folder / f"{identity}.db"
        work = release_phone(
            tmp_path, live, username, target, seed=seed, moved=False, identity=(identity, user_id)
        )
        users[username] = (user_id, target, *work)

    # a store a newer app wrote (sorted first among the kept-aside): refused, the others go on
    newer = folder / "0-newer.db"
    DeviceStore(newer).close()
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")

    # the second user signs in after the upgrade; the first user's store is kept aside
    second_id, second_path, *_ = users["zhzf_handler"]
    second = DeviceSession(data_dir, browser, live.base_url, user_id=second_id, status=SyncStatus())
    assert second.store.path == second_path and second.store.schema_version() == LATEST
    first_path = users["inspector"][1]
    assert device_migrations.file_version(first_path) == 0  # not opened yet
    assert second.flush_kept_aside() == 3 + 6 + 1  # opened (migrated) and pushed as its own
    assert device_migrations.file_version(first_path) == LATEST
    assert device_migrations.file_version(newer) == LATEST + 1
    second.client.sleep = lambda _s: None
    asyncio.run(second.sync_now())
    assert second.store.pending_count() == 0
    second.stop()
    second.store.close()

    first_id = users["inspector"][0]
    first = DeviceSession(data_dir, browser, live.base_url, user_id=first_id, status=SyncStatus())
    first.client.sleep = lambda _s: None
    asyncio.run(first.sync_now())
    ledger = ledger_of(live)
    for username, (user_id, path, cases, photos, files) in users.items():
        store = first.store if path == first.store.path else DeviceStore(path)
        assert_arrived_once(ledger, store, cases, photos, files)
        for case_id in cases:
            assert ledger.cases()[case_id]["reporter_user_id"] == user_id, username
        if store is not first.store:
            store.close()
    first.stop()
    first.store.close()


def _user_id(live: LiveServer, username: str) -> str:
    import requests

    r = requests.post(
        live.base_url + "/auth/login",
        json={"username": username, "password": "yixian-demo"},
        timeout=10,
    )
    return str(r.json()["user"]["id"])


def _file_state(path: Path) -> tuple[str, list[str]]:
    """The database file's hash and its content as SQL."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        dump = list(conn.iterdump())
    return hashlib.sha256(path.read_bytes()).hexdigest(), dump


def test_a_store_written_by_a_newer_app_is_refused_with_a_clear_error_and_left_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "phone" / "device.db"
    store = DeviceStore(path)
    record_case(store, case_id=str(uuid.uuid4()), description="新版本写入", now=NOW)
    store.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _file_state(path)
    with pytest.raises(NewerStore, match=rf"newer app \(schema version {LATEST + 1}"):
        DeviceStore(path)
    assert _file_state(path) == before  # not a byte written


def test_a_migrated_release_store_has_exactly_the_schema_of_a_new_store(tmp_path: Path) -> None:
    release = tmp_path / "release.db"
    with closing(sqlite3.connect(release)) as conn:
        for statement in RELEASE_1_SCHEMA:
            conn.execute(statement)
    DeviceStore(release).close()
    DeviceStore(tmp_path / "new.db").close()
    assert schema_of(release) == schema_of(tmp_path / "new.db")
    assert (
        device_migrations.file_version(release)
        == device_migrations.file_version(tmp_path / "new.db")
        == LATEST
    )


def _release_with_photo(tmp_path: Path) -> tuple[Path, str]:
    scratch = tmp_path / "scratch" / "device.db"
    store = DeviceStore(scratch)
    case_id = str(uuid.uuid4())
    record_case(store, case_id=case_id, description="迁移失败也不丢", now=NOW)
    sha = add_photo(
        store, case_id=case_id, data=small_jpeg(7), photo_dir=scratch.parent / "p", now=NOW
    )
    store.close()
    path = tmp_path / "phone" / "device.db"
    as_release_1(scratch, path)
    return path, sha


def test_a_migration_that_fails_half_way_leaves_the_release_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha = _release_with_photo(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        (absolute,) = conn.execute("SELECT path FROM local_photo").fetchone()

    real = device_migrations.MIGRATIONS[0].apply

    def breaks(conn: Connection, folder: Path) -> None:
        real(conn, folder)  # its changes are made, then more, then the storage fails
        conn.execute(text("DELETE FROM outbox"))
        raise OSError("the phone's storage failed mid-migration")

    monkeypatch.setattr(device_migrations, "MIGRATIONS", (Migration(2, "breaks", breaks),))
    with pytest.raises(OSError, match="mid-migration"):
        DeviceStore(path)
    assert device_migrations.file_version(path) == 0
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2
        assert conn.execute("SELECT path FROM local_photo").fetchone()[0] == absolute
    monkeypatch.undo()
    store = DeviceStore(path)  # the next start migrates it for real
    assert store.schema_version() == LATEST and store.pending_count() == 2
    assert [p.sha256 for p in store.photos_to_upload()] == [sha]
    store.close()


def test_two_sessions_opening_a_release_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    path, _sha = _release_with_photo(tmp_path)
    opened: list[int] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            store = DeviceStore(path)
            opened.append(store.opened_at_version)
            store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(opened) == [1, LATEST]  # one migrated it, the other found it migrated
