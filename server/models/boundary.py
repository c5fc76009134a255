"""The versioned boundary list (职责边界清单): a version is a full set of entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class BoundaryVersionRow(SQLModel, table=True):
    __tablename__ = "boundary_version"
    number: int = Field(primary_key=True)
    effective_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(max_length=500)
    # why the version takes effect before it was published (required then)
    backdate_reason: str | None = Field(default=None, max_length=500)
    published_by: str | None = Field(default=None, max_length=36)
    published_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BoundaryEntryRow(SQLModel, table=True):
    __tablename__ = "boundary_entry"
    __table_args__ = (
        UniqueConstraint("version_number", "category", "area_kind", "area_towns_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    version_number: int = Field(foreign_key="boundary_version.number", index=True)
    matter: str = Field(max_length=100)
    category: str = Field(max_length=60, index=True)
    lead_department_code: str = Field(foreign_key="department.code", max_length=40)
    lead_duty: str = Field(max_length=500)
    assisting: list[Any] = Field(
        sa_column=Column(JSONType, nullable=False)
    )  # [{department_code, duty}]
    legal_basis: str = Field(max_length=1000)
    area_kind: str = Field(max_length=20)
    area_towns: list[Any] = Field(sa_column=Column(JSONType, nullable=False))
    area_towns_key: str = Field(default="", max_length=400)
    time_amount: int
    time_unit: str = Field(max_length=20)
    source: str = Field(max_length=200)
