"""Cost does not grow with history (issue #15): sync against a database holding many cases.

- ``scale_sync_push_100k_history``: CreateCase commands pushed (batches of 100, every rule
  checked, the repeat-report rule included) into a SQLite database already holding
  ``HISTORY`` cases, a third of them closed within the last 30 days in the pushed category
  (the repeat-report rule's worst case), in commands/s. Baseline: the same push into a database
  with no cases, in this run (target: ratio ≥ 1/1.5 = 0.67).
- ``scale_sync_pull_100k_history``: a fresh device of the inspector pulling what it may see
  (the pushed cases; the history belongs to another department), cases/s, against the same
  pull from the empty database.
- ``sync_pull_page_events_one_query``: a pull page of 200 cases with their events built as the
  pull does now (one query for the page's events) against one query per case, pages/s.
- ``scale_repeat_check_100k``: the repeat-report check for one new report, as recording a case
  runs it now (``repeat_candidates``: the box pushed into SQL by index, only the columns read,
  the exact distance on the few candidates) against the rule as it was (every closed case of
  the category in the window as a full ORM row, the geodesic distance to each), checks/s in
  one process on the same database.

Run: ``.venv/bin/python -m bench scale``.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from geopy.distance import geodesic
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.bench_sync import POINT, _device, _pull_all, _push_all, server_process
from server.data import cases as cases_data
from server.data import workflow as wf_data
from server.data.bulk import insert_many
from server.db import make_engine
from server.models import Case, User
from server.services.sync import case_snapshots
from sync.boundary_types import Point
from sync.workflow import (
    REPEAT_WINDOW,
    ClosedCase,
    find_repeat,
    repeat_search,
    same_place,
    within_repeat_window,
)

HISTORY = 100_000
COMMANDS = 1000
ROUNDS = 2
CHECKS = 200
OLD_CHECKS = 2
PAGE = 200
PAGES = 20
CATEGORY = "waterlogging"
OTHER_CATEGORIES = ("parking", "street_lights", "garbage")
# the county's extent, roughly (around the demo's town centre)
SOUTH, NORTH, WEST, EAST = 35.45, 35.95, 116.20, 116.80


def _history_rows(reporter: str, n: int, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(15)
    centre = (POINT["lat"], POINT["lon"])
    rows: list[dict[str, Any]] = []
    for i in range(n):
        lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        if geodesic(centre, (lat, lon)).meters < 300:  # the pushed reports repeat none of them
            lat += 0.01
        closed = i % 3 == 0
        created = now - timedelta(days=rng.uniform(31, 700) if not closed else rng.uniform(1, 60))
        closed_at = now - timedelta(days=rng.uniform(0, 29.5)) if closed else None
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "number": f"H{i:09d}",
                "status": "closed" if closed else rng.choice(["discovered", "handling"]),
                "category": CATEGORY if closed else rng.choice((CATEGORY, *OTHER_CATEGORIES)),
                "matter": None,
                "description": f"历史案件 {i}",
                "source": "inspection",
                "lat": lat,
                "lon": lon,
                "town_code": None,
                "site_code": None,
                # another department's cases: the pushing inspector (社会治理中心) sees none
                "first_contact_department": "zhzf",
                "reporter_user_id": reporter,
                "lead_department": None,
                "assisting": [],
                "assisting_codes": ",",
                "legal_basis": None,
                "list_version": None,
                "time_amount": None,
                "time_unit": None,
                "assigned_at": None,
                "due_at": None,
                "suspended": False,
                "disputed": False,
                "handler_user_ids": [],
                "rework_count": 0,
                "return_count": 0,
                "duplicate_of": None,
                "closed_at": closed_at,
                "created_at": created,
                "updated_at": closed_at or created,
                "version": 1,
                "change_seq": 0,
            }
        )
    return rows


def seed_history(engine: Engine, n: int = HISTORY) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        reporter = session.exec(select(User.id).where(User.username == "zhzf_handler")).one()
        rows = _history_rows(reporter, n, now)
        for i in range(0, n, 5000):
            insert_many(session, Case.__table__, rows[i : i + 5000])  # type: ignore[attr-defined]
        session.commit()


def _sync_rates(workdir: Path, seed: bool, name: str) -> tuple[float, float]:
    pushes: list[float] = []
    with server_process(workdir, seed_history if seed else None, db_name=name) as base:
        http = requests.Session()
        _push_all(http, base, _device(http, base), 200)  # warm-up
        for _ in range(ROUNDS):
            pushes.append(COMMANDS / _push_all(http, base, _device(http, base), COMMANDS))
        # the inspector sees what they reported, not the history: the same cases either way
        seconds, pulled = _pull_all(http, base, _device(http, base))
    return statistics.median(pushes), pulled / seconds


def _old_rule(session: Session, p: Point, now: datetime) -> ClosedCase | None:
    """The check as it was: every closed case of the category in the window, full ORM rows."""
    rows = session.exec(
        select(Case).where(
            Case.status == "closed",
            Case.category == CATEGORY,
            col(Case.closed_at) >= now - REPEAT_WINDOW,
        )
    )
    hits = [
        c
        for c in (
            ClosedCase(r.id, r.category, r.closed_at, r.site_code, Point(r.lat, r.lon))
            for r in rows
            if r.closed_at is not None and r.lat is not None and r.lon is not None
        )
        if within_repeat_window(c.closed_at, now)
        and same_place(site_a=c.site_code, point_a=c.point, site_b=None, point_b=p)
    ]
    return max(hits, key=lambda c: c.closed_at) if hits else None


def _new_rule(session: Session, p: Point, now: datetime) -> ClosedCase | None:
    search = repeat_search(site_code=None, point=p)
    assert search is not None
    closed = wf_data.repeat_candidates(session, CATEGORY, now - REPEAT_WINDOW, [search])
    return find_repeat(closed, category=CATEGORY, site_code=None, point=p, now=now)


def _repeat_check_rates(workdir: Path) -> tuple[float, float, int]:
    engine = make_engine(f"sqlite:///{workdir / 'scale.db'}")
    now = datetime.now(UTC)
    rng = random.Random(7)
    points = [Point(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(CHECKS)]
    with Session(engine) as session:
        _new_rule(session, points[-1], now)  # warm the statement cache
        start = time.perf_counter()
        old_found = [_old_rule(session, p, now) for p in points[:OLD_CHECKS]]
        old_rate = OLD_CHECKS / (time.perf_counter() - start)
        start = time.perf_counter()
        new_found = [_new_rule(session, p, now) for p in points]
        new_rate = CHECKS / (time.perf_counter() - start)
        for old, new in zip(old_found, new_found, strict=False):
            if (old and old.id) != (new and new.id):
                raise RuntimeError("the two checks disagree")
        closed = session.exec(select(Case.id).where(Case.status == "closed")).all()
    engine.dispose()
    return new_rate, old_rate, len(closed)


def _pull_page_rates(workdir: Path) -> tuple[float, float]:
    """Pages of 200 cases with their events built as the pull does now (one query for the
    page's events) and as it did (one query per case), pages/s in one process."""
    engine = make_engine(f"sqlite:///{workdir / 'empty.db'}")
    with Session(engine) as session:
        page = list(session.exec(select(Case).order_by(col(Case.change_seq)).limit(PAGE)))

        def per_case() -> object:
            out = []
            for case in page:
                data = case.model_dump(mode="json")
                data["events"] = [
                    e.model_dump(mode="json", exclude={"id"})
                    for e in cases_data.events_of(session, case.id)
                ]
                out.append(data)
            return out

        if case_snapshots(session, page) != per_case():
            raise RuntimeError("the two pages differ")
        rates = {}
        for name, build in (("old", per_case), ("new", lambda: case_snapshots(session, page))):
            start = time.perf_counter()
            for _ in range(PAGES):
                build()
            rates[name] = PAGES / (time.perf_counter() - start)
    engine.dispose()
    return rates["new"], rates["old"]


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="yixian-bench-scale-") as tmp:
        workdir = Path(tmp)
        empty_push, empty_pull = _sync_rates(workdir, False, "empty.db")
        full_push, full_pull = _sync_rates(workdir, True, "scale.db")
        new_rate, old_rate, closed = _repeat_check_rates(workdir)
        page_rate, old_page_rate = _pull_page_rates(workdir)
    return [
        {
            "name": "scale_sync_push_100k_history",
            "value": full_push,
            "unit": "commands/s",
            "baseline": "sync_push_empty_database",
            "baseline_value": empty_push,
            "history_cases": HISTORY,
            "closed_in_window_same_category": closed,
            "commands": COMMANDS,
        },
        {
            "name": "scale_sync_pull_100k_history",
            "value": full_pull,
            "unit": "cases/s",
            "baseline": "sync_pull_empty_database",
            "baseline_value": empty_pull,
            "history_cases": HISTORY,
        },
        {
            "name": "sync_pull_page_events_one_query",
            "value": page_rate,
            "unit": "pages/s",
            "baseline": "sync_pull_page_one_query_per_case",
            "baseline_value": old_page_rate,
            "cases_per_page": PAGE,
        },
        {
            "name": "scale_repeat_check_100k",
            "value": new_rate,
            "unit": "checks/s",
            "baseline": "repeat_check_every_closed_case_orm_geodesic",
            "baseline_value": old_rate,
            "closed_in_window_same_category": closed,
        },
    ]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
