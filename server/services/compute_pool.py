"""Expensive computations (hotspots, repeat complaints, scoring runs, the dashboard's figures,
``reproduce``, the Excel export) run outside the server process's threads: in a small pool of
worker processes, at a lower CPU priority, behind an admission limit (docs/security.md
"Expensive requests and everyone else's").

Why: the server is one Python process. Its request threads share one interpreter lock, so a
computation of many seconds in pure Python (a hotspot search measures millions of geodesic
distances) made every other user's cheap request wait its turn for the lock — a list of cases
or a sync pull answered ten times slower while four such requests ran. In a worker process the
computation holds its own interpreter, and at nice ``COMPUTE_NICE`` the operating system gives
the server's threads the CPU first.

How one computation goes (``ComputePool.run``):

1. Admission: at most ``processes + queue`` computations are in this server process at once
   (running or waiting); one more is answered ``429 compute_busy`` with ``Retry-After`` at
   once — it holds no thread and no database connection.
2. Its turn: it waits at most its time limit for a free worker, else the same 429.
3. The worker opens its own read session on the same database (a deferred transaction on
   SQLite: it blocks no writer), runs the job with a ``Deadline`` of the request's time limit
   (server/evaluation/budget.py: ``422 too_expensive`` past it) and sends back the result — a
   dict or bytes — or the domain error, which the server answers as if raised in-process.

``processes = 0`` runs the jobs in the calling thread, one at a time, with the same admission
limit: the tests' default (their fixtures patch functions in this process), never production's.
A job is a module-level function ``job(session, *, deadline, **kwargs)`` whose arguments and
result pickle; it reads only (a scoring run stores its result afterwards, in the server).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.db import PoolSize, begin_read, make_engine, read_session
from server.evaluation.budget import Deadline
from sync.errors import DomainError

log = logging.getLogger("yixian.compute")

T = TypeVar("T")

COMPUTE_NICE = 10  # the workers' CPU priority: the server's request threads come first
BUSY_RETRY_AFTER_S = 5  # what a refused computation is told to wait


# ``job(session, *, deadline, **kwargs) -> T``: a module-level function (it is pickled by name)
Job = Callable[..., T]


class ComputeBusy(DomainError):
    """Every place for an expensive computation in this server process is taken (429)."""

    code = "compute_busy"

    def __init__(self, retry_after_s: int = BUSY_RETRY_AFTER_S) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"服务器正忙于其他统计计算，请 {retry_after_s} 秒后再试 / the server is busy with "
            f"other expensive computations: try again in {retry_after_s} s"
        )


class ComputeLost(DomainError):
    """A worker process died mid-computation (503 retry; the pool is started again)."""

    code = "retry"

    def __init__(self) -> None:
        super().__init__("统计计算进程中断，请重试 / the computation was interrupted: try again")


def default_processes() -> int:
    """Half the cores, at least 1 and at most 4: the other half stays with the request threads."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def run_job(engine: Engine, job: Job[T], seconds: float, kwargs: Mapping[str, Any]) -> T:
    """Run ``job`` in a read session of its own, with a time limit that starts now."""
    with read_session(engine) as session:
        begin_read(session)
        out = job(session, deadline=Deadline(seconds), **kwargs)
        session.commit()  # end the read
        return out


# --- the worker process side -----------------------------------------------------------------

_engines: dict[str, Engine] = {}


def _worker_engine(url: str) -> Engine:
    """One engine per database in a worker (a worker runs one job at a time: on PostgreSQL one
    connection, two at a peak)."""
    engine = _engines.get(url)
    if engine is None:
        while len(_engines) >= 4:  # a pool serves one database; tests make many
            _engines.pop(next(iter(_engines))).dispose()
        engine = _engines[url] = make_engine(url, PoolSize(size=1, overflow=1))
    return engine


PARENT_CHECK_S = 1.0  # how often a worker looks whether its server process still lives


def _start_worker(server_pid: int) -> None:
    """A worker's start: a lower CPU priority (Linux and macOS; elsewhere, or when not allowed,
    the normal one), and a watch that ends it when the server process is gone — killed, say,
    with no chance to stop its pool: an orphan would wait for work for ever."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(COMPUTE_NICE)
    threading.Thread(
        target=_exit_with_server, args=(server_pid,), daemon=True, name="exit-with-server"
    ).start()


def _exit_with_server(server_pid: int) -> None:
    while os.getppid() == server_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


@dataclass(frozen=True)
class _Raised:
    """An exception carried back from a worker whole: its class, args and attributes (a domain
    error's own ``__init__`` may not accept its args back, so plain pickling cannot)."""

    kind: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]

    def rebuild(self) -> BaseException:
        exc = self.kind.__new__(self.kind)
        BaseException.__init__(exc, *self.args)
        exc.__dict__.update(self.state)
        return exc


def _portable(exc: BaseException) -> _Raised:
    if isinstance(exc, DomainError | SQLAlchemyError):
        with contextlib.suppress(Exception):
            import pickle

            pickle.dumps((type(exc), exc.args, exc.__dict__))
            return _Raised(type(exc), exc.args, dict(exc.__dict__))
    return _Raised(RuntimeError, (f"{type(exc).__name__} in a compute worker: {exc}",), {})


def _in_worker(
    url: str, job: Job[T], seconds: float, kwargs: Mapping[str, Any]
) -> tuple[bool, T | _Raised]:
    try:
        return True, run_job(_worker_engine(url), job, seconds, kwargs)
    except Exception as exc:  # carried back and raised in the server (domain errors → 4xx)
        if not isinstance(exc, DomainError):
            log.exception("compute job %s failed", getattr(job, "__name__", job))
        return False, _portable(exc)


# --- the server side -------------------------------------------------------------------------


class ComputePool:
    def __init__(self, engine: Engine, *, processes: int, queue: int) -> None:
        if processes < 0 or queue < 0:
            raise ValueError("processes and queue must be ≥ 0")
        self.engine = engine
        self.processes = processes
        self.queue = queue
        self._url = engine.url.render_as_string(hide_password=False)
        self._turns = threading.BoundedSemaphore(max(1, processes))
        self._places = threading.BoundedSemaphore(max(1, processes) + queue)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Computations in this server process now, running or waiting for their turn."""
        return self._admitted

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:  # started at the first computation, not with the app
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def run(
        self, job: Job[T], /, *, seconds: float, wait_s: float | None = None, **kwargs: Any
    ) -> T:
        """``job``'s result, computed in a worker (or here when ``processes`` is 0); its domain
        errors raised here. ``ComputeBusy`` when no place or no turn comes within ``wait_s``
        (default: ``seconds``, the computation's own time limit)."""
        if not self._places.acquire(blocking=False):
            raise ComputeBusy(self._retry_after(seconds))
        with self._lock:
            self._admitted += 1
        try:
            wait = seconds if wait_s is None else wait_s
            if not self._turns.acquire(timeout=max(0.0, wait)):
                raise ComputeBusy(self._retry_after(seconds))
            try:
                if self.processes == 0:
                    return run_job(self.engine, job, seconds, kwargs)
                ok, out = self._in_a_worker(job, seconds, kwargs)
            finally:
                self._turns.release()
        finally:
            with self._lock:
                self._admitted -= 1
            self._places.release()
        if ok:
            return out  # type: ignore[return-value]
        assert isinstance(out, _Raised)
        raise out.rebuild()

    def _in_a_worker(
        self, job: Job[T], seconds: float, kwargs: Mapping[str, Any]
    ) -> tuple[bool, T | _Raised]:
        pool = self._pool()
        try:
            return pool.submit(_in_worker, self._url, job, seconds, dict(kwargs)).result()
        except BrokenProcessPool:
            log.error("a compute worker died: starting the pool again")
            with self._lock:
                if self._executor is pool:
                    self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise ComputeLost() from None

    @staticmethod
    def _retry_after(seconds: float) -> int:
        return max(1, min(BUSY_RETRY_AFTER_S, math.ceil(seconds)))

    def close(self) -> None:
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class Compute:
    """The request's way to run a job: ends the request's own transaction first (a POST's
    holds the SQLite write lock; a GET's pins a snapshot), then runs it with the request's time
    limit."""

    def __init__(self, pool: ComputePool, session: Session, seconds: float) -> None:
        self.pool = pool
        self.session = session
        self.seconds = seconds

    def __call__(self, job: Job[T], /, **kwargs: Any) -> T:
        self.session.commit()
        return self.pool.run(job, seconds=self.seconds, **kwargs)
