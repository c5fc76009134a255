"""Photos held by the server (by sha256) and the cases each one is evidence for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Index, true
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
    # the linker could see the photo when linking: the link shows it on the case. A link by one
    # who could not (a hash is all they had) shows it only once the linker uploads the bytes
    # or proves holding them (``PhotoHolder``); until then the case has a photo yet to arrive.
    vouched: bool = Field(
        default=True, sa_column=Column(Boolean(), nullable=False, server_default=true())
    )


class PhotoHolder(SQLModel, table=True):
    """A user who uploaded every byte of a photo the server already held (and whose hash
    matched), without being allowed to see it: they hold the photo, so they may see it —
    exactly as if their upload had been the first (docs: README "Hostile input and object
    checks")."""

    __tablename__ = "photo_holder"
    sha256: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, foreign_key="app_user.id", max_length=36)
    held_since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
