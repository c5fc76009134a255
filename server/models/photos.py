"""Photos held by the server (by sha256) and the cases each one is evidence for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from server.models.types import UTCDateTime


class Photo(SQLModel, table=True):
    """One photo's bytes, named by their sha256; ``received`` grows as chunks arrive."""

    __tablename__ = "photo"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_column=Column(BigInteger(), nullable=False))  # declared total length
    received: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    complete: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    uploader: str = Field(foreign_key="app_user.id", max_length=36)
    # the device that started the upload (None: started with a user's sign-in token); only it
    # (or, without one, its user) writes the upload until it is complete
    uploader_device: str | None = Field(default=None, max_length=36)


class PhotoLink(SQLModel, table=True):
    """A photo is evidence for a case. The link may arrive (as a sync command) before the bytes,
    so ``sha256`` is not a foreign key."""

    __tablename__ = "photo_link"
    __table_args__ = (Index("ix_photo_link_case", "case_id"),)
    sha256: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(primary_key=True, foreign_key="case_record.id", max_length=36)
    linked_by: str = Field(max_length=36)  # user id
    linked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
