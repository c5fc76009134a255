"""Scheduled work cannot silently stop: a run that raises is logged, recorded and retried with
exponential backoff while the loop goes on; with several schedulers on one database (several
server processes) the job's lock — a PostgreSQL advisory lock, a file lock beside the SQLite
database — lets exactly one run at a time, and a period is run once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from server.app import create_app
from server.config import Settings
from server.data import jobs as jobs_data
from server.db import make_engine
from server.services.scheduler import (
    ESCALATION_JOB,
    FileLock,
    Outcome,
    PeriodicJob,
    PgAdvisoryLock,
    lock_for,
)
from tests.conftest import Server

EVERY = 300.0


@pytest.fixture
def engine(server: Server) -> Iterator[Engine]:
    eng = make_engine(server.url)
    yield eng
    eng.dispose()


class Wall:
    """A wall clock the test moves (no sleeping)."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def locked_database() -> None:
    raise OperationalError("UPDATE case_record ...", {}, Exception("database is locked"))


def test_a_failing_run_is_logged_recorded_and_retried_with_backoff_and_the_loop_goes_on(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) <= 3:
            locked_database()

    outcomes: list[Outcome] = []
    wall = Wall()
    job = PeriodicJob(
        ESCALATION_JOB,
        flaky,
        engine,
        every=EVERY,
        backoff_s=5,
        wall=wall,
        on_outcome=outcomes.append,
    )
    delays: list[float] = []

    def wait(delay: float) -> bool:  # the scheduler's sleep: record it, move the clock
        delays.append(delay)
        wall.t += delay
        if len(delays) == 4:  # three failures in a row so far: look at the record
            row = jobs_data.get(engine, ESCALATION_JOB)
            assert row is not None and row.consecutive_failures == 3
            assert row.last_error is not None and "database is locked" in row.last_error
            assert row.last_success_at is None
        return len(delays) > 6  # then stop the loop

    job.run(wait)
    assert outcomes[:4] == [Outcome.FAILED, Outcome.FAILED, Outcome.FAILED, Outcome.RAN]
    assert delays[1:4] == [5, 10, 20]  # exponential backoff after each failure
    assert delays[4] == pytest.approx(EVERY - (wall.t - delays[4]) % EVERY)  # next period
    assert len(outcomes) == 6 and Outcome.RAN in outcomes[4:]  # the loop went on
    row = jobs_data.get(engine, ESCALATION_JOB)
    assert row is not None and row.last_success_at is not None and row.consecutive_failures == 0
    failures = [r for r in caplog.records if r.name == "yixian.scheduler" and r.exc_info]
    assert len(failures) == 3  # each failed run logged with its traceback
    outcomes_logged = [r.outcome for r in jobs_data.run_log(engine, ESCALATION_JOB)]
    assert outcomes_logged[:4] == ["failed", "failed", "failed", "ran"]


def test_backoff_never_waits_longer_than_the_period(engine: Engine) -> None:
    job = PeriodicJob(ESCALATION_JOB, locked_database, engine, every=60, backoff_s=5, wall=Wall())
    waits = []
    for _ in range(6):
        waits.append(job.next_delay(job.tick()))
    assert waits == [5, 10, 20, 40, 60, 60]


def test_a_scheduler_whose_database_is_unreachable_keeps_trying(engine: Engine) -> None:
    class Unreachable:
        def acquire(self) -> bool:
            raise OperationalError("SELECT pg_try_advisory_lock", {}, Exception("refused"))

        def release(self) -> None:
            pass

    ran: list[int] = []
    job = PeriodicJob(
        ESCALATION_JOB, lambda: ran.append(1), engine, every=EVERY, lock=Unreachable()
    )
    assert [job.tick() for _ in range(3)] == [Outcome.FAILED] * 3  # never raises
    assert ran == [] and job.next_delay(Outcome.FAILED) == 20


def test_two_schedulers_on_one_database_run_each_period_once(engine: Engine) -> None:
    runs: list[str] = []
    wall = Wall()
    a = PeriodicJob("escalation", lambda: runs.append("a"), engine, every=EVERY, wall=wall)
    b = PeriodicJob("escalation", lambda: runs.append("b"), engine, every=EVERY, wall=wall)
    assert (a.tick(), b.tick()) == (Outcome.RAN, Outcome.DONE)
    wall.t += EVERY  # the next period: whoever comes first runs it
    assert (b.tick(), a.tick()) == (Outcome.RAN, Outcome.DONE)
    assert runs == ["a", "b"]
    # each run is logged with its period; a forced run (the escalate command) without one
    assert a.tick(force=True) == Outcome.RAN
    period = int(wall.t // EVERY)
    logged = [(r.period, r.outcome) for r in jobs_data.run_log(engine, "escalation")]
    assert logged == [(period - 1, "ran"), (period, "ran"), (None, "ran")]


def test_the_run_log_keeps_the_last_thirty_days(engine: Engine) -> None:
    wall = Wall()
    job = PeriodicJob("escalation", lambda: None, engine, every=EVERY, wall=wall)
    assert job.tick() == Outcome.RAN
    wall.t += 29 * 86_400
    assert job.tick() == Outcome.RAN
    assert len(jobs_data.run_log(engine, "escalation")) == 2
    wall.t += 2 * 86_400  # the first run is now 31 days old
    assert job.tick() == Outcome.RAN
    kept = jobs_data.run_log(engine, "escalation")
    assert [int(r.period or 0) for r in kept] == [
        int((wall.t - 2 * 86_400) // EVERY),
        int(wall.t // EVERY),
    ]


def test_the_lock_is_an_advisory_lock_on_postgresql_and_a_file_beside_the_sqlite_database(
    server: Server, engine: Engine
) -> None:
    lock = lock_for(engine, ESCALATION_JOB)
    if server.backend.name == "postgres":
        assert isinstance(lock, PgAdvisoryLock)
    else:
        assert isinstance(lock, FileLock)
        database = Path(server.url.split("///", 1)[1])
        assert lock._path.parent == database.parent  # beside the database


HOLDER = textwrap.dedent(
    """
    import sys
    from server.db import make_engine
    from server.services.scheduler import lock_for
    lock = lock_for(make_engine(sys.argv[1]), "escalation")
    assert lock.acquire()
    print("locked", flush=True)
    sys.stdin.readline()  # hold it until the test says so
    lock.release()
    """
)


def test_while_another_process_runs_the_job_this_one_is_kept_out(
    server: Server, engine: Engine
) -> None:
    """Another server process holds the job's lock (it is running the job): this scheduler
    neither runs it nor waits; once the other is done, it may run."""
    ran: list[int] = []
    job = PeriodicJob(ESCALATION_JOB, lambda: ran.append(1), engine, every=EVERY, wall=Wall())
    other = subprocess.Popen(
        [sys.executable, "-c", HOLDER, server.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        assert job.tick() == Outcome.BUSY
        assert job.tick() == Outcome.BUSY
        assert ran == []
    finally:
        assert other.stdin is not None
        other.stdin.write("done\n")
        other.stdin.close()
        other.wait(timeout=60)
    assert other.returncode == 0
    assert job.tick() == Outcome.RAN and ran == [1]


def test_a_run_in_progress_keeps_a_second_scheduler_out_in_the_same_process(
    engine: Engine,
) -> None:
    seen: list[Outcome] = []
    wall = Wall()
    b = PeriodicJob(ESCALATION_JOB, lambda: seen.append(Outcome.RAN), engine, every=1, wall=wall)

    def during_a() -> None:
        wall.t += 5  # even in a later period, B may not start while A runs
        seen.append(b.tick())

    a = PeriodicJob(ESCALATION_JOB, during_a, engine, every=1, wall=wall)
    assert a.tick() == Outcome.RAN
    assert seen == [Outcome.BUSY]


def _until(condition: Callable[[], Any], limit_s: float = 60) -> Any:
    deadline = time.monotonic() + limit_s
    while not (found := condition()):
        assert time.monotonic() < deadline, "the scheduler thread never ran"
        time.sleep(0.05)
    return found


def test_the_server_runs_the_escalation_job_itself_when_configured(
    server: Server, tmp_path: Path
) -> None:
    if server.backend.name != "sqlite":
        pytest.skip("the thread's wiring does not depend on the database")
    engine = make_engine(server.url)
    settings = Settings(
        database_url=server.url, photo_dir=tmp_path / "p", secret="t", escalate_every=3600
    )
    app = create_app(settings, engine=engine, clock=server.clock)
    with TestClient(app) as client:
        row = _until(lambda: (r := jobs_data.get(engine, ESCALATION_JOB)) and r.last_success_at)
        assert row is not None
        ready = client.get("/ready").json()["checks"]["scheduler"]
        assert ready["ok"] and "last escalation run" in ready["detail"]
    assert app.state.scheduler._thread is None  # stopped with the app
    engine.dispose()
