"""Evaluation benchmark: scoring a year of 100,000 cases (the hotline import: bench_hotline.py).

- ``evaluation_score_year_100k``: ``server.evaluation.scoring.score`` over the event log of
  100,000 cases (assignments, report-backs, closings, rework, suspensions, disputes, returns,
  ratings) against a plain Python loop that only counts the closed cases of the same rows, in
  the same run.

Run: ``.venv/bin/python -m bench.bench_evaluation``.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from server.evaluation.periods import period_of
from server.evaluation.rules import load_rules
from server.evaluation.scoring import EventFact, score
from sync.clock import CHINA_TZ

CASES = 100_000
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


def run() -> list[dict[str, Any]]:
    return [bench_scoring()]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
