"""Queries for evaluation: the event log as scoring facts, stored runs, and reports on the map."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

import server.models.evaluation  # noqa: F401  (registers the tables)
from server.evaluation.hotspots import ClosedCase, PlacedReport
from server.evaluation.scoring import EventFact
from server.models import Case, CaseEvent
from server.models.evaluation import EvaluationRun, HotlineTicket
from sync.boundary_types import Point

SCORED_KINDS = (
    "CaseAssigned",
    "CaseReturned",
    "CaseReportedBack",
    "CaseClosed",
    "CaseSentBack",
    "CaseReopened",
    "CaseCancelled",
    "CaseMerged",
    "CaseSuspended",
    "CaseResumed",
    "DisputeRaised",
    "DisputeRuled",
    "RulingRefused",
    "AssistTaskCreated",
    "AssistingRated",
    "RepeatReported",
    "CallBackRecorded",
)
_BATCH = 5000


def _columns(*attrs: Any) -> list[Any]:
    return [col(a) for a in attrs]


def high_water_mark(session: Session) -> int:
    """The newest event id: a run sees exactly the events up to it."""
    return int(session.exec(select(func.max(CaseEvent.id))).one() or 0)


def scoring_events(
    session: Session, *, before: datetime, high_water_mark: int
) -> Iterator[EventFact]:
    """Every scored event up to the mark and before ``before``, in id order, in batches.

    Cases are replayed from their first event (a case assigned last year can be due this
    month), so there is no lower bound in time."""
    last = 0
    while True:
        stmt = (
            sa_select(
                *_columns(
                    CaseEvent.id,
                    CaseEvent.case_id,
                    CaseEvent.kind,
                    CaseEvent.at,
                    CaseEvent.actor_department,
                    CaseEvent.data,
                )
            )
            .where(
                col(CaseEvent.id) > last,
                col(CaseEvent.id) <= high_water_mark,
                col(CaseEvent.at) < before,
                col(CaseEvent.kind).in_(SCORED_KINDS),
            )
            .order_by(col(CaseEvent.id))
            .limit(_BATCH)
        )
        rows = session.execute(stmt).all()
        for row in rows:
            yield EventFact(int(row[0] or 0), row[1], row[2], row[3], row[4], row[5] or {})
        if len(rows) < _BATCH:
            return
        last = int(rows[-1][0] or 0)


def case_numbers(session: Session, case_ids: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    ids = list(dict.fromkeys(case_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for case_id, number in session.exec(
            select(Case.id, Case.number).where(col(Case.id).in_(chunk))
        ):
            out[case_id] = number
    return out


def add_run(session: Session, run: EvaluationRun) -> EvaluationRun:
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> EvaluationRun | None:
    return session.get(EvaluationRun, run_id)


def list_runs(session: Session, limit: int = 100) -> list[EvaluationRun]:
    stmt = select(EvaluationRun).order_by(col(EvaluationRun.id).desc()).limit(limit)
    return list(session.exec(stmt))


def status_transitions(
    session: Session, *, before: datetime
) -> Iterator[tuple[str, datetime, str]]:
    """(case id, at, status after) of every event before ``before``, in time order."""
    stmt = (
        sa_select(*_columns(CaseEvent.case_id, CaseEvent.at, CaseEvent.status_after))
        .where(col(CaseEvent.at) < before)
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
        .execution_options(yield_per=_BATCH)
    )
    for row in session.execute(stmt):
        yield row[0], row[1], row[2]


def placed_reports(
    session: Session, *, start: datetime, end: datetime, category: str | None = None
) -> list[PlacedReport]:
    """Cases with a location recorded in [start, end) (a merged duplicate stands for the case it
    joined), and tickets that joined a case then."""
    case_stmt = sa_select(
        *_columns(
            Case.id,
            Case.duplicate_of,
            Case.category,
            Case.lat,
            Case.lon,
            Case.created_at,
            Case.lead_department,
        )
    ).where(
        col(Case.created_at) >= start,
        col(Case.created_at) < end,
        col(Case.lat).is_not(None),
        col(Case.lon).is_not(None),
    )
    ticket_stmt = (
        sa_select(
            *_columns(
                HotlineTicket.ticket_no,
                HotlineTicket.case_id,
                HotlineTicket.category,
                HotlineTicket.lat,
                HotlineTicket.lon,
                HotlineTicket.received_at,
                Case.lead_department,
            )
        )
        .join(Case, col(Case.id) == col(HotlineTicket.case_id))
        .where(
            col(HotlineTicket.outcome) == "linked",
            col(HotlineTicket.received_at) >= start,
            col(HotlineTicket.received_at) < end,
            col(HotlineTicket.lat).is_not(None),
            col(HotlineTicket.lon).is_not(None),
        )
    )
    if category is not None:
        case_stmt = case_stmt.where(col(Case.category) == category)
        ticket_stmt = ticket_stmt.where(col(HotlineTicket.category) == category)
    out = [
        PlacedReport("case", cid, dup or cid, cat, Point(lat, lon), at, lead)
        for cid, dup, cat, lat, lon, at, lead in session.execute(case_stmt)
    ]
    out.extend(
        PlacedReport("ticket", no, cid, cat, Point(lat, lon), at, lead)
        for no, cid, cat, lat, lon, at, lead in session.execute(ticket_stmt)
    )
    out.sort(key=lambda r: (r.at, r.id))
    return out


def closed_cases(session: Session, *, start: datetime, end: datetime) -> list[ClosedCase]:
    """Each closing in [start, end) of a case with a location (a case closed twice counts twice)."""
    stmt = (
        sa_select(
            *_columns(
                Case.id,
                Case.number,
                Case.category,
                Case.lat,
                Case.lon,
                CaseEvent.at,
                Case.lead_department,
            )
        )
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(
            col(CaseEvent.kind) == "CaseClosed",
            col(CaseEvent.at) >= start,
            col(CaseEvent.at) < end,
            col(Case.lat).is_not(None),
            col(Case.lon).is_not(None),
        )
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    )
    return [
        ClosedCase(cid, number, cat, Point(lat, lon), at, lead)
        for cid, number, cat, lat, lon, at, lead in session.execute(stmt)
    ]
