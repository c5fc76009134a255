"""Queries for cases, their events and suspensions. The only place cases meet SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, tuple_
from sqlmodel import Session, col, select

from server.data.bulk import insert_many
from server.data.event_chain import known_last_seq, seal_event, seal_rows
from server.models import Case, CaseEvent, CaseSuspension, CaseWithdrawal
from sync.overdue import DEADLINE_STATUSES, REROUTE_STATUS


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    department: str | None = None  # first contact, lead or assisting
    category: str | None = None
    town: str | None = None
    overdue_at: datetime | None = None  # overdue at this instant (sync/overdue.py)
    due_before: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lat, min_lon, max_lat, max_lon
    visible_to_department: str | None = None  # None: everything (supervisors)
    reporter_user_id: str | None = None  # inspectors also see what they reported


def get_case(session: Session, case_id: str, *, for_update: bool = False) -> Case | None:
    stmt = select(Case).where(Case.id == case_id)
    if for_update:  # re-read under the lock: a copy loaded before it may be stale
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def add_case(session: Session, case: Case) -> None:
    session.add(case)


def next_event_seq(session: Session, case_id: str) -> int:
    known = known_last_seq(session, case_id)
    if known is not None:  # this transaction wrote the case's last event: no query
        return known + 1
    current = session.exec(
        select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case_id)
    ).one()
    return int(current or 0) + 1


def add_event(session: Session, event: CaseEvent) -> None:
    """Append one event (its fields final): it is sealed into its case's hash chain."""
    seal_event(session, event)
    session.add(event)


def events_of(session: Session, case_id: str) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    return list(session.exec(stmt))


def events_of_cases(session: Session, case_ids: Sequence[str]) -> dict[str, list[CaseEvent]]:
    """The events of many cases, one query: case id → its events in order (every id present)."""
    out: dict[str, list[CaseEvent]] = {cid: [] for cid in case_ids}
    if not out:
        return out
    stmt = (
        select(CaseEvent)
        .where(col(CaseEvent.case_id).in_(list(out)))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
    )
    for event in session.exec(stmt):
        out[event.case_id].append(event)
    return out


def last_event_of_kind(session: Session, case_id: str, kind: str) -> CaseEvent | None:
    stmt = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        .order_by(col(CaseEvent.seq).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def suspensions_of(session: Session, case_id: str) -> list[CaseSuspension]:
    stmt = (
        select(CaseSuspension)
        .where(CaseSuspension.case_id == case_id)
        .order_by(col(CaseSuspension.start))
    )
    return list(session.exec(stmt))


def add_suspension(session: Session, suspension: CaseSuspension) -> None:
    session.add(suspension)


def open_suspension(session: Session, case_id: str) -> CaseSuspension | None:
    stmt = select(CaseSuspension).where(
        CaseSuspension.case_id == case_id, col(CaseSuspension.end).is_(None)
    )
    return session.exec(stmt).first()


def assisting_codes_key(codes: Sequence[str]) -> str:
    """The delimited form stored in ``Case.assisting_codes``: ",sw,zj,"."""
    return "," + "".join(f"{c}," for c in codes)


def _department_clause(department: str) -> ColumnElement[bool]:
    return or_(
        col(Case.first_contact_department) == department,
        col(Case.lead_department) == department,
        col(Case.assisting_codes).contains(f",{department},"),
    )


def visibility_clause(department: str, reporter_user_id: str | None) -> ColumnElement[bool]:
    """The SQL form of ``sync.visibility.can_see_case`` for a non-oversight user."""
    vis = _department_clause(department)
    if reporter_user_id is not None:
        vis = or_(vis, col(Case.reporter_user_id) == reporter_user_id)
    return vis


def _running_deadline_before(now: datetime | None) -> ColumnElement[bool]:
    """The SQL form of ``sync.overdue.running_deadline`` (set, and before ``now`` if given)."""
    active = col(Case.due_at) < now if now is not None else col(Case.due_at).is_not(None)
    reroute = (
        col(Case.reroute_due_at) < now if now is not None else col(Case.reroute_due_at).is_not(None)
    )
    return or_(
        and_(col(Case.status).in_([s.value for s in DEADLINE_STATUSES]), active),
        and_(col(Case.status) == REROUTE_STATUS.value, reroute),
    )


def clock_running_clause() -> ColumnElement[bool]:
    """Cases with a running deadline (suspended or not)."""
    return _running_deadline_before(None)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The SQL form of ``sync.overdue.is_overdue`` (built from its constants; a test proves
    they agree on cases in every state)."""
    return and_(col(Case.suspended) == False, _running_deadline_before(now))  # noqa: E712


def list_cases(
    session: Session,
    flt: CaseFilter,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Case]:
    """Newest first; keyset pagination on (created_at, id)."""
    stmt = select(Case)
    conds: list[ColumnElement[bool]] = []
    if flt.visible_to_department is not None:
        conds.append(visibility_clause(flt.visible_to_department, flt.reporter_user_id))
    if flt.status:
        conds.append(col(Case.status) == flt.status)
    if flt.department:
        conds.append(_department_clause(flt.department))
    if flt.category:
        conds.append(col(Case.category) == flt.category)
    if flt.town:
        conds.append(col(Case.town_code) == flt.town)
    if flt.overdue_at is not None:
        conds.append(overdue_clause(flt.overdue_at))
    if flt.due_before is not None:
        conds.append(col(Case.due_at) < flt.due_before)
    if flt.bbox is not None:
        min_lat, min_lon, max_lat, max_lon = flt.bbox
        conds.append(and_(col(Case.lat) >= min_lat, col(Case.lat) <= max_lat))
        conds.append(and_(col(Case.lon) >= min_lon, col(Case.lon) <= max_lon))
    if after is not None:
        created, case_id = after
        # a row comparison, not an OR: both databases seek ix_case_created_id to the cursor
        conds.append(tuple_(col(Case.created_at), col(Case.id)) < (created, case_id))
    if conds:
        stmt = stmt.where(and_(*conds))
    stmt = stmt.order_by(col(Case.created_at).desc(), col(Case.id).desc()).limit(limit)
    return list(session.exec(stmt))


def cases_by_ids(session: Session, ids: Sequence[str]) -> list[Case]:
    if not ids:
        return []
    return list(session.exec(select(Case).where(col(Case.id).in_(list(ids)))))


def insert_new_cases(
    session: Session, cases: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
) -> None:
    """New case rows and their first events, one bulk INSERT each (the sync push fast path)."""
    insert_many(session, Case.__table__, cases)  # type: ignore[attr-defined]
    sealed = [dict(e) for e in events]
    seal_rows(session, sealed)
    insert_many(session, CaseEvent.__table__, sealed)  # type: ignore[attr-defined]


def existing_ids(session: Session, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.exec(select(Case.id).where(col(Case.id).in_(list(ids)))))


def add_withdrawals(session: Session, case_id: str, departments: list[str], seq: int) -> None:
    for department in departments:
        session.add(CaseWithdrawal(case_id=case_id, department=department, change_seq=seq))
