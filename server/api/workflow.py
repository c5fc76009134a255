"""Working together: assisting tasks, consultations, disputes and rulings, supervision,
notifications, joint on-site sessions and minutes.

Paths live outside ``/cases/{case_id}/…`` (which holds exactly one endpoint per transition);
a case's workflow is under ``/workflow/cases/{case_id}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from server.api.cases import case_out, dispute_command
from server.api.deps import (
    CurrentActor,
    CurrentUser,
    NowDep,
    ReferenceDep,
    SessionDep,
    StoresDep,
    require_role,
)
from server.api.schemas import (
    AssistingDutyIO,
    BoundaryEntryIO,
    CaseCreateIn,
    DisputeActionIn,
    PointIn,
)
from server.data import workflow as wf_data
from server.models import AssistTask, Dispute, JointSession, Minute, Notification
from server.services import (
    assisting,
    disputes,
    escalation,
    escalation_job,
    joint_sessions,
    minutes,
)
from server.services import cases as case_service
from server.services.auth import actor_of
from server.services.work_calendar import current_calendar
from server.services.workflow_events import may_read_notification, role_recipient
from server.storage import iter_file
from sync.bodies import (
    AssistTaskOut,
    BoardRowOut,
    CaseWorkOut,
    CheckInOut,
    DisputeOut,
    EscalationOut,
    MinuteOut,
    NotificationOut,
    SessionListOut,
    SessionOut,
    SessionPointOut,
    SessionSummaryOut,
)
from sync.boundary_types import AssistingDuty, Point
from sync.commands import AssistRatingFields
from sync.errors import NotFound
from sync.lifecycle import Actor
from sync.limits import (
    MAX_ASSISTING,
    Code,
    Departments,
    Duty,
    Facts,
    LegalBasis,
    Note,
    Photos,
    Reason,
    Title,
    Uuid,
)
from sync.vocabulary import Role

router = APIRouter(tags=["workflow"])
Oversight = Annotated[Actor, Depends(require_role(Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN))]


def _point(p: PointIn | None) -> Point | None:
    return Point(p.lat, p.lon) if p is not None else None


# --- bodies ------------------------------------------------------------------------------------


class ReportIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "note": "已疏通排水管网",
                "photos": [],
                "where": {"lat": 35.735, "lon": 116.483},
            }
        }
    )
    note: Note = ""
    photos: Photos = Field(default_factory=list)
    where: PointIn | None = None


class RateIn(AssistRatingFields):  # the sync command's fields (sync/commands.py)
    model_config = ConfigDict(json_schema_extra={"example": {"rating": 4, "comment": "配合及时"}})


class ConsultationIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"departments": ["sw", "zj"], "note": "现场协商积水成因"}}
    )
    departments: Annotated[Departments, Field(min_length=1)]
    note: Note = ""
    due_at: datetime | None = None


class PositionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"not_ours": True, "reason": "不属本部门职责", "legal_basis": "三定规定"}
        }
    )
    not_ours: bool
    reason: Reason
    legal_basis: LegalBasis = ""


class EscalateDisputeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "协商未达成一致", "needs_county_leader": False}}
    )
    reason: Reason = ""
    needs_county_leader: bool | None = None


class ReasonIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"reason": "等待上级文件"}})
    reason: Reason = ""


class AttendeeIO(BaseModel):
    department: Code
    name: Title = ""


class SettleIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "responsible_department": "zj",
                "facts": "积水系小区排水设施老化",
                "ruling_text": "由住建局主办，水务局协办",
                "legal_basis": "《城镇排水与污水处理条例》",
                "assisting": [{"department_code": "sw", "duty": "提供管网资料"}],
                "attendees": [{"department": "wbb", "name": "编办"}],
                "place": "县委编办会议室",
            }
        }
    )
    responsible_department: Code
    facts: Facts
    ruling_text: Facts
    legal_basis: LegalBasis
    assisting: list[AssistingDutyIO] | None = Field(default=None, max_length=MAX_ASSISTING)
    attendees: list[AttendeeIO] = []
    place: Title = ""
    new_entry: BoundaryEntryIO | None = None
    effective_from: datetime | None = None
    # required when effective_from is before now (sync/clock_rules.check_effective_from)
    backdate_reason: str = Field(default="", max_length=500)


class EscalationRunOut(BaseModel):
    escalated: list[list[str]]
    disputes_moved: int


class SessionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "title": "城区积水联合办公",
                "purpose": "现场排查积水原因",
                "place": "老城区胡同",
                "location": {"lat": 35.735, "lon": 116.483},
                "departments": ["zhzf", "sw", "zj"],
            }
        }
    )
    id: Uuid | None = None
    title: Title
    purpose: Reason = ""
    place: Title = ""
    location: PointIn | None = None
    departments: Departments


class CheckInIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"where": {"lat": 35.735, "lon": 116.483}}}
    )
    where: PointIn | None = None


class DutyIn(BaseModel):
    department: Code
    duty: Duty
    due_at: datetime | None = None


class JointPointIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "label": "积水点1",
                "case": {
                    "id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "category": "waterlogging",
                    "description": "胡同口积水",
                    "location": {"lat": 35.735, "lon": 116.483},
                },
                "lead_department": "zhzf",
                "duties": [{"department": "sw", "duty": "疏通管网"}],
            }
        }
    )
    label: Title = ""
    case: CaseCreateIn
    lead_department: Code
    lead_due_at: datetime | None = None
    duties: list[DutyIn] = []


class ConcludeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "facts": "共排查积水点4处，已划定职责",
                "legal_basis": "《城镇排水与污水处理条例》",
            }
        }
    )
    facts: Facts
    legal_basis: LegalBasis = ""


# --- views -------------------------------------------------------------------------------------


def _task_out(t: AssistTask, now: datetime) -> AssistTaskOut:
    return AssistTaskOut(
        department=t.department,
        duty=t.duty,
        status=t.status,
        due_at=t.due_at,
        overdue=t.status == "open" and t.due_at < now,
        reported_at=t.reported_at,
        report_note=t.report_note,
        report_photos=list(t.report_photos),
        rating=t.rating,
        rating_comment=t.rating_comment,
    )


def _dispute_out(d: Dispute) -> DisputeOut:
    return DisputeOut.model_validate(d.model_dump())


def _minute_out(m: Minute) -> MinuteOut:
    return MinuteOut(
        id=m.id,
        kind=m.kind,
        title=m.title,
        case_ids=list(m.case_ids),
        dispute_id=m.dispute_id,
        session_id=m.session_id,
        created_at=m.created_at,
        download=f"/minutes/{m.id}/file",
    )


def _case_work(session: SessionDep, case_id: str, actor: Actor, now: datetime) -> CaseWorkOut:
    case = case_service.get_visible_case(session, case_id, actor)
    return CaseWorkOut(
        case=case_out(case, now, current_calendar(session)),
        assist_tasks=[
            _task_out(t, now) for t in wf_data.tasks_of(session, case.id) if t.status != "withdrawn"
        ],
        disputes=[_dispute_out(d) for d in wf_data.disputes_of(session, case.id)],
        escalations=[
            EscalationOut(level=e.level, due_at=e.due_at, departments=e.departments, at=e.at)
            for e in wf_data.escalations_of(session, case.id)
        ],
        minutes=[_minute_out(m) for m in wf_data.minutes_of_case(session, case.id)],
    )


def _session_out(session: SessionDep, js: JointSession, now: datetime) -> SessionOut:
    now_points = joint_sessions.points_of(session, js)
    calendar = current_calendar(session)
    return SessionOut(
        id=js.id,
        title=js.title,
        purpose=js.purpose,
        place=js.place,
        lat=js.lat,
        lon=js.lon,
        called_departments=list(js.called_departments),
        status=js.status,
        started_at=js.started_at,
        concluded_at=js.concluded_at,
        minute_id=js.minute_id,
        check_ins=[
            CheckInOut(
                department=c.department, display_name=c.display_name, at=c.at, lat=c.lat, lon=c.lon
            )
            for c in wf_data.check_ins(session, js.id)
        ],
        points=[
            SessionPointOut(label=p.label, case=case_out(p.case, now, calendar)) for p in now_points
        ],
        closed_points=sum(1 for p in now_points if p.case.status == "closed"),
        all_closed=joint_sessions.all_closed(now_points),
    )


# --- a case's workflow -------------------------------------------------------------------------


@router.get(
    "/workflow/cases/{case_id}",
    response_model=CaseWorkOut,
    summary="A case's assisting tasks (progress), disputes, escalations and minutes",
)
def case_work(case_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> CaseWorkOut:
    return _case_work(session, case_id, actor, now)


@router.post(
    "/workflow/cases/{case_id}/assist-tasks/{department}/report",
    response_model=CaseWorkOut,
    summary="协办反馈: an assisting department reports its part, with evidence",
)
def report_assist_task(
    case_id: str,
    department: str,
    body: ReportIn,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
) -> CaseWorkOut:
    assisting.report_task(
        session,
        actor=actor,
        case_id=case_id,
        department=department,
        note=body.note,
        photos=body.photos,
        where=_point(body.where),
        now=now,
    )
    session.commit()
    return _case_work(session, case_id, actor, now)


@router.post(
    "/workflow/cases/{case_id}/assist-tasks/{department}/rate",
    response_model=CaseWorkOut,
    summary="协办评价: the lead rates an assisting department's work (1–5)",
)
def rate_assist_task(
    case_id: str,
    department: str,
    body: RateIn,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
) -> CaseWorkOut:
    assisting.rate_task(
        session,
        actor=actor,
        case_id=case_id,
        department=department,
        rating=body.rating,
        comment=body.comment,
        now=now,
    )
    session.commit()
    return _case_work(session, case_id, actor, now)


@router.post(
    "/workflow/cases/{case_id}/consultations",
    response_model=CaseWorkOut,
    summary="主办协商: the lead calls departments to consult",
)
def call_consultation(
    case_id: str,
    body: ConsultationIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> CaseWorkOut:
    open_d = wf_data.open_dispute_of(session, case_id)
    assisting.call_consultation(
        session,
        actor=actor,
        case_id=case_id,
        departments=body.departments,
        note=body.note,
        due_at=body.due_at,
        now=now,
        dispute_id=open_d.id if open_d else None,
        known_departments=ref.departments,
    )
    session.commit()
    return _case_work(session, case_id, actor, now)


@router.post(
    "/workflow/cases/{case_id}/disputes",
    response_model=DisputeOut,
    status_code=201,
    summary="异议: an assigned department disputes, with reason and legal basis; "
    "the case stays active and its clock keeps running",
)
def raise_dispute(
    case_id: str,
    body: DisputeActionIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> DisputeOut:
    d = disputes.raise_dispute(
        session, actor=actor, case_id=case_id, command=dispute_command(body), ref=ref, now=now
    )
    session.commit()
    return _dispute_out(d)


# --- disputes ----------------------------------------------------------------------------------


def _visible_dispute(session: SessionDep, dispute_id: str, actor: Actor) -> Dispute:
    d = wf_data.get_dispute(session, dispute_id)
    if d is None:
        raise NotFound(f"异议 {dispute_id} 不存在 / dispute {dispute_id} not found")
    case_service.get_visible_case(session, d.case_id, actor)
    return d


@router.get("/disputes/{dispute_id}", response_model=DisputeOut, summary="One dispute")
def get_dispute(dispute_id: str, session: SessionDep, actor: CurrentActor) -> DisputeOut:
    return _dispute_out(_visible_dispute(session, dispute_id, actor))


@router.post(
    "/disputes/{dispute_id}/positions",
    response_model=DisputeOut,
    summary="An involved department states its position (not ours / accepts)",
)
def file_position(
    dispute_id: str, body: PositionIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> DisputeOut:
    d = disputes.file_position(
        session,
        actor=actor,
        dispute_id=dispute_id,
        not_ours=body.not_ours,
        reason=body.reason,
        legal_basis=body.legal_basis,
        now=now,
    )
    session.commit()
    return _dispute_out(d)


@router.post(
    "/disputes/{dispute_id}/escalate",
    response_model=DisputeOut,
    summary="To the next stage: consultation → coordination (编办) → ruling (联合会商)",
)
def escalate_dispute(
    dispute_id: str, body: EscalateDisputeIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> DisputeOut:
    d = disputes.escalate(
        session,
        actor=actor,
        dispute_id=dispute_id,
        reason=body.reason,
        needs_county_leader=body.needs_county_leader,
        now=now,
    )
    session.commit()
    return _dispute_out(d)


@router.post(
    "/disputes/{dispute_id}/suspend",
    response_model=DisputeOut,
    summary="中止 the dispute's stage clock, with a stated reason (not the case's)",
)
def suspend_dispute(
    dispute_id: str, body: ReasonIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> DisputeOut:
    d = disputes.suspend(session, actor=actor, dispute_id=dispute_id, reason=body.reason, now=now)
    session.commit()
    return _dispute_out(d)


@router.post(
    "/disputes/{dispute_id}/resume", response_model=DisputeOut, summary="Resume a suspended dispute"
)
def resume_dispute(
    dispute_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> DisputeOut:
    d = disputes.resume(session, actor=actor, dispute_id=dispute_id, now=now)
    session.commit()
    return _dispute_out(d)


@router.post(
    "/disputes/{dispute_id}/settle",
    response_model=DisputeOut,
    summary="认定: record who is responsible; reassigns the case, may publish a new "
    "list version (一事一议), generates the minute",
)
def settle_dispute(
    dispute_id: str,
    body: SettleIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    stores: StoresDep,
    now: NowDep,
) -> DisputeOut:
    ruling = disputes.RulingInput(
        responsible_department=body.responsible_department,
        facts=body.facts,
        ruling_text=body.ruling_text,
        legal_basis=body.legal_basis,
        assisting=tuple(AssistingDuty(a.department_code, a.duty) for a in body.assisting)
        if body.assisting is not None
        else None,
        attendees=tuple(minutes.Attendee(a.department, a.name) for a in body.attendees),
        place=body.place,
        new_entry=body.new_entry.model_dump() if body.new_entry else None,
        effective_from=body.effective_from,
        backdate_reason=body.backdate_reason,
    )
    d = disputes.settle(
        session,
        actor=actor,
        dispute_id=dispute_id,
        ruling=ruling,
        ref=ref,
        minutes_store=stores.minutes,
        now=now,
    )
    session.commit()
    return _dispute_out(d)


@router.post(
    "/disputes/{dispute_id}/refuse",
    response_model=DisputeOut,
    summary="The department ruled responsible refuses: recorded, reported to 纪委监委",
)
def refuse_ruling(
    dispute_id: str, body: ReasonIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> DisputeOut:
    d = disputes.refuse_ruling(
        session, actor=actor, dispute_id=dispute_id, reason=body.reason, now=now
    )
    session.commit()
    return _dispute_out(d)


# --- supervision and notifications -------------------------------------------------------------


@router.get(
    "/supervision/overdue-board",
    response_model=list[BoardRowOut],
    summary="Overdue and due-soon open cases by department, town or category",
)
def overdue_board(
    session: SessionDep,
    _actor: Oversight,
    now: NowDep,
    by: Literal["department", "town", "category"] = "department",
) -> list[BoardRowOut]:
    return [BoardRowOut(**r.__dict__) for r in escalation.overdue_board(session, now, by)]


@router.post(
    "/supervision/escalate",
    response_model=EscalationRunOut,
    summary="Run the escalation job now (it also runs on a schedule)",
)
def run_escalation_now(session: SessionDep, _actor: Oversight, now: NowDep) -> EscalationRunOut:
    engine = session.get_bind()
    session.commit()  # end this request's transaction: the job runs its own, one per case
    result = escalation_job.run_escalation(engine, now)  # type: ignore[arg-type]
    return EscalationRunOut(
        escalated=[list(x) for x in result.escalated], disputes_moved=result.disputes_moved
    )


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    summary="My notifications: for my department and my role",
)
def my_notifications(
    session: SessionDep,
    user: CurrentUser,
    after_id: int = 0,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationOut]:
    recipients = [user.department_code, role_recipient(Role(user.role))]
    rows = wf_data.notifications_for(
        session, recipients, after_id=after_id, unread_only=unread, limit=limit
    )
    return [NotificationOut.model_validate(n, from_attributes=True) for n in rows]


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    summary="Mark a notification read",
)
def mark_read(
    notification_id: int, session: SessionDep, user: CurrentUser, now: NowDep
) -> NotificationOut:
    n: Notification | None = wf_data.get_notification(session, notification_id)
    if n is None or not may_read_notification(n.recipient, actor_of(user)):
        raise NotFound("通知不存在 / notification not found")
    if n.read_at is None:
        n.read_at = now
        session.add(n)
        session.commit()
    return NotificationOut.model_validate(n, from_attributes=True)


# --- joint sessions ----------------------------------------------------------------------------


@router.post(
    "/joint-sessions",
    response_model=SessionOut,
    status_code=201,
    summary="联合办公: convene a joint on-site session of several departments",
)
def convene(
    body: SessionIn, session: SessionDep, actor: CurrentActor, ref: ReferenceDep, now: NowDep
) -> SessionOut:
    js = joint_sessions.convene(
        session,
        actor=actor,
        session_id=body.id,
        title=body.title,
        purpose=body.purpose,
        place=body.place,
        point=_point(body.location),
        departments=body.departments,
        ref=ref,
        now=now,
    )
    session.commit()
    return _session_out(session, js, now)


@router.get(
    "/joint-sessions",
    response_model=SessionListOut,
    summary="My joint sessions (open first): invited or convened; all for oversight",
)
def list_sessions(
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[Literal["open", "concluded"] | None, Query()] = None,
) -> SessionListOut:
    rows: list[SessionSummaryOut] = []
    for js in joint_sessions.sessions_for(session, actor, status=status):
        pts = joint_sessions.points_of(session, js)
        rows.append(
            SessionSummaryOut(
                id=js.id,
                title=js.title,
                place=js.place,
                status=js.status,
                started_at=js.started_at,
                concluded_at=js.concluded_at,
                called_departments=list(js.called_departments),
                convened_by_department=js.convened_by_department,
                checked_in=sorted({c.department for c in wf_data.check_ins(session, js.id)}),
                points=len(pts),
                closed_points=sum(1 for p in pts if p.case.status == "closed"),
                minute_id=js.minute_id,
            )
        )
    return SessionListOut(sessions=rows)


@router.get(
    "/joint-sessions/{session_id}",
    response_model=SessionOut,
    summary="A session: who checked in, its points and how far each is",
)
def get_session(
    session_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> SessionOut:
    return _session_out(session, joint_sessions.visible_session(session, session_id, actor), now)


@router.post(
    "/joint-sessions/{session_id}/check-in",
    response_model=SessionOut,
    summary="Check in at the site (签到)",
)
def check_in(
    session_id: str,
    body: CheckInIn,
    session: SessionDep,
    user: CurrentUser,
    actor: CurrentActor,
    now: NowDep,
) -> SessionOut:
    joint_sessions.check_in(
        session,
        actor=actor,
        session_id=session_id,
        display_name=user.display_name,
        where=_point(body.where),
        now=now,
    )
    session.commit()
    return _session_out(session, joint_sessions.visible_session(session, session_id, actor), now)


@router.post(
    "/joint-sessions/{session_id}/points",
    response_model=SessionOut,
    status_code=201,
    summary="A problem found: recorded as a case, duties divided on the spot",
)
def add_point(
    session_id: str,
    body: JointPointIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> SessionOut:
    c = body.case
    joint_sessions.add_point(
        session,
        actor=actor,
        session_id=session_id,
        new=case_service.NewCase(
            id=c.id,
            category=c.category,
            description=c.description,
            point=_point(c.location),
            town_code=c.town_code,
            site_code=c.site_code,
            recorded_at=c.recorded_at,
        ),
        label=body.label,
        lead_department=body.lead_department,
        lead_due_at=body.lead_due_at,
        duties=[joint_sessions.DutyOnSite(d.department, d.duty, d.due_at) for d in body.duties],
        ref=ref,
        now=now,
    )
    session.commit()
    return _session_out(session, joint_sessions.visible_session(session, session_id, actor), now)


@router.post(
    "/joint-sessions/{session_id}/conclude",
    response_model=SessionOut,
    summary="End the session and generate its one minute",
)
def conclude(
    session_id: str,
    body: ConcludeIn,
    session: SessionDep,
    actor: CurrentActor,
    stores: StoresDep,
    now: NowDep,
) -> SessionOut:
    js = joint_sessions.conclude(
        session,
        actor=actor,
        session_id=session_id,
        facts=body.facts,
        legal_basis=body.legal_basis,
        minutes_store=stores.minutes,
        now=now,
    )
    session.commit()
    return _session_out(session, js, now)


# --- minutes -----------------------------------------------------------------------------------


@router.get("/minutes/{minute_id}", response_model=MinuteOut, summary="A minute's details")
def get_minute(minute_id: str, session: SessionDep, actor: CurrentActor) -> MinuteOut:
    return _minute_out(minutes.visible_minute(session, minute_id, actor))


@router.get(
    "/minutes/{minute_id}/file",
    response_class=StreamingResponse,
    summary="Download the minute (.docx)",
    responses={500: {"description": "stored_file_damaged: the stored .docx differs"}},
)
def download_minute(
    minute_id: str, session: SessionDep, actor: CurrentActor, stores: StoresDep
) -> StreamingResponse:
    """The .docx, checked against the sha256 recorded when it was made."""
    m = minutes.visible_minute(session, minute_id, actor)
    content, size = minutes.minute_file(stores.minutes, m)
    return StreamingResponse(
        iter_file(content),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="{m.file_name}"',
        },
    )
