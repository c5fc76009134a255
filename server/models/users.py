"""Users with a role and a department, and their login tokens (stored hashed)."""

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


class AuthToken(SQLModel, table=True):
    __tablename__ = "auth_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked: bool = False
