"""Watching the server: /health and /ready (each failing check makes it 503 and is named), one
JSON log line per request carrying the request id that the response header and every error body
carry too, and the Prometheus metrics that move with what the server does."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlmodel import Session

from server.app import create_app
from server.config import Settings
from server.db import make_engine
from server.demo_data import SITES
from server.models import JobRun
from server.observability import metrics
from server.observability.logs import JsonFormatter
from server.observability.readiness import Readiness
from server.services.scheduler import ESCALATION_JOB, PeriodicJob
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import T0, Backend, FakeClock, Server
from tests.server.test_photos_api import jpeg_bytes, upload

WATER = next(s for s in SITES if s.kind == "waterlogging_point")


@pytest.fixture
def sqlite_server(backend: Backend, tmp_path: Any) -> Iterator[Server]:
    """The server on SQLite only, for what does not depend on the database."""
    if backend.name != "sqlite":
        pytest.skip("does not depend on the database: run on SQLite only")
    url = backend.fresh_url(tmp_path)
    settings = Settings(database_url=url, photo_dir=tmp_path / "photos", secret="test")
    engine = make_engine(url)
    clock = FakeClock(T0)
    with TestClient(create_app(settings, engine=engine, clock=clock)) as client:
        yield Server(client, clock, url, backend, {})
    engine.dispose()


def readiness(server: Server) -> Readiness:
    return server.client.app.state.readiness  # type: ignore[attr-defined,no-any-return]


def assert_not_ready_because(server: Server, check: str) -> dict[str, Any]:
    r = server.client.get("/ready")
    assert r.status_code == 503, r.text
    body = r.json()
    assert check in body["failing"]
    assert body["checks"][check]["ok"] is False
    assert check in body["detail"]["reason"]
    assert body["detail"]["request_id"] == r.headers["X-Request-ID"]
    return dict(body)


# --- /health and /ready ------------------------------------------------------------------------


def test_health_answers_while_the_process_runs(sqlite_server: Server) -> None:
    r = sqlite_server.client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_ready_lists_every_check_when_all_is_well(server: Server) -> None:
    r = server.client.get("/ready")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert set(checks) == {
        "database",
        "migrations",
        "photo_storage",
        "minutes_storage",
        "scheduler",
    }
    assert all(c["ok"] for c in checks.values()), checks


def test_ready_is_503_naming_the_database_when_it_cannot_be_reached(server: Server) -> None:
    if server.backend.name == "sqlite":
        bad = create_engine("sqlite:////nonexistent-yixian-dir/none.db")
    else:
        bad = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    readiness(server).engine = bad
    body = assert_not_ready_because(server, "database")
    assert "photo_storage" not in body["failing"]  # the checks that still answer say so


def test_ready_is_503_naming_migrations_when_the_database_is_behind_the_code(
    server: Server,
) -> None:
    engine = make_engine(server.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    engine.dispose()
    body = assert_not_ready_because(server, "migrations")
    assert "0005" in body["checks"]["migrations"]["detail"]


@pytest.mark.parametrize("which", ["photo_storage", "minutes_storage"])
def test_ready_is_503_naming_the_storage_that_cannot_be_written(
    sqlite_server: Server, tmp_path: Any, which: str
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be")
    if which == "photo_storage":
        readiness(sqlite_server).photo_dir = blocker / "photos"
    else:
        readiness(sqlite_server).minutes_dir = blocker / "minutes"
    body = assert_not_ready_because(sqlite_server, which)
    assert body["failing"] == [which]


def test_ready_is_503_naming_the_scheduler_when_escalation_stopped_and_ready_after_a_run(
    server: Server,
) -> None:
    probe = readiness(server)
    probe.started_at = time.time() - 2 * probe.stale_after  # past the start-up grace
    assert_not_ready_because(server, "scheduler")  # never ran
    engine = make_engine(server.url)
    with Session(engine) as session:
        long_ago = datetime.now(UTC) - timedelta(seconds=2 * probe.stale_after)
        session.add(JobRun(name=ESCALATION_JOB, last_success_at=long_ago, last_period=1))
        session.commit()
    body = assert_not_ready_because(server, "scheduler")  # ran, but long ago
    assert "s ago" in body["checks"]["scheduler"]["detail"]
    job = PeriodicJob(ESCALATION_JOB, lambda: None, engine, every=300)
    assert job.tick().value == "ran"
    engine.dispose()
    assert server.client.get("/ready").status_code == 200


# --- request ids and JSON access logs ----------------------------------------------------------


class AccessLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def access_log() -> Iterator[AccessLog]:
    log = AccessLog()
    logger = logging.getLogger("yixian.access")
    old_level = logger.level
    logger.addHandler(log.handler)
    logger.setLevel(logging.INFO)
    yield log
    logger.removeHandler(log.handler)
    logger.setLevel(old_level)


def test_each_request_writes_one_json_line_with_its_id_user_route_status_and_duration(
    sqlite_server: Server, access_log: AccessLog
) -> None:
    headers = sqlite_server.login("inspector")
    me = sqlite_server.client.get("/auth/me", headers=headers).json()
    missing = str(uuid.uuid4())
    r = sqlite_server.client.get(f"/cases/{missing}", headers=headers)
    assert r.status_code == 404
    line = access_log.lines()[-1]
    assert line["logger"] == "yixian.access"
    assert line["request_id"] == r.headers["X-Request-ID"]
    assert line["user_id"] == me["id"]
    assert line["device_id"] is None
    assert line["route"] == "/cases/{case_id}"  # the template: no case id in the label
    assert line["method"] == "GET"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_a_device_request_logs_its_device_and_user(
    sqlite_server: Server, access_log: AccessLog
) -> None:
    r = sqlite_server.post(
        "/devices", "inspector", {"client_id": str(uuid.uuid4()), "name": "phone"}
    )
    device = r.json()
    headers = {"Authorization": f"Bearer {device['device_token']}", PROTOCOL_HEADER: "1"}
    assert sqlite_server.client.post("/sync/pull", json={}, headers=headers).status_code == 200
    line = access_log.lines()[-1]
    assert line["route"] == "/sync/pull" and line["status"] == 200
    assert line["device_id"] == device["device_id"]
    assert line["user_id"] is not None


def test_a_sane_incoming_request_id_is_kept_and_a_crafted_one_replaced(
    sqlite_server: Server, access_log: AccessLog
) -> None:
    r = sqlite_server.client.get("/health", headers={"X-Request-ID": "lb-7f3a:42.retry_1"})
    assert r.headers["X-Request-ID"] == "lb-7f3a:42.retry_1"
    for crafted in ("x" * 129, 'a"b', "id with spaces", "tab\there", "{}"):
        r = sqlite_server.client.get("/health", headers={"X-Request-ID": crafted})
        assert r.headers["X-Request-ID"] != crafted
        assert len(r.headers["X-Request-ID"]) == 32  # a fresh one
    ids = [line["request_id"] for line in access_log.lines()]
    assert len(set(ids)) == len(ids)


def test_every_error_body_carries_the_request_id_of_its_header(sqlite_server: Server) -> None:
    headers = sqlite_server.login("inspector")
    cases = [
        sqlite_server.client.get("/cases"),  # 401
        sqlite_server.client.get(f"/cases/{uuid.uuid4()}", headers=headers),  # 404
        sqlite_server.client.post("/cases", json={"category": 7}, headers=headers),  # 422
        sqlite_server.post("/cases/not-a-case/assign", "zhzf_handler", {}),  # 404/403
    ]
    for r in cases:
        assert r.status_code >= 400
        detail = r.json()["detail"]
        assert {"code", "reason"} <= set(detail)  # the one shape, unchanged
        assert detail["request_id"] == r.headers["X-Request-ID"]
    given = sqlite_server.client.get("/cases", headers={"X-Request-ID": "complaint-1234"})
    assert given.json()["detail"]["request_id"] == "complaint-1234"
    # Starlette's own errors keep their shape and carry the id beside it
    unknown = sqlite_server.client.get("/no-such-route")
    assert unknown.status_code == 404
    assert unknown.json()["request_id"] == unknown.headers["X-Request-ID"]


def test_an_unexpected_error_is_a_500_with_the_request_id_and_is_logged_with_it(
    tmp_path: Any, access_log: AccessLog, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}", photo_dir=tmp_path, secret="x"
    )
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.json()["detail"]["request_id"] == r.headers["X-Request-ID"]
    assert r.json()["detail"]["code"] == "internal_error"
    assert access_log.lines()[-1]["status"] == 500
    logged = [rec for rec in caplog.records if rec.name == "yixian.errors"]
    assert logged and r.headers["X-Request-ID"] in logged[-1].getMessage()


# --- Prometheus metrics ------------------------------------------------------------------------


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = server.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_template_method_and_status(sqlite_server: Server) -> None:
    before = scrape(sqlite_server)
    headers = sqlite_server.login("inspector")
    for _ in range(3):
        sqlite_server.client.get(f"/cases/{uuid.uuid4()}", headers=headers)
    after = scrape(sqlite_server)
    route = {"route": "/cases/{case_id}", "method": "GET"}
    assert (
        value(after, "yixian_http_requests_total", status="404", **route)
        - value(before, "yixian_http_requests_total", status="404", **route)
        == 3
    )
    assert (
        value(after, "yixian_http_request_duration_seconds_count", **route)
        - value(before, "yixian_http_request_duration_seconds_count", **route)
        == 3
    )
    assert value(after, "yixian_http_request_duration_seconds_bucket", le="+Inf", **route) >= 3
    assert ("yixian_db_pool_checked_out", ()) in after
    assert value(after, "yixian_db_pool_size") >= 1


def _create(command_id: int) -> dict[str, Any]:
    return {
        "id": command_id,
        "type": "CreateCase",
        "created_at": datetime.now(UTC).isoformat(),
        "payload": {
            "case_id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "路口积水",
            "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
        },
    }


def test_metrics_count_sync_commands_pull_pages_and_each_devices_outbox(server: Server) -> None:
    r = server.post("/devices", "inspector", {"client_id": str(uuid.uuid4()), "name": "phone"})
    device = r.json()
    headers = {"Authorization": f"Bearer {device['device_token']}", PROTOCOL_HEADER: "1"}
    note = {
        "id": 3,
        "type": "AddNote",
        "created_at": datetime.now(UTC).isoformat(),
        "payload": {"case_id": str(uuid.uuid4()), "text": "无此案件"},
    }
    before = scrape(server)
    body = {"protocol": 1, "commands": [_create(1), _create(2), note], "outbox_pending": 7}
    r = server.client.post("/sync/push", json=body, headers=headers)
    assert r.status_code == 200, r.text
    statuses = [res["status"] for res in r.json()["results"]]
    assert statuses == ["applied", "applied", "rejected"]
    assert server.client.post("/sync/pull", json={}, headers=headers).status_code == 200
    # the same batch again: stored results answered, nothing decided twice
    server.client.post("/sync/push", json=body | {"outbox_pending": 0}, headers=headers)
    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("yixian_sync_commands_total", status="applied") == 2
    assert moved("yixian_sync_commands_total", status="rejected") == 1
    assert moved("yixian_sync_pull_pages_total") == 1
    assert value(after, "yixian_device_outbox_pending", device=device["device_id"]) == 0


def test_the_outbox_gauge_keeps_a_bounded_number_of_devices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "MAX_DEVICE_SERIES", 2)
    names = [f"bounded-{uuid.uuid4()}" for _ in range(3)]
    for n, name in enumerate(names):
        metrics.observe_outbox(name, n)
    kept = {
        s.labels["device"]
        for fam in metrics.OUTBOX_PENDING.collect()
        for s in fam.samples
        if s.labels["device"] in names
    }
    assert kept == set(names[1:])  # the least recently reporting device's series is dropped
    for name in names[1:]:
        metrics.OUTBOX_PENDING.remove(name)


def test_metrics_count_photo_bytes_up_and_down(sqlite_server: Server) -> None:
    data = jpeg_bytes(seed=3)
    before = scrape(sqlite_server)
    name = upload(sqlite_server, "inspector", data, chunk_size=16 * 1024)
    assert sqlite_server.get(f"/photos/{name}", "inspector").content == data
    after = scrape(sqlite_server)
    for direction in ("upload", "download"):
        grown = value(after, "yixian_photo_bytes_total", direction=direction) - value(
            before, "yixian_photo_bytes_total", direction=direction
        )
        assert grown == len(data), direction


def test_metrics_count_escalation_runs_and_show_the_age_of_the_last_success(
    server: Server,
) -> None:
    engine = make_engine(server.url)
    before = scrape(server)
    assert ("yixian_escalation_last_success_age_seconds", ()) not in before  # never ran

    def broken() -> None:
        raise RuntimeError("database is locked")

    assert PeriodicJob(ESCALATION_JOB, broken, engine, every=300).tick().value == "failed"
    assert PeriodicJob(ESCALATION_JOB, lambda: None, engine, every=300).tick().value == "ran"
    engine.dispose()
    after = scrape(server)
    for outcome in ("failure", "success"):
        grown = value(after, "yixian_escalation_runs_total", outcome=outcome) - value(
            before, "yixian_escalation_runs_total", outcome=outcome
        )
        assert grown == 1, outcome
    assert 0 <= value(after, "yixian_escalation_last_success_age_seconds") < 3600
    assert value(after, "yixian_escalation_last_success_timestamp_seconds") > 0
