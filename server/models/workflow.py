"""Workflow tables: assisting tasks, disputes, escalations, notifications, joint sessions,
minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class AssistTask(SQLModel, table=True):
    """One assisting department's duty on a case, with its own time node."""

    __tablename__ = "assist_task"
    __table_args__ = (UniqueConstraint("case_id", "department"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    department: str = Field(max_length=40, index=True)
    duty: str = Field(max_length=500)
    status: str = Field(default="open", max_length=20)  # open | reported | withdrawn
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reported_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    report_note: str | None = Field(default=None, max_length=4000)
    report_photos: list[Any] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=2000)
    rated_by: str | None = Field(default=None, max_length=36)
    rated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"
    id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    raised_by_department: str = Field(max_length=40)
    raised_by_user: str = Field(max_length=36)
    reason: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=1000)
    claimed_responsible: str | None = Field(default=None, max_length=40)
    involved: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # {department: {"not_ours": bool, "reason": str, "legal_basis": str}}
    positions: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    stage: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20, index=True)
    needs_county_leader: bool = False
    stage_started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stage_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    suspensions: list[Any] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )  # [{start, end, reason}] of the current stage
    suspended: bool = False
    raised_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    responsible_department: str | None = Field(default=None, max_length=40)
    lost_by: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    new_list_version: int | None = None
    minute_id: str | None = Field(default=None, max_length=36)
    ruling_text: str | None = Field(default=None, max_length=4000)


class CaseEscalation(SQLModel, table=True):
    """One level of supervision reached by one case for one deadline. The unique key makes
    the scheduled job idempotent across server processes."""

    __tablename__ = "case_escalation"
    __table_args__ = (UniqueConstraint("case_id", "due_at", "level"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    case_id: str = Field(foreign_key="case_record.id", index=True, max_length=36)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    level: str = Field(max_length=20)
    departments: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Notification(SQLModel, table=True):
    """A message for a department ("zhzf") or a role ("role:supervisor")."""

    __tablename__ = "notification"
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    recipient: str = Field(max_length=60, index=True)
    kind: str = Field(max_length=40)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    text: str = Field(max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class JointSession(SQLModel, table=True):
    __tablename__ = "joint_session"
    id: str = Field(primary_key=True, max_length=36)
    title: str = Field(max_length=200)
    purpose: str = Field(max_length=2000)
    place: str = Field(default="", max_length=200)
    lat: float | None = None
    lon: float | None = None
    called_departments: list[Any] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    convened_by: str = Field(max_length=36)
    convened_by_department: str = Field(max_length=40)
    status: str = Field(default="open", max_length=20)  # open | concluded
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    concluded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    facts: str | None = Field(default=None, max_length=4000)
    minute_id: str | None = Field(default=None, max_length=36)


class JointCheckIn(SQLModel, table=True):
    __tablename__ = "joint_check_in"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="joint_session.id", index=True, max_length=36)
    department: str = Field(max_length=40)
    user_id: str = Field(max_length=36)
    display_name: str = Field(max_length=100)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lat: float | None = None
    lon: float | None = None


class JointPoint(SQLModel, table=True):
    """A point (点位) found at a joint session, recorded as a case."""

    __tablename__ = "joint_point"
    __table_args__ = (UniqueConstraint("session_id", "case_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="joint_session.id", index=True, max_length=36)
    case_id: str = Field(foreign_key="case_record.id", max_length=36)
    label: str = Field(max_length=200)


class Minute(SQLModel, table=True):
    """A meeting minute (会议纪要) as .docx; one per dispute and one per joint session."""

    __tablename__ = "minute"
    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=20)  # ruling | coordination | consultation | joint_session
    dispute_id: str | None = Field(default=None, max_length=36, unique=True)
    session_id: str | None = Field(default=None, max_length=36, unique=True)
    title: str = Field(max_length=200)
    file_name: str = Field(max_length=200)
    # the .docx's sha256 and size, checked when it is read (None: made before migration 0020)
    sha256: str | None = Field(default=None, max_length=64)
    size: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    case_ids: list[Any] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    content: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(max_length=36)
