"""Lead and assisting work: a task per assisting department with its own time node, their
reports, the lead's rating of each, and consultations the lead calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session

from server.data import workflow as wf_data
from server.models import AssistTask, Case
from server.services.cases import get_visible_case
from server.services.work_calendar import current_calendar
from server.services.workflow_events import department_label, notify, record_event
from sync.boundary_types import Point, TimeLimit
from sync.disputes import check_may_call_consultation
from sync.errors import InvalidInput, NotFound, RuleViolation
from sync.events import (
    ASSIST_TASK_CREATED,
    ASSIST_TASK_REPORTED,
    ASSISTING_RATED,
    CONSULTATION_CALLED,
)
from sync.lifecycle import Actor
from sync.vocabulary import TERMINAL_STATUSES, CaseStatus, TimeUnit
from sync.workflow import (
    assisting_due_at,
    check_may_rate,
    check_may_report_assist_task,
    check_rating,
)

OPEN, REPORTED, WITHDRAWN = "open", "reported", "withdrawn"


def sync_assist_tasks(
    session: Session,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    due_overrides: Mapping[str, datetime] | None = None,
) -> list[AssistTask]:
    """Make the case's tasks match its assisting departments: a new task (with its time node)
    for each newly assisting department, withdraw the tasks of departments no longer assisting.
    Called after assignment, a ruling's reassignment and a joint session's division of duties."""
    if case.assigned_at is None or case.time_amount is None or case.time_unit is None:
        return []
    limit = TimeLimit(case.time_amount, TimeUnit(case.time_unit))
    default_due = assisting_due_at(
        assigned_at=case.assigned_at, lead_limit=limit, calendar=current_calendar(session)
    )
    if case.due_at is not None:
        default_due = min(default_due, case.due_at)
    wanted = {a["department_code"]: a["duty"] for a in case.assisting}
    existing = {t.department: t for t in wf_data.tasks_of(session, case.id)}
    created: list[AssistTask] = []
    for dept, duty in wanted.items():
        due = (due_overrides or {}).get(dept, default_due)
        task = existing.get(dept)
        if task is not None and task.status != WITHDRAWN:
            continue
        if task is None:
            task = AssistTask(
                case_id=case.id, department=dept, duty=duty, due_at=due, created_at=now
            )
        else:  # assisting again after a return or a ruling: a fresh task
            task.duty, task.due_at, task.status, task.created_at = duty, due, OPEN, now
            task.reported_at, task.report_note, task.report_photos = None, None, []
            task.rating, task.rating_comment, task.rated_by, task.rated_at = None, None, None, None
        session.add(task)
        created.append(task)
        record_event(
            session,
            case,
            kind=ASSIST_TASK_CREATED,
            actor=actor,
            now=now,
            data={"department": dept, "duty": duty, "due_at": due.isoformat()},
        )
        notify(
            session,
            [dept],
            kind="assist_task",
            text=f"协办任务 / assisting task: {case.number} — {duty}",
            now=now,
            case_id=case.id,
            data={"due_at": due.isoformat()},
        )
    for dept, task in existing.items():
        if dept not in wanted and task.status == OPEN:
            task.status = WITHDRAWN
            session.add(task)
    session.flush()
    return created


def withdraw_all(session: Session, case: Case) -> None:
    for task in wf_data.tasks_of(session, case.id):
        if task.status == OPEN:
            task.status = WITHDRAWN
            session.add(task)
    session.flush()


def _task_or_404(session: Session, case: Case, department: str) -> AssistTask:
    task = wf_data.task(session, case.id, department)
    if task is None or task.status == WITHDRAWN:
        raise NotFound(
            f"{department} 不是本案协办部门 / {department} is not assisting on this case"
        )
    return task


def report_task(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    department: str,
    note: str,
    photos: Sequence[str],
    where: Point | None,
    now: datetime,
) -> AssistTask:
    case = get_visible_case(session, case_id, actor, for_update=True)
    task = wf_data.task(session, case.id, department)
    check_may_report_assist_task(
        actor,
        department=department,
        status=CaseStatus(case.status),
        task_open=task is not None and task.status != WITHDRAWN,
        note=note,
        photos=photos,
    )
    assert task is not None
    task.status = REPORTED
    task.reported_at = now
    task.report_note = note.strip() or None
    task.report_photos = list(photos)
    session.add(task)
    record_event(
        session,
        case,
        kind=ASSIST_TASK_REPORTED,
        actor=actor,
        now=now,
        where=where,
        data={"department": department, "note": task.report_note, "photos": list(photos)},
    )
    if case.lead_department:
        notify(
            session,
            [case.lead_department],
            kind="assist_reported",
            text=f"协办部门{department_label(session, department)}已反馈 / "
            f"{department_label(session, department)} reported on {case.number}",
            now=now,
            case_id=case.id,
        )
    return task


def rate_task(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    department: str,
    rating: int,
    comment: str,
    now: datetime,
) -> AssistTask:
    case = get_visible_case(session, case_id, actor, for_update=True)
    check_may_rate(actor, lead_department=case.lead_department)
    task = _task_or_404(session, case, department)
    check_rating(
        rating=rating,
        comment=comment,
        task_reported=task.status == REPORTED,
        due_at=task.due_at,
        already_rated=task.rating is not None,
        now=now,
    )
    task.rating, task.rating_comment = rating, comment.strip() or None
    task.rated_by, task.rated_at = actor.user_id, now
    session.add(task)
    record_event(
        session,
        case,
        kind=ASSISTING_RATED,
        actor=actor,
        now=now,
        data={"department": department, "rating": rating, "comment": task.rating_comment},
    )
    return task


def call_consultation(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    departments: Sequence[str],
    note: str,
    due_at: datetime | None,
    now: datetime,
    dispute_id: str | None = None,
    known_departments: frozenset[str] = frozenset(),
) -> Case:
    """The lead calls departments to consult (主办协商), about the work or about a dispute."""
    case = get_visible_case(session, case_id, actor, for_update=True)
    check_may_call_consultation(actor, lead_department=case.lead_department)
    if CaseStatus(case.status) in TERMINAL_STATUSES:
        raise RuleViolation("案件已办结 / the case is finished", code="wrong_status")
    invited = sorted(set(departments))
    if not invited:
        raise InvalidInput("departments", "请选择参加协商的部门 / name the departments to consult")
    for i, dept in enumerate(invited):
        if known_departments and dept not in known_departments:
            raise InvalidInput(f"departments[{i}]", "未知的部门 / unknown department")
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInput("due_at", "须带时区 / must include a time zone")
    record_event(
        session,
        case,
        kind=CONSULTATION_CALLED,
        actor=actor,
        now=now,
        data={
            "dispute_id": dispute_id,
            "departments": invited,
            "due_at": due_at.isoformat() if due_at else None,
            "note": note.strip() or None,
        },
    )
    notify(
        session,
        invited,
        kind="consultation",
        text=f"主办部门召集协商 / the lead calls a consultation on {case.number}: {note.strip()}",
        now=now,
        case_id=case.id,
        data={"dispute_id": dispute_id, "due_at": due_at.isoformat() if due_at else None},
    )
    return case
