"""Prometheus metrics (``prometheus_client``), served at ``/metrics``.

Label cardinality is bounded: routes are templates (``/cases/{case_id}``, never a URL), methods
and statuses are few, and the per-device outbox gauge keeps at most ``MAX_DEVICE_SERIES`` devices
(the least recently reporting device's series is dropped first).

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by the
server (``yixian-server serve`` empties it at start); every process then writes its samples there
and ``/metrics`` adds them up (prometheus_client's multiprocess mode). The database pool and the
escalation job's age are read at scrape time by the process that answers.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlmodel import Session

from sync.protocol import CommandResult

__all__ = ["CONTENT_TYPE_LATEST"]

MAX_DEVICE_SERIES = 2000

REQUEST_SECONDS = Histogram(
    "yixian_http_request_duration_seconds",
    "Time to answer a request, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUESTS = Counter(
    "yixian_http_requests",
    "Requests answered, by route template, method and status",
    ["route", "method", "status"],
)
SYNC_COMMANDS = Counter(
    "yixian_sync_commands",
    "Pushed commands decided (committed), by result: applied, rejected, conflict",
    ["status"],
)
PULL_PAGES = Counter("yixian_sync_pull_pages", "Pull pages served")
PHOTO_BYTES = Counter(
    "yixian_photo_bytes", "Photo bytes received (upload) and sent (download)", ["direction"]
)
OUTBOX_PENDING = Gauge(
    "yixian_device_outbox_pending",
    "Commands waiting in a device's outbox, as the device reported at its latest push",
    ["device"],
    multiprocess_mode="mostrecent",
)
ESCALATION_RUNS = Counter(
    "yixian_escalation_runs", "Runs of the escalation job, by outcome", ["outcome"]
)
ESCALATION_LAST_SUCCESS = Gauge(
    "yixian_escalation_last_success_timestamp_seconds",
    "When this process last ran the escalation job successfully (Unix time)",
    multiprocess_mode="max",
)

_devices: OrderedDict[str, None] = OrderedDict()
_devices_lock = threading.Lock()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method).observe(seconds)
    REQUESTS.labels(route, method, str(status)).inc()


def observe_command_results(session: Session, results: Iterable[CommandResult]) -> None:
    """Count the batch's results once its transaction commits (a rolled-back batch is retried
    by the phone and counted then)."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    if not counts:
        return

    def _count(_session: Any) -> None:
        for status, n in counts.items():
            SYNC_COMMANDS.labels(status).inc(n)

    event.listen(session, "after_commit", _count, once=True)


def observe_pull_page() -> None:
    PULL_PAGES.inc()


def observe_photo_bytes(direction: str, n: int) -> None:
    PHOTO_BYTES.labels(direction).inc(n)


def observe_outbox(device_id: str, pending: int | None) -> None:
    if pending is None:
        return
    with _devices_lock:
        _devices[device_id] = None
        _devices.move_to_end(device_id)
        while len(_devices) > MAX_DEVICE_SERIES:
            oldest, _ = _devices.popitem(last=False)
            with contextlib.suppress(KeyError):
                OUTBOX_PENDING.remove(oldest)
    OUTBOX_PENDING.labels(device_id).set(pending)


def observe_escalation(ok: bool, at: float | None = None) -> None:
    ESCALATION_RUNS.labels("success" if ok else "failure").inc()
    if ok:
        ESCALATION_LAST_SUCCESS.set(at if at is not None else time.time())


class ServerCollector(Collector):
    """Read at scrape time: the database pool, and the age of the escalation job's last success
    as recorded in the database (whichever process ran it)."""

    def __init__(
        self,
        engine: Engine,
        last_success: Callable[[], datetime | None],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._last_success = last_success
        self._wall = wall

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self._engine.pool
        checked_out = GaugeMetricFamily(
            "yixian_db_pool_checked_out", "Database connections checked out of the pool now"
        )
        checked_out.add_metric([], float(_call(pool, "checkedout")))
        yield checked_out
        size = GaugeMetricFamily("yixian_db_pool_size", "Connections the pool keeps open")
        size.add_metric([], float(_call(pool, "size")))
        yield size
        try:
            last = self._last_success()
        except Exception:  # the database is down: /ready says so; the age is unknown
            return
        if last is not None:
            age = GaugeMetricFamily(
                "yixian_escalation_last_success_age_seconds",
                "Seconds since the escalation job last succeeded (any process; from the database)",
            )
            age.add_metric([], max(0.0, self._wall() - last.astimezone(UTC).timestamp()))
            yield age


def _call(pool: Any, name: str) -> int:
    method = getattr(pool, name, None)
    try:
        return int(method()) if callable(method) else 0
    except Exception:
        return 0


def exposition(app_registry: CollectorRegistry) -> bytes:
    """The text format of every metric: this process's (or, in multiprocess mode, all
    processes'), then the app's scrape-time gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        shared = generate_latest(registry)
    else:
        shared = generate_latest(REGISTRY)
    return shared + generate_latest(app_registry)


def app_registry(engine: Engine, last_success: Callable[[], datetime | None]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(engine, last_success))
    return registry
