"""Cases: create, list, detail with history, one endpoint per transition, notes."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.api.deps import CurrentActor, NowDep, ReferenceDep, SessionDep
from server.api.schemas import (
    ActionIn,
    AssignIn,
    CallBackOut,
    CaseCreateIn,
    CaseDetailOut,
    CaseEventOut,
    CaseOut,
    CasePageOut,
    DisputeActionIn,
    MergeIn,
    NoteIn,
)
from server.data import cases as cases_data
from server.data import hotline as hotline_data
from server.models import Case
from server.services import cases as case_service
from server.services import disputes as dispute_service
from server.services.work_calendar import current_calendar
from sync.boundary_types import AssistingDuty, Point
from sync.errors import InvalidInput
from sync.first_contact import owner_department
from sync.lifecycle import Action, Actor, allowed_actions
from sync.limits import UUID_PATTERN
from sync.vocabulary import CaseStatus, Role
from sync.workcalendar import WorkCalendar

router = APIRouter(prefix="/cases", tags=["cases"])


def case_out(
    case: Case,
    now: datetime,
    calendar: WorkCalendar,
    cls: type[CaseOut] = CaseOut,
    **extra: Any,
) -> Any:
    data = case.model_dump()
    data["owner_department"] = owner_department(
        status=CaseStatus(case.status),
        first_contact_department=case.first_contact_department,
        lead_department=case.lead_department,
    )
    data["overdue"] = case_service.is_overdue(case, now)
    data["due_soon"] = case_service.is_due_soon(case, now, calendar)
    if case.due_at is None:
        data["deadline_note"] = None  # a returned case has no deadline to explain
    data.update(extra)
    return cls.model_validate(data)


def _point(p: Any) -> Point | None:
    return Point(p.lat, p.lon) if p is not None else None


def _encode_cursor(case: Case) -> str:
    raw = json.dumps([case.created_at.isoformat(), case.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(created)
    except (ValueError, TypeError):
        raise InvalidInput("cursor", "无效的分页游标 / invalid page cursor") from None
    # a cursor is the client's text: a time without a zone or an id no column holds is refused
    if at.tzinfo is None or not isinstance(case_id, str) or not re.fullmatch(UUID_PATTERN, case_id):
        raise InvalidInput("cursor", "无效的分页游标 / invalid page cursor")
    return at, case_id


@router.post("", response_model=CaseOut, status_code=201, summary="Record a new case (发现)")
def create_case(
    body: CaseCreateIn, session: SessionDep, actor: CurrentActor, ref: ReferenceDep, now: NowDep
) -> CaseOut:
    case = case_service.create_case(
        session,
        actor=actor,
        ref=ref,
        now=now,
        new=case_service.NewCase(
            id=body.id,
            category=body.category,
            description=body.description,
            source=body.source,
            point=_point(body.location),
            town_code=body.town_code,
            site_code=body.site_code,
            first_contact_department=body.first_contact_department,
            first_contact_reason=body.first_contact_reason,
            recorded_at=body.recorded_at,
        ),
    )
    session.commit()
    return case_out(case, now, current_calendar(session))  # type: ignore[no-any-return]


@router.get("", response_model=CasePageOut, summary="List cases visible to me, newest first")
def list_cases(
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
    status: CaseStatus | None = None,
    department: str | None = None,
    category: str | None = None,
    town: str | None = None,
    overdue: bool = False,
    due_before: datetime | None = None,
    bbox: Annotated[
        str | None,
        Query(
            description="min_lat,min_lon,max_lat,max_lon", examples=["35.70,116.45,35.76,116.53"]
        ),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePageOut:
    box: tuple[float, float, float, float] | None = None
    if bbox:
        try:
            a, b, c, d = (float(x) for x in bbox.split(","))
        except ValueError:
            raise InvalidInput("bbox", "应为 min_lat,min_lon,max_lat,max_lon") from None
        box = (a, b, c, d)
    if due_before is not None and due_before.tzinfo is None:
        raise InvalidInput("due_before", "须带时区 / must include a time zone")
    oversight = actor.role in (Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN)
    flt = cases_data.CaseFilter(
        status=status.value if status else None,
        department=department,
        category=category,
        town=town,
        overdue_at=now if overdue else None,
        due_before=due_before,
        bbox=box,
        visible_to_department=None if oversight else actor.department,
        reporter_user_id=None if oversight else actor.user_id,
    )
    rows = cases_data.list_cases(
        session, flt, after=_decode_cursor(cursor) if cursor else None, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    calendar = current_calendar(session)
    return CasePageOut(
        items=[case_out(c, now, calendar) for c in rows],
        next_cursor=_encode_cursor(rows[-1]) if more and rows else None,
    )


def _detail(session: SessionDep, case: Case, actor: Actor, now: datetime) -> CaseDetailOut:
    events = [
        CaseEventOut.model_validate(e, from_attributes=True)
        for e in cases_data.events_of(session, case.id)
    ]
    facts = case_service.case_facts(session, case)
    actions = [a.value for a in allowed_actions(facts, actor, now=now)]
    call_backs = [
        CallBackOut.model_validate(c, from_attributes=True)
        for c in hotline_data.call_backs_of_case(session, case.id)
    ]
    return case_out(
        case,
        now,
        current_calendar(session),
        CaseDetailOut,
        events=events,  # type: ignore[no-any-return]
        allowed_actions=actions,
        call_backs=call_backs,
    )


@router.get(
    "/{case_id}", response_model=CaseDetailOut, summary="One case with its full event history"
)
def get_case(case_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> CaseDetailOut:
    case = case_service.get_visible_case(session, case_id, actor)
    return _detail(session, case, actor, now)


@router.post(
    "/{case_id}/notes",
    response_model=CaseDetailOut,
    summary="Add a progress note with photos (not a transition)",
)
def add_note(
    case_id: str, body: NoteIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> CaseDetailOut:
    case = case_service.add_note(
        session,
        actor=actor,
        case_id=case_id,
        note=body.note,
        photos=body.photos,
        where=_point(body.where),
        now=now,
    )
    session.commit()
    return _detail(session, case, actor, now)


def _run(
    action: Action,
    case_id: str,
    inp: case_service.ActionInput,
    session: SessionDep,
    actor: Actor,
    ref: ReferenceDep,
    now: datetime,
) -> CaseDetailOut:
    case = case_service.apply_action(
        session, actor=actor, case_id=case_id, action=action, inp=inp, ref=ref, now=now
    )
    session.commit()
    return _detail(session, case, actor, now)


def _basic(body: ActionIn) -> case_service.ActionInput:
    return case_service.ActionInput(
        reason=body.reason, note=body.note, where=_point(body.where), photos=tuple(body.photos)
    )


@router.post(
    "/{case_id}/assign",
    response_model=CaseDetailOut,
    summary="交办: assign to the lead and assisting departments the list proposes "
    "(or override with a reason); the deadline clock starts",
)
def assign(
    case_id: str,
    body: AssignIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> CaseDetailOut:
    inp = case_service.ActionInput(
        reason=body.reason,
        note=body.note,
        where=_point(body.where),
        photos=tuple(body.photos),
        lead_department=body.lead_department,
        assisting=tuple(AssistingDuty(a.department_code, a.duty) for a in body.assisting)
        if body.assisting is not None
        else None,
        override_reason=body.override_reason,
    )
    return _run(Action.ASSIGN, case_id, inp, session, actor, ref, now)


@router.post(
    "/{case_id}/merge", response_model=CaseDetailOut, summary="Merge as a duplicate of another case"
)
def merge(
    case_id: str,
    body: MergeIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> CaseDetailOut:
    inp = case_service.ActionInput(
        reason=body.reason,
        note=body.note,
        where=_point(body.where),
        photos=tuple(body.photos),
        duplicate_of=body.duplicate_of,
    )
    return _run(Action.MERGE, case_id, inp, session, actor, ref, now)


@router.post(
    "/{case_id}/raise-dispute",
    response_model=CaseDetailOut,
    status_code=201,
    summary="异议: an assigned department disputes, with a reason and its legal basis; "
    "work goes on (the same rules and answers as POST /workflow/cases/{id}/disputes)",
    name=Action.RAISE_DISPUTE.value,
)
def raise_dispute(
    case_id: str,
    body: DisputeActionIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> CaseDetailOut:
    dispute_service.raise_dispute(
        session,
        actor=actor,
        case_id=case_id,
        command=dispute_command(body),
        ref=ref,
        now=now,
    )
    session.commit()
    return _detail(session, case_service.get_visible_case(session, case_id, actor), actor, now)


def dispute_command(body: DisputeActionIn) -> dispute_service.RaiseDispute:
    return dispute_service.RaiseDispute(
        reason=body.reason,
        legal_basis=body.legal_basis,
        claimed_responsible=body.claimed_responsible,
        note=body.note,
        photos=tuple(body.photos),
        where=_point(body.where),
    )


_SIMPLE_ACTIONS: dict[Action, str] = {
    Action.ACCEPT: "签收: the lead department accepts the case",
    Action.RETURN: "退回: the lead department refuses, with a reason; back to first contact",
    Action.START_HANDLING: "处置: the lead department starts handling",
    Action.REPORT_BACK: "反馈: the lead reports back with evidence (after photos)",
    Action.CLOSE: "核查通过, 结案: the verifier (never a handler) closes the case",
    Action.SEND_BACK: "核查不通过, 返工: the verifier sends it back for rework, with a reason",
    Action.REOPEN: "复发返工: a closed problem came back; reopen as rework",
    Action.CANCEL: "撤销: cancel, with a reason",
    Action.SUSPEND: "中止: pause the deadline clock, with a reason",
    Action.RESUME: "恢复: restart the deadline clock",
}


def _make_route(action: Action, summary: str) -> None:
    def route(
        case_id: str,
        body: ActionIn,
        session: SessionDep,
        actor: CurrentActor,
        ref: ReferenceDep,
        now: NowDep,
    ) -> CaseDetailOut:
        return _run(action, case_id, _basic(body), session, actor, ref, now)

    route.__name__ = action.value
    path = "/{case_id}/" + action.value.replace("_", "-")
    router.add_api_route(
        path,
        route,
        methods=["POST"],
        response_model=CaseDetailOut,
        summary=summary,
        name=action.value,
    )


for _action, _summary in _SIMPLE_ACTIONS.items():
    _make_route(_action, _summary)
