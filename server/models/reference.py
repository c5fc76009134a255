"""Departments, towns/streets and registered sites."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.models.types import JSONType


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
