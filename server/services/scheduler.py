"""Periodic work that cannot silently stop, and that one process at a time does.

A ``PeriodicJob`` wakes at the start of every period (wall-clock seconds // ``every``), takes
the job's lock — a PostgreSQL advisory lock held on its own connection, or on SQLite an
``fcntl.flock`` on a file beside the database — and runs the job unless the job already
succeeded in this period (``job_run.last_period``, written by whichever process ran it; each run
is also logged in ``job_run_log`` with its period and process). So with
several server processes (or a server and a ``python -m server escalate --every N``) exactly one
runs it at a time and once per period.

A run that raises (a locked database, a lost connection) is logged with its traceback, recorded
in ``job_run`` and the ``yixian_escalation_runs_total{outcome="failure"}`` counter, and tried
again after an exponential backoff (``backoff_s``, doubled per failure in a row, at most the
period); the loop itself never ends on an error. ``/ready`` reports the scheduler as failing when
the last success is older than its ``stale_after`` (``server/observability/readiness.py``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, text

from server.data import jobs as jobs_data

log = logging.getLogger("yixian.scheduler")

ESCALATION_JOB = "escalation"


class Outcome(StrEnum):
    RAN = "ran"  # this process ran it and it succeeded
    FAILED = "failed"  # this process ran it and it raised (retried after a backoff)
    BUSY = "busy"  # another process holds the lock now
    DONE = "done"  # another process already ran it in this period


class JobLock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


def advisory_key(name: str) -> int:
    """A stable 32-bit key per job (``pg_try_advisory_lock(bigint)``)."""
    return zlib.crc32(f"yixian:{name}".encode())


class PgAdvisoryLock:
    """``pg_try_advisory_lock`` on a connection of its own, held for the run. A session-level
    lock: it ends with the connection, so a process that dies mid-run frees it."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._key = advisory_key(name)
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        conn = self._engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
            conn.commit()  # end the implicit transaction; the lock is the connection's
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.commit()
        except Exception:
            conn.invalidate()  # closing the connection frees the lock
        finally:
            conn.close()


class FileLock:
    """``fcntl.flock`` on a file beside the SQLite database: every process on the host that
    opens the same file competes for it (SQLite has one host)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lock_for(engine: Engine, name: str) -> JobLock:
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine, name)
    database = engine.url.database
    if not database or database == ":memory:":
        database = os.path.join(tempfile.gettempdir(), "yixian-memory.db")
    return FileLock(Path(f"{database}.{name}.lock"))


def _runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PeriodicJob:
    def __init__(
        self,
        name: str,
        job: Callable[[], Any],
        engine: Engine,
        *,
        every: float,
        backoff_s: float = 5.0,
        lock: JobLock | None = None,
        wall: Callable[[], float] = time.time,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        if every <= 0:
            raise ValueError("every must be positive")
        self.name = name
        self._job = job
        self._engine = engine
        self.every = every
        self.backoff_s = backoff_s
        self._lock = lock or lock_for(engine, name)
        self._wall = wall
        self._on_outcome = on_outcome
        self.failures = 0  # failed runs in a row in this process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), UTC)

    def tick(self, *, force: bool = False) -> Outcome:
        """One attempt: never raises. ``force``: run even if this period already ran."""
        try:
            outcome = self._tick(force)
        except Exception as exc:  # the lock or the bookkeeping failed: the database is down
            log.exception("scheduled job %s could not start", self.name)
            self._failed(exc, record=False)
            outcome = Outcome.FAILED
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome

    def _tick(self, force: bool) -> Outcome:
        if not self._lock.acquire():
            return Outcome.BUSY
        try:
            period = int(self._wall() // self.every)
            row = jobs_data.get(self._engine, self.name)
            if row is not None and row.last_period == period and not force:
                self.failures = 0
                return Outcome.DONE
            started = self._now()
            jobs_data.mark_started(self._engine, self.name, started, _runner())
            try:
                self._job()
            except Exception as exc:
                log.exception(
                    "scheduled job %s failed (%d in a row); retrying in %.0f s",
                    self.name,
                    self.failures + 1,
                    self._backoff(self.failures + 1),
                )
                self._failed(exc, record=True, started=started)
                return Outcome.FAILED
            finished = self._wall()
            jobs_data.mark_success(
                self._engine,
                self.name,
                datetime.fromtimestamp(finished, UTC),
                period,
                started_at=started,
                runner=_runner(),
                forced=force,
            )
            self.failures = 0
            if self.name == ESCALATION_JOB:
                from server.observability.metrics import observe_escalation

                observe_escalation(True, finished)
            return Outcome.RAN
        finally:
            self._lock.release()

    def _failed(self, exc: BaseException, *, record: bool, started: datetime | None = None) -> None:
        self.failures += 1
        if self.name == ESCALATION_JOB:
            from server.observability.metrics import observe_escalation

            observe_escalation(False)
        if record:
            error = "".join(traceback.format_exception_only(exc)).strip()
            try:
                jobs_data.mark_failure(
                    self._engine,
                    self.name,
                    self._now(),
                    error,
                    started_at=started,
                    runner=_runner(),
                )
            except Exception:
                log.warning("could not record the failure of %s", self.name, exc_info=True)

    def _backoff(self, failures: int) -> float:
        return min(self.backoff_s * 2 ** (failures - 1), self.every)

    def next_delay(self, outcome: Outcome) -> float:
        """After a failure: the backoff. Otherwise: until the next period starts."""
        if outcome == Outcome.FAILED:
            return self._backoff(self.failures)
        return self.every - (self._wall() % self.every)

    def run(self, wait: Callable[[float], bool]) -> None:
        """Tick, then ``wait(delay)``, until ``wait`` returns True (asked to stop)."""
        delay = 0.0
        while not wait(delay):
            delay = self.next_delay(self.tick())

    # --- as a daemon thread of the server process -------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop.wait,), name=f"job-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def escalation_job(
    engine: Engine,
    clock: Callable[[], datetime],
    *,
    every: float,
    backoff_s: float = 5.0,
    run: Callable[[Engine, datetime], Any] | None = None,
) -> PeriodicJob:
    """The supervision job (``server/services/escalation_job.py``) on its schedule."""
    if run is None:
        from server.services.escalation_job import run_escalation

        run = run_escalation
    job = run
    return PeriodicJob(
        ESCALATION_JOB, lambda: job(engine, clock()), engine, every=every, backoff_s=backoff_s
    )


def last_success(engine: Engine, name: str = ESCALATION_JOB) -> datetime | None:
    row = jobs_data.get(engine, name)
    return row.last_success_at if row is not None else None
