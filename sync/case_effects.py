"""What each action does to a case: the one function the server and the phone's local store
both apply (``apply_action``, and ``apply_system`` for the system transitions).

Given the case's fields, what the rules know about it (``CaseFacts``), the action, the actor,
the request and ``now``, it checks the transition (``sync.lifecycle.decide``) and returns the
case's new fields and the data its event records. What needs a database or the reference data
stays with the caller: the server proposes the assignment and stores suspension rows,
withdrawals and hooks; the phone queues the command. Neither writes a case field itself.

Decisions (the issue is silent on them):

* 退回 (return) clears the lead, the assisting departments and the deadline (the first-contact
  department owns the case again) and counts one return; 返工 (send back, reopen, a repeat
  report) counts one rework and clears ``closed_at``.
* 恢复 (resume) recomputes the deadline from the suspensions, the open one ending now; a repeat
  report gives the reopened case a fresh deadline from now (its list time limit).
* A ruling keeps the ruled list (lead and assisting) as the caller passes it, and ends the
  dispute (``disputed`` false).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sync.boundary_types import AssistingDuty, TimeLimit
from sync.errors import InvalidInput
from sync.events import EVENT_FOR_ACTION, EVENT_FOR_SYSTEM_ACTION
from sync.lifecycle import (
    Action,
    Actor,
    CaseFacts,
    Request,
    SystemAction,
    decide,
    decide_system,
)
from sync.vocabulary import CaseStatus
from sync.workcalendar import Suspension, WorkCalendar, compute_deadline


@dataclass(frozen=True)
class CaseFields:
    """The case fields the lifecycle changes."""

    status: CaseStatus
    lead_department: str | None = None
    assisting: tuple[AssistingDuty, ...] = ()
    handler_user_ids: tuple[str, ...] = ()
    return_count: int = 0
    rework_count: int = 0
    closed_at: datetime | None = None
    suspended: bool = False
    disputed: bool = False
    duplicate_of: str | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = None
    time_limit: TimeLimit | None = None  # the list's time limit, once assigned


@dataclass(frozen=True)
class Placement:
    """Who leads and assists: what an assignment (交办) or a ruling (认定) decided."""

    lead_department: str
    assisting: tuple[AssistingDuty, ...]
    due_at: datetime | None = None  # assign: the deadline the proposal computed
    time_limit: TimeLimit | None = None  # assign: the list's time limit
    # assign: when the deadline counts from (the phone's on-the-spot time when it is
    # plausible, sync/clock_rules.py); None: now
    assigned_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    fields: CaseFields
    event: str  # the event's name (past tense)
    data: dict[str, Any]  # what the event records about the change


def assisting_dicts(assisting: Iterable[AssistingDuty]) -> list[dict[str, str]]:
    return [{"department_code": a.department_code, "duty": a.duty} for a in assisting]


def assisting_of(raw: Iterable[Mapping[str, Any]] | None) -> tuple[AssistingDuty, ...]:
    return tuple(
        AssistingDuty(str(a.get("department_code")), str(a.get("duty") or ""))
        for a in raw or ()
        if isinstance(a, Mapping)
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _placed(fields: CaseFields, placement: Placement | None, what: str) -> Placement:
    if placement is None:
        raise InvalidInput("lead_department", f"{what}须指明主办部门 / {what} names the lead")
    if any(a.department_code == placement.lead_department for a in placement.assisting):
        raise InvalidInput("assisting", "主办部门不能同时是协办部门 / lead cannot also assist")
    return placement


def apply_action(
    facts: CaseFacts,
    fields: CaseFields,
    action: Action,
    actor: Actor,
    *,
    request: Request,
    now: datetime,
    calendar: WorkCalendar,
    placement: Placement | None = None,
    suspensions: Sequence[Suspension] = (),
) -> Outcome:
    """The case after a user's ``action``, or the rule's typed error.

    ``placement``: assign only (the lead, assisting and deadline the caller settled);
    ``suspensions``: resume only (the case's suspensions; an open one ends now)."""
    status = decide(facts, action, actor, now=now, request=request)
    new = replace(fields, status=status)
    data: dict[str, Any] = {}
    if action is Action.ASSIGN:
        placed = _placed(fields, placement, "交办")
        new = replace(
            new,
            lead_department=placed.lead_department,
            assisting=placed.assisting,
            assigned_at=placed.assigned_at or now,
            due_at=placed.due_at,
            time_limit=placed.time_limit,
        )
        data.update(
            lead_department=placed.lead_department,
            assisting=assisting_dicts(placed.assisting),
            due_at=_iso(placed.due_at),
        )
    elif action is Action.RETURN:
        data["returned_by"] = fields.lead_department
        new = replace(
            new,
            lead_department=None,
            assisting=(),
            assigned_at=None,
            due_at=None,
            return_count=fields.return_count + 1,
        )
    elif action in (Action.ACCEPT, Action.START_HANDLING, Action.REPORT_BACK):
        if actor.user_id not in fields.handler_user_ids:
            new = replace(new, handler_user_ids=(*fields.handler_user_ids, actor.user_id))
    elif action is Action.CLOSE:
        new = replace(new, closed_at=now)
    elif action in (Action.SEND_BACK, Action.REOPEN):
        new = replace(new, rework_count=fields.rework_count + 1, closed_at=None)
    elif action is Action.MERGE:
        new = replace(new, duplicate_of=request.duplicate_of)
        data["duplicate_of"] = request.duplicate_of
    elif action is Action.SUSPEND:
        new = replace(new, suspended=True)
    elif action is Action.RESUME:
        new = replace(
            new, suspended=False, due_at=_due_after_resume(fields, suspensions, now, calendar)
        )
        data["due_at"] = _iso(new.due_at)
    elif action is Action.RAISE_DISPUTE:
        new = replace(new, disputed=True)
        data["legal_basis"] = request.legal_basis.strip()
    return Outcome(new, EVENT_FOR_ACTION[action], data)


def _due_after_resume(
    fields: CaseFields, suspensions: Sequence[Suspension], now: datetime, calendar: WorkCalendar
) -> datetime | None:
    if fields.assigned_at is None or fields.time_limit is None:
        return fields.due_at
    ended = [Suspension(s.start, s.end or now, s.reason) for s in suspensions]
    return compute_deadline(
        assigned_at=fields.assigned_at,
        limit=fields.time_limit,
        calendar=calendar,
        suspensions=ended,
        now=now,
    ).due_at


def apply_system(
    facts: CaseFacts,
    fields: CaseFields,
    action: SystemAction,
    *,
    now: datetime,
    calendar: WorkCalendar,
    placement: Placement | None = None,
    duplicate_of: str | None = None,
) -> Outcome:
    """The case after a system transition (see ``sync.lifecycle.SYSTEM_TRANSITIONS``).

    ``placement``: apply_ruling (the ruled lead and assisting); ``duplicate_of``:
    merge_into_repeated (the reopened case)."""
    request = Request(
        responsible_department=placement.lead_department if placement is not None else None
    )
    status = decide_system(facts, action, now=now, request=request)
    new = replace(fields, status=status)
    data: dict[str, Any] = {}
    if action is SystemAction.REOPEN_ON_REPEAT:
        due = fields.due_at
        assigned = fields.assigned_at
        if fields.time_limit is not None:  # rework gets a fresh deadline from the repeat report
            assigned = now
            due = compute_deadline(
                assigned_at=now, limit=fields.time_limit, calendar=calendar, now=now
            ).due_at
        new = replace(
            new,
            rework_count=fields.rework_count + 1,
            closed_at=None,
            assigned_at=assigned,
            due_at=due,
        )
        data["due_at"] = _iso(due)
    elif action is SystemAction.MERGE_INTO_REPEATED:
        if not duplicate_of:
            raise InvalidInput("duplicate_of", "须指明合并到的案件 / name the reopened case")
        new = replace(new, duplicate_of=duplicate_of)
        data["duplicate_of"] = duplicate_of
    elif action is SystemAction.APPLY_RULING:
        placed = _placed(fields, placement, "认定")
        new = replace(
            new,
            lead_department=placed.lead_department,
            assisting=placed.assisting,
            disputed=False,
        )
        data.update(
            responsible_department=placed.lead_department,
            previous_lead=fields.lead_department,
            assisting=assisting_dicts(placed.assisting),
        )
    return Outcome(new, EVENT_FOR_SYSTEM_ACTION[action], data)


def suspensions_in(events: Iterable[Mapping[str, Any]]) -> list[Suspension]:
    """A case's suspensions read from its timeline (a phone has no suspension table): each
    ``CaseSuspended`` until the next ``CaseResumed`` (still open when there is none)."""
    suspended, resumed = EVENT_FOR_ACTION[Action.SUSPEND], EVENT_FOR_ACTION[Action.RESUME]
    out: list[Suspension] = []
    for e in events:
        kind = e.get("kind")
        at = e.get("at")
        if not at:
            continue
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        if kind == suspended:
            reason = str((e.get("data") or {}).get("reason") or "")
            out.append(Suspension(moment, None, reason))
        elif kind == resumed and out and out[-1].end is None:
            last = out[-1]
            out[-1] = Suspension(last.start, moment, last.reason)
    return out
