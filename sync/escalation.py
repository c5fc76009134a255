"""Supervision (督办): due-soon warnings and overdue escalation in levels, computed purely.

Decisions (the issue is silent on them):

* Due soon (即将到期) and overdue are defined once, in ``sync/overdue.py``.
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

from sync.overdue import REROUTE_STATUS, CaseClock, Urgency, is_overdue, urgency
from sync.vocabulary import CaseStatus
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


def _late_levels(deadline: datetime, now: datetime, calendar: WorkCalendar) -> list[Level]:
    late = working_seconds_between(deadline, now, calendar)
    return [level for level, after in OVERDUE_LEVELS if late >= after]


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
    """Every level an active case has reached at ``now`` (the job adds the ones not yet
    recorded)."""
    if suspended:
        return []
    out: list[Level] = []
    if not accepted and acceptance_due_at is not None and now > acceptance_due_at:
        out.append(Level.ACCEPTANCE)
    clock = CaseClock(
        status=CaseStatus.ACCEPTED if accepted else CaseStatus.ASSIGNED,
        due_at=due_at,
        assigned_at=assigned_at,
    )
    state = urgency(clock, now, calendar)
    if state == Urgency.DUE_SOON:
        out.append(Level.DUE_SOON)
    elif state == Urgency.OVERDUE:
        out.extend(_late_levels(due_at, now, calendar))
    return out


def reroute_levels_reached(
    *, reroute_due_at: datetime, now: datetime, suspended: bool, calendar: WorkCalendar
) -> list[Level]:
    """A returned case not re-routed by the first-contact department in time escalates like any
    overdue case (reminder, then supervisor, then leadership), from its re-routing deadline."""
    clock = CaseClock(
        status=REROUTE_STATUS, due_at=None, suspended=suspended, reroute_due_at=reroute_due_at
    )
    if not is_overdue(clock, now):
        return []
    return _late_levels(reroute_due_at, now, calendar)
