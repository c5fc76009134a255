"""PostgreSQL under concurrency: REST actions and sync pushes on the same cases never deadlock
into a 5xx, concurrent pushes of one device apply every command exactly once, an exhausted
connection pool answers 503 with Retry-After — over real HTTP, with threads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import RESERVED_CONNECTIONS, PoolSize, make_engine, max_connections, pool_for_workers
from server.demo_data import SITES
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, command_hash
from tests.conftest import Backend
from tests.support.live_server import LiveServer, fresh_live_server

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

LOT = next(s for s in SITES if s.kind == "parking_lot").location


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    yield from fresh_live_server(backend, tmp_path)


class Device:
    """A phone speaking the protocol directly (to see every status code)."""

    def __init__(self, live: LiveServer, user: str) -> None:
        self.live = live
        r = requests.post(
            live.base_url + "/devices",
            json={"client_id": str(uuid.uuid4()), "name": "t"},
            headers={"Authorization": f"Bearer {live.login(user)}"},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        self.headers = {
            "Authorization": f"Bearer {r.json()['device_token']}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }
        self.next_id = 1
        self.lock = threading.Lock()

    def command(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            cmd_id, self.next_id = self.next_id, self.next_id + 1
        return {
            "id": cmd_id,
            "type": type_,
            "created_at": datetime.now(UTC).isoformat(),
            "payload": payload,
            "hash": command_hash(type_, payload),
        }

    def push(self, commands: list[dict[str, Any]]) -> requests.Response:
        return requests.post(
            self.live.base_url + "/sync/push",
            json={"commands": commands},
            headers=self.headers,
            timeout=60,
        )


def create(device: Device, text: str) -> dict[str, Any]:
    return device.command(
        "CreateCase",
        {
            "case_id": str(uuid.uuid4()),
            "category": "parking",
            "description": text,
            "location": {"lat": LOT.lat, "lon": LOT.lon},
        },
    )


def test_rest_actions_and_sync_pushes_on_the_same_cases_never_answer_5xx(
    live: LiveServer,
) -> None:
    phone = Device(live, "inspector")
    creates = [create(phone, f"停车场 {i}") for i in range(8)]
    r = phone.push(creates)
    assert r.status_code == 200 and all(x["status"] == "applied" for x in r.json()["results"])
    case_ids = [c["payload"]["case_id"] for c in creates]
    tokens = {u: live.login(u) for u in ("inspector", "zhzf_handler")}
    statuses: list[tuple[str, int]] = []

    def rest(user: str, action: str, order: list[str]) -> None:
        for case_id in order:
            r = requests.post(
                f"{live.base_url}/cases/{case_id}/{action}",
                json={"note": f"{action} 现场"},
                headers={"Authorization": f"Bearer {tokens[user]}"},
                timeout=60,
            )
            statuses.append((f"REST {action}", r.status_code))

    def notes(device: Device, order: list[str]) -> None:
        for _ in range(2):  # each push locks every case, in the order given
            batch = [
                device.command("AddNote", {"case_id": c, "note": "同步备注", "photos": []})
                for c in order
            ]
            statuses.append(("push", device.push(batch).status_code))

    second = Device(live, "zhzf_handler")
    work: list[Callable[[], None]] = [
        lambda: rest("inspector", "assign", case_ids),
        lambda: notes(phone, case_ids[::-1]),
        lambda: notes(second, case_ids),
        lambda: rest("zhzf_handler", "accept", case_ids),
        lambda: rest("inspector", "notes", case_ids[::-1]),
    ]
    with ThreadPoolExecutor(len(work)) as pool:
        for future in [pool.submit(w) for w in work]:
            future.result()
    failed = [(who, code) for who, code in statuses if code >= 500]
    assert not failed, failed
    assert len(statuses) == 8 * 3 + 2 + 2
    assert sum(code == 200 for who, code in statuses if who == "REST assign") == 8


def test_concurrent_pushes_of_one_device_apply_every_command_exactly_once(
    live: LiveServer,
) -> None:
    phone = Device(live, "inspector")
    commands = [create(phone, f"停车场 {i}") for i in range(30)]
    for i in range(10):  # notes on the first cases, after their creation
        commands.append(
            phone.command(
                "AddNote", {"case_id": commands[i]["payload"]["case_id"], "note": f"备注 {i}"}
            )
        )
    # 8 pushes at once, each sending the whole outbox (a phone whose replies were lost)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _i: phone.push(commands), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    for answer in answers:
        body = answer.json()
        assert body["last_applied"] == len(commands)
        assert sorted(x["id"] for x in body["results"]) == [c["id"] for c in commands]
        assert {x["status"] for x in body["results"]} == {"applied"}
    token = live.login("supervisor")
    held = requests.get(
        live.base_url + "/cases",
        params={"limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["items"]
    assert sorted(c["id"] for c in held) == sorted(c["payload"]["case_id"] for c in commands[:30])
    for i in (0, 9):
        detail = requests.get(
            f"{live.base_url}/cases/{commands[i]['payload']['case_id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert [e["data"].get("note") for e in detail["events"] if e["kind"] == "NoteAdded"] == [
            f"备注 {i}"
        ]


def test_an_exhausted_connection_pool_answers_503_with_retry_after(
    backend: Backend, tmp_path: Path
) -> None:
    url = backend.fresh_url(tmp_path)
    engine = make_engine(url, PoolSize(size=1, overflow=0, timeout_s=0.2))
    app = create_app(
        Settings(database_url=url, photo_dir=tmp_path / "photos", secret="test"), engine=engine
    )
    try:
        with TestClient(app) as client:
            r = client.post(
                "/auth/login", json={"username": "supervisor", "password": "yixian-demo"}
            )
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            held = engine.connect()  # every connection of the pool is busy
            try:
                busy = client.get("/cases", headers=headers)
                pushed = client.post(
                    "/sync/pull",
                    json={},
                    headers={**headers, PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
                )
            finally:
                held.close()
            assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
            assert busy.json()["detail"]["code"] == "retry"
            assert pushed.status_code in (401, 503)  # never 500
            assert client.get("/cases", headers=headers).status_code == 200  # and back
    finally:
        engine.dispose()
        backend.drop(url)


def test_the_workers_pools_stay_within_the_databases_connection_limit(
    backend: Backend, tmp_path: Path
) -> None:
    url = backend.fresh_url(tmp_path)
    try:
        limit = max_connections(url)
    finally:
        backend.drop(url)
    assert limit is not None and limit > RESERVED_CONNECTIONS
    for workers in (1, 2, 4, 8, 16, 64):
        pool = pool_for_workers(workers, limit)
        assert pool.size >= 1 and workers * pool.most <= max(limit - RESERVED_CONNECTIONS, workers)
    assert pool_for_workers(1, 1000).most == 30  # a large server keeps the usual pool
