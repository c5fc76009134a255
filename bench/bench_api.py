"""Cases recorded and moved along the loop through the HTTP API, against raw SQLite writes of the
same rows, in the same run.

API: the real server — uvicorn, one process, SQLite in WAL mode in a temporary directory,
migrated and loaded with the demo data — on a free loopback port. A ``requests.Session`` (kept-
alive connection) records N cases as the inspector (``POST /cases``), assigns each
(``POST /cases/{id}/assign``, the boundary list proposes lead, assisting and deadline) and has the
lead accept it (``POST /cases/{id}/accept``, as 综合执法局). Value: case operations per second
(3 per case), each one HTTP request and one transaction on the server.

Baseline: Python's ``sqlite3`` writing the very rows the API stored — the case row and the
event rows, copied from the API's database — into a same-schema SQLite file (migrated the same
way, WAL, ``synchronous=NORMAL`` and foreign keys on, like the server), with one transaction per
case operation: INSERT the case and its creation event; UPDATE the case and INSERT the
assignment's events; UPDATE the case and INSERT the acceptance event. It does no HTTP, no
sign-in check, no rules and none of the other rows the server writes (assist tasks, counters).

``ratio`` = API ops/s ÷ raw ops/s: the share of SQLite's raw write speed the whole stack keeps.
Run: ``.venv/bin/python -m bench.bench_api`` (``YIXIAN_BENCH_CASES`` to change N; default 300).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from server.db import make_engine, migrate
from server.demo import load_demo
from sync.clock import CHINA_TZ

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CASES = 300
WARMUP_CASES = 10
OPS_PER_CASE = 3  # record, assign, accept
PASSWORD = "yixian-demo"
LOADED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(path: Path) -> str:
    """A migrated SQLite database with the demo reference data and accounts (no cases), in one
    file (the WAL checkpointed into it) so that it can be copied."""
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    try:
        load_demo(engine, now=LOADED_AT, with_cases=False)
    finally:
        engine.dispose()
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return url


def copy_database(template: Path, target: Path) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@contextmanager
def running_server(var_dir: Path, url: str) -> Iterator[str]:
    """The server under uvicorn in its own process; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "YIXIAN_VAR_DIR": str(var_dir),
        "YIXIAN_PHOTO_DIR": str(var_dir / "photos"),
        "YIXIAN_ENV": "development",
    }
    log = (var_dir / "server.log").open("w")
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
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: see {var_dir / 'server.log'}")
            try:
                if requests.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class Client:
    base: str
    session: requests.Session
    tokens: dict[str, str]

    def sign_in(self, username: str) -> None:
        r = self.session.post(
            f"{self.base}/auth/login", json={"username": username, "password": PASSWORD}
        )
        r.raise_for_status()
        self.tokens[username] = r.json()["token"]

    def post(self, user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.session.post(
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
        )
        if r.status_code >= 300:
            raise RuntimeError(f"POST {path} as {user}: {r.status_code} {r.text[:300]}")
        return dict(r.json())


def spot(k: int) -> dict[str, float]:
    """Distinct places in 汶上街道 (urban), so each case is its own problem."""
    return {"lat": 35.707 + 0.0004 * (k // 80), "lon": 116.4565 + 0.0004 * (k % 80)}


def one_case(client: Client, k: int, latencies: list[float]) -> str:
    case_id = str(uuid.uuid4())
    started = time.perf_counter()
    client.post(
        "inspector",
        "/cases",
        {
            "id": case_id,
            "category": "parking",
            "description": f"基准测试案件 {k}：停车场出入口被占用",
            "location": spot(k),
        },
    )
    t1 = time.perf_counter()
    client.post("inspector", f"/cases/{case_id}/assign", {"note": "按清单交办"})
    t2 = time.perf_counter()
    client.post("zhzf_handler", f"/cases/{case_id}/accept", {})
    t3 = time.perf_counter()
    latencies += [t1 - started, t2 - t1, t3 - t2]
    return case_id


@dataclass(frozen=True)
class ApiRun:
    seconds: float
    case_ids: list[str]
    latencies: list[float]


def run_api(var_dir: Path, url: str, n: int) -> ApiRun:
    with running_server(var_dir, url) as base, requests.Session() as session:
        client = Client(base, session, {})
        for user in ("inspector", "zhzf_handler"):
            client.sign_in(user)
        scratch: list[float] = []
        for k in range(WARMUP_CASES):
            one_case(client, 10_000 + k, scratch)
        latencies: list[float] = []
        started = time.perf_counter()
        ids = [one_case(client, k, latencies) for k in range(n)]
        return ApiRun(time.perf_counter() - started, ids, latencies)


# --- the raw baseline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRows:
    """One case's rows as the API stored them, split by the operation that wrote them."""

    case: dict[str, Any]
    ops: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
    status_after: tuple[str, str, str]


def _rows(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def read_back(db: Path, case_ids: Sequence[str]) -> list[CaseRows]:
    conn = sqlite3.connect(db)
    try:
        out: list[CaseRows] = []
        for case_id in case_ids:
            (case,) = _rows(conn, "SELECT * FROM case_record WHERE id = ?", [case_id])
            events = _rows(
                conn, "SELECT * FROM case_event WHERE case_id = ? ORDER BY seq", [case_id]
            )
            kinds = [e["kind"] for e in events]
            a, b = kinds.index("CaseAssigned"), kinds.index("CaseAccepted")
            for e in events:
                del e["id"]  # the baseline's own autoincrement
            out.append(
                CaseRows(
                    case,
                    (events[:a], events[a:b], events[b:]),
                    ("discovered", "assigned", "accepted"),
                )
            )
        return out
    finally:
        conn.close()


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def run_raw(db: Path, cases: Sequence[CaseRows]) -> float:
    """Seconds to write the rows, one transaction per case operation."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        started = time.perf_counter()
        for c in cases:
            first, assigning, accepting = c.ops
            conn.execute("BEGIN IMMEDIATE")
            _insert(conn, "case_record", {**c.case, "status": c.status_after[0]})
            for e in first:
                _insert(conn, "case_event", e)
            conn.execute("COMMIT")
            for status, events in ((c.status_after[1], assigning), (c.status_after[2], accepting)):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE case_record SET status = ?, version = version + 1, updated_at = ? "
                    "WHERE id = ?",
                    [status, c.case["updated_at"], c.case["id"]],
                )
                for e in events:
                    _insert(conn, "case_event", e)
                conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n: int | None = None) -> list[dict[str, Any]]:
    n = n or int(os.environ.get("YIXIAN_BENCH_CASES", DEFAULT_CASES))
    with tempfile.TemporaryDirectory(prefix="yixian-bench-api-") as tmp:
        root = Path(tmp)
        template = root / "template.db"
        prepare_database(template)
        api_db, raw_db = root / "api" / "yixian.db", root / "raw" / "yixian.db"
        api = run_api(root / "api", copy_database(template, api_db), n)
        rows = read_back(api_db, api.case_ids)
        copy_database(template, raw_db)  # the same schema and reference rows, no cases
        raw_seconds = run_raw(raw_db, rows)
    ops = OPS_PER_CASE * n
    events = sum(len(op) for c in rows for op in c.ops)
    value = ops / api.seconds
    baseline_value = ops / raw_seconds
    return [
        {
            "name": "api_case_ops_per_s",
            "value": value,
            "unit": "ops/s",
            "baseline": "raw_sqlite3_same_rows_one_txn_per_op",
            "baseline_value": baseline_value,
            "ratio": value / baseline_value,
            "cases": n,
            "operations": ops,
            "event_rows": events,
            "api_seconds": api.seconds,
            "raw_seconds": raw_seconds,
            "api_latency_ms_p50": 1000 * statistics.median(api.latencies),
            "api_latency_ms_p95": 1000 * _percentile(api.latencies, 0.95),
            "database": "sqlite (WAL, synchronous=NORMAL)",
        }
    ]


def main() -> None:
    from bench.report import format_table

    print(format_table(run()))


if __name__ == "__main__":
    main()
