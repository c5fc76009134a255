"""Queries for the working calendar (holidays and make-up working days per year)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.models import WorkCalendarYearRow
from sync.workcalendar import CalendarYear


def revision(session: Session) -> int:
    """The highest revision entered (0: none): changes whenever any year is entered."""
    return int(session.exec(select(func.max(WorkCalendarYearRow.revision))).one() or 0)


def current_rows(session: Session) -> list[WorkCalendarYearRow]:
    """The row in force for each year (its highest revision), by year."""
    latest = (
        select(WorkCalendarYearRow.year, func.max(WorkCalendarYearRow.revision).label("rev"))
        .group_by(col(WorkCalendarYearRow.year))
        .subquery()
    )
    rows = session.exec(
        select(WorkCalendarYearRow)
        .join(latest, col(WorkCalendarYearRow.revision) == latest.c.rev)
        .order_by(col(WorkCalendarYearRow.year))
    )
    return list(rows)


def current_row(session: Session, year: int) -> WorkCalendarYearRow | None:
    return session.exec(
        select(WorkCalendarYearRow)
        .where(WorkCalendarYearRow.year == year)
        .order_by(col(WorkCalendarYearRow.revision).desc())
        .limit(1)
    ).first()


def add_row(session: Session, row: WorkCalendarYearRow) -> WorkCalendarYearRow:
    row.revision = revision(session) + 1
    session.add(row)
    session.flush()
    return row


def year_from_row(row: WorkCalendarYearRow) -> CalendarYear:
    return CalendarYear(
        year=row.year,
        holidays=frozenset(date.fromisoformat(d["date"]) for d in row.holidays),
        workdays=frozenset(date.fromisoformat(d["date"]) for d in row.workdays),
    )


def load_years(session: Session) -> list[CalendarYear]:
    return [year_from_row(r) for r in current_rows(session)]
