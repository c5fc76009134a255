"""The phone's own sync engine (``sync/client.py`` with its SQLite ``DeviceStore``) end to end
over HTTP on loopback, against one uvicorn server process on SQLite.

- ``sync_engine_push``: ``SyncClient.push`` of an outbox of CreateCase commands (batches of 100),
  in commands/s. Baseline: the same number of commands pushed by a bare HTTP client (bodies
  built in advance, nothing stored: ``bench_sync._push_all``) against the same server in this
  run — ``ratio`` = engine / bare client, so what the phone side costs shows as the gap.
- ``sync_engine_pull``: a fresh device's ``SyncClient.pull`` of every case, in cases/s.
  Baseline: a bare HTTP pull of the same cases (``bench_sync._pull_all``) in this run.

Each row also gives the phone side's CPU seconds per 10,000 commands (or cases): this
process's CPU time (the server is another process). Enqueueing the outbox is not timed.

Run: ``.venv/bin/python -m bench.bench_sync_engine`` (``--profile`` prints cProfile's top
functions of the engine's push and pull; ``YIXIAN_BENCH_ENGINE_COMMANDS`` sets the count).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.bench_sync import BATCH, POINT, _device, _pull_all, _push_all, server_process
from sync.client import SyncClient, SyncProgress, SyncReport
from sync.device_store import DeviceStore
from sync.protocol import CommandType

COMMANDS = int(os.environ.get("YIXIAN_BENCH_ENGINE_COMMANDS", "10000"))


def _login(http: requests.Session, base: str) -> str:
    r = http.post(
        base + "/auth/login", json={"username": "inspector", "password": "yixian-demo"}, timeout=30
    )
    r.raise_for_status()
    return str(r.json()["token"])


def _fill_outbox(store: DeviceStore, n: int) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(n):
        store.enqueue(
            CommandType.CREATE_CASE,
            {
                "case_id": str(uuid.uuid4()),
                "category": "waterlogging",
                "description": f"路口积水 {i}",
                "location": POINT,
            },
            now=now,
        )


def _timed(fn: Any, profile: cProfile.Profile | None) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()`` (under ``profile`` when given)."""
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.runcall(fn)
    else:
        fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _top(profile: cProfile.Profile, title: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    print(f"===== {title} (cumulative) =====\n{out.getvalue()}", file=sys.stderr)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print(f"===== {title} (own time) =====\n{out.getvalue()}", file=sys.stderr)


def run(commands: int = COMMANDS, profile: bool = False) -> list[dict[str, Any]]:
    with (
        tempfile.TemporaryDirectory(prefix="yixian-bench-engine-") as tmp,
        server_process(Path(tmp)) as base,
    ):
        root = Path(tmp)
        http = requests.Session()
        token = _login(http, base)
        _push_all(http, base, _device(http, base), 200)  # warm-up: caches, code paths

        # bare client first, engine second: the engine meets the larger history
        bare_push = _push_all(http, base, _device(http, base), commands)

        store = DeviceStore(root / "phone-a.db")
        client = SyncClient(store, base, sleep=lambda _s: None, batch=BATCH, timeout=120)
        client.register(token, "bench-a")
        _fill_outbox(store, commands)
        report = SyncReport()
        push_prof = cProfile.Profile() if profile else None
        push_wall, push_cpu = _timed(
            lambda: client.push(report, SyncProgress(), lambda _p: None), push_prof
        )
        if report.applied != commands or store.pending_count():
            raise RuntimeError(f"engine applied {report.applied} of {commands}")
        store.close()

        bare_pull, cases = _pull_all(http, base, _device(http, base))

        fresh = DeviceStore(root / "phone-b.db")
        puller = SyncClient(fresh, base, sleep=lambda _s: None, timeout=120)
        puller.register(token, "bench-b")
        pulled = SyncReport()
        pull_prof = cProfile.Profile() if profile else None
        pull_wall, pull_cpu = _timed(
            lambda: puller.pull(pulled, SyncProgress(), lambda _p: None), pull_prof
        )
        held = len(fresh.case_ids())
        fresh.close()
        if pulled.cases_pulled != cases or held != cases:
            raise RuntimeError(f"engine pulled {pulled.cases_pulled} ({held} kept) of {cases}")
    if push_prof is not None and pull_prof is not None:
        _top(push_prof, "engine push")
        _top(pull_prof, "engine pull")
    push_rate, bare_push_rate = commands / push_wall, commands / bare_push
    pull_rate, bare_pull_rate = cases / pull_wall, cases / bare_pull
    return [
        {
            "name": "sync_engine_push",
            "value": push_rate,
            "unit": "commands/s",
            "baseline": "bare_http_push_same_commands",
            "baseline_value": bare_push_rate,
            "ratio": push_rate / bare_push_rate,
            "phone_cpu_s_per_10k": push_cpu * 10_000 / commands,
            "commands": commands,
            "batch": BATCH,
        },
        {
            "name": "sync_engine_pull",
            "value": pull_rate,
            "unit": "cases/s",
            "baseline": "bare_http_pull_same_cases",
            "baseline_value": bare_pull_rate,
            "ratio": pull_rate / bare_pull_rate,
            "phone_cpu_s_per_10k": pull_cpu * 10_000 / cases,
            "cases": cases,
        },
    ]


def main() -> None:
    for row in run(profile="--profile" in sys.argv[1:]):
        print(row)


if __name__ == "__main__":
    main()
