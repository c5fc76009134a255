"""Cases, their append-only event history, and suspension periods."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class Case(SQLModel, table=True):
    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_created_id", "created_at", "id"),
        Index("ix_case_lead_status", "lead_department", "status"),
        Index("ix_case_first_contact", "first_contact_department"),
        Index("ix_case_due", "due_at"),
        # the repeat-report check (server/data/workflow.py repeat_candidates): the box around
        # the report by range, the 30-day window tested inside the index; the site (docs/speed.md)
        Index("ix_case_repeat_place", "category", "lat", "lon", "closed_at"),
        Index("ix_case_repeat_site", "category", "site_code", "closed_at"),
        Index("ix_case_position", "lat", "lon"),  # bounding-box lists
        Index("ix_case_change", "change_seq", "id"),  # sync pull's keyset (change_seq, id)
    )
    id: str = Field(primary_key=True, max_length=36)  # UUID, may be generated offline
    number: str = Field(unique=True, max_length=40)
    status: str = Field(max_length=20, index=True)
    category: str = Field(max_length=60, index=True)
    matter: str | None = Field(default=None, max_length=100)
    description: str = Field(max_length=4000)
    source: str = Field(default="inspection", max_length=20)
    lat: float | None = None
    lon: float | None = None
    town_code: str | None = Field(default=None, max_length=40, index=True)
    site_code: str | None = Field(default=None, max_length=60)
    first_contact_department: str = Field(foreign_key="department.code", max_length=40)
    reporter_user_id: str = Field(max_length=36)
    lead_department: str | None = Field(default=None, max_length=40)
    assisting: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    assisting_codes: str = Field(default=",", max_length=400)  # ",sw,zj," for portable lookups
    legal_basis: str | None = Field(default=None, max_length=1000)
    list_version: int | None = None
    time_amount: int | None = None
    time_unit: str | None = Field(default=None, max_length=20)
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # set when an offline assignment's on-the-spot time was not plausible: why server time
    # was used for assigned_at (sync/clock_rules.py)
    assigned_time_note: str | None = Field(default=None, max_length=300)
    # 签收时限: the lead must accept by then (sync.workflow.acceptance_due_at), shown before
    # anything escalates (read it with the status: only an assigned case awaits acceptance).
    acceptance_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # 退回后重新交办时限: a returned case's first-contact department must re-route it by then.
    reroute_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set when the deadline was computed without a year's holiday calendar (weekends only).
    deadline_note: str | None = Field(default=None, max_length=300)
    suspended: bool = False
    disputed: bool = False
    handler_user_ids: list[Any] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    rework_count: int = 0
    return_count: int = 0
    duplicate_of: str | None = Field(default=None, max_length=36)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = 1  # bumped on every change: optimistic concurrency and sync
    change_seq: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class CaseEvent(SQLModel, table=True):
    """One state change: who, when, where, what, under which list version. Never updated."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    seq: int
    kind: str = Field(max_length=40)  # past tense: CaseCreated, CaseAssigned, ...
    actor_user_id: str = Field(max_length=36)
    actor_department: str = Field(max_length=40)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lat: float | None = None
    lon: float | None = None
    list_version: int | None = None
    status_after: str = Field(max_length=20)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    # the case's hash chain (server/data/event_chain.py): the previous event's hash, and
    # SHA-256 over this event's fields and prev_hash; set when the event is written
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class CaseSuspension(SQLModel, table=True):
    __tablename__ = "case_suspension"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    reason: str = Field(max_length=1000)
