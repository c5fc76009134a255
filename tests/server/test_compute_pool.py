"""Expensive computations run in worker processes behind an admission limit
(server/services/compute_pool.py): other users' requests are answered while one runs, one too
many is told to come back (429 with Retry-After, never 500), a dead worker is a 503 and the
next computation runs, and a worker computes exactly what the server process computes. Both
databases (the ``server`` fixture); behavioural, never timed."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from server.api import auth as auth_api
from server.api.errors import http_status
from server.config import settings_from_env
from server.evaluation.excel import RANKING_SHEET
from server.services import auth as auth_service
from server.services.compute_pool import COMPUTE_NICE, ComputeBusy, ComputeLost, ComputePool
from tests.conftest import Server
from tests.server.test_availability import _device_headers
from tests.server.test_evaluation_api import LOT, november_with_one_late_case, parking_case
from tests.support import compute_jobs

WAIT_S = 60  # a guard against hanging for ever, never a timed assertion


def use_pool(server: Server, processes: int, queue: int) -> ComputePool:
    app: Any = server.client.app
    pool = ComputePool(app.state.engine, processes=processes, queue=queue)
    app.state.compute_pool = pool
    return pool


def wait_for(path: Path) -> None:
    end = time.monotonic() + WAIT_S
    while not path.exists():
        assert time.monotonic() < end, f"{path.name} never appeared"
        time.sleep(0.02)


EXPENSIVE = (
    ("/evaluation/hotspots", {"min_reports": 2}),
    ("/evaluation/repeat-complaints", {}),
    ("/evaluation/dashboard/on-time", {"kind": "month", "year": 2026, "number": 11}),
    ("/evaluation/dashboard/cases-over-time", {"start": "2026-11-01T00:00:00+08:00"}),
)


def test_a_worker_process_computes_exactly_what_the_server_process_computes(
    server: Server,
) -> None:
    november_with_one_late_case(server)
    # at a closed case's place, a month later: the problem came back (merged as a duplicate)
    again = {"id": str(uuid.uuid4()), "category": "parking", "description": "又有车乱停"}
    again["location"] = {"lat": LOT.lat + 5.0 / 110_950, "lon": LOT.lon}  # type: ignore[assignment]
    assert server.post("/cases", "inspector", again).status_code == 201
    november = {"kind": "month", "year": 2026, "number": 11}
    here = {path: server.get(path, "supervisor", **params) for path, params in EXPENSIVE}
    run_here = server.post("/evaluation/runs", "supervisor", november).json()
    pool = use_pool(server, processes=1, queue=0)
    try:
        for path, params in EXPENSIVE:
            there = server.get(path, "supervisor", **params)
            assert there.status_code == 200, (path, there.text)
            assert there.json() == here[path].json(), path
        assert here["/evaluation/hotspots"].json()["total"] == 1
        assert here["/evaluation/repeat-complaints"].json()["departments"]

        r = server.post("/evaluation/runs", "supervisor", november)
        assert r.status_code == 201, r.text
        run_there = r.json()
        assert run_there["id"] != run_here["id"]
        skip = {"id"}
        assert {k: v for k, v in run_there.items() if k not in skip} == {
            k: v for k, v in run_here.items() if k not in skip
        }
        for run in (run_here, run_there):
            again = server.get(f"/evaluation/runs/{run['id']}/reproduce", "supervisor")
            assert again.status_code == 200 and again.json()["same"] is True, again.text
        sheets = []
        for run in (run_here, run_there):
            x = server.get(f"/evaluation/runs/{run['id']}/export.xlsx", "supervisor")
            assert x.status_code == 200, x.text
            ranking = load_workbook(io.BytesIO(x.content))[RANKING_SHEET]
            sheets.append([row for row in ranking.iter_rows(values_only=True)])
        assert sheets[0] == sheets[1] and len(sheets[0]) > 1

        # a domain error raised in the worker is answered as in-process: 4xx, never 500
        missing = server.get("/evaluation/runs/999999/reproduce", "supervisor")
        assert missing.status_code == 404, missing.text
        app: Any = server.client.app
        app.state.settings = dataclasses.replace(app.state.settings, compute_seconds=0.0)
        late = server.get("/evaluation/hotspots", "supervisor", min_reports=2)
        assert late.status_code == 422 and late.json()["detail"]["code"] == "too_expensive"
    finally:
        pool.close()


# The pool behaves the same whatever the database (the worker's reads are compared on both
# above): these run on SQLite only, to spare the CI budget a second worker start.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_while_a_worker_computes_other_users_are_answered_and_one_more_computation_waits_its_turn(
    server: Server, tmp_path: Path
) -> None:
    phone = _device_headers(server, "supervisor")
    server.login("inspector")
    pool = use_pool(server, processes=1, queue=0)
    started, release = tmp_path / "started", tmp_path / "release"
    try:
        with ThreadPoolExecutor(1) as threads:
            busy: Future[tuple[int, int]] = threads.submit(
                pool.run,
                compute_jobs.hold_until_file,
                seconds=WAIT_S,
                started=str(started),
                release=str(release),
            )
            wait_for(started)  # the worker is taken, mid-computation
            assert server.get("/cases", "inspector").status_code == 200
            pull = server.client.post("/sync/pull", json={"protocol": 1}, headers=phone)
            assert pull.status_code == 200, pull.text
            refused = server.get("/evaluation/hotspots", "supervisor")
            assert refused.status_code == 429, refused.text
            assert refused.json()["detail"]["code"] == "compute_busy"
            assert int(refused.headers["Retry-After"]) >= 1
            release.touch()
            pid, nice = busy.result(WAIT_S)
        assert pid != os.getpid()
        assert nice >= min(COMPUTE_NICE, 19)  # the server's own threads come first
        assert server.get("/evaluation/hotspots", "supervisor").status_code == 200

        # a worker killed mid-computation: 503 (try again), and the next computation runs
        with pytest.raises(ComputeLost) as lost:
            pool.run(compute_jobs.die, seconds=WAIT_S)
        assert http_status(lost.value) == 503
        again, _ = pool.run(compute_jobs.where, seconds=WAIT_S)
        assert again not in (pid, os.getpid())
        assert server.get("/evaluation/hotspots", "supervisor").status_code == 200
    finally:
        release.touch()
        pool.close()


@SQLITE_ONLY
def test_past_the_queue_a_computation_is_refused_at_once_and_a_waiting_one_after_its_limit(
    server: Server,
) -> None:
    engine: Any = server.client.app.state.engine  # type: ignore[attr-defined]
    pool = ComputePool(engine, processes=0, queue=1)
    started, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as threads:
        holding: Future[str] = threads.submit(
            pool.run,
            compute_jobs.hold_until_event,
            seconds=WAIT_S,
            started=started,
            release=release,
        )
        assert started.wait(WAIT_S)
        waiting: Future[Any] = threads.submit(pool.run, compute_jobs.where, seconds=0.2)
        with pytest.raises(ComputeBusy):
            waiting.result(WAIT_S)  # it waited its time limit for a turn
        assert pool.admitted == 1
        queued = threads.submit(pool.run, compute_jobs.where, seconds=WAIT_S)
        end = time.monotonic() + WAIT_S
        while pool.admitted < 2:  # it took the one place in the queue and waits for its turn
            assert time.monotonic() < end
            time.sleep(0.01)
        with pytest.raises(ComputeBusy) as refused:
            pool.run(compute_jobs.where, seconds=WAIT_S)  # no place: refused at once
        assert http_status(refused.value) == 429 and refused.value.retry_after_s >= 1
        release.set()
        assert holding.result(WAIT_S) == "done"
        assert queued.result(WAIT_S)[0] == os.getpid()  # in-process: computed here


def test_compute_settings_are_read_from_the_environment_and_nonsense_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YIXIAN_COMPUTE_PROCESSES", "3")
    monkeypatch.setenv("YIXIAN_COMPUTE_QUEUE", "0")
    settings = settings_from_env()
    assert (settings.compute_processes, settings.compute_queue) == (3, 0)
    monkeypatch.delenv("YIXIAN_COMPUTE_PROCESSES")
    assert settings_from_env().compute_processes >= 1  # the default computes outside
    for bad in ("-1", "two", "1.5"):
        monkeypatch.setenv("YIXIAN_COMPUTE_QUEUE", bad)
        with pytest.raises(RuntimeError, match="YIXIAN_COMPUTE_QUEUE"):
            settings_from_env()


def test_a_pull_page_carries_each_cases_own_events_in_order(server: Server) -> None:
    """The page's events are read in one query for all its cases (not one per case: fewer
    round trips, each of which waits for the interpreter lock when the server is busy)."""
    first, second = parking_case(server), parking_case(server, 500.0)
    server.post(f"/cases/{first}/accept", "zhzf_handler")  # events interleave between cases
    server.post(f"/cases/{second}/accept", "zhzf_handler")
    phone = _device_headers(server, "supervisor")
    page = server.client.post("/sync/pull", json={"protocol": 1}, headers=phone).json()
    pulled = {c["id"]: c["events"] for c in page["cases"]}
    assert set(pulled) >= {first, second}
    for case_id, events in pulled.items():
        detail = server.get(f"/cases/{case_id}", "supervisor").json()["events"]
        assert [(e["seq"], e["kind"]) for e in events] == [(e["seq"], e["kind"]) for e in detail], (
            case_id
        )
    assert [e["kind"] for e in pulled[first]][-1] == "CaseAccepted"


KILLED_SERVER = """
import os, sys
from server.db import make_engine
from server.services import auth as auth_service
from server.services.compute_pool import ComputePool
from tests.support import compute_jobs

pool = ComputePool(make_engine(sys.argv[1]), processes=1, queue=0)
pid, _ = pool.run(compute_jobs.where, seconds=60)
print(pid, flush=True)
os._exit(9)  # gone at once, as when killed: its pool is never stopped
"""


@SQLITE_ONLY
def test_a_worker_ends_when_its_server_process_is_killed(server: Server) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_SERVER, server.url],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 9, done.stderr
    worker = int(done.stdout.split()[0])
    end = time.monotonic() + WAIT_S
    while Path(f"/proc/{worker}").exists() and _alive(worker):
        assert time.monotonic() < end, "the orphaned worker is still running"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")  # a zombie has ended


@SQLITE_ONLY
def test_a_flood_of_sign_ins_is_handled_a_few_at_a_time_while_others_are_answered(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.login("inspector")
    monkeypatch.setattr(auth_api, "SIGN_IN_TURN_WAIT_S", 0.2)
    inside, release = threading.Semaphore(0), threading.Event()
    original = auth_service.login

    def held(*args: Any, **kwargs: Any) -> Any:
        inside.release()
        release.wait(WAIT_S)
        return original(*args, **kwargs)

    monkeypatch.setattr(auth_service, "login", held)

    def guess(k: int) -> Any:
        body = {"username": f"guess{k}", "password": "wrong-password"}
        return server.client.post("/auth/login", json=body)

    try:
        with ThreadPoolExecutor(auth_api.SIGN_INS_AT_ONCE) as threads:
            flood = [threads.submit(guess, k) for k in range(auth_api.SIGN_INS_AT_ONCE)]
            for _ in flood:
                assert inside.acquire(timeout=WAIT_S)  # every turn is taken
            one_more = guess(99)  # waits for a turn, holding no thread, then is told to retry
            assert one_more.status_code == 429, one_more.text
            assert one_more.json()["detail"]["code"] == "sign_in_busy"
            assert one_more.headers["Retry-After"] == "1"
            assert server.get("/cases", "inspector").status_code == 200  # others go on
            release.set()
            assert [f.result(WAIT_S).status_code for f in flood] == [401] * len(flood)
    finally:
        release.set()
    monkeypatch.setattr(auth_service, "login", original)
    right = {"username": "supervisor", "password": "yixian-demo"}
    r = server.client.post("/auth/login", json=right)
    assert r.status_code == 200, r.text  # the turns were given back
