"""Devices, the stored result of every pushed command, and the change counter for pulls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from server.models.types import JSONType, UTCDateTime


class Device(SQLModel, table=True):
    __tablename__ = "device"
    id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(unique=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=36)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(unique=True, max_length=64)
    last_applied: int = 0
    revoked: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # the device's clock minus the server's, estimated at its latest sync (seconds)
    clock_offset_s: float | None = None
    clock_checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CommandResultRow(SQLModel, table=True):
    __tablename__ = "device_command_result"
    device_id: str = Field(foreign_key="device.id", primary_key=True, max_length=36)
    command_id: int = Field(primary_key=True)
    command_type: str = Field(max_length=30)
    status: str = Field(max_length=20)
    code: str | None = Field(default=None, max_length=60)
    reason: str | None = Field(default=None, max_length=2000)
    case_id: str | None = Field(default=None, max_length=36)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    device_created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # sync.protocol.command_hash of the command applied under this id (NULL: stored before
    # hashes): a different command sent under the same id is answered ``renumber``
    content_hash: str | None = Field(default=None, max_length=64)
    applied_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SyncCounter(SQLModel, table=True):
    """One row per counter; its row lock orders writers so change numbers follow commit order."""

    __tablename__ = "sync_counter"
    name: str = Field(primary_key=True, max_length=40)
    value: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    epoch: str = Field(max_length=36)  # identifies this database: a cursor from another is reset


class CaseWithdrawal(SQLModel, table=True):
    """A department stopped being involved in a case (returned, reassigned, ruled): its devices
    must drop their copy, which a pull says under ``gone`` (numbered like case changes)."""

    __tablename__ = "case_withdrawal"
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    case_id: str = Field(foreign_key="case_record.id", max_length=36)
    department: str = Field(max_length=40)
    change_seq: int = Field(sa_column=Column(BigInteger(), nullable=False, index=True))
