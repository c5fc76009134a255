"""Failed sign-ins counted per account and per client address, and the lockouts they earn
(server/services/login_throttle.py), kept in the database so that every server process sees
them and they survive a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from server.models.types import UTCDateTime


class LoginThrottleRow(SQLModel, table=True):
    __tablename__ = "login_throttle"
    __table_args__ = (
        Index("ix_login_throttle_locked_until", "locked_until"),
        Index("ix_login_throttle_last_attempt_at", "last_attempt_at"),
    )
    scope: str = Field(primary_key=True, max_length=10)  # "account" or "address"
    key: str = Field(primary_key=True, max_length=100)  # the username given, or the address
    # sign-ins refused (or still being checked) since window_started_at
    failures: int = 0
    window_started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lockouts: int = 0  # lockouts in a row: the next one lasts longer
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    cleared_by: str | None = Field(default=None, max_length=36)  # the administrator, last clear
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
