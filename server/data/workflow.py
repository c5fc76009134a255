"""Queries for the workflow tables. The only place they meet SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from server.data.cases import clock_running_clause
from server.models import (
    AssistTask,
    Case,
    CaseEscalation,
    Dispute,
    JointCheckIn,
    JointPoint,
    JointSession,
    Minute,
    Notification,
)
from sync.boundary_types import Point
from sync.geo import BoundingBox
from sync.vocabulary import CaseStatus
from sync.workflow import ClosedCase, RepeatSearch

# --- assisting tasks ---------------------------------------------------------------------------


def tasks_of(session: Session, case_id: str) -> list[AssistTask]:
    stmt = select(AssistTask).where(AssistTask.case_id == case_id).order_by(col(AssistTask.id))
    return list(session.exec(stmt))


def task(session: Session, case_id: str, department: str) -> AssistTask | None:
    stmt = select(AssistTask).where(
        AssistTask.case_id == case_id, AssistTask.department == department
    )
    return session.exec(stmt).first()


# --- disputes ----------------------------------------------------------------------------------


def get_dispute(session: Session, dispute_id: str, *, for_update: bool = False) -> Dispute | None:
    stmt = select(Dispute).where(Dispute.id == dispute_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def open_dispute_of(session: Session, case_id: str) -> Dispute | None:
    stmt = select(Dispute).where(Dispute.case_id == case_id, Dispute.status == "open")
    return session.exec(stmt).first()


def disputes_of(session: Session, case_id: str) -> list[Dispute]:
    stmt = select(Dispute).where(Dispute.case_id == case_id).order_by(col(Dispute.raised_at))
    return list(session.exec(stmt))


def overdue_open_disputes(session: Session, now: datetime) -> list[str]:
    stmt = select(Dispute.id).where(
        Dispute.status == "open",
        col(Dispute.suspended) == False,  # noqa: E712
        col(Dispute.stage_due_at) < now,
    )
    return list(session.exec(stmt))


# --- escalation --------------------------------------------------------------------------------


def escalation_candidates(session: Session) -> list[str]:
    """Ids of the cases whose clock runs (sync/overdue.py), not suspended: the job looks at
    each."""
    stmt = select(Case.id).where(
        clock_running_clause(),
        col(Case.suspended) == False,  # noqa: E712
    )
    return list(session.exec(stmt))


def lock_case_or_skip(session: Session, case_id: str) -> Case | None:
    """The case, locked for this transaction; None if another process holds it (PostgreSQL
    SKIP LOCKED; SQLite already serialises writers at BEGIN IMMEDIATE)."""
    stmt = select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
    return session.exec(stmt).first()


def escalation_levels(session: Session, case_id: str, due_at: datetime) -> set[str]:
    stmt = select(CaseEscalation.level).where(
        CaseEscalation.case_id == case_id, CaseEscalation.due_at == due_at
    )
    return set(session.exec(stmt))


def insert_escalation_or_skip(session: Session, row: CaseEscalation) -> bool:
    """Insert unless (case, deadline, level) is already there; True if this call inserted."""
    values = {
        "case_id": row.case_id,
        "due_at": row.due_at,
        "level": row.level,
        "departments": row.departments,
        "at": row.at,
    }
    dialect = session.get_bind().dialect.name
    table = CaseEscalation.__table__  # type: ignore[attr-defined]
    ins = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    stmt = ins.values(**values).on_conflict_do_nothing(
        index_elements=["case_id", "due_at", "level"]
    )
    result = session.connection().execute(stmt)
    return bool(result.rowcount)


def escalations_of(session: Session, case_id: str) -> list[CaseEscalation]:
    stmt = (
        select(CaseEscalation)
        .where(CaseEscalation.case_id == case_id)
        .order_by(col(CaseEscalation.id))
    )
    return list(session.exec(stmt))


def clock_running_cases(session: Session) -> list[Case]:
    """The cases whose clock runs (sync/overdue.py ``running_deadline``), suspended or not."""
    return list(session.exec(select(Case).where(clock_running_clause())))


def _box_clause(box: BoundingBox) -> ColumnElement[bool]:
    lat = and_(col(Case.lat) >= box.south, col(Case.lat) <= box.north)
    if box.wraps:
        return and_(lat, or_(col(Case.lon) >= box.west, col(Case.lon) <= box.east))
    return and_(lat, col(Case.lon) >= box.west, col(Case.lon) <= box.east)


def _point_or_none(lat: float | None, lon: float | None) -> Point | None:
    return None if lat is None or lon is None else Point(lat, lon)


def repeat_candidates(
    session: Session, category: str, since: datetime, searches: Sequence[RepeatSearch]
) -> list[ClosedCase]:
    """The cases of ``category`` closed since ``since`` at one of the searched sites or inside
    one of their boxes: a superset of what the reports can repeat (``sync.workflow``), found by
    index (ix_case_repeat_place, ix_case_repeat_site), only the columns the rule reads."""
    sites = sorted({s.site_code for s in searches if s.site_code is not None})
    boxes = list(dict.fromkeys(s.box for s in searches if s.box is not None))
    # the category in every arm of the OR: each arm is then one index range of its own
    in_category = col(Case.category) == category
    where_place: list[ColumnElement[bool]] = [and_(in_category, _box_clause(b)) for b in boxes]
    if sites:
        where_place.append(and_(in_category, col(Case.site_code).in_(sites)))
    if not where_place:
        return []
    stmt = select(  # type: ignore[call-overload]
        Case.id, Case.closed_at, Case.site_code, Case.lat, Case.lon
    ).where(
        or_(*where_place),
        col(Case.closed_at) >= since,
        col(Case.status) == CaseStatus.CLOSED.value,
    )
    return [
        ClosedCase(cid, category, closed_at, site, _point_or_none(lat, lon))
        for cid, closed_at, site, lat, lon in session.exec(stmt)
        if closed_at is not None
    ]


# --- notifications -----------------------------------------------------------------------------


def notifications_for(
    session: Session, recipients: Sequence[str], *, after_id: int, unread_only: bool, limit: int
) -> list[Notification]:
    conds: list[ColumnElement[bool]] = [
        col(Notification.recipient).in_(list(recipients)),
        col(Notification.id) > after_id,
    ]
    if unread_only:
        conds.append(col(Notification.read_at).is_(None))
    stmt = select(Notification).where(and_(*conds)).order_by(col(Notification.id)).limit(limit)
    return list(session.exec(stmt))


def get_notification(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


# --- joint sessions and minutes ----------------------------------------------------------------


def get_joint_session(
    session: Session, session_id: str, *, for_update: bool = False
) -> JointSession | None:
    stmt = select(JointSession).where(JointSession.id == session_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def joint_sessions(session: Session, *, status: str | None = None) -> list[JointSession]:
    """Joint sessions, open ones first, then newest first (a county holds a few dozen a year)."""
    stmt = select(JointSession)
    if status is not None:
        stmt = stmt.where(JointSession.status == status)
    open_first = case((col(JointSession.status) == "open", 0), else_=1)
    stmt = stmt.order_by(open_first, col(JointSession.started_at).desc(), col(JointSession.id))
    return list(session.exec(stmt))


def check_ins(session: Session, session_id: str) -> list[JointCheckIn]:
    stmt = (
        select(JointCheckIn)
        .where(JointCheckIn.session_id == session_id)
        .order_by(col(JointCheckIn.id))
    )
    return list(session.exec(stmt))


def points(session: Session, session_id: str) -> list[JointPoint]:
    stmt = (
        select(JointPoint).where(JointPoint.session_id == session_id).order_by(col(JointPoint.id))
    )
    return list(session.exec(stmt))


def sessions_of_case(session: Session, case_id: str) -> list[str]:
    return list(session.exec(select(JointPoint.session_id).where(JointPoint.case_id == case_id)))


def get_minute(session: Session, minute_id: str) -> Minute | None:
    return session.get(Minute, minute_id)


def minutes_of_case(session: Session, case_id: str) -> list[Minute]:
    """Minutes linked to the case (a few per case at most: filtered in Python for portability
    of JSON containment between SQLite and PostgreSQL)."""
    ids = {d.minute_id for d in disputes_of(session, case_id) if d.minute_id}
    for sid in sessions_of_case(session, case_id):
        js = get_joint_session(session, sid)
        if js is not None and js.minute_id:
            ids.add(js.minute_id)
    if not ids:
        return []
    return list(session.exec(select(Minute).where(col(Minute.id).in_(list(ids)))))
