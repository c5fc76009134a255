"""Lead and assisting work, acceptance and repeat reports: pure rules shared by the server and
the phone.

Decisions (the issue is silent on them):

* An assisting department's time node (协办时间节点) falls before the lead's deadline, so the lead
  has time to bring everyone's work together: N working days → N−1 (at least 1);
  N working hours → ⌈2N/3⌉ (at least 1). A joint session may set explicit nodes instead.
* Acceptance (签收) is due within ``ACCEPTANCE_LIMIT`` (4 working hours) of assignment (the
  same limit the ``acceptance`` escalation level uses); the deadline is stored on the case
  and shown before anything escalates.
* A returned case (退回) must be re-routed by the first-contact department within the limit set
  in the rules data (``[deadlines]`` of server/evaluation/rules.toml), counted from the return.
* The lead rates each assisting department 1–5 once its task is reported or its time node has
  passed (so not performing can be rated too); a rating of 2 or less needs a comment.
* Only a handler of the assisting department reports its task (说明 and/or photos), while the
  case is not finished; it may report again (the latest report counts).
  The phone reads each task's state from the case's events (``assist_tasks``), so both work
  offline and are checked by the same functions the server applies (REST and sync push).
* A problem reported again at the same site — same category, and the same registered site or
  within ``REPEAT_RADIUS_M`` — within ``REPEAT_WINDOW`` after closing reopens the closed case
  as rework; the new report is merged into it instead of counting as a new case. A citizen's
  unsatisfied 12345 call-back (回访 不满意) on a closed case, within the same window, is such a
  report too (``call_back_counts_as_repeat``): the case reopens the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sync.boundary_types import Point, TimeLimit
from sync.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from sync.events import ASSIST_TASK_CREATED, ASSIST_TASK_REPORTED, ASSISTING_RATED
from sync.geo import BoundingBox, bounding_box, distance_m
from sync.lifecycle import Actor
from sync.vocabulary import TERMINAL_STATUSES, CallBackResult, CaseStatus, Role, TimeUnit
from sync.workcalendar import WorkCalendar, compute_deadline

ACCEPTANCE_LIMIT = TimeLimit(4, TimeUnit.WORKING_HOURS)
REPEAT_WINDOW = timedelta(days=30)
REPEAT_RADIUS_M = 50.0
MIN_RATING, MAX_RATING = 1, 5


def assisting_time_limit(lead_limit: TimeLimit) -> TimeLimit:
    """The assisting departments' own time node, inside the lead's limit."""
    if lead_limit.unit == TimeUnit.WORKING_DAYS:
        return TimeLimit(max(1, lead_limit.amount - 1), TimeUnit.WORKING_DAYS)
    return TimeLimit(max(1, math.ceil(lead_limit.amount * 2 / 3)), TimeUnit.WORKING_HOURS)


def assisting_due_at(
    *, assigned_at: datetime, lead_limit: TimeLimit, calendar: WorkCalendar
) -> datetime:
    return compute_deadline(
        assigned_at=assigned_at,
        limit=assisting_time_limit(lead_limit),
        calendar=calendar,
        now=assigned_at,
    ).due_at


def acceptance_due_at(assigned_at: datetime, calendar: WorkCalendar) -> datetime:
    """When the lead department must have accepted (签收) an assigned case."""
    return compute_deadline(
        assigned_at=assigned_at, limit=ACCEPTANCE_LIMIT, calendar=calendar, now=assigned_at
    ).due_at


def reroute_due_at(*, returned_at: datetime, limit: TimeLimit, calendar: WorkCalendar) -> datetime:
    """When the first-contact department must have re-routed (交办 again) a returned case."""
    return compute_deadline(
        assigned_at=returned_at, limit=limit, calendar=calendar, now=returned_at
    ).due_at


def check_rating(
    *,
    rating: int,
    comment: str,
    task_reported: bool,
    due_at: datetime,
    already_rated: bool,
    now: datetime,
) -> None:
    """Refuse a rating of an assisting department's work that the rules do not allow now."""
    if isinstance(rating, bool) or not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidInput("rating", f"应为 {MIN_RATING}–{MAX_RATING} / must be 1 to 5")
    if rating <= 2 and not comment.strip():
        raise InvalidInput("comment", "评分 2 分及以下须说明理由 / a low rating needs a comment")
    if already_rated:
        raise RuleViolation("已评价 / this department's work was already rated", code="rated")
    if not task_reported and now < due_at:
        raise RuleViolation(
            "协办部门尚未反馈且未到时间节点 / the assisting department has not reported "
            "and its time node has not passed",
            code="too_early_to_rate",
        )


def check_may_report_assist_task(
    actor: Actor,
    *,
    department: str,
    status: CaseStatus,
    task_open: bool,
    note: str,
    photos: Sequence[str],
) -> None:
    """Refuse an assisting department's report (协办反馈) the rules do not allow: only that
    department's handler, on a case not finished, on a task it has, with a 说明 or photos."""
    if actor.role != Role.HANDLER or actor.department != department:
        raise NotPermitted(
            "只有该协办部门可以反馈其任务 / only the assisting department reports its own task",
            code="department_not_allowed",
        )
    if status in TERMINAL_STATUSES:
        raise RuleViolation("案件已办结 / the case is finished", code="wrong_status")
    if not task_open:
        raise NotFound(
            f"{department} 不是本案协办部门 / {department} is not assisting on this case"
        )
    if not note.strip() and not photos:
        raise InvalidInput("note", "请写明完成情况或附照片 / describe what was done or add photos")


def check_may_rate(actor: Actor, *, lead_department: str | None) -> None:
    """Only a handler of the lead department rates assisting work (then ``check_rating``)."""
    if actor.role != Role.HANDLER or not lead_department or actor.department != lead_department:
        raise NotPermitted(
            "只有主办部门可以评价协办部门 / only the lead department rates assisting work",
            code="department_not_allowed",
        )


@dataclass(frozen=True)
class AssistTaskState:
    """One assisting department's task as the case's events tell it (the phone's view)."""

    department: str
    duty: str
    due_at: datetime | None  # None: assigned on this phone, the server has not set it yet
    reported_at: datetime | None = None
    report_note: str = ""
    report_photos: tuple[str, ...] = ()
    rating: int | None = None
    rating_comment: str = ""

    @property
    def reported(self) -> bool:
        return self.reported_at is not None

    @property
    def rated(self) -> bool:
        return self.rating is not None

    def rating_refusal(self, *, rating: int, comment: str, now: datetime) -> None:
        """``check_rating`` for this task now (a task with no time node yet: not before
        it is reported)."""
        check_rating(
            rating=rating,
            comment=comment,
            task_reported=self.reported,
            due_at=self.due_at or datetime.max.replace(tzinfo=now.tzinfo),
            already_rated=self.rated,
            now=now,
        )


def _event_time(raw: object) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    if not raw:
        return None
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def assist_tasks(
    events: Sequence[Mapping[str, Any]], assisting: Sequence[tuple[str, str]]
) -> list[AssistTaskState]:
    """Each assisting department's task (``assisting``: (department, duty) as the case has
    them now), from the case's events: a task starts at its department's latest
    ``AssistTaskCreated`` (a fresh one after a return or a ruling); the reports and the
    rating after it are the task's."""
    out: list[AssistTaskState] = []
    for department, duty in assisting:
        task = AssistTaskState(department=department, duty=duty, due_at=None)
        for event in events:
            data = event.get("data") or {}
            if not isinstance(data, Mapping) or data.get("department") != department:
                continue
            kind = event.get("kind")
            if kind == ASSIST_TASK_CREATED:
                task = AssistTaskState(
                    department=department,
                    duty=str(data.get("duty") or duty),
                    due_at=_event_time(data.get("due_at")),
                )
            elif kind == ASSIST_TASK_REPORTED:
                task = replace(
                    task,
                    reported_at=_event_time(event.get("at")),
                    report_note=str(data.get("note") or ""),
                    report_photos=tuple(str(p) for p in data.get("photos") or ()),
                )
            elif kind == ASSISTING_RATED and isinstance(data.get("rating"), int):
                task = replace(
                    task,
                    rating=int(data["rating"]),
                    rating_comment=str(data.get("comment") or ""),
                )
        out.append(task)
    return out


@dataclass(frozen=True)
class ClosedCase:
    id: str
    category: str
    closed_at: datetime
    site_code: str | None
    point: Point | None


def same_place(
    *, site_a: str | None, point_a: Point | None, site_b: str | None, point_b: Point | None
) -> bool:
    if site_a is not None and site_b is not None:
        return site_a == site_b
    if point_a is not None and point_b is not None:
        return distance_m(point_a, point_b) <= REPEAT_RADIUS_M
    return False


@dataclass(frozen=True)
class RepeatSearch:
    """Where the closed cases a new report may repeat can lie: its registered site, or the box
    around its point (``sync.geo.bounding_box`` of ``REPEAT_RADIUS_M``). A superset: the server
    fetches only these candidates (by index) and ``find_repeat`` decides exactly on them."""

    site_code: str | None
    box: BoundingBox | None


def repeat_search(*, site_code: str | None, point: Point | None) -> RepeatSearch | None:
    """None when the report has neither site nor point: it can repeat nothing."""
    if site_code is None and point is None:
        return None
    box = bounding_box(point, REPEAT_RADIUS_M) if point is not None else None
    return RepeatSearch(site_code, box)


def _same_place_boxed(
    c: ClosedCase, site_code: str | None, point: Point | None, box: BoundingBox | None
) -> bool:
    """``same_place``, with the box tried before the (costly) geodesic distance."""
    if c.site_code is not None and site_code is not None:
        return c.site_code == site_code
    if c.point is not None and point is not None and box is not None:
        return box.contains(c.point) and distance_m(c.point, point) <= REPEAT_RADIUS_M
    return False


def within_repeat_window(closed_at: datetime, at: datetime) -> bool:
    """Whether a report at ``at`` still counts against a case closed at ``closed_at``."""
    return timedelta(0) <= at - closed_at <= REPEAT_WINDOW


def call_back_counts_as_repeat(
    *,
    result: CallBackResult,
    status: CaseStatus,
    closed_at: datetime | None,
    called_back_at: datetime,
) -> bool:
    """An unsatisfied call-back on a closed case is the problem reported again: the repeat rule
    (reopen as rework) applies to it as to a new report at the same place."""
    return (
        result == CallBackResult.NOT_SATISFIED
        and status == CaseStatus.CLOSED
        and closed_at is not None
        and within_repeat_window(closed_at, called_back_at)
    )


def find_repeat(
    closed: Sequence[ClosedCase],
    *,
    category: str,
    site_code: str | None,
    point: Point | None,
    now: datetime,
) -> ClosedCase | None:
    """The most recently closed case this new report repeats, if any (within 30 days)."""
    box = bounding_box(point, REPEAT_RADIUS_M) if point is not None else None
    hits = [
        c
        for c in closed
        if c.category == category
        and within_repeat_window(c.closed_at, now)
        and _same_place_boxed(c, site_code, point, box)
    ]
    return max(hits, key=lambda c: c.closed_at) if hits else None
