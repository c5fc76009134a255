"""Who is responsible for a case at time T, from its events: pure, one definition, used by the
evaluation (scores follow responsibility over time) and anything else that must know who had
the case when.

Rules:

* Recorded (CaseCreated): the first-contact department (首问) is responsible until it routes
  the case.
* Assigned (CaseAssigned): the lead (主办) and its assisting departments (协办) are, from then
  on. The deadline is the time node set on the spot at a joint session (``lead_due_at``) when
  there is one, else the list's deadline (``due_at``).
* Returned (CaseReturned): back to the first-contact department; no lead, no deadline.
* Ruled or settled (DisputeRuled: a ruling, a 编办 coordination or a consultation the lead
  settled with the departments' agreement): the department named responsible leads from then
  on, with the assisting departments the ruling lists (or the previous ones but itself); the
  deadline stands (the clock never stopped). The department that lost the case is responsible
  only for what happened before.
* A dispute open (DisputeRaised, not yet ruled): the lead and every assisting department share
  responsibility (``disputed``).
* Resumed (CaseResumed) or reopened by a repeat report (RepeatReported): the deadline moves to
  the one in the event.

Events at exactly T count (the state just after T's events). Events must be in the order they
were recorded. Pure: no I/O, T is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sync.events import (
    ASSIST_TASK_CREATED,
    CASE_CREATED,
    DISPUTE_RULED,
    EVENT_FOR_ACTION,
    REPEAT_REPORTED,
)
from sync.lifecycle import Action

__all__ = ["INITIAL", "CaseEventLike", "Responsibility", "advance", "responsible_at"]

ASSIGNED = EVENT_FOR_ACTION[Action.ASSIGN]
RETURNED = EVENT_FOR_ACTION[Action.RETURN]
RESUMED = EVENT_FOR_ACTION[Action.RESUME]
DISPUTE_RAISED = EVENT_FOR_ACTION[Action.RAISE_DISPUTE]


class CaseEventLike(Protocol):
    """What the rule reads from an event (a ``case_event`` row, a scoring fact, a phone's)."""

    @property
    def id(self) -> int | None: ...

    @property
    def kind(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def actor_department(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Responsibility:
    first_contact: str | None = None
    lead: str | None = None
    assisting: tuple[str, ...] = ()
    due_at: datetime | None = None  # the lead's deadline
    open_disputes: int = 0
    since_event_id: int | None = None  # the event that made the responsible department so
    due_event_id: int | None = None  # the event that set the deadline

    @property
    def responsible(self) -> str | None:
        """The one department that has the case: the lead, else the first contact."""
        return self.lead or self.first_contact

    @property
    def disputed(self) -> bool:
        return self.open_disputes > 0

    @property
    def sharing(self) -> tuple[str, ...]:
        """Everyone a miss at this moment counts against: the lead; during a dispute, also
        every assisting department."""
        lead = (self.lead,) if self.lead else ()
        if not self.disputed:
            return lead
        return lead + tuple(d for d in self.assisting if d != self.lead)


INITIAL = Responsibility()


def _moment(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def _codes(items: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in items or ():
        code = item.get("department_code") if isinstance(item, Mapping) else item
        if isinstance(code, str) and code not in out:
            out.append(code)
    return tuple(out)


def advance(state: Responsibility, event: CaseEventLike) -> Responsibility:
    """The state just after ``event``."""
    kind, data = event.kind, event.data
    if kind == CASE_CREATED:
        first = data.get("first_contact_department") or event.actor_department
        return replace(state, first_contact=str(first), since_event_id=event.id)
    if kind == ASSIGNED:
        lead = data.get("lead_department") or None
        return replace(
            state,
            lead=lead,
            assisting=_codes(data.get("assisting")),
            due_at=_moment(data.get("lead_due_at")) or _moment(data.get("due_at")),
            since_event_id=event.id,
            due_event_id=event.id,
        )
    if kind == ASSIST_TASK_CREATED:
        dept = data.get("department")
        if isinstance(dept, str) and dept not in state.assisting and dept != state.lead:
            return replace(state, assisting=(*state.assisting, dept))
        return state
    if kind == RETURNED:
        return replace(
            state, lead=None, assisting=(), due_at=None, since_event_id=event.id, due_event_id=None
        )
    if kind == DISPUTE_RAISED:
        return replace(state, open_disputes=state.open_disputes + 1)
    if kind == DISPUTE_RULED:
        settled = replace(state, open_disputes=max(0, state.open_disputes - 1))
        ruled = data.get("responsible_department")
        if not isinstance(ruled, str) or not ruled:
            return settled
        if "assisting" in data and data["assisting"] is not None:
            assisting = _codes(data["assisting"])
        else:
            assisting = tuple(d for d in state.assisting if d != ruled)
        if ruled == state.lead:
            return replace(settled, assisting=assisting)
        return replace(settled, lead=ruled, assisting=assisting, since_event_id=event.id)
    if kind in (RESUMED, REPEAT_REPORTED):
        due = _moment(data.get("due_at"))
        if due is not None:
            return replace(state, due_at=due, due_event_id=event.id)
    return state


def responsible_at(events: Iterable[CaseEventLike], at: datetime) -> Responsibility:
    """Who had the case at ``at``: the events recorded up to and including ``at``."""
    state = INITIAL
    for event in events:
        if event.at > at:
            break
        state = advance(state, event)
    return state
