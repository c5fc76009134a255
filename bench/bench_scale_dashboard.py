"""The supervisor's dashboard at 100,000 cases (issue #15, "Speed").

- ``scale_dashboard_100k_{period}``: the time to fetch every card of 督办看板 (on-time rate per
  department, cases over time, hotspots, the overdue board) the way the app does
  (``fieldapp.dashboard_api.fetch_dashboard``, four HTTP reads as the demo supervisor) from a
  uvicorn server on SQLite holding ``HISTORY`` cases (``bench.bench_scale.seed_history``), in ms
  (median of ``ROUNDS`` after one warm-up). Baseline: the raw SQL count of the same cases per
  status (``SELECT status, count(*) … GROUP BY status`` with sqlite3) on the same database file,
  in this run; the ratio says how many plain counts one dashboard costs. Each row gives the
  last round's time per card (``last_round_card_ms``, by endpoint).

Run: ``.venv/bin/python -m bench scale_dashboard``.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.bench_scale import HISTORY, seed_history
from bench.bench_sync import server_process
from fieldapp.dashboard_api import fetch_dashboard

ROUNDS = 3
PERIODS = ("month", "year")
DB_NAME = "dashboard.db"


class HttpJson:
    """``fieldapp.dashboard_api.JsonClient`` over requests, signed in as one user."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.card_ms: dict[str, float] = {}  # the last read of each endpoint

    def _get(self, path: str, params: dict[str, Any] | None) -> Any:
        start = time.perf_counter()
        r = self.http.get(self.base + path, params=params, timeout=300)
        r.raise_for_status()
        body = r.json()
        self.card_ms[path] = round((time.perf_counter() - start) * 1000, 1)
        return body

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self._get(path, params)
        assert isinstance(body, dict)
        return body

    def get_json_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        body = self._get(path, params)
        assert isinstance(body, list)
        return body

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError("the dashboard only reads")


def _raw_count_ms(db: Path) -> tuple[float, int]:
    conn = sqlite3.connect(db)
    times = []
    total = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        rows = conn.execute("SELECT status, count(*) FROM case_record GROUP BY status").fetchall()
        times.append((time.perf_counter() - start) * 1000)
        total = sum(n for _, n in rows)
    conn.close()
    return statistics.median(times), total


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="yixian-bench-dashboard-") as tmp,
        server_process(Path(tmp), seed=seed_history, db_name=DB_NAME) as base,
    ):
        r = requests.post(
            base + "/auth/login",
            json={"username": "supervisor", "password": "yixian-demo"},
            timeout=60,
        )
        r.raise_for_status()
        client = HttpJson(base, r.json()["token"])
        raw_ms, cases = _raw_count_ms(Path(tmp) / DB_NAME)
        for period in PERIODS:
            fetch_dashboard(client, period)  # warm-up: caches, code paths
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                payload = fetch_dashboard(client, period)
                times.append((time.perf_counter() - start) * 1000)
            took = statistics.median(times)
            rows.append(
                {
                    "name": f"scale_dashboard_100k_{period}",
                    "value": took,
                    "unit": "ms",
                    "baseline": "sqlite_count_by_status",
                    "baseline_value": raw_ms,
                    "ratio": took / raw_ms,
                    "cases": cases,
                    "history": HISTORY,
                    "rounds": ROUNDS,
                    "board_rows": len(payload.board),
                    "last_round_card_ms": dict(client.card_ms),
                    "database": "sqlite",
                }
            )
    return rows


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
