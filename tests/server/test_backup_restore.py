"""Backup and restore (``python -m server backup|restore``, server/backup.py): a backup taken
while phones keep syncing restores into an empty database and storage with every invariant —
the manifest's case and event counts, every case's event chain, every photo's sha256 — on
SQLite with the local store and (``make soak``) on PostgreSQL with the database store. A
backup that does not match its manifest, or a target that is not empty, is refused."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from server.__main__ import main
from server.backup import BackupError, backup, read_manifest, restore
from server.config import Settings
from server.data import backup as backup_data
from server.data import sync as sync_data
from server.db import make_engine
from server.services.audit import verify_chains
from server.storage import FileStore, open_stores
from sync.client import SyncClient
from sync.device_store import DeviceStore
from tests.conftest import PG_ADMIN_URL, PG_BASE, Backend, Server
from tests.server.test_photos_api import jpeg_bytes, link, record_parking_case, upload
from tests.support.device_worker import add_photo, record_case, small_jpeg, sync_until_quiet
from tests.support.live_server import LiveServer

DEVICES = 3
SOAK = os.environ.get("YIXIAN_SOAK") == "1"


def _settings(url: str, root: Path, storage: str) -> Settings:
    return Settings(
        database_url=url,
        photo_dir=root / "photos",
        minutes_dir=root / "minutes",
        secret="test",
        storage=storage,
    )


class EmptyTargets:
    """Empty databases to restore into (a new SQLite file, or a new PostgreSQL database)."""

    def __init__(self, backend: Backend, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.made: list[str] = []

    def new(self, name: str) -> Settings:
        root = self.tmp / name
        if self.backend.name == "sqlite":
            return _settings(f"sqlite:///{root / 'yixian.db'}", root, "local")
        db = f"yx_restore_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        self.made.append(f"{PG_BASE}/{db}")
        return _settings(f"{PG_BASE}/{db}", root, "postgres")

    def drop(self) -> None:
        for url in self.made:
            self.backend.drop(url)


@pytest.fixture
def targets(backend: Backend, tmp_path: Path) -> Iterator[EmptyTargets]:
    made = EmptyTargets(backend, tmp_path)
    yield made
    made.drop()


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server; on PostgreSQL it keeps photos and minutes in the database."""
    if backend.name == "postgres" and not SOAK:
        pytest.skip("on PostgreSQL (pg_dump, the database store) in make soak: ~25 s here")
    url = backend.fresh_url(tmp_path)
    storage = "local" if backend.name == "sqlite" else "postgres"
    server = LiveServer(url, tmp_path / "photos", storage=storage)
    server.start()
    yield server
    server.stop()
    backend.drop(url)


def live_settings(live: LiveServer, tmp: Path) -> Settings:
    return Settings(
        database_url=live.db_url,
        photo_dir=live.photo_dir,
        minutes_dir=tmp / "minutes",
        secret="test",
        storage=live.storage,
    )


class Phones:
    """Phones recording cases with photos and syncing them through the real sync client, each
    in a thread, until stopped."""

    def __init__(self, live: LiveServer, tmp: Path) -> None:
        self.live, self.tmp = live, tmp
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.syncs = [0] * DEVICES
        self.clients: list[SyncClient] = []
        token = live.login("inspector")
        for i in range(DEVICES):
            client = SyncClient(
                DeviceStore(tmp / f"phone{i}.db"), live.base_url, sleep=lambda s: time.sleep(0.01)
            )
            client.register(token, f"phone{i}")
            self.clients.append(client)
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(DEVICES)]

    def _run(self, i: int) -> None:
        client = self.clients[i]
        try:
            n = 0
            while not self.stop.is_set():
                now = datetime.now(UTC)
                case_id = str(uuid.uuid4())
                record_case(client.store, case_id=case_id, description=f"积水 {i}-{n}", now=now)
                side = 360 if n % 7 == 3 else 32  # now and then a photo of several pieces
                add_photo(
                    client.store,
                    case_id=case_id,
                    data=small_jpeg(1000 * i + n, side),
                    photo_dir=self.tmp / f"phone{i}-photos",
                    now=now,
                )
                client.sync_once()
                self.syncs[i] += 1
                n += 1
            sync_until_quiet(client)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def wait_for_syncs(self, each: int) -> None:
        deadline = time.monotonic() + 60
        while min(self.syncs) < each and time.monotonic() < deadline and not self.errors:
            time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
        for client in self.clients:
            client.store.close()
        assert self.errors == []


def facts_of(settings: Settings) -> backup_data.SnapshotFacts:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return backup_data.snapshot_facts(conn)
    finally:
        engine.dispose()


def photo_store(settings: Settings) -> tuple[FileStore, Engine]:
    engine = make_engine(settings.database_url)
    stores = open_stores(
        settings.storage,
        engine=engine,
        photo_dir=settings.photo_dir,
        minutes_dir=settings.minutes_path,
    )
    return stores.photos, engine


def test_a_backup_taken_while_phones_sync_restores_with_every_invariant(
    live: LiveServer, tmp_path: Path, targets: EmptyTargets
) -> None:
    phones = Phones(live, tmp_path)
    phones.start()
    try:
        phones.wait_for_syncs(2)
        during = list(phones.syncs)
        manifest = backup(live_settings(live, tmp_path), tmp_path / "backup")
        phones.wait_for_syncs(min(during) + 2)  # the server went on taking writes
    finally:
        phones.finish()
    final = facts_of(live_settings(live, tmp_path))
    assert 0 < manifest.counts["cases"] < final.cases  # the backup is a moment within the load
    assert manifest.counts["events"] >= manifest.counts["cases"]
    assert manifest.counts["photos"] > 0 and manifest.damaged == []

    target = targets.new("restored")
    report = restore(target, tmp_path / "backup")

    restored = facts_of(target)
    assert (restored.cases, restored.events) == (
        manifest.counts["cases"],
        manifest.counts["events"],
    )
    engine = make_engine(target.database_url)
    try:
        with Session(engine) as session:
            audit = verify_chains(session)
            epoch = sync_data.epoch(session)
    finally:
        engine.dispose()
    assert audit.intact and audit.events == manifest.counts["events"]
    assert epoch == report.epoch != manifest.server_epoch  # phones will resynchronise
    # every photo the restored database calls complete is there, whole, hashing to its name
    assert sorted(sha for sha, _ in restored.photos) == sorted(
        f.name for f in manifest.files if f.area == "photos"
    )
    store, store_engine = photo_store(target)
    try:
        for sha, size in restored.photos:
            data = b"".join(store.open(sha))
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha, size)
    finally:
        store_engine.dispose()


def _server_with_a_photo(server: Server, data: bytes) -> tuple[Settings, str]:
    """The ``server`` fixture's database with one case and its photo; its settings."""
    name = upload(server, "inspector", data)
    assert link(server, "inspector", name, record_parking_case(server)).status_code == 201
    app_settings: Settings = server.client.app.state.settings  # type: ignore[attr-defined]
    return app_settings, name


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_a_non_empty_target_unless_forced_and_a_backup_that_differs(
    server: Server, tmp_path: Path, targets: EmptyTargets, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = _server_with_a_photo(server, jpeg_bytes(7))
    src = tmp_path / "backup"
    manifest = backup(source, src)
    assert manifest.counts["photos"] == 1 and manifest.counts["cases"] == 1
    assert read_manifest(src).migration_head == manifest.migration_head != ""

    # into the database it came from: not empty, refused
    with pytest.raises(BackupError, match="not empty"):
        restore(source, src)
    # through the command line: refused (exit 1), then --force replaces it
    monkeypatch.setenv("DATABASE_URL", source.database_url)
    monkeypatch.setenv("YIXIAN_PHOTO_DIR", str(source.photo_dir))
    monkeypatch.setenv("YIXIAN_MINUTES_DIR", str(source.minutes_path))
    with pytest.raises(SystemExit) as refused:
        main(["restore", str(src)])
    assert refused.value.code == 1
    with pytest.raises(SystemExit) as forced:
        main(["restore", "--force", str(src)])
    assert forced.value.code == 0
    assert facts_of(source).cases == manifest.counts["cases"]

    # a photo changed in the backup: refused before anything is written, naming the file
    entry = next(f for f in manifest.files if f.area == "photos")
    damaged = bytearray((src / entry.path).read_bytes())
    damaged[-10] ^= 0xFF
    (src / entry.path).write_bytes(bytes(damaged))
    target = targets.new("second")
    with pytest.raises(BackupError, match=entry.path):
        restore(target, src)
    assert not Path(target.database_url.split("///", 1)[1]).exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_photo_damaged_in_storage_is_named_by_the_backup_not_copied(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, sha = _server_with_a_photo(server, jpeg_bytes(3))
    stored = settings.photo_dir / sha[:2] / sha
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")  # a bit rotted on disk
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("YIXIAN_PHOTO_DIR", str(settings.photo_dir))
    monkeypatch.setenv("YIXIAN_MINUTES_DIR", str(settings.minutes_path))
    with pytest.raises(SystemExit) as exit_code:
        main(["backup", str(tmp_path / "backup")])
    assert exit_code.value.code == 2  # done, but not whole: said so
    manifest = read_manifest(tmp_path / "backup")
    assert [d.split(":")[0] for d in manifest.damaged] == [f"photos/{sha}"]
    assert manifest.counts["photos"] == 0
    assert not (tmp_path / "backup" / "photos" / sha[:2] / sha).exists()
