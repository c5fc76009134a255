"""Deadlines (时限) in working days or working hours on China's public-holiday calendar.

Holidays and make-up working days (调休) come from the ``chinese-calendar`` package. For a year
it does not cover, Saturday and Sunday are the only days off, and the result says so.

Rules:

* Working time on a working day: 08:30–12:00 and 13:30–17:30 county local time (7.5 h).
* The clock starts at assignment (交办), not acceptance.
* ``N`` working days: due at 17:30 on the N-th working day *after* the assignment date (the
  assignment day itself never counts, whatever the hour).
* ``N`` working hours: N hours of working time walked forward from the assignment instant; if
  assigned outside working time, the clock starts with the next working window.
* A suspension (中止, with a reason) pauses the clock: working time inside any suspension (after
  assignment, before the due time) does not count, so the due time moves later by exactly that
  much working time. Overlapping suspensions count once. An open suspension lasts until ``now``
  and the deadline is then ``paused`` (never overdue).

All inputs are aware datetimes (naive → ``ValueError``); results are aware, in ``CHINA_TZ``.
Pure: no I/O, ``now`` is always an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

from sync.boundary_types import TimeLimit
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput
from sync.vocabulary import TimeUnit

__all__ = [
    "AFTERNOON_END",
    "AFTERNOON_START",
    "MORNING_END",
    "MORNING_START",
    "WORKING_SECONDS_PER_DAY",
    "WORKING_WINDOWS",
    "Deadline",
    "Suspension",
    "compute_deadline",
    "is_overdue",
    "is_working_day",
    "remaining_working_seconds",
    "working_seconds_between",
]

MORNING_START = time(8, 30)
MORNING_END = time(12, 0)
AFTERNOON_START = time(13, 30)
AFTERNOON_END = time(17, 30)
# The working windows of a working day, in county local time, as half-open [start, end).
WORKING_WINDOWS: tuple[tuple[time, time], ...] = (
    (MORNING_START, MORNING_END),
    (AFTERNOON_START, AFTERNOON_END),
)


def _window_length(start: time, end: time) -> timedelta:
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


WORKING_DAY = sum((_window_length(s, e) for s, e in WORKING_WINDOWS), timedelta())
WORKING_SECONDS_PER_DAY = WORKING_DAY.total_seconds()  # 27000.0 (7.5 h)

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta()


@dataclass(frozen=True)
class Suspension:
    """A pause of the clock (中止), for a stated reason. ``end`` None: still suspended."""

    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    calendar_covered: bool  # False if any day in the computation used the weekends-only fallback
    note: str | None  # the fallback note, else None
    paused: bool = False  # an open suspension at `now`


# ---------------------------------------------------------------------------------------------
# The calendar


@lru_cache(maxsize=256)
def _year_covered(year: int) -> bool:
    """Whether the installed chinese-calendar has holiday data for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=16384)
def is_working_day(day: date) -> tuple[bool, bool]:
    """(is it a working day, did the holiday calendar cover that year).

    An uncovered year falls back to weekends only: Monday–Friday work, Saturday/Sunday off.
    """
    if _year_covered(day.year):
        return bool(chinese_calendar.is_workday(day)), True
    return day.weekday() < 5, False


@lru_cache(maxsize=16384)
def _windows(day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working windows of ``day`` as aware local datetimes; empty on a day off."""
    if not is_working_day(day)[0]:
        return ()
    return tuple(
        (
            datetime.combine(day, start, tzinfo=CHINA_TZ),
            datetime.combine(day, end, tzinfo=CHINA_TZ),
        )
        for start, end in WORKING_WINDOWS
    )


def _fallback_note(years: Sequence[int]) -> str:
    zh = "、".join(str(y) for y in years)
    en = ", ".join(str(y) for y in years)
    english = f"holiday calendar for {en} not available: weekends only"
    return f"{zh}年节假日未收录，仅按周末计算 / {english}"


# ---------------------------------------------------------------------------------------------
# Working time


def _local(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime, pass an aware datetime")
    return moment.astimezone(CHINA_TZ)


def _working_between(start: datetime, end: datetime) -> timedelta:
    """Working time in [start, end); both local and aware. Zero if end <= start."""
    total = _ZERO
    if end <= start:
        return total
    day = start.date()
    last = end.date()
    while day <= last:
        windows = _windows(day)
        if windows and start <= windows[0][0] and windows[-1][1] <= end:
            total += WORKING_DAY  # the whole day lies inside [start, end)
        else:
            for w_start, w_end in windows:
                lo = max(w_start, start)
                hi = min(w_end, end)
                if lo < hi:
                    total += hi - lo
        day += _ONE_DAY
    return total


def _advance(start: datetime, amount: timedelta) -> datetime:
    """The earliest instant ``t`` with working time in [start, t) equal to ``amount`` (> 0).

    So a budget that runs out exactly at a window's end gives that end (12:00, 17:30),
    not the start of the next window.
    """
    remaining = amount
    day = start.date()
    while True:
        windows = _windows(day)
        if windows and start <= windows[0][0] and remaining > WORKING_DAY:
            remaining -= WORKING_DAY  # jump the whole day
        else:
            for w_start, w_end in windows:
                lo = max(w_start, start)
                if lo >= w_end:
                    continue
                available = w_end - lo
                if available >= remaining:
                    return lo + remaining
                remaining -= available
        day += _ONE_DAY


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working time in [start, end), in seconds; 0 if ``end`` is not after ``start``."""
    return _working_between(_local(start, "start"), _local(end, "end")).total_seconds()


# ---------------------------------------------------------------------------------------------
# Deadlines


def _nth_working_day_after(day: date, n: int) -> date:
    found = 0
    while found < n:
        day += _ONE_DAY
        if is_working_day(day)[0]:
            found += 1
    return day


def _base_due(assigned: datetime, limit: TimeLimit) -> datetime:
    """The due time with no suspension."""
    if limit.unit == TimeUnit.WORKING_DAYS:
        due_day = _nth_working_day_after(assigned.date(), limit.amount)
        return datetime.combine(due_day, WORKING_WINDOWS[-1][1], tzinfo=CHINA_TZ)
    if limit.unit == TimeUnit.WORKING_HOURS:
        return _advance(assigned, timedelta(hours=limit.amount))
    raise InvalidInput("limit", f"unknown time unit {limit.unit!r}")


def _merged_pauses(
    suspensions: Iterable[Suspension], assigned: datetime, now: datetime | None
) -> tuple[list[tuple[datetime, datetime]], bool]:
    """Suspensions as sorted, disjoint local intervals clipped to start at assignment.

    Returns (intervals, paused) where ``paused`` says some suspension is still open at ``now``.
    """
    raw: list[tuple[datetime, datetime]] = []
    paused = False
    for s in suspensions:
        if not s.reason or not s.reason.strip():
            raise InvalidInput("reason", "a suspension (中止) needs a stated reason")
        start = _local(s.start, "suspension.start")
        if s.end is None:
            if now is None:
                raise InvalidInput("now", "needed to measure an open suspension")
            end = _local(now, "now")
            paused = True
        else:
            end = _local(s.end, "suspension.end")
            if end < start:
                raise InvalidInput("end", "a suspension cannot end before it starts")
        start = max(start, assigned)
        if start < end:
            raw.append((start, end))
    raw.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in raw:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged, paused


def _walk_around(
    start: datetime, budget: timedelta, pauses: Sequence[tuple[datetime, datetime]]
) -> datetime:
    """Spend ``budget`` of working time from ``start``, not counting time inside ``pauses``."""
    cursor = start
    remaining = budget
    for p_start, p_end in pauses:
        if p_end <= cursor:
            continue
        if p_start > cursor:
            available = _working_between(cursor, p_start)
            if available >= remaining:
                return _advance(cursor, remaining)
            remaining -= available
        cursor = max(cursor, p_end)
    return _advance(cursor, remaining)


def compute_deadline(
    *,
    assigned_at: datetime,
    limit: TimeLimit,
    suspensions: Sequence[Suspension] = (),
    now: datetime | None = None,
) -> Deadline:
    """When a case assigned at ``assigned_at`` with ``limit`` is due, suspensions considered.

    ``now`` is needed only to measure an open suspension (``end`` None); then ``paused=True``.
    """
    assigned = _local(assigned_at, "assigned_at")
    if now is not None:
        _local(now, "now")
    if limit.amount < 1:
        raise InvalidInput("limit", "a time limit must be at least 1")
    due = _base_due(assigned, limit)
    pauses, paused = _merged_pauses(suspensions, assigned, now)
    if pauses:
        # The working time the limit grants, spent around the suspensions.
        budget = _working_between(assigned, due)
        due = _walk_around(assigned, budget, pauses)
    uncovered = [y for y in range(assigned.year, due.year + 1) if not _year_covered(y)]
    return Deadline(
        due_at=due,
        calendar_covered=not uncovered,
        note=_fallback_note(uncovered) if uncovered else None,
        paused=paused,
    )


def is_overdue(*, deadline: Deadline, now: datetime) -> bool:
    """Past the due time and not paused (a paused deadline is never overdue)."""
    if deadline.paused:
        _local(now, "now")
        return False
    return _local(now, "now") > deadline.due_at


def remaining_working_seconds(*, deadline: Deadline, now: datetime) -> float:
    """Working seconds left until the due time; negative (working time past due) when overdue."""
    moment = _local(now, "now")
    due = deadline.due_at.astimezone(CHINA_TZ)
    if moment <= due:
        return _working_between(moment, due).total_seconds()
    return -_working_between(due, moment).total_seconds()
