"""The few places the case use cases call into the workflow (kept here so
``server/services/cases.py`` only needs one-line hook calls)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from server.data import workflow as wf_data
from server.evaluation.rules import load_rules
from server.models import Case, CaseEvent
from server.services import assisting, disputes
from server.services.cases import ActionInput
from server.services.work_calendar import current_calendar
from server.services.workflow_events import notify, record_event, role_recipient
from sync.boundary_types import Point, TimeLimit
from sync.events import EVENT_FOR_ACTION, REPEAT_REPORTED
from sync.lifecycle import Action, Actor, Request
from sync.vocabulary import CaseStatus, Role, TimeUnit
from sync.workcalendar import compute_deadline
from sync.workflow import (
    REPEAT_WINDOW,
    ClosedCase,
    acceptance_due_at,
    find_repeat,
    reroute_due_at,
)


def before_transition(
    session: Session, case: Case, action: Action, actor: Actor, inp: ActionInput, now: datetime
) -> None:
    """After the lifecycle allowed the action, before its event is written (``inp.extra`` is
    recorded in the event's data)."""
    request = Request(reason=inp.reason, duplicate_of=inp.duplicate_of, legal_basis=inp.legal_basis)
    disputes.check_with_rulings(session, case, action, actor, request, now)
    if action == Action.RETURN:
        # 首问负责: the first-contact department's clock to re-route it (recorded in the event)
        case.reroute_due_at = reroute_due_at(
            returned_at=now, limit=load_rules().reroute_limit, calendar=current_calendar(session)
        )
        case.acceptance_due_at = None
        inp.extra["reroute_due_at"] = case.reroute_due_at.isoformat()
    elif action == Action.RAISE_DISPUTE:
        inp.extra.update(disputes.prepare_dispute(session, case, actor=actor, inp=inp, now=now))


def after_transition(
    session: Session,
    case: Case,
    *,
    action: Action,
    actor: Actor,
    inp: ActionInput,
    event: CaseEvent,
    now: datetime,
) -> None:
    if action == Action.ASSIGN:
        lead_due = inp.extra.get("lead_due_at")  # a time node set on the spot (joint session)
        if lead_due:
            case.due_at = datetime.fromisoformat(str(lead_due))
        overrides = {
            d: datetime.fromisoformat(str(v))
            for d, v in dict(inp.extra.get("assist_due_at") or {}).items()
        }
        assisting.sync_assist_tasks(session, case, actor=actor, now=now, due_overrides=overrides)
        if case.assigned_at is not None:
            case.acceptance_due_at = acceptance_due_at(case.assigned_at, current_calendar(session))
        case.reroute_due_at = None
    elif action == Action.RETURN:
        assisting.withdraw_all(session, case)
        notify(
            session,
            [case.first_contact_department],
            kind="case_returned",
            text=f"案件 {case.number} 被退回首问部门 / returned to the first-contact department: "
            f"{inp.reason.strip()}",
            now=now,
            case_id=case.id,
        )
    elif action == Action.RAISE_DISPUTE:
        disputes.on_dispute_raised(session, case, actor=actor, event=event, now=now)


def _point(case: Case) -> Point | None:
    return Point(case.lat, case.lon) if case.lat is not None and case.lon is not None else None


def reopen_as_repeat(
    session: Session, old: Case, *, actor: Actor, now: datetime, data: dict[str, Any]
) -> None:
    """The problem of a closed case came back (``sync.workflow``: a new report at the same place,
    or an unsatisfied call-back): reopen it as rework with a fresh deadline, record
    ``RepeatReported`` (what the evaluation counts) and tell its lead and the supervisors.
    ``data`` says what brought it back."""
    closed_at = old.closed_at
    old.status = CaseStatus.HANDLING.value
    old.rework_count += 1
    old.closed_at = None
    if old.time_amount is not None and old.time_unit is not None:
        old.assigned_at = now  # rework gets a fresh deadline from the repeat report
        deadline = compute_deadline(
            assigned_at=now,
            limit=TimeLimit(old.time_amount, TimeUnit(old.time_unit)),
            calendar=current_calendar(session),
            now=now,
        )
        old.due_at = deadline.due_at
        old.deadline_note = deadline.note
    record_event(
        session,
        old,
        kind=REPEAT_REPORTED,
        actor=actor,
        now=now,
        data={
            **data,
            "closed_at": closed_at.isoformat() if closed_at else None,
            "within_days": (now - closed_at) // timedelta(days=1) if closed_at else None,
            "due_at": old.due_at.isoformat() if old.due_at else None,
        },
    )
    notify(
        session,
        [d for d in (old.lead_department, role_recipient(Role.SUPERVISOR)) if d],
        kind="repeat_reported",
        text=f"案件 {old.number} 结案后30日内复发，已返工 / reported again: reopened as rework",
        now=now,
        case_id=old.id,
    )


def after_create(session: Session, case: Case, *, actor: Actor, now: datetime) -> None:
    """A problem reported again at the same site within 30 days of closing reopens the closed
    case as rework; the new report is merged into it (not counted as a new case)."""
    if case.source == "joint_session":
        return
    closed = [
        ClosedCase(c.id, c.category, c.closed_at, c.site_code, _point(c))
        for c in wf_data.recently_closed(session, case.category, now - REPEAT_WINDOW)
        if c.id != case.id and c.closed_at is not None
    ]
    hit = find_repeat(
        closed, category=case.category, site_code=case.site_code, point=_point(case), now=now
    )
    if hit is None:
        return
    old = session.get(Case, hit.id)
    if old is None:
        return
    reopen_as_repeat(
        session,
        old,
        actor=actor,
        now=now,
        data={
            "new_report": {
                "case_id": case.id,
                "number": case.number,
                "description": case.description,
                "reported_at": case.created_at.isoformat(),
                "source": case.source,
            },
        },
    )
    case.status = CaseStatus.MERGED.value
    case.duplicate_of = old.id
    record_event(
        session,
        case,
        kind=EVENT_FOR_ACTION[Action.MERGE],
        actor=actor,
        now=now,
        data={
            "duplicate_of": old.id,
            "reason": "30日内同一点位问题复发，原案件返工 / reported again within 30 days: "
            "the closed case is reopened as rework",
        },
    )
