"""The working calendar the server's migration seeds, for tests of the pure rules: every year
the installed ``chinese-calendar`` covers (the server's copy is the same data, from 0008)."""

from __future__ import annotations

from datetime import date

import chinese_calendar

from sync.workcalendar import CalendarYear, WorkCalendar


def _seeded() -> WorkCalendar:
    years: dict[int, tuple[set[date], set[date]]] = {}
    for day in chinese_calendar.holidays:
        years.setdefault(day.year, (set(), set()))[0].add(day)
    for day in chinese_calendar.workdays:
        years.setdefault(day.year, (set(), set()))[1].add(day)
    return WorkCalendar(
        tuple(
            CalendarYear(year, frozenset(h), frozenset(w)) for year, (h, w) in sorted(years.items())
        )
    )


SEEDED = _seeded()
