"""Users with a role and a department, their sign-in sessions and tokens (stored as keyed hashes).

A sign-in session (``auth_session``) is one token family: the access tokens and the rotating
refresh tokens issued from one password sign-in. Ending the session ends every token in it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.models.types import UTCDateTime


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    username: str = Field(unique=True, index=True, max_length=60)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    department_code: str = Field(foreign_key="department.code", max_length=40)
    password_hash: str = Field(max_length=200)
    active: bool = True


class AuthSession(SQLModel, table=True):
    """One password sign-in and every token issued from it; bound to a device once that device
    registers with it (revoking the device ends the session)."""

    __tablename__ = "auth_session"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=36)
    # not a foreign key: a device row may be deleted (test resets) and the session just ends
    device_id: str | None = Field(default=None, index=True, max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # the refresh token's expiry, slid forward at every refresh
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    ended_reason: str | None = Field(default=None, max_length=40)


class AuthToken(SQLModel, table=True):
    __tablename__ = "auth_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked: bool = False
    kind: str = Field(default="access", max_length=10)  # access | refresh
    session_id: str | None = Field(
        default=None, foreign_key="auth_session.id", index=True, max_length=36
    )
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))  # refresh
