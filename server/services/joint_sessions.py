"""Joint on-site sessions (联合办公): departments meet at a site (or several points), check in
on their phones, record the problems found as cases, divide duties on the spot with time nodes,
and get one minute for the session; every point is tracked to closure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from server.data import cases as cases_data
from server.data import reference as reference_data
from server.data import workflow as wf_data
from server.models import Case, JointCheckIn, JointPoint, JointSession
from server.services import cases as case_service
from server.services.boundary_cache import ReferenceSnapshot
from server.services.minutes import Attendee, Decision, MinuteContent, create_minute
from server.services.workflow_events import notify
from server.storage import FileStore
from sync.boundary_types import AssistingDuty, Point
from sync.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from sync.geo import validate_point
from sync.lifecycle import Action, Actor
from sync.vocabulary import CaseStatus, Role

OPEN, CONCLUDED = "open", "concluded"


@dataclass(frozen=True)
class DutyOnSite:
    department: str
    duty: str
    due_at: datetime | None = None


def _may_see(js: JointSession, actor: Actor) -> bool:
    """Who may read a session, check in at it and add its points: the departments invited
    (the convener's among them) and oversight. Knowing a session's id opens nothing: to anyone
    else it does not exist (404, like any object one may not see)."""
    if actor.role in (Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN):
        return True
    return actor.department in js.called_departments or actor.user_id == js.convened_by


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"联合办公 {session_id} 不存在 / joint session {session_id} not found")


def visible_session(
    session: Session, session_id: str, actor: Actor, *, for_update: bool = False
) -> JointSession:
    js = wf_data.get_joint_session(session, session_id, for_update=for_update)
    if js is None or not _may_see(js, actor):
        raise _not_found(session_id)
    return js


def sessions_for(
    session: Session, actor: Actor, *, status: str | None = None
) -> list[JointSession]:
    """My sessions: every session for oversight roles; for a department, those it was invited
    to or convened. Open ones first, then newest first."""
    listed = wf_data.joint_sessions(session, status=status)
    if actor.role in (Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN):
        return listed
    return [js for js in listed if _may_see(js, actor)]


def convene(
    session: Session,
    *,
    actor: Actor,
    session_id: str | None,
    title: str,
    purpose: str,
    place: str,
    point: Point | None,
    departments: Sequence[str],
    ref: ReferenceSnapshot,
    now: datetime,
) -> JointSession:
    if actor.role == Role.ADMIN:
        raise NotPermitted(
            "管理员不召集联合办公 / administrators do not convene sessions", code="role_not_allowed"
        )
    if not title.strip():
        raise InvalidInput("title", "不能为空 / must not be empty")
    called = sorted(set(departments) | {actor.department})
    for i, d in enumerate(departments):
        if d not in ref.departments:
            raise InvalidInput(f"departments[{i}]", "未知的部门 / unknown department")
    if len(called) < 2:
        raise InvalidInput("departments", "联合办公至少两个部门 / at least two departments")
    if point is not None:
        validate_point(point, "location")
    sid = session_id or str(uuid.uuid4())
    if wf_data.get_joint_session(session, sid) is not None:
        raise InvalidInput("id", "已存在 / already exists", code="duplicate_id")
    js = JointSession(
        id=sid,
        title=title.strip(),
        purpose=purpose.strip(),
        place=place.strip(),
        lat=point.lat if point else None,
        lon=point.lon if point else None,
        called_departments=called,
        convened_by=actor.user_id,
        convened_by_department=actor.department,
        started_at=now,
    )
    session.add(js)
    notify(
        session,
        [d for d in called if d != actor.department],
        kind="joint_session",
        text=f"联合办公：{js.title}（{js.place}）/ joint session called",
        now=now,
        data={"session_id": sid},
    )
    session.flush()
    return js


def check_in(
    session: Session,
    *,
    actor: Actor,
    session_id: str,
    display_name: str,
    where: Point | None,
    now: datetime,
) -> JointCheckIn:
    case_service.reserve_change_seq(session)  # the lock order: counter, session, cases
    js = visible_session(session, session_id, actor, for_update=True)
    if js.status != OPEN:
        raise RuleViolation("联合办公已结束 / the session is over", code="session_over")
    if actor.role == Role.ADMIN:
        raise NotPermitted("管理员不参加 / administrators do not attend", code="role_not_allowed")
    if where is not None:
        validate_point(where, "where")
    for c in wf_data.check_ins(session, js.id):
        if c.user_id == actor.user_id:
            return c  # checking in twice is harmless
    row = JointCheckIn(
        session_id=js.id,
        department=actor.department,
        user_id=actor.user_id,
        display_name=display_name,
        at=now,
        lat=where.lat if where else None,
        lon=where.lon if where else None,
    )
    session.add(row)
    session.flush()
    return row


def add_point(
    session: Session,
    *,
    actor: Actor,
    session_id: str,
    new: case_service.NewCase,
    label: str,
    lead_department: str,
    lead_due_at: datetime | None,
    duties: Sequence[DutyOnSite],
    ref: ReferenceSnapshot,
    now: datetime,
) -> Case:
    """A problem found at the session: recorded as a case and assigned on the spot to the
    departments present, each with its duty and time node."""
    case_service.reserve_change_seq(session)  # the lock order: counter, session, cases
    js = visible_session(session, session_id, actor, for_update=True)
    if js.status != OPEN:
        raise RuleViolation("联合办公已结束 / the session is over", code="session_over")
    present = {c.department for c in wf_data.check_ins(session, js.id)}
    if actor.department not in present and actor.user_id != js.convened_by:
        raise NotPermitted("请先签到 / check in first", code="not_checked_in")
    for field_name, dept in [("lead_department", lead_department)] + [
        (f"duties[{i}].department", d.department) for i, d in enumerate(duties)
    ]:
        if dept not in present:
            raise InvalidInput(
                field_name,
                f"{dept} 未到场签到，不能现场划定职责 / {dept} has not checked in: duties are "
                "divided among the departments present",
            )
    for i, d in enumerate(duties):
        if not d.duty.strip():
            raise InvalidInput(f"duties[{i}].duty", "不能为空 / must not be empty")
        if d.due_at is not None and d.due_at.tzinfo is None:
            raise InvalidInput(f"duties[{i}].due_at", "须带时区 / must include a time zone")
    if lead_due_at is not None and lead_due_at.tzinfo is None:
        raise InvalidInput("lead_due_at", "须带时区 / must include a time zone")
    case_service.create_case(
        session,
        actor=actor,
        new=case_service.NewCase(
            id=new.id,
            category=new.category,
            description=new.description,
            source="joint_session",
            point=new.point,
            town_code=new.town_code,
            site_code=new.site_code,
            recorded_at=new.recorded_at,
        ),
        ref=ref,
        now=now,
    )
    extra: dict[str, object] = {"joint_session_id": js.id}
    if lead_due_at is not None:
        extra["lead_due_at"] = lead_due_at.isoformat()
    extra["assist_due_at"] = {d.department: d.due_at.isoformat() for d in duties if d.due_at}
    case = case_service.apply_action(
        session,
        actor=actor,
        case_id=new.id,
        action=Action.ASSIGN,
        inp=case_service.ActionInput(
            lead_department=lead_department,
            assisting=tuple(AssistingDuty(d.department, d.duty.strip()) for d in duties),
            override_reason=f"联合办公现场划定职责：{js.title} / duties divided on the spot",
            extra=extra,
        ),
        ref=ref,
        now=now,
    )
    session.add(JointPoint(session_id=js.id, case_id=case.id, label=label.strip() or case.number))
    session.flush()
    return case


def conclude(
    session: Session,
    *,
    actor: Actor,
    session_id: str,
    facts: str,
    legal_basis: str,
    minutes_store: FileStore,
    now: datetime,
) -> JointSession:
    """End the session and generate its one minute (attendees, facts, decisions per department,
    time nodes, legal basis), linked to every point's case."""
    case_service.reserve_change_seq(session)  # the lock order: counter, session, cases
    js = visible_session(session, session_id, actor, for_update=True)
    if actor.user_id != js.convened_by and actor.role not in (Role.SUPERVISOR, Role.COORDINATOR):
        raise NotPermitted(
            "只有召集人可以结束 / only the convener concludes the session",
            code="department_not_allowed",
        )
    if js.status != OPEN:
        raise RuleViolation("联合办公已结束 / the session is already concluded", code="one_minute")
    if not facts.strip():
        raise InvalidInput("facts", "不能为空 / must not be empty")
    pts = wf_data.points(session, js.id)
    cases = {c.id: c for c in cases_data.cases_by_ids(session, [p.case_id for p in pts])}
    decisions: list[Decision] = []
    nodes: list[tuple[str, str]] = []
    bases: list[str] = [legal_basis.strip()] if legal_basis.strip() else []
    for p in pts:
        c = cases[p.case_id]
        due = c.due_at.isoformat() if c.due_at else None
        decisions.append(
            Decision(c.lead_department or "", f"{p.label}：主办 / lead — {c.matter}", due)
        )
        for t in wf_data.tasks_of(session, c.id):
            if t.status != "withdrawn":
                decisions.append(
                    Decision(t.department, f"{p.label}：{t.duty}", t.due_at.isoformat())
                )
        if due:
            nodes.append((f"{p.label} 完成整改 / fixed", due))
        if c.legal_basis and c.legal_basis not in bases:
            bases.append(c.legal_basis)
    names = {d.code: d.short_name for d in reference_data.list_departments(session)}
    seen: set[str] = set()
    attendees: list[Attendee] = []
    for ci in wf_data.check_ins(session, js.id):
        attendees.append(Attendee(ci.department, ci.display_name))
        seen.add(ci.department)
    minute = create_minute(
        session,
        kind="joint_session",
        content=MinuteContent(
            title=f"联合办公会议纪要：{js.title}",
            held_at=js.started_at.isoformat(),
            place=js.place,
            attendees=attendees,
            facts=facts.strip(),
            decisions=decisions,
            time_nodes=nodes,
            legal_basis="；".join(bases),
        ),
        case_ids=[p.case_id for p in pts],
        actor=actor,
        store=minutes_store,
        names=names,
        now=now,
        session_id=js.id,
    )
    js.status = CONCLUDED
    js.concluded_at = now
    js.facts = facts.strip()
    js.minute_id = minute.id
    session.add(js)
    session.flush()
    return js


@dataclass(frozen=True)
class PointView:
    label: str
    case: Case


def points_of(session: Session, js: JointSession) -> list[PointView]:
    pts = wf_data.points(session, js.id)
    cases = {c.id: c for c in cases_data.cases_by_ids(session, [p.case_id for p in pts])}
    return [PointView(p.label, cases[p.case_id]) for p in pts]


def all_closed(points: Sequence[PointView]) -> bool:
    return bool(points) and all(p.case.status == CaseStatus.CLOSED.value for p in points)
