"""Many phones at once (issue #15, "Many phones"): simulated devices syncing against the server
on PostgreSQL for a fixed time.

Each device (a thread speaking the sync protocol over HTTP, like ``sync/client.py``: numbered
CreateCase commands pushed, then pull pages until ``more`` is false) syncs every
``INTERVAL_S`` seconds on average (uniform jitter ±50 %; 10 s like the app's sync loop,
``YIXIAN_BENCH_LOAD_INTERVAL_S`` sets another), pushing ``COMMANDS_PER_SYNC`` new cases each time
(a busy phone: most real syncs push nothing). All devices belong to the demo inspector, so each
pull carries the cases every other device pushed since its last pull.

A 503 (or 500/502/504) is retried after the server's ``Retry-After`` or an exponential backoff
with jitter — the same rule as ``SyncClient`` (``SyncClient.retry_after``,
``RETRY_STATUSES``) — and counted as a back-off, not an error. An error is anything else: a
4xx, a request that still fails after the retries, a command not answered ``applied``.

The server is ``python -m server serve --workers N`` as a subprocess on a fresh PostgreSQL
database (created on ``YIXIAN_TEST_PG``'s server, dropped afterwards); its resident memory
(the process and its workers, from ``/proc``) is sampled every 0.5 s.

Rows (``N`` devices, ``W`` server processes):

- ``load_push_p95_{N}dev_{W}proc``: the 95th percentile of one push's latency under load, ms.
  Baseline: the same push from one device alone on the same server, before the load, in this
  run (target ≤ 300 ms).
- ``load_sync_throughput_{N}dev_{W}proc``: commands applied per second during the run.
  Baseline: the rate the devices offered (devices × commands per sync ÷ interval); ratio 1
  means the server kept up.
- ``load_errors_{N}dev_{W}proc``: errors (expected 0); baseline: the requests sent.
- ``load_server_rss_{N}dev_{W}proc``: the server's peak RSS during the run, MB. Baseline: its
  RSS at rest just before the load. ``rss_second_half_growth_mb`` (the peak of the second half
  minus the peak of the first half) shows whether it stays flat.

Each row also gives the CPU seconds the server's processes and the simulated devices (this
process) used, and the load average: the devices share the machine with the server.

By default (``make bench``) a short run: 20 devices × 10 s, one process. ``YIXIAN_BENCH_LOAD=full``
(``make bench-scale``) runs 200 devices × 60 s on one process and on two
(``serve --workers 2``), and on one process with phones that only push (rows ``…_pushonly``:
the push without the pulls' fan-out, every phone pulling what all the others pushed).
Skipped (no rows) when PostgreSQL does not answer.

Run: ``YIXIAN_BENCH_LOAD=full .venv/bin/python -m bench load``.
"""

from __future__ import annotations

import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from server.db import make_engine, migrate
from server.demo import load_demo
from sync.client import RETRY_STATUSES, SyncClient

PG_ADMIN = os.environ.get("YIXIAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROTOCOL = {"X-Yixian-Protocol": "1"}
POINT = {"lat": 35.7215, "lon": 116.4877}
COMMANDS_PER_SYNC = 3
# how often a phone syncs: the app's loop (fieldapp/device.py SYNC_INTERVAL_S) syncs every 10 s
INTERVAL_S = float(os.environ.get("YIXIAN_BENCH_LOAD_INTERVAL_S") or 10.0)
ATTEMPTS = 6  # like SyncClient's retries (5), one more: the phone would retry at its next sync


@dataclass(frozen=True)
class Plan:
    devices: int
    seconds: float
    runs: tuple[tuple[int, bool], ...]  # (server processes, whether the phones pull)


SHORT = Plan(devices=20, seconds=10.0, runs=((1, True),))
FULL = Plan(devices=200, seconds=60.0, runs=((1, True), (2, True), (1, False)))
SOLO_PUSHES = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database with the schema and the demo reference data; dropped after."""
    name = f"bench_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        migrate(url)
        engine = make_engine(url)
        load_demo(engine, now=datetime.now(UTC), with_cases=False)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's workers)."""
    found = []
    todo = [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, in KB."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants."""
    ticks = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(url: str, workers: int, workdir: Path) -> Iterator[tuple[str, int]]:
    """``python -m server serve --workers N`` on ``url``; yields its base URL and pid."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "YIXIAN_VAR_DIR": str(workdir),
        "YIXIAN_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Tally:
    """What all devices saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    applied: int = 0
    requests: int = 0
    backoffs: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class Device:
    """One phone: its token, its next command id, its pull cursor."""

    def __init__(self, base: str, headers: dict[str, str], tally: Tally, seed: int) -> None:
        self.base = base
        self.headers = headers
        self.tally = tally
        self.http = requests.Session()
        self.next_id = 1
        self.cursor: str | None = None
        self.rng = random.Random(seed)

    def _post(self, path: str, body: dict[str, Any]) -> tuple[requests.Response, float] | None:
        """POST with the phone's retry rule; the last attempt's latency in ms, None on error."""
        for attempt in range(ATTEMPTS):
            start = time.perf_counter()
            try:
                r = self.http.post(self.base + path, json=body, headers=self.headers, timeout=30)
            except requests.RequestException as exc:
                with self.tally.lock:
                    self.tally.requests += 1
                    self.tally.backoffs += 1
                last = repr(exc)
            else:
                elapsed = (time.perf_counter() - start) * 1000
                with self.tally.lock:
                    self.tally.requests += 1
                if r.status_code not in RETRY_STATUSES:
                    if r.ok:
                        return r, elapsed
                    self.tally.error(f"{path} {r.status_code}: {r.text[:200]}")
                    return None
                with self.tally.lock:
                    self.tally.backoffs += 1
                last = f"{r.status_code}"
                time.sleep(
                    max(SyncClient.retry_after(r), self.rng.random() * min(30, 0.5 * 2**attempt))
                )
                continue
            time.sleep(self.rng.random() * min(30, 0.5 * 2**attempt))
        self.tally.error(f"{path} gave up after {ATTEMPTS} attempts: {last}")
        return None

    def push(self, n: int) -> bool:
        at = datetime.now(UTC).isoformat()
        commands = [
            {
                "id": self.next_id + i,
                "type": "CreateCase",
                "created_at": at,
                "payload": {
                    "case_id": str(uuid.uuid4()),
                    "category": "waterlogging",
                    "description": f"路口积水 {self.next_id + i}",
                    "location": POINT,
                },
            }
            for i in range(n)
        ]
        got = self._post("/sync/push", {"protocol": 1, "commands": commands, "device_time": at})
        if got is None:
            return False
        r, ms = got
        results = r.json()["results"]
        applied = sum(x["status"] == "applied" for x in results if x["id"] >= self.next_id)
        self.next_id += n
        with self.tally.lock:
            self.tally.push_ms.append(ms)
            self.tally.applied += applied
        if applied != n:
            self.tally.error(f"push: {applied} of {n} applied: {results}")
            return False
        return True

    def pull(self) -> bool:
        while True:
            got = self._post("/sync/pull", {"protocol": 1, "cursor": self.cursor})
            if got is None:
                return False
            r, ms = got
            page = r.json()
            with self.tally.lock:
                self.tally.pull_ms.append(ms)
            self.cursor = page["cursor"]
            if not page["more"]:
                return True

    def run(self, until: float, pull: bool = True) -> None:
        time.sleep(self.rng.uniform(0, INTERVAL_S))  # phones do not all start at once
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                if self.push(COMMANDS_PER_SYNC) and pull:
                    self.pull()
            except Exception as exc:  # a bad body: an error of the run, not a crash of it
                self.tally.error(repr(exc))
            wait = self.rng.uniform(0.5, 1.5) * INTERVAL_S - (time.monotonic() - started)
            if wait > 0:
                time.sleep(min(wait, max(0.0, until - time.monotonic())))


def _user_token(base: str) -> str:
    r = requests.post(
        base + "/auth/login", json={"username": "inspector", "password": "yixian-demo"}, timeout=60
    )
    r.raise_for_status()
    return str(r.json()["token"])


def _register(base: str, user_token: str, n: int) -> list[dict[str, str]]:
    http = requests.Session()
    out = []
    for i in range(n):
        r = http.post(
            base + "/devices",
            json={"client_id": str(uuid.uuid4()), "name": f"load-{i}"},
            headers={"Authorization": f"Bearer {user_token}"},
            timeout=60,
        )
        r.raise_for_status()
        out.append({"Authorization": f"Bearer {r.json()['device_token']}", **PROTOCOL})
    return out


def p95(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def load_run(
    url: str, devices: int, seconds: float, workers: int, pull: bool = True
) -> list[dict[str, Any]]:
    tag = f"{devices}dev_{workers}proc" + ("" if pull else "_pushonly")
    with (
        tempfile.TemporaryDirectory(prefix="yixian-bench-load-") as tmp,
        serve(url, workers, Path(tmp)) as (base, pid),
    ):
        token = _user_token(base)
        headers = _register(base, token, devices + 1)
        # the baseline: one device alone (after a warm-up), on the same server
        solo_tally = Tally()
        solo = Device(base, headers[-1], solo_tally, seed=0)
        for _ in range(5):
            solo.push(COMMANDS_PER_SYNC)
        solo_tally.push_ms.clear()
        for _ in range(SOLO_PUSHES):
            solo.push(COMMANDS_PER_SYNC)
        solo.pull()
        solo_p95 = p95(solo_tally.push_ms)
        rss_rest = _tree_rss_kb(pid)

        tally = Tally()
        samples: list[tuple[float, int]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic(), _tree_rss_kb(pid)))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        server_cpu = _tree_cpu_s(pid)
        client_cpu = time.process_time()
        started = time.monotonic()
        until = started + seconds
        threads = [
            threading.Thread(
                target=Device(base, h, tally, seed=i + 1).run, args=(until, pull), daemon=True
            )
            for i, h in enumerate(headers[:devices])
        ]
        sampler.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 300)
        took = time.monotonic() - started
        server_cpu = _tree_cpu_s(pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        stop.set()
        sampler.join()
        if any(t.is_alive() for t in threads):
            tally.error("a device did not finish within 5 minutes of the end")

    mid = started + seconds / 2
    first = max((kb for at, kb in samples if at < mid), default=rss_rest)
    second = max((kb for at, kb in samples if at >= mid), default=rss_rest)
    peak = max(first, second)
    offered = devices * COMMANDS_PER_SYNC / INTERVAL_S
    common = {
        "devices": devices,
        "seconds": seconds,
        "workers": workers,
        "database": "postgresql",
        "devices_pull": pull,
        # where the 2 shared cores went: the server's processes, and these simulated phones
        "server_cpu_s": round(server_cpu, 1),
        "devices_cpu_s": round(client_cpu, 1),
        "load_average_1min": os.getloadavg()[0],
    }
    push_p95 = p95(tally.push_ms)
    if tally.errors:
        print(
            f"[bench] load {tag}: {len(tally.errors)} error(s), first: {tally.errors[:3]}",
            file=sys.stderr,
        )
    return [
        {
            "name": f"load_push_p95_{tag}",
            "value": push_p95,
            "unit": "ms",
            "baseline": "one_device_alone_push_p95",
            "baseline_value": solo_p95,
            "ratio": push_p95 / solo_p95,
            "pushes": len(tally.push_ms),
            "push_median_ms": statistics.median(tally.push_ms) if tally.push_ms else math.nan,
            "pull_p95_ms": p95(tally.pull_ms),
            "target_ms": 300,
            **common,
        },
        {
            "name": f"load_sync_throughput_{tag}",
            "value": tally.applied / took,
            "unit": "commands/s",
            "baseline": "offered_rate",
            "baseline_value": offered,
            "ratio": tally.applied / took / offered,
            "applied": tally.applied,
            "interval_s": INTERVAL_S,
            "commands_per_sync": COMMANDS_PER_SYNC,
            **common,
        },
        {
            "name": f"load_errors_{tag}",
            "value": len(tally.errors),
            "unit": "errors",
            "baseline": "requests_sent",
            "baseline_value": tally.requests,
            "ratio": len(tally.errors) / tally.requests if tally.requests else 0.0,
            "backoffs": tally.backoffs,
            "first_errors": tally.errors[:5],
            **common,
        },
        {
            "name": f"load_server_rss_{tag}",
            "value": peak / 1024,
            "unit": "MB",
            "baseline": "server_rss_at_rest",
            "baseline_value": rss_rest / 1024,
            "ratio": peak / rss_rest if rss_rest else math.inf,
            "rss_second_half_growth_mb": (second - first) / 1024,
            **common,
        },
    ]


def run() -> list[dict[str, Any]]:
    if not _pg_available():
        print(f"[bench] load: PostgreSQL not reachable at {PG_ADMIN}: skipped", file=sys.stderr)
        return []
    plan = FULL if os.environ.get("YIXIAN_BENCH_LOAD", "").strip().lower() == "full" else SHORT
    rows: list[dict[str, Any]] = []
    for workers, pull in plan.runs:
        with pg_database() as url:
            rows += load_run(url, plan.devices, plan.seconds, workers, pull)
    return rows


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
