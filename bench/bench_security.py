"""Security rows: does an attack on sign-in, or a few of the dearest evaluation requests, slow
down another user's work? On SQLite and on PostgreSQL, each against the same requests on the
idle server in the same run.

The real server (uvicorn, one process, ``server.asgi:app``) on a migrated demo database with
``YIXIAN_BENCH_SECURITY_CASES`` cases (default 300, pushed through sync as the inspector, spread
over the urban towns, a third in tight clusters). A signed-in victim (the supervisor, who sees
every case) repeats, one after the other, ``GET /cases`` (the first page, 50) and a sync pull
from no cursor (the first page, 200 cases, from a registered device); the p95 of each is taken:

- idle: nothing else runs (a quarter of the load time before the sign-in flood and as long
  after it, pooled);
- ``login_flood``: 10 clients (in another process, so that they do not share the victim's GIL)
  send wrong-password sign-ins — the demo accounts and unknown usernames — back to back for
  ``YIXIAN_BENCH_SECURITY_S`` seconds (default 20);
- ``evaluation_load``: 4 clients (another process) send the dearest legal evaluation request
  (``DEAREST``: hotspots at the largest radius, 2 km) back to back for as long; a request still
  unanswered at the end is left to the server and counted as unanswered.

Rows ``security_<db>_<request>_p95_<load>``: value = p95 under load, baseline = p95 idle in the
same run, ratio = value ÷ baseline (the issue's aim: within 2×). Rows
``security_<db>_server_errors``: 5xx answers among every answer of the run (must be 0). The
server's log is kept as ``$YIXIAN_VAR_DIR/bench-security-<db>.log``. PostgreSQL:
``YIXIAN_BENCH_PG`` (default the tests' ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
skipped with a note when it does not answer; ``YIXIAN_BENCH_SECURITY_DB=sqlite`` (or
``postgres``) runs one. Run: ``.venv/bin/python -m bench security``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.bench_api import running_server
from server.db import make_engine, migrate
from server.demo import load_demo

SECONDS = float(os.environ.get("YIXIAN_BENCH_SECURITY_S", "20"))
CASES = int(os.environ.get("YIXIAN_BENCH_SECURITY_CASES", "300"))
PG_ADMIN_URL = os.environ.get(
    "YIXIAN_BENCH_PG",
    os.environ.get("YIXIAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
DATABASES = os.environ.get("YIXIAN_BENCH_SECURITY_DB", "sqlite,postgres").split(",")
LOGIN_CLIENTS = 10
EVALUATION_CLIENTS = 4
PASSWORD = "yixian-demo"
PROTOCOL = {"X-Yixian-Protocol": "1"}
VICTIM = "supervisor"
GUESSED = ("inspector", "zhzf_handler", "sw_handler", "admin", "supervisor", "coordinator")
CATEGORIES = ("parking", "waterlogging")
TIMEOUT_S = 300
# The dearest of ``evaluation_candidates``: one request each on 500 cases, idle server, 2
# loaded cores (s): hotspots_radius_2000 1.77, scoring_run_year 0.47, hotspots_radius_10 0.34,
# on_time_year 0.11, repeat_complaints_radius_2000 0.06 (before GridIndex.within measured a
# geodesic only where needed, hotspots_radius_2000 took 21 s; its cost grows with the square of
# the reports within reach of each other).
DEAREST = "hotspots_radius_2000"


# --- the databases --------------------------------------------------------------------------


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp / 'yixian.db'}"
    yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    name = f"yx_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def prepare(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    try:
        load_demo(engine, now=datetime.now(UTC), with_cases=False)
    finally:
        engine.dispose()


# --- the clients ----------------------------------------------------------------------------


def sign_in(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/auth/login", json={"username": username, "password": PASSWORD}, timeout=60
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def device(base: str, user: dict[str, str]) -> dict[str, str]:
    r = requests.post(
        f"{base}/devices",
        json={"client_id": str(uuid.uuid4()), "name": "bench"},
        headers=user,
        timeout=60,
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['device_token']}", **PROTOCOL}


def urban_points(n: int, seed: int = 12) -> list[dict[str, float]]:
    """Places in the urban towns, a third of them in a few tight clusters (hotspots)."""
    from server.demo_data import TOWNS

    rng = random.Random(seed)
    urban = [t for t in TOWNS if t.urban] or list(TOWNS)
    boxes = []
    for town in urban:
        lats = [p.lat for p in town.polygon]
        lons = [p.lon for p in town.polygon]
        boxes.append((min(lats), max(lats), min(lons), max(lons)))
    centres = [(rng.uniform(b[0], b[1]), rng.uniform(b[2], b[3])) for b in boxes for _ in range(4)]
    out = []
    for k in range(n):
        if k % 3 == 0:
            lat, lon = rng.choice(centres)
            out.append(
                {"lat": lat + rng.uniform(-4e-4, 4e-4), "lon": lon + rng.uniform(-4e-4, 4e-4)}
            )
        else:
            b = rng.choice(boxes)
            out.append({"lat": rng.uniform(b[0], b[1]), "lon": rng.uniform(b[2], b[3])})
    return out


def seed_cases(base: str, n: int) -> None:
    """n cases recorded by the inspector's phone (sync push, batches of 100)."""
    headers = {**device(base, sign_in(base, "inspector")), "Content-Type": "application/json"}
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    rng = random.Random(7)
    points = urban_points(n)
    for start in range(0, n, 100):
        commands = [
            {
                "id": i + 1,
                "type": "CreateCase",
                "created_at": at,
                "payload": {
                    "case_id": str(uuid.uuid4()),
                    "category": rng.choice(CATEGORIES),
                    "description": f"安全基准案件 {i}",
                    "location": points[i],
                },
            }
            for i in range(start, min(n, start + 100))
        ]
        body = json.dumps({"protocol": 1, "commands": commands}).encode()
        r = requests.post(f"{base}/sync/push", data=body, headers=headers, timeout=TIMEOUT_S)
        r.raise_for_status()
        statuses = Counter(x["status"] for x in r.json()["results"])
        if statuses["applied"] != len(commands):
            raise RuntimeError(f"seeding: {dict(statuses)}")


def evaluation_candidates(year: int) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """name → (method, path with query, JSON body): legal requests, each as dear as its
    parameters allow."""
    return {
        "hotspots_radius_2000": (
            "GET",
            "/evaluation/hotspots?radius_m=2000&min_reports=2&limit=500",
            None,
        ),
        "hotspots_radius_10": (
            "GET",
            "/evaluation/hotspots?radius_m=10&min_reports=2&limit=500",
            None,
        ),
        "repeat_complaints_radius_2000": (
            "GET",
            "/evaluation/repeat-complaints?radius_m=2000&window_days=366",
            None,
        ),
        "on_time_year": ("GET", f"/evaluation/dashboard/on-time?kind=year&year={year}", None),
        "scoring_run_year": ("POST", "/evaluation/runs", {"kind": "year", "year": year}),
    }


def call(
    http: requests.Session, base: str, spec: tuple[str, str, dict[str, Any] | None], h: Any
) -> requests.Response:
    method, path, body = spec
    return http.request(method, base + path, json=body, headers=h, timeout=TIMEOUT_S)


# --- load, in another process (so that its clients do not share the victim's GIL) -----------


UNANSWERED = 0  # the status counted for a load request still unanswered when the load ends
GRACE_S = 2.0


def _login_flood(base: str, end: float, statuses: Counter[int], client: int) -> None:
    rng = random.Random(client)
    with requests.Session() as http:
        while time.time() < end:
            username = rng.choice(GUESSED) if rng.random() < 0.7 else f"guess{rng.randrange(10**6)}"
            statuses[UNANSWERED] += 1
            r = http.post(
                f"{base}/auth/login",
                json={"username": username, "password": f"wrong-{rng.randrange(10**9)}"},
                timeout=TIMEOUT_S,
            )
            statuses[UNANSWERED] -= 1
            statuses[r.status_code] += 1


def _evaluation_load(
    base: str,
    end: float,
    statuses: Counter[int],
    headers: dict[str, str],
    spec: tuple[str, str, dict[str, Any] | None],
) -> None:
    with requests.Session() as http:
        while time.time() < end:
            statuses[UNANSWERED] += 1
            status = call(http, base, spec, headers).status_code
            statuses[UNANSWERED] -= 1
            statuses[status] += 1


def _load_process(
    kind: str, clients: int, seconds: float, args: tuple[Any, ...], ready: Any, go: Any, out: Any
) -> None:
    """Run the load's clients (threads) for ``seconds`` from the parent's go; put the count of
    their answers by status in ``out`` (a request unanswered by then is left running on the
    server and counted as ``UNANSWERED``)."""
    results: list[Counter[int]] = [Counter() for _ in range(clients)]
    ready.set()
    go.wait()
    end = time.time() + seconds

    def one(k: int) -> None:
        if kind == "login":
            _login_flood(args[0], end, results[k], client=k)
        else:
            _evaluation_load(args[0], end, results[k], *args[1:])

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, end + GRACE_S - time.time()))
    total: Counter[int] = Counter()
    for c in results:
        total.update(c)
    out.put({k: v for k, v in total.items() if v})


# --- the victim -----------------------------------------------------------------------------


@dataclass
class Victim:
    base: str
    user: dict[str, str]
    phone: dict[str, str]
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)

    def calls(self) -> dict[str, Callable[[requests.Session], requests.Response]]:
        return {
            "cases": lambda http: http.get(
                f"{self.base}/cases", headers=self.user, timeout=TIMEOUT_S
            ),
            "pull": lambda http: http.post(
                f"{self.base}/sync/pull",
                json={"protocol": 1, "cursor": None},
                headers=self.phone,
                timeout=TIMEOUT_S,
            ),
        }

    def run(self, until: float) -> dict[str, list[float]]:
        """Each request in turn until ``until``; latencies by request."""
        out: dict[str, list[float]] = {name: [] for name in self.calls()}
        with requests.Session() as http:
            while time.time() < until:
                for name, send in self.calls().items():
                    started = time.perf_counter()
                    r = send(http)
                    out[name].append(time.perf_counter() - started)
                    self.statuses[r.status_code] += 1
                    if r.status_code >= 400:
                        print(
                            f"[security] victim {name}: {r.status_code} {r.text[:200]}",
                            file=sys.stderr,
                        )
        return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


def under_load(
    victim: Victim, kind: str, clients: int, args: tuple[Any, ...], seconds: float
) -> tuple[dict[str, list[float]], Counter[int]]:
    """The victim's latencies while the load runs, and the load's answers by status."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_load_process, args=(kind, clients, seconds, args, ready, go, out))
    proc.start()
    if not ready.wait(timeout=120):
        proc.kill()
        raise RuntimeError("the load process did not start")
    go.set()
    latencies = victim.run(time.time() + seconds)
    load = Counter(out.get(timeout=TIMEOUT_S * 2))
    proc.join(timeout=60)
    return latencies, load


def measure(database: str, url: str, var_dir: Path, seconds: float) -> list[dict[str, Any]]:
    prepare(url)
    try:
        return _measure(database, url, var_dir, seconds)
    finally:
        log = var_dir / "server.log"
        if log.exists():  # kept for a look at any 5xx
            keep = Path(os.environ.get("YIXIAN_VAR_DIR", "var")) / f"bench-security-{database}.log"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_bytes(log.read_bytes())


def _measure(database: str, url: str, var_dir: Path, seconds: float) -> list[dict[str, Any]]:
    idle_seconds = max(3.0, seconds / 4)
    with running_server(var_dir, url) as base:
        seed_cases(base, CASES)
        supervisor = sign_in(base, VICTIM)
        victim = Victim(base, supervisor, device(base, supervisor))
        victim.run(time.time() + 2)  # warm-up
        spec = evaluation_candidates(datetime.now(UTC).year)[DEAREST]
        idle = victim.run(time.time() + idle_seconds)
        flood, flood_statuses = under_load(victim, "login", LOGIN_CLIENTS, (base,), seconds)
        for name, more in victim.run(time.time() + idle_seconds).items():
            idle[name] += more  # idle again after the flood: one baseline from both
        evaluation, eval_statuses = under_load(
            victim, "evaluation", EVALUATION_CLIENTS, (base, supervisor, spec), seconds
        )
        eval_load = eval_statuses
    print(
        f"[security] {database}: sign-in flood answers {dict(flood_statuses)}, evaluation load "
        f"answers {dict(eval_statuses)}",
        file=sys.stderr,
    )
    everything = victim.statuses + flood_statuses + eval_statuses
    errors = sum(n for status, n in everything.items() if status >= 500)
    unanswered = everything[UNANSWERED]
    rows: list[dict[str, Any]] = []
    for load_name, latencies, extra in (
        (
            "login_flood",
            flood,
            {
                "load_clients": LOGIN_CLIENTS,
                "load_answers": {str(k): v for k, v in sorted(flood_statuses.items())},
            },
        ),
        (
            "evaluation_load",
            evaluation,
            {
                "load_clients": EVALUATION_CLIENTS,
                "load_request": DEAREST,
                "load_answers": {str(k): v for k, v in sorted(eval_load.items())},
            },
        ),
    ):
        for request_name in ("cases", "pull"):
            value = 1000 * p95(latencies[request_name])
            baseline = 1000 * p95(idle[request_name])
            rows.append(
                {
                    "name": f"security_{database}_{request_name}_p95_{load_name}",
                    "value": value,
                    "unit": "ms",
                    "baseline": f"security_{database}_{request_name}_p95_idle",
                    "baseline_value": baseline,
                    "ratio": value / baseline,
                    "samples": len(latencies[request_name]),
                    "idle_samples": len(idle[request_name]),
                    "seconds": seconds,
                    "cases": CASES,
                    **extra,
                }
            )
    total = sum(everything.values())
    rows.append(
        {
            "name": f"security_{database}_server_errors",
            "value": errors,
            "unit": "5xx answers",
            "baseline": "every answer of the security run",
            "baseline_value": total,
            "ratio": errors / total if total else 0.0,
            "answers": {str(k): v for k, v in sorted(everything.items())},
            "unanswered_when_the_load_ended": unanswered,
        }
    )
    return rows


def run(seconds: float | None = None) -> list[dict[str, Any]]:
    seconds = seconds if seconds is not None else SECONDS
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="yixian-bench-security-") as tmp:
        root = Path(tmp)
        if "sqlite" in DATABASES:
            (root / "sqlite").mkdir()
            with sqlite_database(root / "sqlite") as url:
                rows += measure("sqlite", url, root / "sqlite", seconds)
        reason = postgres_available() if "postgres" in DATABASES else "not asked for"
        if reason is not None:
            print(f"[security] PostgreSQL skipped: {reason}", file=sys.stderr)
        else:
            (root / "postgres").mkdir()
            with postgres_database() as url:
                rows += measure("postgres", url, root / "postgres", seconds)
    return rows


def main() -> None:
    from bench.report import format_table

    print(format_table(run()))


if __name__ == "__main__":
    main()
