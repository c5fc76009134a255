"""The working calendar as reference data: an administrator enters a year's holidays and make-up
working days; every deadline is computed on the calendar in force (``current_calendar``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from server.data import work_calendar as calendar_data
from server.models import WorkCalendarYearRow
from sync.errors import InvalidInput, NotPermitted
from sync.lifecycle import Actor
from sync.vocabulary import Role
from sync.workcalendar import WorkCalendar, validate_calendar_year

MAX_NAME = 40
MAX_SOURCE = 200


@dataclass(frozen=True)
class NamedDay:
    day: date
    name: str = ""


_lock = threading.Lock()
_cached: tuple[int, WorkCalendar] | None = None


def current_calendar(session: Session) -> WorkCalendar:
    """The calendar in force, reloaded only when a year was entered since (any process)."""
    global _cached
    rev = calendar_data.revision(session)
    cached = _cached
    if cached is not None and cached[0] == rev:
        return cached[1]
    calendar = WorkCalendar(tuple(calendar_data.load_years(session)))
    with _lock:
        _cached = (rev, calendar)
    return calendar


def _days(field: str, days: Sequence[NamedDay]) -> list[dict[str, str]]:
    out = []
    for i, d in enumerate(days):
        if len(d.name) > MAX_NAME:
            raise InvalidInput(f"{field}[{i}].name", f"最多 {MAX_NAME} 字 / at most {MAX_NAME}")
        out.append({"date": d.day.isoformat(), "name": d.name.strip()})
    return sorted(out, key=lambda x: x["date"])


def put_year(
    session: Session,
    *,
    actor: Actor,
    year: int,
    holidays: Sequence[NamedDay],
    workdays: Sequence[NamedDay],
    source: str,
    now: datetime,
) -> WorkCalendarYearRow:
    """Enter (or re-enter) one year's calendar. Administrators only; the earlier entry is kept."""
    if actor.role != Role.ADMIN:
        raise NotPermitted(
            "只有管理员可以维护节假日 / only an administrator maintains the calendar"
        )
    validate_calendar_year(year, [d.day for d in holidays], [d.day for d in workdays])
    source = source.strip()
    if not source:
        raise InvalidInput("source", "须写明依据（如国务院办公厅通知） / state the source")
    if len(source) > MAX_SOURCE:
        raise InvalidInput("source", f"最多 {MAX_SOURCE} 字 / at most {MAX_SOURCE}")
    row = WorkCalendarYearRow(
        revision=0,
        year=year,
        holidays=_days("holidays", holidays),
        workdays=_days("workdays", workdays),
        source=source,
        entered_by=actor.user_id,
        entered_at=now,
    )
    return calendar_data.add_row(session, row)
