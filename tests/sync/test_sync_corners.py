"""Sync keeps its promises in the corners: a shared phone, a phone restored from an old backup,
a server restored from a backup — through the phone's own engine, over real HTTP, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from fieldapp.device import DeviceSession
from fieldapp.viewmodels.sync_status import SyncStatus
from server.demo_data import SITES
from sync.client import OtherUsersDevice, SyncClient, SyncProgress, SyncReport
from sync.device_store import DeviceStore
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, CommandType, command_hash
from tests.conftest import PG_ADMIN_URL, Backend
from tests.support.live_server import LiveServer, fresh_live_server

WATER = next(s for s in SITES if s.kind == "waterlogging_point")


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    yield from fresh_live_server(backend, tmp_path)


def phone(tmp_path: Path, live: LiveServer, user: str, name: str) -> SyncClient:
    client = SyncClient(
        DeviceStore(tmp_path / f"{name}.db"), live.base_url, sleep=lambda _s: None, attempts=2
    )
    client.register(live.login(user), name)
    return client


def record_offline(store: DeviceStore, text_: str) -> str:
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    payload = {
        "case_id": case_id,
        "category": "waterlogging",
        "description": text_,
        "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
    }

    def local(session: Any) -> None:
        store.put_local_case(
            session,
            {
                "id": case_id,
                "status": "discovered",
                "category": "waterlogging",
                "description": text_,
                "updated_at": now.isoformat(),
            },
            from_server=False,
        )

    store.enqueue(CommandType.CREATE_CASE, payload, now=now, local_change=local)
    return case_id


def server_cases(live: LiveServer) -> dict[str, dict[str, Any]]:
    token = live.login("supervisor")
    items = requests.get(
        live.base_url + "/cases",
        params={"limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["items"]
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids))
    return {c["id"]: c for c in items}


def case_detail(live: LiveServer, case_id: str) -> dict[str, Any]:
    token = live.login("supervisor")
    r = requests.get(
        f"{live.base_url}/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def user_id_of(live: LiveServer, username: str) -> str:
    r = requests.post(
        live.base_url + "/auth/login",
        json={"username": username, "password": "yixian-demo"},
        timeout=5,
    )
    return str(r.json()["user"]["id"])


def copy_store(src: Path, dst: Path) -> None:
    """A consistent copy of a phone's SQLite (WAL included), as a backup app would take."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def reopen(client: SyncClient, from_backup: Path | None = None) -> SyncClient:
    path = client.store.path
    client.store.close()
    if from_backup is not None:
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.unlink()
        copy_store(from_backup, path)
    return SyncClient(DeviceStore(path), client.base_url, sleep=lambda _s: None, attempts=2)


# --- a command id is bound to its content ----------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part
def test_a_phone_restored_from_an_old_backup_renumbers_and_loses_no_case(
    tmp_path: Path, live: LiveServer
) -> None:
    device = phone(tmp_path, live, "inspector", "phone")
    first = record_offline(device.store, "积水 1")
    device.sync_once()
    backup = tmp_path / "backup.db"
    copy_store(device.store.path, backup)
    second = record_offline(device.store, "积水 2")  # command 2, applied
    assert device.sync_once().applied == 1
    device = reopen(device, from_backup=backup)  # the phone is restored from its backup
    third = record_offline(device.store, "积水 3")  # numbered 2 again: the server applied a 2
    assert [c.id for c in device.store.pending(10)] == [2]
    report = device.sync_once()
    assert report.applied == 1 and not report.rejected
    assert set(server_cases(live)) == {first, second, third}  # the new case is not lost
    assert case_detail(live, third)["description"] == "积水 3"
    sent = {c.case_id: c for c in device.store.commands()}
    assert sent[third].id == 3 and sent[third].status == "applied"
    # the server's case recorded after the backup comes back to the phone
    assert device.store.case(second) is not None and device.store.case(third) is not None


def test_a_different_command_under_a_used_id_is_answered_renumber_and_nothing_after_it_applied(
    tmp_path: Path, live: LiveServer
) -> None:
    device = phone(tmp_path, live, "inspector", "phone")
    record_offline(device.store, "积水 1")
    device.sync_once()
    token = device.store.get("device_token")
    headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}

    def create(cmd_id: int, *, hashed: bool) -> dict[str, Any]:
        payload = {
            "case_id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": f"另一条 {cmd_id}",
            "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
        }
        cmd: dict[str, Any] = {
            "id": cmd_id,
            "type": "CreateCase",
            "created_at": datetime.now(UTC).isoformat(),
            "payload": payload,
        }
        if hashed:
            cmd["hash"] = command_hash("CreateCase", payload)
        return cmd

    batch = [create(1, hashed=True), create(2, hashed=True)]
    r = requests.post(
        live.base_url + "/sync/push", json={"commands": batch}, headers=headers, timeout=10
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["id"], x["status"]) for x in body["results"]] == [(1, "renumber")]
    assert body["results"][0]["detail"] == {"last_applied": 1} and body["last_applied"] == 1
    assert body["epoch"]
    assert batch[1]["payload"]["case_id"] not in server_cases(live)
    # an older app sends no hash: it syncs as before (a used id answers its stored result)
    legacy = [create(1, hashed=False), create(2, hashed=False)]
    r = requests.post(
        live.base_url + "/sync/push", json={"commands": legacy}, headers=headers, timeout=10
    )
    assert [(x["id"], x["status"]) for x in r.json()["results"]] == [
        (1, "applied"),
        (2, "applied"),
    ]
    assert legacy[1]["payload"]["case_id"] in server_cases(live)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part
def test_a_reinstalled_app_numbers_its_commands_after_the_servers_last_applied_id(
    tmp_path: Path, live: LiveServer
) -> None:
    device = phone(tmp_path, live, "inspector", "phone")
    for i in range(3):
        record_offline(device.store, f"积水 {i}")
    device.sync_once()
    client_id = device.client_id
    # the app is reinstalled: an empty database, the same device id
    fresh = SyncClient(DeviceStore(tmp_path / "reinstalled.db"), live.base_url, attempts=2)
    fresh.store.set("client_id", client_id)
    fresh.register(live.login("inspector"), "phone")
    case_id = record_offline(fresh.store, "积水 新")
    assert [c.id for c in fresh.store.pending(10)] == [4]
    assert fresh.sync_once().applied == 1
    assert case_id in server_cases(live)


# --- a restored server is noticed ------------------------------------------------------------


class Snapshots:
    """Back up and restore the server's database: the SQLite file, or a PostgreSQL copy."""

    def __init__(self, live: LiveServer, tmp_path: Path) -> None:
        self.live = live
        self.tmp = tmp_path
        self.pg_copies: list[str] = []

    def _admin(self, sql: str) -> None:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(sql))
        eng.dispose()

    def take(self) -> str:
        url = self.live.db_url
        if url.startswith("sqlite"):  # SQLite's online backup: a consistent copy, live
            target = str(self.tmp / "server-backup.db")
            copy_store(Path(url.split("///", 1)[1]), Path(target))
            return target
        self.live.stop()  # a PostgreSQL copy (CREATE DATABASE … TEMPLATE) wants no sessions
        target = f"{url.rsplit('/', 1)[1]}_bak"
        self._admin(f'CREATE DATABASE "{target}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
        self.pg_copies.append(target)
        self.live.start()
        return target

    def restore(self, backup: str, monkeypatch: pytest.MonkeyPatch) -> None:
        from server.__main__ import main

        self.live.stop()
        url = self.live.db_url
        if url.startswith("sqlite"):
            path = Path(url.split("///", 1)[1])
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            path.unlink()
            shutil.copy(backup, path)
        else:
            name = url.rsplit("/", 1)[1]
            self._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{backup}"')
        monkeypatch.setenv("DATABASE_URL", url)
        main(["new-epoch"])  # the restore procedure's last step (README)
        self.live.start()

    def drop(self) -> None:
        for name in self.pg_copies:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_after_the_server_is_restored_from_a_backup_phones_resend_what_it_lost_and_pull_anew(
    tmp_path: Path, live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = phone(tmp_path, live, "inspector", "busy")  # records again after the restore
    idle = phone(tmp_path, live, "inspector", "idle")  # has nothing new: notices on pull
    before = record_offline(busy.store, "备份前")
    idle_before = record_offline(idle.store, "备份前 idle")
    busy.sync_once()
    idle.sync_once()
    snapshots = Snapshots(live, tmp_path)
    try:
        backup = snapshots.take()
        lost = record_offline(busy.store, "备份后")  # applied, then lost by the restore
        idle_lost = record_offline(idle.store, "备份后 idle")
        busy.sync_once()
        idle.sync_once()
        assert {lost, idle_lost} <= set(server_cases(live))
        snapshots.restore(backup, monkeypatch)
    finally:
        snapshots.drop()
    assert lost not in server_cases(live) and idle_lost not in server_cases(live)
    # the busy phone's next command id (3) is ahead of the restored server's (1)
    after = record_offline(busy.store, "恢复后")
    report = busy.sync_once()
    assert not report.rejected
    idle_report = idle.sync_once()
    assert not idle_report.rejected
    held = server_cases(live)
    assert {before, lost, after, idle_before, idle_lost} <= set(held)
    assert len(held) == 5  # nothing doubled
    # a later sync sends nothing again (and the busy phone hears of the idle one's resend)
    assert busy.sync_once().pushed == 0 and idle.sync_once().pushed == 0
    for device in (busy, idle):
        assert device.store.pending_count() == 0
        assert all(c.status == "applied" for c in device.store.commands())
        # every case, the other phone's too (same user), is on the phone again
        assert set(device.store.case_ids()) == set(held)


# --- a shared phone or browser is one user at a time ------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part
def test_a_second_user_on_a_shared_device_records_as_themself_and_the_first_users_work_stays_theirs(
    tmp_path: Path, live: LiveServer
) -> None:
    browser = str(uuid.uuid4())  # one browser (its client id in SharedPreferences)
    data_dir = tmp_path / "app"
    first_id, second_id = user_id_of(live, "inspector"), user_id_of(live, "zhzf_handler")

    def sign_in(username: str, user_id: str) -> DeviceSession:
        session = DeviceSession(
            data_dir, browser, live.base_url, user_id=user_id, status=SyncStatus()
        )
        session.client.sleep = lambda _s: None
        assert asyncio.run(session._register(live.login(username))) is not None
        return session

    first = sign_in("inspector", first_id)
    synced = record_offline(first.store, "第一位用户 已同步")
    asyncio.run(first.sync_now())
    live.stop()
    kept = record_offline(first.store, "第一位用户 未同步")  # offline, then signs out
    asyncio.run(first.sync_now())
    assert first.store.pending_count() == 1
    first.stop()
    first.store.close()

    second = DeviceSession(data_dir, browser, live.base_url, user_id=second_id, status=SyncStatus())
    assert second.store.path != first.store.path  # a clean device identity
    assert second.store.pending_count() == 0 and second.store.case(kept) is None
    assert second.flush_kept_aside() == 0  # offline: the first user's work stays kept aside
    live.start()
    second.client.sleep = lambda _s: None
    asyncio.run(second._register(live.login("zhzf_handler")))
    mine = record_offline(second.store, "第二位用户")
    asyncio.run(second.sync_now())
    assert second.store.pending_count() == 0
    held = server_cases(live)
    assert mine in held and kept not in held  # never sent under the second user
    assert case_detail(live, mine)["reporter_user_id"] == second_id
    # the engine refuses to register the second user's store for the first user
    with pytest.raises(OtherUsersDevice):
        second.client.register(live.login("inspector"), user_id=first_id)
    second.stop()
    second.store.close()

    # the first user signs in again: their kept work is synced under them
    again = sign_in("inspector", first_id)
    assert again.store.path == first.store.path and again.store.pending_count() == 1
    asyncio.run(again.sync_now())
    assert again.store.pending_count() == 0
    for case_id in (synced, kept):
        assert case_detail(live, case_id)["reporter_user_id"] == first_id
    assert again.store.case(mine) is None  # the second user's case is not on their copy
    again.store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part
def test_a_previous_users_unsynced_work_is_pushed_under_their_own_device_when_online(
    tmp_path: Path, live: LiveServer
) -> None:
    browser = str(uuid.uuid4())
    data_dir = tmp_path / "app"
    first_id, second_id = user_id_of(live, "inspector"), user_id_of(live, "zhzf_handler")
    first = DeviceSession(data_dir, browser, live.base_url, user_id=first_id, status=SyncStatus())
    first.client.register(live.login("inspector"), "web", user_id=first_id)
    kept = record_offline(first.store, "签退前未同步")  # signed out before the next sync
    first.stop()
    first.store.close()
    second = DeviceSession(data_dir, browser, live.base_url, user_id=second_id, status=SyncStatus())
    assert second.flush_kept_aside() == 1
    assert case_detail(live, kept)["reporter_user_id"] == first_id
    second.store.close()


# --- a busy server: retry later, as long as it asks ------------------------------------------


class _BusyThenOk:
    """An HTTP session whose server answers 503 (Retry-After: 7), then 500, then 200."""

    def __init__(self) -> None:
        self.calls = 0

    def request(self, method: str, url: str, **_kw: Any) -> requests.Response:
        self.calls += 1
        r = requests.Response()
        r.status_code = {1: 503, 2: 500}.get(self.calls, 200)
        if r.status_code == 503:
            r.headers["Retry-After"] = "7"
        body = (
            b'{"last_applied": 1, "results": [{"id": 1, "status": "applied"}]}'
            if r.status_code == 200
            else b'{"detail": {"code": "retry", "reason": "busy"}}'
        )
        r._content = body
        return r


def test_a_busy_server_is_retried_later_honouring_retry_after_and_nothing_is_dropped(
    tmp_path: Path,
) -> None:
    slept: list[float] = []
    http = _BusyThenOk()
    client = SyncClient(
        DeviceStore(tmp_path / "phone.db"),
        "http://127.0.0.1:9",
        http=http,  # type: ignore[arg-type]
        sleep=slept.append,
        rng=lambda: 0.0,  # no jitter: only the server's Retry-After makes it wait
        attempts=3,
    )
    client.store.set("device_token", "t")
    record_offline(client.store, "积水")
    done = SyncReport()
    client.push(done, SyncProgress(), lambda _p: None)
    assert http.calls == 3 and slept == [7.0, 0.0]
    assert done.applied == 1 and client.store.pending_count() == 0
