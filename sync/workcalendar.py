"""Deadlines (时限) in working days or working hours on China's public-holiday calendar.

Holidays and make-up working days (调休) are data: a ``WorkCalendar`` (one ``CalendarYear`` per
year an administrator entered, seeded from the ``chinese-calendar`` package for the years it
covers) passed to every function here. For a year not entered, Saturday and Sunday are the only
days off, and the result says so (``Deadline.note``).

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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sync.boundary_types import TimeLimit
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput
from sync.vocabulary import TimeUnit

__all__ = [
    "AFTERNOON_END",
    "AFTERNOON_START",
    "EMPTY_CALENDAR",
    "MORNING_END",
    "MORNING_START",
    "WORKING_SECONDS_PER_DAY",
    "WORKING_WINDOWS",
    "CalendarYear",
    "Deadline",
    "Suspension",
    "WorkCalendar",
    "calendar_missing_years",
    "compute_deadline",
    "fallback_note",
    "is_overdue",
    "is_working_day",
    "missing_calendar_warning",
    "missing_years_at",
    "remaining_working_seconds",
    "validate_calendar_year",
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
# The calendar (data)


@dataclass(frozen=True)
class CalendarYear:
    """One year's public holidays (days off, weekends inside a holiday included) and make-up
    working days (调休, weekend days worked), as the State Council published them."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """The working calendar: the years entered. Compared by its years; caches its windows."""

    years: tuple[CalendarYear, ...] = ()
    _by_year: dict[int, CalendarYear] = field(init=False, repr=False, compare=False)
    _windows: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_year", {y.year: y for y in self.years})
        object.__setattr__(self, "_windows", {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkCalendar) and self._by_year == other._by_year

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._by_year)))

    def covers(self, year: int) -> bool:
        return year in self._by_year

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, was that year's calendar entered).

        A year not entered falls back to weekends only: Monday–Friday work, Saturday/Sunday off.
        """
        entered = self._by_year.get(day.year)
        if entered is None:
            return day.weekday() < 5, False
        if day in entered.workdays:
            return True, True
        return day.weekday() < 5 and day not in entered.holidays, True

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working windows of ``day`` as aware local datetimes; empty on a day off."""
        cached = self._windows.get(day)
        if cached is None:
            cached = (
                tuple(
                    (
                        datetime.combine(day, start, tzinfo=CHINA_TZ),
                        datetime.combine(day, end, tzinfo=CHINA_TZ),
                    )
                    for start, end in WORKING_WINDOWS
                )
                if self.is_working_day(day)[0]
                else ()
            )
            if len(self._windows) > 20000:
                self._windows.clear()
            self._windows[day] = cached
        return cached


EMPTY_CALENDAR = WorkCalendar()


def is_working_day(day: date, calendar: WorkCalendar) -> tuple[bool, bool]:
    """(is it a working day, was that year's calendar entered)."""
    return calendar.is_working_day(day)


def calendar_missing_years(calendar: WorkCalendar, first: int, last: int) -> list[int]:
    """The years in [first, last] with no calendar entered."""
    return [y for y in range(first, last + 1) if not calendar.covers(y)]


def fallback_note(years: Sequence[int]) -> str:
    """What a deadline says when it was computed without the calendar of ``years``."""
    zh = "、".join(str(y) for y in years)
    en = ", ".join(str(y) for y in years)
    english = f"holiday calendar for {en} not entered: weekends only"
    return f"{zh}年节假日未录入，仅按周末计算 / {english}"


# The first day of the year-end month from which administrators are warned that next year's
# calendar has not been entered yet (the State Council usually publishes it in October–December).
NEXT_YEAR_WARNING_FROM = (11, 1)  # 1 November, county local time
MIN_YEAR, MAX_YEAR = 2000, 2100


def validate_calendar_year(
    year: int, holidays: Sequence[date], workdays: Sequence[date]
) -> CalendarYear:
    """The year an administrator entered, or ``InvalidInput`` naming the first bad field.

    Every date lies in ``year``; no date twice; a make-up working day (调休) is a Saturday or
    Sunday (a weekday is a working day anyway); no day is both a holiday and a working day.
    """
    if isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            "year", f"应在 {MIN_YEAR}–{MAX_YEAR} 之间 / must be {MIN_YEAR} to {MAX_YEAR}"
        )
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        seen: set[date] = set()
        for i, day in enumerate(days):
            where = f"{name}[{i}].date"
            if day.year != year:
                raise InvalidInput(where, f"{day.isoformat()} 不在 {year} 年 / is not in {year}")
            if day in seen:
                raise InvalidInput(where, f"{day.isoformat()} 重复 / listed twice")
            seen.add(day)
            if name == "workdays" and day.weekday() < 5:
                raise InvalidInput(
                    where,
                    f"{day.isoformat()} 是工作日，调休上班日应为周末 / "
                    "a make-up working day must be a Saturday or Sunday",
                )
    holiday_set = frozenset(holidays)
    for i, day in enumerate(workdays):
        if day in holiday_set:
            raise InvalidInput(
                f"workdays[{i}].date",
                f"{day.isoformat()} 已是假日 / is also listed as a holiday",
            )
    return CalendarYear(year=year, holidays=holiday_set, workdays=frozenset(workdays))


def missing_years_at(calendar: WorkCalendar, now: datetime) -> list[int]:
    """The years administrators must enter now: this year if missing, and from 1 November
    next year if missing."""
    today = _local(now, "now").date()
    years = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_WARNING_FROM:
        years.append(today.year + 1)
    return [y for y in years if not calendar.covers(y)]


def missing_calendar_warning(calendar: WorkCalendar, now: datetime) -> str | None:
    """What administrators are told while ``missing_years_at`` is not empty (else None)."""
    missing = missing_years_at(calendar, now)
    if not missing:
        return None
    zh = "、".join(str(y) for y in missing)
    en = ", ".join(str(y) for y in missing)
    return (
        f"{zh}年节假日安排尚未录入，时限仅按周末计算，请管理员录入 / "
        f"the holiday calendar for {en} is not entered: deadlines count weekends only "
        "until an administrator enters it"
    )


# ---------------------------------------------------------------------------------------------
# Working time


def _local(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime, pass an aware datetime")
    return moment.astimezone(CHINA_TZ)


def _working_between(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """Working time in [start, end); both local and aware. Zero if end <= start."""
    total = _ZERO
    if end <= start:
        return total
    day = start.date()
    last = end.date()
    while day <= last:
        windows = calendar.windows(day)
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


def _advance(start: datetime, amount: timedelta, calendar: WorkCalendar) -> datetime:
    """The earliest instant ``t`` with working time in [start, t) equal to ``amount`` (> 0).

    So a budget that runs out exactly at a window's end gives that end (12:00, 17:30),
    not the start of the next window.
    """
    remaining = amount
    day = start.date()
    while True:
        windows = calendar.windows(day)
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


def working_seconds_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Working time in [start, end), in seconds; 0 if ``end`` is not after ``start``."""
    return _working_between(_local(start, "start"), _local(end, "end"), calendar).total_seconds()


# ---------------------------------------------------------------------------------------------
# Deadlines


def _nth_working_day_after(day: date, n: int, calendar: WorkCalendar) -> date:
    found = 0
    while found < n:
        day += _ONE_DAY
        if calendar.is_working_day(day)[0]:
            found += 1
    return day


def _base_due(assigned: datetime, limit: TimeLimit, calendar: WorkCalendar) -> datetime:
    """The due time with no suspension."""
    if limit.unit == TimeUnit.WORKING_DAYS:
        due_day = _nth_working_day_after(assigned.date(), limit.amount, calendar)
        return datetime.combine(due_day, WORKING_WINDOWS[-1][1], tzinfo=CHINA_TZ)
    if limit.unit == TimeUnit.WORKING_HOURS:
        return _advance(assigned, timedelta(hours=limit.amount), calendar)
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
    start: datetime,
    budget: timedelta,
    pauses: Sequence[tuple[datetime, datetime]],
    calendar: WorkCalendar,
) -> datetime:
    """Spend ``budget`` of working time from ``start``, not counting time inside ``pauses``."""
    cursor = start
    remaining = budget
    for p_start, p_end in pauses:
        if p_end <= cursor:
            continue
        if p_start > cursor:
            available = _working_between(cursor, p_start, calendar)
            if available >= remaining:
                return _advance(cursor, remaining, calendar)
            remaining -= available
        cursor = max(cursor, p_end)
    return _advance(cursor, remaining, calendar)


def compute_deadline(
    *,
    assigned_at: datetime,
    limit: TimeLimit,
    calendar: WorkCalendar,
    suspensions: Sequence[Suspension] = (),
    now: datetime | None = None,
) -> Deadline:
    """When a case assigned at ``assigned_at`` with ``limit`` is due, suspensions considered,
    on ``calendar`` (a year not in it: weekends only, and ``note`` says so).

    ``now`` is needed only to measure an open suspension (``end`` None); then ``paused=True``.
    """
    assigned = _local(assigned_at, "assigned_at")
    if now is not None:
        _local(now, "now")
    if limit.amount < 1:
        raise InvalidInput("limit", "a time limit must be at least 1")
    due = _base_due(assigned, limit, calendar)
    pauses, paused = _merged_pauses(suspensions, assigned, now)
    if pauses:
        # The working time the limit grants, spent around the suspensions.
        budget = _working_between(assigned, due, calendar)
        due = _walk_around(assigned, budget, pauses, calendar)
    uncovered = calendar_missing_years(calendar, assigned.year, due.year)
    return Deadline(
        due_at=due,
        calendar_covered=not uncovered,
        note=fallback_note(uncovered) if uncovered else None,
        paused=paused,
    )


def is_overdue(*, deadline: Deadline, now: datetime) -> bool:
    """Past the due time and not paused (a paused deadline is never overdue)."""
    if deadline.paused:
        _local(now, "now")
        return False
    return _local(now, "now") > deadline.due_at


def remaining_working_seconds(
    *, deadline: Deadline, now: datetime, calendar: WorkCalendar
) -> float:
    """Working seconds left until the due time; negative (working time past due) when overdue."""
    moment = _local(now, "now")
    due = deadline.due_at.astimezone(CHINA_TZ)
    if moment <= due:
        return _working_between(moment, due, calendar).total_seconds()
    return -_working_between(due, moment, calendar).total_seconds()
