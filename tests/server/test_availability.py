"""No request can stall the county: reads never hold the write lock, expensive computations are
bounded and stop at a time limit holding no write transaction, and request bodies are bounded
before they are read. Both databases (the ``server`` fixture)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine, event, text

from server.api.body_limit import MAX_BOUNDARY_BYTES, limit_for
from server.config import settings_from_env
from server.data import evaluation as evaluation_data
from server.data import sync as sync_data
from server.db import read_session
from server.services import evaluation as evaluation_service
from sync.protocol import MAX_BATCH, MAX_PUSH_BYTES, PROTOCOL_HEADER
from tests.conftest import T0, Server
from tests.server.test_evaluation_api import LOT, parking_case
from tests.server.test_photos_api import head, jpeg_bytes, patch, sha

MiB = 1024 * 1024
WAIT_S = 60  # a guard against hanging for ever, never a timed assertion


def impatient(engine: Engine) -> None:
    """SQLite: wait 1 s (not 30) for a lock, so a request that would block fails fast."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=1000")
        cur.close()

    engine.dispose()


def new_case(server: Server, user: str = "inspector") -> Any:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场无人管理",
        "location": {"lat": LOT.lat, "lon": LOT.lon},
    }
    return server.post("/cases", user, body)


@contextmanager
def held_inside(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Replace ``owner.name`` so that a call to it stops, after doing its work, until released:
    (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(owner, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        entered.set()
        release.wait(WAIT_S)
        return out

    monkeypatch.setattr(owner, name, held)
    try:
        yield entered, release
    finally:
        release.set()


# --- 1. reads never hold the write lock ---------------------------------------------------------


def test_a_read_transaction_held_open_does_not_stop_a_write(server: Server) -> None:
    engine: Engine = server.client.app.state.engine  # type: ignore[attr-defined]
    impatient(engine)
    server.login("inspector")
    with read_session(engine) as reading:
        before = reading.execute(text("SELECT count(*) FROM app_user")).scalar_one()
        r = new_case(server)  # another session writes while the read is open
        assert r.status_code == 201, r.text
        # the read still sees its snapshot (SQLite) or the committed row (PostgreSQL)
        assert reading.execute(text("SELECT count(*) FROM app_user")).scalar_one() >= before
    assert server.get(f"/cases/{r.json()['id']}", "inspector").status_code == 200


def test_a_slow_list_does_not_block_another_users_write(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    impatient(server.client.app.state.engine)  # type: ignore[attr-defined]
    assert new_case(server).status_code == 201
    server.login("supervisor")
    with (
        held_inside(monkeypatch, evaluation_data, "placed_reports") as (entered, release),
        ThreadPoolExecutor(1) as pool,
    ):
        slow: Future[Any] = pool.submit(
            server.get, "/evaluation/hotspots", "supervisor", min_reports=2
        )
        assert entered.wait(WAIT_S)  # the GET is inside its read transaction now
        r = new_case(server)
        assert r.status_code == 201, r.text
        release.set()
        assert slow.result(WAIT_S).status_code == 200


def test_a_scoring_run_holds_no_write_lock_while_it_scores(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    impatient(server.client.app.state.engine)  # type: ignore[attr-defined]
    parking_case(server)
    server.login("supervisor")
    with (
        held_inside(monkeypatch, evaluation_service, "score") as (entered, release),
        ThreadPoolExecutor(1) as pool,
    ):
        run: Future[Any] = pool.submit(
            server.post,
            "/evaluation/runs",
            "supervisor",
            {"kind": "month", "year": 2026, "number": 11},
        )
        assert entered.wait(WAIT_S)
        r = new_case(server)
        assert r.status_code == 201, r.text
        release.set()
        stored = run.result(WAIT_S)
    assert stored.status_code == 201, stored.text
    assert [x["id"] for x in server.get("/evaluation/runs", "supervisor").json()] == [
        stored.json()["id"]
    ]


def test_a_sync_pull_reads_its_page_without_blocking_a_write(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    impatient(server.client.app.state.engine)  # type: ignore[attr-defined]
    assert new_case(server).status_code == 201
    phone = _device_headers(server, "supervisor")
    with (
        held_inside(monkeypatch, sync_data, "changed_cases") as (entered, release),
        ThreadPoolExecutor(1) as pool,
    ):
        pull: Future[Any] = pool.submit(
            server.client.post, "/sync/pull", json={"protocol": 1}, headers=phone
        )
        assert entered.wait(WAIT_S)  # the pull is reading its page
        r = new_case(server)
        assert r.status_code == 201, r.text
        release.set()
        page = pull.result(WAIT_S)
    assert page.status_code == 200, page.text
    assert len(page.json()["cases"]) >= 1


# --- 2. expensive computations: bounded parameters, a time limit ------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/evaluation/hotspots", {"radius_m": 0.001}, "radius_m"),
        ("/evaluation/hotspots", {"radius_m": 9.9}, "radius_m"),
        ("/evaluation/repeat-complaints", {"radius_m": 5001}, "radius_m"),
        ("/evaluation/hotspots", {"start": "2020-01-01T00:00:00+08:00"}, "start"),
        ("/evaluation/repeat-complaints", {"start": "2024-01-01T00:00:00+08:00"}, "start"),
        ("/evaluation/repeat-complaints", {"window_days": 400}, "window_days"),
        (
            "/evaluation/dashboard/cases-over-time",
            {"start": "2025-01-01T00:00:00+08:00", "bucket": "day"},
            "start",
        ),
    ],
)
def test_an_expensive_request_out_of_bounds_is_refused_naming_the_field(
    server: Server, path: str, params: dict[str, Any], field: str
) -> None:
    r = server.get(path, "supervisor", **params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == field


def test_bounds_that_are_legal_are_answered(server: Server) -> None:
    assert server.get("/evaluation/hotspots", "supervisor", radius_m=10).status_code == 200
    assert server.get("/evaluation/hotspots", "supervisor", radius_m=5000).status_code == 200
    r = server.get(
        "/evaluation/dashboard/cases-over-time",
        "supervisor",
        start="2025-01-01T00:00:00+08:00",
        bucket="month",
    )
    assert r.status_code == 200, r.text


def test_a_computation_past_its_time_limit_answers_too_expensive_and_stores_nothing(
    server: Server,
) -> None:
    parking_case(server)
    parking_case(server, 5.0)
    server.clock.now += timedelta(hours=1)
    assert server.get("/evaluation/hotspots", "supervisor", min_reports=2).json()["total"] == 1
    app: Any = server.client.app
    app.state.settings = dataclasses.replace(app.state.settings, compute_seconds=0.0)
    for path, params in (
        ("/evaluation/hotspots", {"min_reports": 2}),
        ("/evaluation/repeat-complaints", {}),
        ("/evaluation/dashboard/on-time", {}),
        ("/evaluation/dashboard/cases-over-time", {}),
    ):
        r = server.get(path, "supervisor", **params)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"]["code"] == "too_expensive", path
    r = server.post("/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "too_expensive", r.text
    assert server.get("/evaluation/runs", "supervisor").json() == []
    # the server is not stuck: writes go on, and with its limit back the run is stored
    assert new_case(server).status_code == 201
    app.state.settings = dataclasses.replace(app.state.settings, compute_seconds=20.0)
    r = server.post("/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11})
    assert r.status_code == 201, r.text


# --- 3. bodies are bounded --------------------------------------------------------------------


def _scope(path: str, headers: list[tuple[bytes, bytes]], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


def _call(app: Any, scope: dict[str, Any], chunk: int, total: int) -> tuple[int, Any, int]:
    """Send a body of ``total`` bytes in ``chunk``-byte pieces; (status, JSON body, bytes the
    app took). The body source fails the test if the app reads past the limit by a chunk."""
    limit = limit_for(scope["method"], scope["path"], app.state.settings.max_json_bytes)
    taken = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal taken
        if taken > limit:
            raise AssertionError(f"the app read {taken} bytes, past its limit of {limit}")
        piece = b"1" * min(chunk, total - taken)
        taken += len(piece)
        return {"type": "http.request", "body": piece, "more_body": taken < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), taken


def test_a_declared_oversized_json_body_is_refused_before_one_byte_is_read(
    server: Server,
) -> None:
    app: Any = server.client.app
    size = app.state.settings.max_json_bytes + 1
    status, body, taken = _call(
        app, _scope("/cases", [(b"content-length", str(size).encode())]), 64 * 1024, size
    )
    assert (status, taken) == (413, 0)
    assert body["detail"]["code"] == "too_large" and body["detail"]["field"] == "body"


def test_a_chunked_json_body_is_cut_off_as_soon_as_it_passes_the_limit(server: Server) -> None:
    app: Any = server.client.app
    limit = app.state.settings.max_json_bytes
    status, body, taken = _call(app, _scope("/cases", []), 64 * 1024, 50 * MiB)
    assert status == 413 and body["detail"]["code"] == "too_large"
    assert taken <= limit + 64 * 1024  # 50 MiB offered; at most one piece past the limit read


def test_the_json_limit_holds_over_http_and_is_a_setting(server: Server) -> None:
    headers = server.login("inspector")
    r = server.client.post(
        "/cases",
        content=b"{" + b" " * (1 * MiB) + b"}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["detail"]["field"] == "body"
    app: Any = server.client.app
    app.state.settings = dataclasses.replace(app.state.settings, max_json_bytes=100)
    r = new_case(server)  # an ordinary case body is over 100 bytes
    assert r.status_code == 413, r.text


def test_larger_bodies_have_their_own_documented_limits() -> None:
    assert limit_for("POST", "/sync/push", 1) == MAX_PUSH_BYTES
    assert limit_for("POST", "/boundary/versions", 1) == MAX_BOUNDARY_BYTES
    assert limit_for("PATCH", "/photos/" + "a" * 64, 1) == 8 * MiB
    assert limit_for("POST", "/hotline/imports", 1) > 50 * MiB
    assert limit_for("POST", "/cases", 1) == 1
    assert limit_for("GET", "/sync/push", 1) == 1


def test_a_photo_chunk_larger_than_the_json_limit_is_still_received(server: Server) -> None:
    chunk = b"\xff\xd8\xff" + b"\0" * (2 * MiB)
    r = patch(server, "inspector", sha(b"a big photo"), 0, 3 * MiB, chunk)
    assert r.status_code == 204, r.text
    assert head(server, "inspector", sha(b"a big photo")).headers["Upload-Offset"] == str(
        len(chunk)
    )


def _device_headers(server: Server, user: str) -> dict[str, str]:
    r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": "手机"})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}


def _create(command_id: int) -> dict[str, Any]:
    return {
        "id": command_id,
        "type": "CreateCase",
        "created_at": T0.isoformat(),
        "payload": {
            "case_id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "路口积水",
        },
    }


def test_a_push_over_the_batch_limit_is_refused_naming_commands_and_applies_nothing(
    server: Server,
) -> None:
    headers = _device_headers(server, "inspector")
    body = {"protocol": 1, "commands": [_create(i) for i in range(1, MAX_BATCH + 2)]}
    r = server.client.post("/sync/push", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "commands", r.text
    r = server.client.post(
        "/sync/push", content=b"{" + b" " * MAX_PUSH_BYTES + b"}", headers=headers
    )
    assert r.status_code == 413
    r = server.client.post(
        "/sync/push", json={"protocol": 1, "commands": [_create(1)]}, headers=headers
    )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text


def test_unfinished_photo_uploads_per_user_are_bounded_and_finishing_frees_the_quota(
    server: Server,
) -> None:
    app: Any = server.client.app
    app.state.settings = dataclasses.replace(app.state.settings, max_open_uploads=2)
    photos = [jpeg_bytes(seed) for seed in range(3)]
    half = [p[: len(p) // 2] for p in photos]
    for p, h in zip(photos[:2], half[:2], strict=True):
        assert patch(server, "inspector", sha(p), 0, len(p), h).status_code == 204
    r = patch(server, "inspector", sha(photos[2]), 0, len(photos[2]), half[2])
    assert r.status_code == 429, r.text
    assert r.json()["detail"]["code"] == "too_many_open_uploads"
    assert head(server, "inspector", sha(photos[2])).headers["Upload-Offset"] == "0"
    # another user has a quota of their own
    assert (
        patch(server, "sw_handler", sha(photos[2]), 0, len(photos[2]), half[2]).status_code == 204
    )
    # resuming an upload already started is never refused
    p0 = photos[0]
    r = patch(server, "inspector", sha(p0), len(half[0]), len(p0), p0[len(half[0]) :])
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1", r.text
    # the finished upload freed its place
    p = jpeg_bytes(7)
    assert patch(server, "inspector", sha(p), 0, len(p), p).status_code == 204


def test_the_limits_are_read_from_the_environment_and_nonsense_is_refused(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIXIAN_MAX_JSON_BYTES", "2048")
    monkeypatch.setenv("YIXIAN_COMPUTE_SECONDS", "2.5")
    monkeypatch.setenv("YIXIAN_MAX_OPEN_UPLOADS", "7")
    settings = settings_from_env(tmp_path)
    assert (settings.max_json_bytes, settings.compute_seconds, settings.max_open_uploads) == (
        2048,
        2.5,
        7,
    )
    for name, bad in (
        ("YIXIAN_MAX_JSON_BYTES", "1e9"),
        ("YIXIAN_COMPUTE_SECONDS", "0"),
        ("YIXIAN_COMPUTE_SECONDS", "nan"),
        ("YIXIAN_MAX_OPEN_UPLOADS", "-1"),
    ):
        monkeypatch.setenv(name, bad)
        with pytest.raises(RuntimeError, match=name):
            settings_from_env(tmp_path)
        monkeypatch.delenv(name)
