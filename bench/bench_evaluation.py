"""Evaluation benchmarks: scoring a year of 100,000 cases, importing 100,000 hotline tickets.

- ``evaluation_score_year_100k``: ``server.evaluation.scoring.score`` over the event log of
  100,000 cases (assignments, report-backs, closings, rework, suspensions, disputes, returns,
  ratings) against a plain Python loop that only counts the closed cases of the same rows, in
  the same run.
- ``hotline_import_100k``: ``server.services.hotline.import_file`` of a 100,000-row GBK CSV into
  a fresh SQLite database with the demo reference data (every row becomes a case or joins
  one), against parsing the same file with ``csv`` alone.

Run: ``.venv/bin/python -m bench.bench_evaluation`` (``YIXIAN_BENCH_TICKETS`` to change the
ticket count).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from server.evaluation.periods import period_of
from server.evaluation.rules import load_rules
from server.evaluation.scoring import EventFact, score
from sync.clock import CHINA_TZ

CASES = 100_000
# The import goes case by case today (~20 ms a row): 100,000 rows take over half an hour, so
# `make bench` imports 10,000; YIXIAN_BENCH_TICKETS=100000 runs the full size.
TICKETS = int(os.environ.get("YIXIAN_BENCH_TICKETS", "10000"))
ROUNDS = 3
DEPARTMENTS = [f"d{i:02d}" for i in range(48)]
YEAR_START = datetime(2026, 1, 1, tzinfo=CHINA_TZ)


def year_of_events(cases: int = CASES, seed: int = 6) -> list[EventFact]:
    rng = random.Random(seed)
    ids = itertools.count(1)
    out: list[EventFact] = []

    def add(case: str, kind: str, at: datetime, **data: Any) -> None:
        out.append(EventFact(next(ids), case, kind, at, "x", data))

    for n in range(cases):
        case = f"c{n}"
        start = YEAR_START + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        lead = rng.choice(DEPARTMENTS)
        assisting = [{"department_code": d, "duty": "-"} for d in rng.sample(DEPARTMENTS, 2)]
        due = start + timedelta(days=rng.randint(2, 15))
        add(
            case,
            "CaseAssigned",
            start,
            lead_department=lead,
            assisting=assisting,
            due_at=due.isoformat(),
            list_version=1,
        )
        t = start + timedelta(hours=rng.randint(1, 48))
        if rng.random() < 0.05:
            add(case, "DisputeRaised", t)
            if rng.random() < 0.7:
                add(
                    case,
                    "DisputeRuled",
                    t + timedelta(days=3),
                    lost_by=[assisting[0]["department_code"]],
                )
        if rng.random() < 0.03:
            add(case, "CaseSuspended", t)
            continue
        if rng.random() < 0.02:
            add(case, "CaseReturned", t, returned_by=lead)
            continue
        done = t + timedelta(days=rng.randint(0, 20))
        add(case, "CaseReportedBack", done)
        if rng.random() < 0.1:
            add(case, "CaseSentBack", done + timedelta(hours=5))
            done += timedelta(days=2)
            add(case, "CaseReportedBack", done)
        if rng.random() < 0.9:
            add(case, "CaseClosed", done + timedelta(hours=3))
        if rng.random() < 0.2:
            add(
                case,
                "AssistingRated",
                done,
                department=assisting[1]["department_code"],
                rating=rng.randint(1, 5),
            )
    out.sort(key=lambda e: e.id)
    return out


def _count_closed(events: list[EventFact]) -> int:
    closed: set[str] = set()
    for e in events:
        if e.kind == "CaseClosed":
            closed.add(e.case_id)
    return len(closed)


def bench_scoring(rounds: int = ROUNDS) -> dict[str, Any]:
    events = year_of_events()
    rules = load_rules()
    period = period_of("year", 2026)
    scored: list[float] = []
    counted: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        report = score(events, period=period, rules=rules, departments=DEPARTMENTS)
        scored.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _count_closed(events)
        counted.append(time.perf_counter() - t0)
    assert len(report.departments) >= len(DEPARTMENTS)
    value, baseline = statistics.median(scored), statistics.median(counted)
    return {
        "name": "evaluation_score_year_100k",
        "value": value,
        "unit": "s/run",
        "baseline": "plain_loop_count_closed_100k",
        "baseline_value": baseline,
        "ratio": value / baseline,
        "cases": CASES,
        "events": len(events),
        "rounds": rounds,
    }


def hotline_csv(rows: int = TICKETS, seed: int = 12345) -> bytes:
    from server.demo_data import TOWNS

    rng = random.Random(seed)
    words = ["乱停车", "积水", "路灯不亮", "占道经营", "噪音扰民", "拖欠工资", "道路破损", "物业"]
    urban = [t for t in TOWNS if t.urban] or list(TOWNS)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["工单编号", "受理时间", "所属区域", "事发地址", "纬度", "经度", "诉求类别", "诉求内容"]
    )
    base = datetime(2026, 1, 1, 8, 0)
    for n in range(rows):
        town = rng.choice(urban)
        lats = [p.lat for p in town.polygon]
        lons = [p.lon for p in town.polygon]
        lat = rng.uniform(min(lats), max(lats))
        lon = rng.uniform(min(lons), max(lons))
        when = base + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        word = rng.choice(words)
        w.writerow(
            [
                f"RX{n:08d}",
                f"{when:%Y-%m-%d %H:%M}",
                town.name,
                "某路某号",
                f"{lat:.6f}",
                f"{lon:.6f}",
                word,
                f"市民反映{word}问题",
            ]
        )
    return out.getvalue().encode("gbk")


def bench_import(rows: int = TICKETS) -> dict[str, Any]:
    from sqlmodel import Session, select

    from server.db import make_engine, migrate
    from server.demo import load_demo
    from server.models import User
    from server.services import hotline as hotline_service
    from server.services.auth import actor_of
    from server.services.boundary_cache import ReferenceCache

    data = hotline_csv(rows)
    t0 = time.perf_counter()
    parsed = sum(1 for _ in csv.reader(io.StringIO(data.decode("gbk"), newline="")))
    baseline = time.perf_counter() - t0
    now = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        load_demo(engine, now=now, with_cases=False)
        with Session(engine, expire_on_commit=False) as session:
            user = session.exec(select(User).where(User.username == "supervisor")).one()
            actor = actor_of(user)
            ref = ReferenceCache().get(session)
            t0 = time.perf_counter()
            run = hotline_service.import_file(
                session, actor=actor, filename="bench.csv", data=data, ref=ref, now=now
            )
            session.commit()
            value = time.perf_counter() - t0
        engine.dispose()
    assert run.total_rows == rows == parsed - 1
    return {
        "name": f"hotline_import_{rows // 1000}k",
        "value": value,
        "unit": "s/import",
        "baseline": f"csv_parse_only_{rows // 1000}k",
        "baseline_value": baseline,
        "ratio": value / baseline,
        "rows": rows,
        "created_cases": run.created_cases,
        "linked": run.linked,
        "errors": run.errors,
        "input_bytes": len(data),
    }


def run() -> list[dict[str, Any]]:
    return [bench_scoring(), bench_import()]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
