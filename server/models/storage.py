"""Files kept in the database (``YIXIAN_STORAGE=postgres``, docs/storage.md): an index of
finished files per area, and their content in chunks named by the content's sha256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from server.models.types import UTCDateTime


class StoredFile(SQLModel, table=True):
    """A finished file: ``name`` in its ``area`` (photos, minutes) holds the content ``sha256``."""

    __tablename__ = "stored_file"
    __table_args__ = (Index("ix_stored_file_sha256", "sha256"),)
    area: str = Field(primary_key=True, max_length=20)
    name: str = Field(primary_key=True, max_length=200)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_column=Column(BigInteger(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FileChunk(SQLModel, table=True):
    """One piece (at most 256 KiB) of a file's content. ``content`` is the sha256 of a finished
    file's whole content (shared by every name holding it), or ``part:<area>:<name>`` while an
    upload is unfinished; ``seq`` counts from 0."""

    __tablename__ = "file_chunk"
    content: str = Field(primary_key=True, max_length=240)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
