"""Sync throughput over HTTP on loopback against one uvicorn server process on SQLite.

- ``sync_push_create_case``: CreateCase commands pushed in batches of 100 and applied with every
  rule checked (category, place lookup, first contact, duplicate id, stored result per command),
  in commands/s. Baseline: a raw SQLite ``executemany`` of the same rows into a table of the same
  columns, in this run (``ratio`` = push rate / raw insert rate; the issue aims at >= 4,000/s).
- ``sync_pull_cases``: a fresh device pulling every case (pages of 200, with events), in cases/s.

The server runs as a subprocess (``uvicorn server.asgi:app``) so the client does not share its
GIL. Run: ``.venv/bin/python -m bench.bench_sync``.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.engine import Engine

from server.db import make_engine, migrate
from server.demo import load_demo

BATCH = 100
COMMANDS = 3000
ROUNDS = 3
PROTOCOL = {"X-Yixian-Protocol": "1"}
POINT = {"lat": 35.7215, "lon": 116.4877}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(
    workdir: Path, seed: Callable[[Engine], None] | None = None, db_name: str = "bench.db"
) -> Iterator[str]:
    """A uvicorn server on a fresh SQLite database with the demo reference data (and what
    ``seed`` adds)."""
    url = f"sqlite:///{workdir / db_name}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, now=datetime.now(UTC), with_cases=False)
    if seed is not None:
        seed(engine)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "YIXIAN_VAR_DIR": str(workdir)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "server.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                requests.get(base + "/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _device(http: requests.Session, base: str) -> dict[str, str]:
    r = http.post(
        base + "/auth/login", json={"username": "inspector", "password": "yixian-demo"}, timeout=30
    )
    token = r.json()["token"]
    r = http.post(
        base + "/devices",
        json={"client_id": str(uuid.uuid4()), "name": "bench"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return {"Authorization": f"Bearer {r.json()['device_token']}", **PROTOCOL}


def _commands(n: int) -> list[dict[str, Any]]:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return [
        {
            "id": i,
            "type": "CreateCase",
            "created_at": at,
            "payload": {
                "case_id": str(uuid.uuid4()),
                "category": "waterlogging",
                "description": f"路口积水 {i}",
                "location": POINT,
            },
        }
        for i in range(1, n + 1)
    ]


def _push_all(http: requests.Session, base: str, headers: dict[str, str], n: int) -> float:
    """Seconds to push and apply n CreateCase commands in batches; checks every one applied."""
    commands = _commands(n)
    bodies = [
        json.dumps({"protocol": 1, "commands": commands[i : i + BATCH]}).encode()
        for i in range(0, n, BATCH)
    ]
    send_headers = {**headers, "Content-Type": "application/json"}
    applied = 0
    start = time.perf_counter()
    for body in bodies:
        r = http.post(base + "/sync/push", data=body, headers=send_headers, timeout=120)
        r.raise_for_status()
        applied += sum(x["status"] == "applied" for x in r.json()["results"])
    elapsed = time.perf_counter() - start
    if applied != n:
        raise RuntimeError(f"only {applied} of {n} commands applied")
    return elapsed


def _pull_all(http: requests.Session, base: str, headers: dict[str, str]) -> tuple[float, int]:
    cursor: str | None = None
    pulled = 0
    start = time.perf_counter()
    while True:
        r = http.post(
            base + "/sync/pull",
            json={"protocol": 1, "cursor": cursor},
            headers=headers,
            timeout=120,
        )
        r.raise_for_status()
        page = r.json()
        pulled += len(page["cases"])
        cursor = page["cursor"]
        if not page["more"]:
            break
    return time.perf_counter() - start, pulled


def _raw_insert(workdir: Path, n: int) -> float:
    """The same rows, inserted by ``executemany`` into a plain SQLite table (WAL, one commit)."""
    path = workdir / f"raw-{uuid.uuid4().hex}.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE case_record (id TEXT PRIMARY KEY, number TEXT UNIQUE, status TEXT, "
        "category TEXT, description TEXT, source TEXT, lat REAL, lon REAL, "
        "first_contact_department TEXT, reporter_user_id TEXT, created_at TEXT, updated_at TEXT)"
    )
    now = datetime.now(UTC).isoformat()
    rows = [
        (
            c["payload"]["case_id"],
            f"N{c['id']:08d}",
            "discovered",
            "waterlogging",
            c["payload"]["description"],
            "inspection",
            POINT["lat"],
            POINT["lon"],
            "shzl",
            "u",
            now,
            now,
        )
        for c in _commands(n)
    ]
    start = time.perf_counter()
    conn.executemany("INSERT INTO case_record VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(commands: int = COMMANDS, rounds: int = ROUNDS) -> list[dict[str, Any]]:
    push_rates: list[float] = []
    raw_rates: list[float] = []
    pull_rates: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="yixian-bench-sync-") as tmp,
        server_process(Path(tmp)) as base,
    ):
        http = requests.Session()
        _push_all(http, base, _device(http, base), 200)  # warm-up: caches, code paths
        for _ in range(rounds):
            headers = _device(http, base)
            push_rates.append(commands / _push_all(http, base, headers, commands))
            raw_rates.append(commands / _raw_insert(Path(tmp), commands))
        seconds, pulled = _pull_all(http, base, _device(http, base))
        pull_rates.append(pulled / seconds)
    push = statistics.median(push_rates)
    raw = statistics.median(raw_rates)
    return [
        {
            "name": "sync_push_create_case",
            "value": push,
            "unit": "commands/s",
            "baseline": "sqlite_executemany_same_rows",
            "baseline_value": raw,
            "ratio": push / raw,
            "batch": BATCH,
            "commands": commands,
            "rounds": rounds,
        },
        {
            "name": "sync_pull_cases",
            "value": statistics.median(pull_rates),
            "unit": "cases/s",
            "baseline": "sync_push_create_case",
            "baseline_value": push,
            "ratio": statistics.median(pull_rates) / push,
            "cases": pulled,
        },
    ]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
