"""12345 hotline tickets and their import runs; stored evaluation runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class HotlineImport(SQLModel, table=True):
    """One upload of a hotline export, with every row's outcome that was not a clean import."""

    __tablename__ = "hotline_import"
    id: str = Field(primary_key=True, max_length=36)
    filename: str = Field(max_length=200)
    file_sha256: str = Field(max_length=64, index=True)
    encoding: str = Field(max_length=20)  # utf-8, gbk, xlsx
    imported_by: str = Field(foreign_key="app_user.id", max_length=36)
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    total_rows: int = 0
    created_cases: int = 0
    linked: int = 0
    duplicates: int = 0  # repeated in the file or imported before: reported, not stored again
    errors: int = 0
    problems: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))


class HotlineTicket(SQLModel, table=True):
    """A 12345 ticket (工单), stored once per ticket number, linked to its case."""

    __tablename__ = "hotline_ticket"
    __table_args__ = (
        Index("ix_hotline_ticket_category_received", "category", "received_at"),
        Index("ix_hotline_ticket_case", "case_id"),
    )
    ticket_no: str = Field(primary_key=True, max_length=60)
    import_id: str = Field(foreign_key="hotline_import.id", max_length=36, index=True)
    row_number: int
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    area: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    lon: float | None = None
    town_code: str | None = Field(default=None, max_length=40)
    category: str = Field(max_length=60)
    matter: str | None = Field(default=None, max_length=100)
    content: str = Field(max_length=4000)
    department: str | None = Field(default=None, max_length=40)  # the boundary list's lead
    case_id: str = Field(foreign_key="case_record.id", max_length=36)
    outcome: str = Field(max_length=20)  # "created" | "linked"


class EvaluationRun(SQLModel, table=True):
    """A scoring run: its period, the events it saw (ids <= high_water_mark), rules and results."""

    __tablename__ = "evaluation_run"
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    period_kind: str = Field(max_length=10)
    period_label: str = Field(max_length=20, index=True)
    period_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    period_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    high_water_mark: int = Field(sa_column=Column(BigInteger(), nullable=False))
    rules_version: str = Field(max_length=40)
    rules_digest: str = Field(max_length=64)
    rules_text: str = Field(sa_column=Column(Text(), nullable=False))
    created_by: str = Field(foreign_key="app_user.id", max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    results: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )


class HotlineColumnAlias(SQLModel, table=True):
    """A header name an administrator mapped to one of the import's columns."""

    __tablename__ = "hotline_column_alias"
    header: str = Field(primary_key=True, max_length=100)  # trimmed, lower-cased
    column: str = Field(max_length=40)
    set_by: str = Field(foreign_key="app_user.id", max_length=36)
    set_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class HotlineCallBack(SQLModel, table=True):
    """A 12345 call-back (回访) result for one ticket, counted on the ticket's case."""

    __tablename__ = "hotline_call_back"
    __table_args__ = (
        UniqueConstraint("ticket_no", "called_back_at", name="uq_hotline_call_back_ticket_at"),
        Index("ix_hotline_call_back_case", "case_id"),
    )
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    ticket_no: str = Field(foreign_key="hotline_ticket.ticket_no", max_length=60)
    case_id: str = Field(foreign_key="case_record.id", max_length=36)
    result: str = Field(max_length=30)  # sync.vocabulary.CallBackResult
    comment: str | None = Field(default=None, max_length=1000)
    called_back_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: str = Field(foreign_key="app_user.id", max_length=36)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reopened: bool = False  # it counted like a repeat report and reopened the closed case
