"""The fast queries answer as the slow ones did, and by index (docs/speed.md).

- The repeat-report check reads only the closed cases in the box around the new report (and at
  its site): on random data it finds the very case the plain rule over every closed case finds.
- The list queries (bounding box, keyset page), the repeat check, the pull's page and events are
  served by an index on SQLite and PostgreSQL: their plans, read with EXPLAIN, scan no table.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from geopy.distance import geodesic
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from server.data import cases as cases_data
from server.data import sync as sync_data
from server.data import workflow as wf_data
from server.db import make_engine
from server.models import Case, CaseEvent
from server.services.audit import verify_chains
from sync.boundary_types import Point
from sync.workflow import (
    REPEAT_WINDOW,
    ClosedCase,
    find_repeat,
    repeat_search,
    same_place,
    within_repeat_window,
)
from tests.conftest import T0, Backend

CENTRE = Point(35.7215, 116.4877)
CATEGORIES = ("waterlogging", "parking")


@pytest.fixture
def engine(backend: Backend, tmp_path: Any) -> Iterator[Engine]:
    url = backend.fresh_url(tmp_path)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    backend.drop(url)


def _near(rng: random.Random, reach_m: float) -> Point:
    p = geodesic(meters=rng.uniform(0, reach_m)).destination(
        (CENTRE.lat, CENTRE.lon), rng.uniform(0, 360)
    )
    return Point(p.latitude, p.longitude)


def _case(rng: random.Random, i: int, *, status: str, closed_at: datetime | None) -> Case:
    point = None if rng.random() < 0.1 else _near(rng, 150.0)
    return Case(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        number=f"SPEED-{i}",
        status=status,
        category=rng.choice(CATEGORIES),
        description="随机案件",
        lat=point.lat if point else None,
        lon=point.lon if point else None,
        site_code=rng.choice([None, None, "s1", "s2"]),
        first_contact_department="shzl",
        reporter_user_id="u",
        closed_at=closed_at,
        created_at=T0 - timedelta(days=60),
        updated_at=T0,
    )


def _point(c: Case) -> Point | None:
    return None if c.lat is None or c.lon is None else Point(c.lat, c.lon)


def _plain_rule(
    closed: list[ClosedCase], category: str, site: str | None, point: Point | None
) -> ClosedCase | None:
    """The rule as it was: every closed case of the category, the exact distance to each."""
    hits = [
        c
        for c in closed
        if c.category == category
        and within_repeat_window(c.closed_at, T0)
        and same_place(site_a=c.site_code, point_a=c.point, site_b=site, point_b=point)
    ]
    return max(hits, key=lambda c: c.closed_at) if hits else None


def test_the_indexed_repeat_check_finds_what_the_plain_rule_finds(engine: Engine) -> None:
    rng = random.Random(23)
    with Session(engine) as session:
        for i in range(200):
            closed = rng.random() < 0.8
            session.add(
                _case(
                    rng,
                    i,
                    status="closed" if closed else "handling",
                    closed_at=T0 - timedelta(minutes=rng.randint(0, 40 * 24 * 60)),
                )
            )
        session.commit()
        every_closed = [
            ClosedCase(c.id, c.category, c.closed_at, c.site_code, _point(c))
            for c in session.exec(select(Case).where(Case.status == "closed"))
            if c.closed_at is not None
        ]
        found = 0
        for _ in range(80):
            category = rng.choice(CATEGORIES)
            site = rng.choice([None, None, None, "s1", "s3"])
            point = None if rng.random() < 0.1 else _near(rng, 150.0)
            search = repeat_search(site_code=site, point=point)
            candidates = (
                wf_data.repeat_candidates(session, category, T0 - REPEAT_WINDOW, [search])
                if search is not None
                else []
            )
            got = find_repeat(candidates, category=category, site_code=site, point=point, now=T0)
            expected = _plain_rule(every_closed, category, site, point)
            assert (got.id if got else None) == (expected.id if expected else None)
            found += expected is not None
        assert 5 < found < 75  # repeats and non-repeats both occur


def _plan(session: Session, run: Callable[[], object]) -> str:
    """The plan of the last statement ``run`` sent, as one text."""
    bind = session.get_bind()
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    event.listen(bind, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    statement, params = sent[-1]
    if bind.dialect.name == "sqlite":
        rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(str(r[-1]) for r in rows)
    rows = session.connection().exec_driver_sql("EXPLAIN " + statement, params)
    return "\n".join(str(r[0]) for r in rows)


def test_lists_the_repeat_check_and_pull_use_an_index_on_both_databases(engine: Engine) -> None:
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            # an empty table is cheapest to scan: forbid it, so the plan shows whether an index
            # *can* serve the query (with none, PostgreSQL still scans)
            session.connection().execute(text("SET enable_seqscan = off"))
        queries: dict[str, Callable[[], object]] = {
            "bounding box": lambda: cases_data.list_cases(
                session,
                cases_data.CaseFilter(bbox=(35.70, 116.40, 35.80, 116.50)),
                after=None,
                limit=50,
            ),
            "keyset page": lambda: cases_data.list_cases(
                session, cases_data.CaseFilter(), after=(T0, "m"), limit=50
            ),
            "repeat check": lambda: wf_data.repeat_candidates(
                session,
                "waterlogging",
                T0 - REPEAT_WINDOW,
                [repeat_search(site_code=None, point=CENTRE)],  # type: ignore[list-item]
            ),
            "pull events": lambda: cases_data.events_of_cases(session, ["a", "b"]),
            "pull page": lambda: sync_data.changed_cases(
                session, after=(5, "m"), visible_to_department=None, reporter_user_id=None, limit=9
            ),
        }
        for name, run in queries.items():
            plan = _plan(session, run)
            if engine.dialect.name == "sqlite":
                assert "SEARCH" in plan and "USING" in plan and "INDEX" in plan, (name, plan)
                assert "SCAN case_record" not in plan, (name, plan)
            else:
                assert "Index" in plan and "Seq Scan" not in plan, (name, plan)


def _event(case_id: str, seq: int, kind: str) -> CaseEvent:
    return CaseEvent(
        case_id=case_id,
        seq=seq,
        kind=kind,
        actor_user_id="u",
        actor_department="shzl",
        at=T0,
        status_after="discovered",
        data={},
    )


def test_an_event_rolled_back_with_its_savepoint_is_never_chained_to(engine: Engine) -> None:
    """Events are numbered and sealed from memory within a transaction; a savepoint that rolls
    back takes its event with it, and the next event follows the last one really stored."""
    rng = random.Random(5)
    with Session(engine) as session:
        case = _case(rng, 0, status="discovered", closed_at=None)
        session.add(case)
        session.flush()
        case_id = case.id
        cases_data.add_event(session, _event(case_id, 1, "CaseCreated"))
        session.commit()
    with Session(engine) as session:
        note = _event(case_id, cases_data.next_event_seq(session, case_id), "NoteAdded")
        cases_data.add_event(session, note)
        savepoint = session.begin_nested()
        lost = _event(case_id, cases_data.next_event_seq(session, case_id), "CaseReturned")
        assert lost.seq == 3
        cases_data.add_event(session, lost)
        session.flush()
        savepoint.rollback()
        kept = _event(case_id, cases_data.next_event_seq(session, case_id), "CaseAssigned")
        cases_data.add_event(session, kept)
        session.commit()
        assert kept.seq == 3 and kept.prev_hash == note.hash != lost.hash
        report = verify_chains(session)
        assert report.intact and report.events == 3, report.breaks
