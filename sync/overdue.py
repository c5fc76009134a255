"""Overdue (已超期) and due soon (即将到期): the one definition, used by the phone's task list,
the case and list APIs (and the list's SQL filter, built from the constants here), the
escalation job, the overdue board and the joint-session progress.

Rules:

* The clock that runs depends on the status:
  - an assigned case not yet closed (``DEADLINE_STATUSES``: the active statuses — assigned,
    accepted, handling — and handled, reported back but not yet verified) runs its lead's
    deadline (``due_at``: the list's time limit, or the time node set on the spot at a joint
    session). The deadline is for closing the case, as the evaluation's on-time closure rate
    counts it: a fast reply that is not yet verified is not a fix (重时效、轻实效);
  - a returned case (``REROUTE_STATUS``: back at ``discovered`` with a ``reroute_due_at``) runs
    the first-contact department's re-routing clock (首问负责: nobody else has it);
  - any other case (never assigned, closed, cancelled, merged) runs no clock and is never
    overdue nor due soon.
* A suspended case (中止) is neither overdue nor due soon: its clock is paused.
* Overdue: the running deadline is strictly before ``now``.
* Due soon (working time, never wall-clock hours): not overdue, and the working time left is at
  most the lesser of ``DUE_SOON_SHARE`` of the working time the limit grants (assignment to
  deadline) and one working day (7.5 h). Only the lead's deadline is "due soon"; the re-routing
  clock is short and is shown with its deadline instead.

Pure: ``now`` is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sync.vocabulary import ACTIVE_STATUSES, CaseStatus
from sync.workcalendar import WORKING_SECONDS_PER_DAY, WorkCalendar, working_seconds_between

__all__ = [
    "ACTIVE_STATUSES",
    "DEADLINE_STATUSES",
    "DUE_SOON_SHARE",
    "REROUTE_STATUS",
    "CaseClock",
    "Urgency",
    "due_soon_by_working_time",
    "is_due_soon",
    "is_overdue",
    "running_deadline",
    "urgency",
]

DEADLINE_STATUSES = ACTIVE_STATUSES | {CaseStatus.HANDLED}
REROUTE_STATUS = CaseStatus.DISCOVERED
DUE_SOON_SHARE = 0.25


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"


@dataclass(frozen=True)
class CaseClock:
    """What the rule needs to know about a case (server row and phone snapshot alike)."""

    status: CaseStatus
    due_at: datetime | None
    assigned_at: datetime | None = None
    suspended: bool = False
    reroute_due_at: datetime | None = None


def running_deadline(clock: CaseClock) -> datetime | None:
    """The deadline whose clock runs now, whatever the suspension (``None``: no clock)."""
    if clock.status in DEADLINE_STATUSES:
        return clock.due_at
    if clock.status == REROUTE_STATUS:
        return clock.reroute_due_at
    return None


def is_overdue(clock: CaseClock, now: datetime) -> bool:
    deadline = running_deadline(clock)
    return deadline is not None and not clock.suspended and deadline < now


def due_soon_by_working_time(
    *, assigned_at: datetime, due_at: datetime, now: datetime, calendar: WorkCalendar
) -> bool:
    """The working-time test alone (no status, no suspension): for a deadline not yet passed."""
    if now >= due_at:
        return False
    granted = working_seconds_between(assigned_at, due_at, calendar)
    left = working_seconds_between(now, due_at, calendar)
    return left <= min(DUE_SOON_SHARE * granted, WORKING_SECONDS_PER_DAY)


def is_due_soon(clock: CaseClock, now: datetime, calendar: WorkCalendar) -> bool:
    if clock.suspended or clock.status not in DEADLINE_STATUSES:
        return False
    if clock.due_at is None or clock.assigned_at is None:
        return False
    return due_soon_by_working_time(
        assigned_at=clock.assigned_at, due_at=clock.due_at, now=now, calendar=calendar
    )


def urgency(clock: CaseClock, now: datetime, calendar: WorkCalendar) -> Urgency | None:
    if is_overdue(clock, now):
        return Urgency.OVERDUE
    if is_due_soon(clock, now, calendar):
        return Urgency.DUE_SOON
    return None
