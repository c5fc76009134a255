"""Supervision (督办): the scheduled escalation job and the overdue board.

The job is safe to run from several server processes at once: each case is handled in its own
transaction with the case row locked (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite serialises
writers), and each (case, deadline, level) is inserted with insert-or-skip against a unique
constraint, so a level is escalated exactly once — and a level missed while no job ran is
caught up by the next run."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from server.data import workflow as wf_data
from server.models import Case, CaseEscalation
from server.services import cases as case_service
from server.services.work_calendar import current_calendar
from server.services.workflow_events import SYSTEM, notify, record_event, role_recipient
from sync.escalation import Level, levels_reached, reroute_levels_reached
from sync.events import CASE_ESCALATED
from sync.overdue import REROUTE_STATUS, Urgency, running_deadline, urgency
from sync.vocabulary import CaseStatus, Role
from sync.workcalendar import WorkCalendar
from sync.workflow import acceptance_due_at

log = logging.getLogger(__name__)
LEADERSHIP_OFFICE = "zfb"  # 县政府办: takes leadership-level escalations to the county leaders
_TEXT = {
    Level.DUE_SOON: "即将到期 / due soon",
    Level.ACCEPTANCE: "超时未签收 / not accepted in time",
    Level.REMINDER: "已超期：催办 / overdue: reminder",
    Level.SUPERVISOR: "超期一个工作日：督办 / overdue 1 working day: supervisor",
    Level.LEADERSHIP: "超期三个工作日：领导督办 / overdue 3 working days: leadership",
}


def charged_departments(session: Session, case: Case) -> list[str]:
    """Who an overdue counts against: the lead; during a dispute, every department involved;
    a returned case waiting to be re-routed, the first-contact department (首问负责)."""
    if case.status == REROUTE_STATUS.value:
        return [case.first_contact_department]
    depts: set[str] = {case.lead_department} if case.lead_department else set()
    dispute = wf_data.open_dispute_of(session, case.id) if case.disputed else None
    if dispute is not None:
        depts |= set(dispute.involved)
        depts |= {a["department_code"] for a in case.assisting}
    return sorted(depts)


def _recipients(level: str, departments: list[str]) -> list[str]:
    out = list(departments)
    if level in (Level.ACCEPTANCE, Level.SUPERVISOR, Level.LEADERSHIP, "dispute_overdue"):
        out.append(role_recipient(Role.SUPERVISOR))
    if level == Level.LEADERSHIP:
        out.append(LEADERSHIP_OFFICE)
    return out


def escalate_once(
    session: Session,
    case: Case,
    *,
    level: str,
    due_at: datetime,
    departments: list[str],
    now: datetime,
    record_case_event: bool = True,
    text: str | None = None,
) -> bool:
    """Record one level for one deadline unless it is already recorded. True if this call did."""
    inserted = wf_data.insert_escalation_or_skip(
        session,
        CaseEscalation(
            case_id=case.id, due_at=due_at, level=level, departments=departments, at=now
        ),
    )
    if not inserted:
        return False
    if record_case_event:
        record_event(
            session,
            case,
            kind=CASE_ESCALATED,
            actor=SYSTEM,
            now=now,
            data={"level": level, "departments": departments, "due_at": due_at.isoformat()},
        )
    notify(
        session,
        _recipients(level, departments),
        kind=f"escalation_{level}",
        text=f"{text or _TEXT.get(Level(level), level)}：案件 {case.number}",
        now=now,
        case_id=case.id,
        data={"level": level, "due_at": due_at.isoformat()},
    )
    return True


def _levels(
    case: Case, now: datetime, calendar: WorkCalendar
) -> tuple[datetime, list[Level]] | None:
    """(the running deadline, the levels reached), or None when no clock runs."""
    deadline = running_deadline(case_service.clock_of(case))
    if deadline is None:
        return None
    if case.status == REROUTE_STATUS.value:
        return deadline, reroute_levels_reached(
            reroute_due_at=deadline, now=now, suspended=case.suspended, calendar=calendar
        )
    if case.assigned_at is None:
        return None
    accept_by = case.acceptance_due_at or acceptance_due_at(case.assigned_at, calendar)
    return deadline, levels_reached(
        assigned_at=case.assigned_at,
        due_at=deadline,
        now=now,
        suspended=case.suspended,
        accepted=case.status != CaseStatus.ASSIGNED.value,
        acceptance_due_at=accept_by,
        calendar=calendar,
    )


def escalate_case(session: Session, case: Case, now: datetime) -> list[str]:
    found = _levels(case, now, current_calendar(session))
    if found is None or not found[1]:
        return []
    due_at, reached = found
    done = wf_data.escalation_levels(session, case.id, due_at)
    departments = charged_departments(session, case)
    out: list[str] = []
    for level in reached:
        if level.value in done:
            continue
        if escalate_once(
            session,
            case,
            level=level.value,
            due_at=due_at,
            departments=departments,
            now=now,
            record_case_event=level != Level.DUE_SOON,
        ):
            out.append(level.value)
    return out


@dataclass(frozen=True)
class BoardRow:
    key: str
    overdue: int
    due_soon: int
    disputed_overdue: int


def overdue_board(session: Session, now: datetime, by: str) -> list[BoardRow]:
    """Cases overdue or due soon (sync/overdue.py), counted by department (a disputed case
    counts against every department involved), town or category."""
    overdue: dict[str, int] = defaultdict(int)
    soon: dict[str, int] = defaultdict(int)
    disputed: dict[str, int] = defaultdict(int)
    calendar = current_calendar(session)
    for case in wf_data.clock_running_cases(session):
        state = urgency(case_service.clock_of(case), now, calendar)
        if state is None:
            continue
        late = state == Urgency.OVERDUE
        if by == "department":
            keys = charged_departments(session, case)
        elif by == "town":
            keys = [case.town_code or "unknown"]
        else:
            keys = [case.category]
        for key in keys:
            if late:
                overdue[key] += 1
                if case.disputed:
                    disputed[key] += 1
            else:
                soon[key] += 1
    keys = sorted(set(overdue) | set(soon), key=lambda k: (-overdue[k], -soon[k], k))
    return [BoardRow(k, overdue[k], soon[k], disputed[k]) for k in keys]
