"""The few places the case use cases call into the workflow (kept here so
``server/services/cases.py`` only needs one-line hook calls)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from server.data import workflow as wf_data
from server.evaluation.rules import load_rules
from server.models import Case, CaseEvent
from server.services import assisting, case_hooks, disputes
from server.services import cases as case_service
from server.services.cases import ActionInput
from server.services.work_calendar import current_calendar
from server.services.workflow_events import notify, record_event, role_recipient
from sync.boundary_types import Point
from sync.case_effects import apply_system
from sync.lifecycle import Action, Actor, SystemAction
from sync.vocabulary import Role
from sync.workcalendar import calendar_missing_years, fallback_note
from sync.workflow import (
    REPEAT_WINDOW,
    acceptance_due_at,
    find_repeat,
    repeat_search,
    reroute_due_at,
)


def before_transition(
    session: Session, case: Case, action: Action, actor: Actor, inp: ActionInput, now: datetime
) -> None:
    """After the lifecycle allowed the action, before its event is written (``inp.extra`` is
    recorded in the event's data)."""
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
    elif action == Action.REPORT_BACK:  # 待核查: the supervisors verify it next
        notify(
            session,
            [role_recipient(Role.SUPERVISOR)],
            kind="to_verify",
            text=f"案件 {case.number} 已反馈，待核查 / {case.number} was reported back: "
            "waiting for verification",
            now=now,
            case_id=case.id,
        )


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
    calendar = current_calendar(session)
    reopened = apply_system(
        case_service.facts_of(old),
        case_service.case_fields(old),
        SystemAction.REOPEN_ON_REPEAT,
        now=now,
        calendar=calendar,
    )
    case_service.store_fields(old, reopened.fields)
    if reopened.fields.due_at is not None:  # a fresh deadline: say if it counts weekends only
        missing = calendar_missing_years(calendar, now.year, reopened.fields.due_at.year)
        old.deadline_note = fallback_note(missing) if missing else None
    record_event(
        session,
        old,
        kind=reopened.event,
        actor=actor,
        now=now,
        data={
            **reopened.data,
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
    search = repeat_search(site_code=case.site_code, point=_point(case))
    if search is None:
        return
    closed = [
        c
        for c in wf_data.repeat_candidates(session, case.category, now - REPEAT_WINDOW, [search])
        if c.id != case.id
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
    merged = apply_system(
        case_service.facts_of(case),
        case_service.case_fields(case),
        SystemAction.MERGE_INTO_REPEATED,
        now=now,
        calendar=current_calendar(session),
        duplicate_of=old.id,
    )
    case_service.store_fields(case, merged.fields)
    record_event(
        session,
        case,
        kind=merged.event,
        actor=actor,
        now=now,
        data={
            **merged.data,
            "reason": "30日内同一点位问题复发，原案件返工 / reported again within 30 days: "
            "the closed case is reopened as rework",
        },
    )


class WorkflowHooks:
    """This module's functions as the case use cases' hooks (``server/services/case_hooks.py``)."""

    after_create = staticmethod(after_create)
    before_transition = staticmethod(before_transition)
    after_transition = staticmethod(after_transition)


def register() -> None:
    """Connect the workflow to the case use cases (the app, the command line and the demo loader
    call it at start-up)."""
    case_hooks.register(WorkflowHooks())
