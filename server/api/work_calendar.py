"""The working calendar (节假日安排): administrators list and enter each year's holidays and
make-up working days; the list says which years are missing (from 1 November: next year)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import NowDep, SessionDep, require_role
from server.data import work_calendar as calendar_data
from server.models import WorkCalendarYearRow
from server.services import work_calendar as calendar_service
from server.services.boundary_cache import ReferenceCache
from sync.lifecycle import Actor
from sync.vocabulary import Role
from sync.workcalendar import MAX_YEAR, MIN_YEAR, missing_calendar_warning, missing_years_at

router = APIRouter(prefix="/reference/work-calendar", tags=["reference"])

AdminOnly = Annotated[Actor, Depends(require_role(Role.ADMIN))]


class CalendarDayIO(BaseModel):
    date: date
    name: str = Field(default="", max_length=calendar_service.MAX_NAME)


class CalendarYearIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "holidays": [
                    {"date": "2027-01-01", "name": "元旦"},
                    {"date": "2027-01-02", "name": "元旦"},
                    {"date": "2027-01-03", "name": "元旦"},
                ],
                "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
                "source": "国务院办公厅关于2027年部分节假日安排的通知",
            }
        }
    )
    holidays: list[CalendarDayIO] = Field(max_length=200)
    workdays: list[CalendarDayIO] = Field(default_factory=list, max_length=60)
    source: str = Field(max_length=calendar_service.MAX_SOURCE)


class CalendarYearOut(BaseModel):
    year: int
    holidays: list[CalendarDayIO]
    workdays: list[CalendarDayIO]
    source: str
    entered_by: str | None
    entered_at: datetime
    revision: int


class WorkCalendarOut(BaseModel):
    years: list[CalendarYearOut]
    # Years the deadlines count on weekends only: this year if missing, and from 1 November
    # next year if missing. ``warning`` says so to administrators (None: nothing missing).
    missing_years: list[int]
    warning: str | None


def _year_out(row: WorkCalendarYearRow) -> CalendarYearOut:
    return CalendarYearOut.model_validate(row, from_attributes=True)


@router.get("", response_model=WorkCalendarOut, summary="Every year entered (administrators)")
def list_years(session: SessionDep, now: NowDep, _actor: AdminOnly) -> WorkCalendarOut:
    rows = calendar_data.current_rows(session)
    calendar = calendar_service.current_calendar(session)
    warning = missing_calendar_warning(calendar, now)
    return WorkCalendarOut(
        years=[_year_out(r) for r in rows],
        missing_years=missing_years_at(calendar, now),
        warning=warning,
    )


@router.put(
    "/{year}",
    response_model=CalendarYearOut,
    summary="Enter one year's holidays and make-up working days (administrators)",
)
def put_year(
    year: Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR)],
    body: CalendarYearIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    actor: AdminOnly,
) -> CalendarYearOut:
    row = calendar_service.put_year(
        session,
        actor=actor,
        year=year,
        holidays=[calendar_service.NamedDay(d.date, d.name) for d in body.holidays],
        workdays=[calendar_service.NamedDay(d.date, d.name) for d in body.workdays],
        source=body.source,
        now=now,
    )
    session.commit()
    cache: ReferenceCache = request.app.state.reference_cache
    cache.invalidate()
    return _year_out(row)
