"""Supervision (督办): due-soon warnings and overdue escalation in levels, computed purely.

Decisions (the issue is silent on them):

* Due soon (即将到期): the working time left is at most the lesser of 25% of the working time
  the limit grants and one working day (7.5 h), and the case is not yet overdue.
* Levels once overdue, by working time past the due time:
  reminder (催办) at once; supervisor (督办) after 1 working day; leadership (领导督办) after
  3 working days.
* Not accepted (签收) within the acceptance limit: an ``acceptance`` escalation to the lead
  department and the supervisors.
* A suspended case is neither due soon nor overdue. A disputed case is escalated like any other:
  a dispute never stops the clock, and the escalation counts against every department involved.
* Each level is escalated once per deadline: if the deadline moves later (a suspension ended,
  a repeat report reopened the case), the levels start again for the new deadline.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sync.workcalendar import WORKING_SECONDS_PER_DAY, WorkCalendar, working_seconds_between


class Level(StrEnum):
    DUE_SOON = "due_soon"
    ACCEPTANCE = "acceptance"
    REMINDER = "reminder"  # 催办
    SUPERVISOR = "supervisor"  # 督办
    LEADERSHIP = "leadership"  # 领导督办


OVERDUE_LEVELS: tuple[tuple[Level, float], ...] = (
    (Level.REMINDER, 0.0),
    (Level.SUPERVISOR, 1 * WORKING_SECONDS_PER_DAY),
    (Level.LEADERSHIP, 3 * WORKING_SECONDS_PER_DAY),
)
DUE_SOON_SHARE = 0.25


def is_due_soon(
    *, assigned_at: datetime, due_at: datetime, now: datetime, calendar: WorkCalendar
) -> bool:
    if now >= due_at:
        return False
    granted = working_seconds_between(assigned_at, due_at, calendar)
    left = working_seconds_between(now, due_at, calendar)
    return left <= min(DUE_SOON_SHARE * granted, WORKING_SECONDS_PER_DAY)


def levels_reached(
    *,
    assigned_at: datetime,
    due_at: datetime,
    now: datetime,
    suspended: bool,
    accepted: bool,
    acceptance_due_at: datetime | None,
    calendar: WorkCalendar,
) -> list[Level]:
    """Every level the case has reached at ``now`` (the job adds the ones not yet recorded)."""
    if suspended:
        return []
    out: list[Level] = []
    if not accepted and acceptance_due_at is not None and now > acceptance_due_at:
        out.append(Level.ACCEPTANCE)
    if now <= due_at:
        if is_due_soon(assigned_at=assigned_at, due_at=due_at, now=now, calendar=calendar):
            out.append(Level.DUE_SOON)
        return out
    late = working_seconds_between(due_at, now, calendar)
    out.extend(level for level, after in OVERDUE_LEVELS if late >= after)
    return out
