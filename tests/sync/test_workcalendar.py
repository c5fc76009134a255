"""Deadline rules (时限) on China's holiday calendar.

Expected values were worked out by hand from the published 2026 calendar
(国务院办公厅 2026 年节假日安排, as carried by chinese-calendar 1.11):

    September 2026                 October 2026
    Mo Tu We Th Fr Sa Su           Mo Tu We Th Fr Sa Su
        1  2  3  4  5  6                     1  2  3  4
     7  8  9 10 11 12 13            5  6  7  8  9 10 11
    14 15 16 17 18 19 20           12 13 14 15 16 17 18
    21 22 23 24 25 26 27
    28 29 30

    Sep 20 (Sun)  make-up working day (调休)
    Sep 25–27     Mid-Autumn Festival (中秋), days off
    Oct 1–7       National Day (国庆), days off
    Oct 10 (Sat)  make-up working day (调休)

March 2026 (used for "ordinary week" cases) has no holiday or make-up day: Mon 9 – Fri 13.
Working time: 08:30–12:00 and 13:30–17:30 (7.5 h a day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.boundary_types import TimeLimit
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput
from sync.vocabulary import TimeUnit
from sync.workcalendar import (
    CalendarYear,
    Deadline,
    Suspension,
    WorkCalendar,
    compute_deadline,
    is_overdue,
    is_working_day,
    missing_calendar_warning,
    missing_years_at,
    remaining_working_seconds,
    validate_calendar_year,
    working_seconds_between,
)
from tests.support.work_calendar import SEEDED

HOUR = 3600.0


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A county-local instant."""
    return datetime(y, mo, d, h, mi, tzinfo=CHINA_TZ)


def days(n: int) -> TimeLimit:
    return TimeLimit(amount=n, unit=TimeUnit.WORKING_DAYS)


def hours(n: int) -> TimeLimit:
    return TimeLimit(amount=n, unit=TimeUnit.WORKING_HOURS)


def due(
    assigned: datetime, limit: TimeLimit, *sus: Suspension, now: datetime | None = None
) -> datetime:
    return compute_deadline(
        calendar=SEEDED, assigned_at=assigned, limit=limit, suspensions=sus, now=now
    ).due_at


# --- the calendar ------------------------------------------------------------------------------


def test_calendar_knows_2026_holidays_and_make_up_days() -> None:
    assert is_working_day(date(2026, 10, 1), SEEDED) == (False, True)  # National Day, a Thursday
    assert is_working_day(date(2026, 9, 25), SEEDED) == (False, True)  # Mid-Autumn, a Friday
    assert is_working_day(date(2026, 9, 20), SEEDED) == (True, True)  # Sunday, make-up working day
    assert is_working_day(date(2026, 10, 10), SEEDED) == (
        True,
        True,
    )  # Saturday, make-up working day
    assert is_working_day(date(2026, 3, 7), SEEDED) == (False, True)  # ordinary Saturday


def test_uncovered_year_falls_back_to_weekends_only() -> None:
    assert is_working_day(date(2031, 1, 1), SEEDED) == (True, False)  # a Wednesday: no holiday data
    assert is_working_day(date(2031, 1, 4), SEEDED) == (False, False)  # Saturday
    assert is_working_day(date(2031, 1, 5), SEEDED) == (False, False)  # Sunday


# --- working days ------------------------------------------------------------------------------


def test_assignment_day_itself_does_not_count() -> None:
    # Mon 10:00, 1 working day → Tue 17:30; so does Mon 00:30 and Mon 08:00.
    assert due(at(2026, 3, 9, 10), days(1)) == at(2026, 3, 10, 17, 30)
    assert due(at(2026, 3, 9, 0, 30), days(1)) == at(2026, 3, 10, 17, 30)
    assert due(at(2026, 3, 9, 8), days(1)) == at(2026, 3, 10, 17, 30)


def test_deadline_in_days_skips_national_day_holiday() -> None:
    # Wed Sep 30 → next working days: Thu Oct 8, Fri Oct 9, Sat Oct 10 (调休), Mon Oct 12.
    assigned = at(2026, 9, 30, 10)
    assert due(assigned, days(1)) == at(2026, 10, 8, 17, 30)
    assert due(assigned, days(3)) == at(2026, 10, 10, 17, 30)
    assert due(assigned, days(4)) == at(2026, 10, 12, 17, 30)


def test_deadline_in_days_skips_mid_autumn_holiday() -> None:
    # Thu Sep 24 → Fri 25 – Sun 27 off → Mon Sep 28.
    assert due(at(2026, 9, 24, 10), days(1)) == at(2026, 9, 28, 17, 30)


def test_make_up_sunday_counts_as_a_working_day() -> None:
    # Fri Sep 18 → Sat 19 off → Sun Sep 20 is a make-up working day.
    assert due(at(2026, 9, 18, 9), days(1)) == at(2026, 9, 20, 17, 30)


def test_friday_evening_assignment_is_due_monday_for_one_day() -> None:
    assert due(at(2026, 3, 6, 19), days(1)) == at(2026, 3, 9, 17, 30)
    assert due(at(2026, 3, 6, 19), days(5)) == at(2026, 3, 13, 17, 30)


def test_assignment_date_is_the_county_local_date() -> None:
    # Sun 20:00 UTC is Mon 04:00 in the county: the Monday does not count, due Tue.
    assigned = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
    result = compute_deadline(calendar=SEEDED, assigned_at=assigned, limit=days(1))
    assert result.due_at == at(2026, 3, 10, 17, 30)
    assert result.due_at.utcoffset() == timedelta(hours=8)


# --- working hours -----------------------------------------------------------------------------


def test_deadline_in_hours_skips_national_day_holiday() -> None:
    # Wed Sep 30 16:00: 1.5 h that day, then Thu Oct 8 from 08:30.
    assert due(at(2026, 9, 30, 16), hours(4)) == at(2026, 10, 8, 11)  # 1.5 + 2.5
    assert due(at(2026, 9, 30, 16), hours(8)) == at(2026, 10, 8, 16, 30)  # 1.5 + 3.5 + 3


def test_hours_deadline_runs_on_a_make_up_sunday() -> None:
    # Fri Sep 18 17:00: 0.5 h on Friday, Sat off, Sun Sep 20 (调休) 08:30 + 0.5 h.
    assert due(at(2026, 9, 18, 17), hours(1)) == at(2026, 9, 20, 9)


def test_friday_evening_hours_start_monday_morning() -> None:
    assert due(at(2026, 3, 6, 19), hours(2)) == at(2026, 3, 9, 10, 30)


def test_hours_assigned_outside_working_time_start_at_next_window() -> None:
    assert due(at(2026, 3, 10, 12, 30), hours(2)) == at(2026, 3, 10, 15, 30)  # lunch break
    assert due(at(2026, 3, 10, 20), hours(1)) == at(2026, 3, 11, 9, 30)  # evening
    assert due(at(2026, 3, 10, 7), hours(1)) == at(2026, 3, 10, 9, 30)  # early morning


def test_hours_deadline_spans_the_lunch_break() -> None:
    assert due(at(2026, 3, 10, 11), hours(4)) == at(2026, 3, 10, 16, 30)  # 1 h + 3 h


def test_hours_deadline_ending_exactly_at_noon_is_noon() -> None:
    # 09:00 + 3 h uses the rest of the morning: due at 12:00, not at 13:30.
    assert due(at(2026, 3, 10, 9), hours(3)) == at(2026, 3, 10, 12)
    # …and one more hour runs into the afternoon window: 13:30 + 1 h.
    assert due(at(2026, 3, 10, 9), hours(4)) == at(2026, 3, 10, 14, 30)


# --- suspensions -------------------------------------------------------------------------------


def test_suspension_moves_days_deadline_by_the_suspended_working_time() -> None:
    # Mon 10:00, 1 day → Tue 17:30. Suspended Mon 11:00–15:00 = 1 h + 1.5 h = 2.5 working hours,
    # so due 2.5 working hours after Tue 17:30: Wed 11:00.
    s = Suspension(at(2026, 3, 9, 11), at(2026, 3, 9, 15), "等待产权单位提供图纸")
    assert due(at(2026, 3, 9, 10), days(1), s) == at(2026, 3, 11, 11)


def test_suspension_moves_hours_deadline_by_the_suspended_working_time() -> None:
    # Mon 09:00, 8 h → Tue 09:30. Suspended Mon 14:00 – Tue 09:00: 3.5 h + 0.5 h = 4 h.
    # Tue 09:30 + 4 working hours = 09:30–12:00 (2.5) + 13:30–15:00 (1.5) → Tue 15:00.
    assert due(at(2026, 3, 9, 9), hours(8)) == at(2026, 3, 10, 9, 30)
    s = Suspension(at(2026, 3, 9, 14), at(2026, 3, 10, 9), "司法鉴定中")
    assert due(at(2026, 3, 9, 9), hours(8), s) == at(2026, 3, 10, 15)


def test_suspension_outside_working_time_does_not_move_the_deadline() -> None:
    weekend = Suspension(at(2026, 3, 7, 0), at(2026, 3, 9, 0), "周末停工")
    lunch = Suspension(at(2026, 3, 9, 12), at(2026, 3, 9, 13, 30), "午休")
    assert due(at(2026, 3, 6, 19), days(1), weekend, lunch) == at(2026, 3, 9, 17, 30)


def test_suspension_after_the_due_time_does_not_move_it() -> None:
    late = Suspension(at(2026, 3, 11, 9), at(2026, 3, 11, 10), "事后中止")
    assert due(at(2026, 3, 9, 10), days(1), late) == at(2026, 3, 10, 17, 30)


def test_suspension_before_assignment_counts_only_from_assignment() -> None:
    # Suspended Mon 08:30–11:00 but assigned Mon 10:00: only 10:00–11:00 (1 h) counts.
    s = Suspension(at(2026, 3, 9, 8, 30), at(2026, 3, 9, 11), "交办前已中止")
    assert due(at(2026, 3, 9, 10), days(1), s) == at(2026, 3, 11, 9, 30)


def test_suspension_pushes_deadline_over_national_day() -> None:
    # Mon Sep 28 10:00, 2 days → Wed Sep 30 17:30. Suspended all of Tue Sep 29 (7.5 h):
    # due one full working day later, skipping Oct 1–7 → Thu Oct 8 17:30.
    s = Suspension(at(2026, 9, 29, 0), at(2026, 9, 30, 0), "等待会商")
    assert due(at(2026, 9, 28, 10), days(2)) == at(2026, 9, 30, 17, 30)
    assert due(at(2026, 9, 28, 10), days(2), s) == at(2026, 10, 8, 17, 30)


def test_overlapping_suspensions_are_counted_once() -> None:
    # Mon 11:00–14:00 and Mon 13:00–15:00 together cover 11:00–15:00 = 2.5 working hours
    # (double counting would give 3 h and Wed 11:30). Expected Wed 11:00, as for one suspension.
    a = Suspension(at(2026, 3, 9, 11), at(2026, 3, 9, 14), "协调中")
    b = Suspension(at(2026, 3, 9, 13), at(2026, 3, 9, 15), "等待鉴定")
    assert due(at(2026, 3, 9, 10), days(1), a, b) == at(2026, 3, 11, 11)
    assert due(at(2026, 3, 9, 10), days(1), b, a) == at(2026, 3, 11, 11)
    assert due(at(2026, 3, 9, 10), days(1), a, a) == due(at(2026, 3, 9, 10), days(1), a)


def test_nested_suspension_is_counted_once() -> None:
    outer = Suspension(at(2026, 3, 9, 11), at(2026, 3, 9, 15), "外")
    inner = Suspension(at(2026, 3, 9, 11, 30), at(2026, 3, 9, 14), "内")
    assert due(at(2026, 3, 9, 10), days(1), outer, inner) == at(2026, 3, 11, 11)


def test_open_suspension_lasts_until_now_and_pauses_the_deadline() -> None:
    # Mon 10:00, 1 day → Tue 17:30. Suspended Tue 09:00, still open at Tue 16:00:
    # 09:00–12:00 (3 h) + 13:30–16:00 (2.5 h) = 5.5 h → Wed 08:30 + 5.5 working h = Wed 15:30.
    s = Suspension(at(2026, 3, 10, 9), None, "等待上级批复")
    result = compute_deadline(
        calendar=SEEDED,
        assigned_at=at(2026, 3, 9, 10),
        limit=days(1),
        suspensions=(s,),
        now=at(2026, 3, 10, 16),
    )
    assert result.paused is True
    assert result.due_at == at(2026, 3, 11, 15, 30)
    assert not is_overdue(deadline=result, now=at(2026, 4, 30, 9))


def test_closed_suspension_is_not_paused() -> None:
    s = Suspension(at(2026, 3, 10, 9), at(2026, 3, 10, 10), "已恢复")
    result = compute_deadline(
        calendar=SEEDED,
        assigned_at=at(2026, 3, 9, 10),
        limit=days(1),
        suspensions=(s,),
        now=at(2026, 3, 20),
    )
    assert result.paused is False
    assert is_overdue(deadline=result, now=at(2026, 3, 20))


def test_open_suspension_needs_now() -> None:
    s = Suspension(at(2026, 3, 10, 9), None, "等待上级批复")
    with pytest.raises(InvalidInput) as info:
        compute_deadline(
            calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1), suspensions=(s,)
        )
    assert info.value.field == "now"


@pytest.mark.parametrize("reason", ["", "   "])
def test_suspension_without_a_reason_is_refused(reason: str) -> None:
    s = Suspension(at(2026, 3, 10, 9), at(2026, 3, 10, 10), reason)
    with pytest.raises(InvalidInput) as info:
        compute_deadline(
            calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1), suspensions=(s,)
        )
    assert info.value.field == "reason"


def test_suspension_ending_before_it_starts_is_refused() -> None:
    s = Suspension(at(2026, 3, 10, 10), at(2026, 3, 10, 9), "倒置")
    with pytest.raises(InvalidInput):
        compute_deadline(
            calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1), suspensions=(s,)
        )


# --- years the calendar does not cover ---------------------------------------------------------


def test_uncovered_year_uses_weekends_only_and_says_so() -> None:
    # Wed Apr 30 2031: May 1 (Thu) is Labour Day in reality, but 2031 has no holiday data,
    # so only weekends are off: 1 day → Thu May 1, 3 days → Mon May 5 (Sat/Sun 3–4 off).
    result = compute_deadline(calendar=SEEDED, assigned_at=at(2031, 4, 30, 10), limit=days(1))
    assert result.due_at == at(2031, 5, 1, 17, 30)
    assert due(at(2031, 4, 30, 10), days(3)) == at(2031, 5, 5, 17, 30)
    assert result.calendar_covered is False
    assert result.note == (
        "2031年节假日未录入，仅按周末计算 / holiday calendar for 2031 not entered: weekends only"
    )


def test_note_names_every_uncovered_year_of_the_computation() -> None:
    # Tue Dec 31 2030, 1 day → Wed Jan 1 2031 (weekends only in both years).
    result = compute_deadline(calendar=SEEDED, assigned_at=at(2030, 12, 31, 10), limit=days(1))
    assert result.due_at == at(2031, 1, 1, 17, 30)
    assert result.calendar_covered is False
    assert result.note is not None
    assert "2030、2031年节假日未录入" in result.note
    assert "holiday calendar for 2030, 2031 not entered" in result.note


def test_uncovered_year_skips_weekends_in_hours() -> None:
    # Fri Jan 3 2031 17:00, 1 h: 0.5 h Friday, weekend off, Mon Jan 6 09:00.
    result = compute_deadline(calendar=SEEDED, assigned_at=at(2031, 1, 3, 17), limit=hours(1))
    assert result.due_at == at(2031, 1, 6, 9)
    assert result.calendar_covered is False


def test_covered_year_has_no_note() -> None:
    result = compute_deadline(calendar=SEEDED, assigned_at=at(2026, 9, 30, 10), limit=days(1))
    assert result.calendar_covered is True
    assert result.note is None


def _calendar_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(_calendar_covers(2027), reason="the installed calendar now covers 2027")
def test_deadline_running_into_an_uncovered_year_is_flagged() -> None:
    # Thu Dec 31 2026, 1 day → Fri Jan 1 2027 (no 2027 data: weekends only).
    result = compute_deadline(calendar=SEEDED, assigned_at=at(2026, 12, 31, 10), limit=days(1))
    assert result.due_at == at(2027, 1, 1, 17, 30)
    assert result.calendar_covered is False
    assert result.note is not None
    assert "2027" in result.note
    assert "2026" not in result.note


# --- the calendar is data ----------------------------------------------------------------------

NEW_YEAR_2027 = CalendarYear(
    2027,
    holidays=frozenset({date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)}),
    workdays=frozenset(),
)


def test_new_year_2027_is_a_holiday_once_2027_is_entered() -> None:
    # Thu 31 Dec 2026, 1 working day: 元旦 2027 (Fri 1 Jan) counts as a working day until 2027
    # is entered; once it is, the deadline moves to Mon 4 Jan and says nothing is missing.
    without = compute_deadline(
        calendar=WorkCalendar(()), assigned_at=at(2026, 12, 31, 10), limit=days(1)
    )
    assert without.due_at == at(2027, 1, 1, 17, 30)
    assert without.note is not None and "2027" in without.note and "2026" in without.note
    calendar = WorkCalendar((*SEEDED.years, NEW_YEAR_2027))
    with_2027 = compute_deadline(calendar=calendar, assigned_at=at(2026, 12, 31, 10), limit=days(1))
    assert with_2027.due_at == at(2027, 1, 4, 17, 30)
    assert with_2027.calendar_covered is True and with_2027.note is None


def test_a_make_up_working_day_entered_counts_as_a_working_day() -> None:
    year = CalendarYear(2031, holidays=frozenset(), workdays=frozenset({date(2031, 1, 4)}))
    calendar = WorkCalendar((year,))
    assert is_working_day(date(2031, 1, 4), calendar) == (True, True)  # a Saturday, worked
    # Fri 3 Jan 2031 10:00, 1 working day → Sat 4 Jan (make-up day), not Mon 6 Jan
    due = compute_deadline(calendar=calendar, assigned_at=at(2031, 1, 3, 10), limit=days(1))
    assert due.due_at == at(2031, 1, 4, 17, 30)


@pytest.mark.parametrize(
    ("holidays", "workdays", "field"),
    [
        ([date(2026, 12, 31)], [], "holidays[0].date"),  # not in 2027
        ([date(2027, 1, 1), date(2027, 1, 1)], [], "holidays[1].date"),  # twice
        ([date(2027, 1, 1)], [date(2027, 1, 4)], "workdays[0].date"),  # a Monday
        ([date(2027, 2, 6)], [date(2027, 2, 6)], "workdays[0].date"),  # both
    ],
)
def test_a_calendar_year_with_a_bad_date_is_refused_naming_the_field(
    holidays: list[date], workdays: list[date], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_calendar_year(2027, holidays, workdays)
    assert err.value.field == field


def test_administrators_are_warned_from_1_november_that_next_year_is_missing() -> None:
    assert missing_years_at(SEEDED, at(2026, 10, 31, 23, 59)) == []
    assert missing_calendar_warning(SEEDED, at(2026, 10, 31, 23, 59)) is None
    assert missing_years_at(SEEDED, at(2026, 11, 1, 0, 0)) == [2027]
    warning = missing_calendar_warning(SEEDED, at(2026, 11, 1, 0, 0))
    assert warning is not None and "2027" in warning
    entered = WorkCalendar((*SEEDED.years, NEW_YEAR_2027))
    assert missing_calendar_warning(entered, at(2026, 12, 1)) is None
    # a year under way that was never entered is missing too
    assert missing_years_at(SEEDED, at(2027, 3, 1)) == [2027]


# --- inputs refused ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 9, 10)
    with pytest.raises(ValueError):
        compute_deadline(calendar=SEEDED, assigned_at=naive, limit=days(1))
    with pytest.raises(ValueError):
        compute_deadline(
            calendar=SEEDED,
            assigned_at=at(2026, 3, 9, 10),
            limit=days(1),
            suspensions=(Suspension(naive, None, "x"),),
            now=at(2026, 3, 10),
        )
    with pytest.raises(ValueError):
        compute_deadline(calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1), now=naive)
    with pytest.raises(ValueError):
        working_seconds_between(naive, at(2026, 3, 10), SEEDED)
    deadline = compute_deadline(calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1))
    with pytest.raises(ValueError):
        is_overdue(deadline=deadline, now=naive)
    with pytest.raises(ValueError):
        remaining_working_seconds(calendar=SEEDED, deadline=deadline, now=naive)


@pytest.mark.parametrize("amount", [0, -1])
def test_limit_below_one_is_refused(amount: int) -> None:
    with pytest.raises(InvalidInput) as info:
        compute_deadline(calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(amount))
    assert info.value.field == "limit"


# --- working time, overdue, remaining ----------------------------------------------------------


def test_working_seconds_count_only_working_windows() -> None:
    assert working_seconds_between(at(2026, 3, 9), at(2026, 3, 10), SEEDED) == 7.5 * HOUR
    assert working_seconds_between(at(2026, 3, 9, 11), at(2026, 3, 9, 14), SEEDED) == 1.5 * HOUR
    assert working_seconds_between(at(2026, 3, 6, 17), at(2026, 3, 9, 9), SEEDED) == 1 * HOUR
    assert working_seconds_between(at(2026, 3, 10), at(2026, 3, 9), SEEDED) == 0.0
    # Sep 30 → Oct 8 00:00: only Sep 30 is a working day in between.
    assert working_seconds_between(at(2026, 9, 30), at(2026, 10, 8), SEEDED) == 7.5 * HOUR


def test_overdue_only_after_the_due_time() -> None:
    deadline = compute_deadline(calendar=SEEDED, assigned_at=at(2026, 3, 9, 10), limit=days(1))
    assert not is_overdue(deadline=deadline, now=at(2026, 3, 10, 17, 30))
    assert is_overdue(deadline=deadline, now=at(2026, 3, 10, 17, 31))


def test_remaining_working_seconds_is_negative_when_overdue() -> None:
    deadline = Deadline(due_at=at(2026, 3, 10, 17, 30), calendar_covered=True, note=None)
    assert (
        remaining_working_seconds(calendar=SEEDED, deadline=deadline, now=at(2026, 3, 10, 16, 30))
        == HOUR
    )
    assert (
        remaining_working_seconds(calendar=SEEDED, deadline=deadline, now=at(2026, 3, 10, 20))
        == 0.0
    )
    assert (
        remaining_working_seconds(calendar=SEEDED, deadline=deadline, now=at(2026, 3, 11, 9, 30))
        == -HOUR
    )
    # Over a holiday: due Wed Sep 30 17:30, now Thu Oct 8 10:00 → 1.5 working hours late.
    holiday = Deadline(due_at=at(2026, 9, 30, 17, 30), calendar_covered=True, note=None)
    assert (
        remaining_working_seconds(calendar=SEEDED, deadline=holiday, now=at(2026, 10, 8, 10))
        == -1.5 * HOUR
    )


# --- properties --------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 6, 1),
    max_value=datetime(2027, 6, 30),
    timezones=st.sampled_from([CHINA_TZ, UTC]),
)
units = st.sampled_from(list(TimeUnit))


def is_working_instant(moment: datetime) -> bool:
    local = moment.astimezone(CHINA_TZ)
    if not is_working_day(local.date(), SEEDED)[0]:
        return False
    t = local.timetz().replace(tzinfo=None)
    return (
        datetime(1, 1, 1, 8, 30).time() <= t <= datetime(1, 1, 1, 12).time()
        or datetime(1, 1, 1, 13, 30).time() <= t <= datetime(1, 1, 1, 17, 30).time()
    )


@settings(max_examples=300, deadline=None)
@given(assigned=instants, unit=units, n=st.integers(1, 40), extra=st.integers(1, 20))
def test_due_is_a_working_instant_after_assignment_and_grows_with_the_limit(
    assigned: datetime, unit: TimeUnit, n: int, extra: int
) -> None:
    first = compute_deadline(calendar=SEEDED, assigned_at=assigned, limit=TimeLimit(n, unit)).due_at
    later = compute_deadline(
        calendar=SEEDED, assigned_at=assigned, limit=TimeLimit(n + extra, unit)
    ).due_at
    assert first > assigned
    assert is_working_instant(first)
    assert is_working_instant(later)
    assert first < later
    assert first.utcoffset() == timedelta(hours=8)


@settings(max_examples=200, deadline=None)
@given(assigned=instants, n=st.integers(1, 60))
def test_hours_deadline_contains_exactly_the_limit_of_working_time(
    assigned: datetime, n: int
) -> None:
    result = compute_deadline(calendar=SEEDED, assigned_at=assigned, limit=hours(n))
    assert working_seconds_between(assigned, result.due_at, SEEDED) == n * HOUR


@settings(max_examples=200, deadline=None)
@given(
    assigned=instants,
    unit=units,
    n=st.integers(1, 15),
    offset=st.integers(-3 * 24 * 60, 20 * 24 * 60),
    length=st.integers(0, 10 * 24 * 60),
)
def test_suspension_delays_due_by_exactly_the_suspended_working_time(
    assigned: datetime, unit: TimeUnit, n: int, offset: int, length: int
) -> None:
    start = assigned + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    plain = compute_deadline(calendar=SEEDED, assigned_at=assigned, limit=TimeLimit(n, unit)).due_at
    moved = due(assigned, TimeLimit(n, unit), Suspension(start, end, "中止"))
    assert moved >= plain
    suspended = working_seconds_between(max(start, assigned), min(end, moved), SEEDED)
    assert working_seconds_between(plain, moved, SEEDED) == pytest.approx(suspended, abs=1e-6)
