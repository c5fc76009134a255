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
* A problem reported again at the same site — same category, and the same registered site or
  within ``REPEAT_RADIUS_M`` — within ``REPEAT_WINDOW`` after closing reopens the closed case
  as rework; the new report is merged into it instead of counting as a new case. A citizen's
  unsatisfied 12345 call-back (回访 不满意) on a closed case, within the same window, is such a
  report too (``call_back_counts_as_repeat``): the case reopens the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.boundary_types import Point, TimeLimit
from sync.errors import InvalidInput, RuleViolation
from sync.geo import BoundingBox, bounding_box, distance_m
from sync.vocabulary import CallBackResult, CaseStatus, TimeUnit
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
