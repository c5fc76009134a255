"""Departments, towns/streets and registered sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class Department(SQLModel, table=True):
    __tablename__ = "department"
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    short_name: str = Field(max_length=40)
    kind: str = Field(default="department", max_length=20)


class TownRow(SQLModel, table=True):
    __tablename__ = "town"
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    urban: bool = False
    polygon: list[Any] = Field(sa_column=Column(JSONType, nullable=False))  # [[lat, lon], ...]


class SiteRow(SQLModel, table=True):
    __tablename__ = "site"
    code: str = Field(primary_key=True, max_length=60)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    category: str | None = Field(default=None, max_length=60)
    town_code: str = Field(foreign_key="town.code", max_length=40)
    lat: float
    lon: float
    radius_m: float = 100.0


class IntakeChannelRow(SQLModel, table=True):
    """An intake channel (受理渠道) a case's ``source`` names; seeded from
    ``sync.intake.INTAKE_CHANNELS`` by migration 0009."""

    __tablename__ = "intake_channel"
    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    position: int = 0


class WorkCalendarYearRow(SQLModel, table=True):
    """One year of the working calendar as entered (holidays, make-up working days). A new entry
    for a year adds a row with a higher ``revision``; the highest is in force; none is edited."""

    __tablename__ = "work_calendar_year"
    revision: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    year: int = Field(index=True)
    holidays: list[Any] = Field(sa_column=Column(JSONType, nullable=False))  # [{date, name}]
    workdays: list[Any] = Field(sa_column=Column(JSONType, nullable=False))  # [{date, name}]
    source: str = Field(max_length=200)  # "chinese-calendar 1.11.0" or the administrator's note
    entered_by: str | None = Field(default=None, max_length=36)  # a user id; None: the seed
    entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UnlistedMatter(SQLModel, table=True):
    """A case the boundary list in force did not cover (category at that place), assigned by
    default to the town/street office of the place (属地管理) or by an override with a reason:
    the register 编办 reviews for the next list version."""

    __tablename__ = "unlisted_matter"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    category: str = Field(max_length=60)
    town_code: str | None = Field(default=None, max_length=40)
    list_version: int
    lead_department: str = Field(max_length=40)
    override_reason: str | None = Field(default=None, max_length=2000)
    recorded_by: str = Field(max_length=36)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
