"""SQL of the database file store (``server/storage/database.py``): the ``stored_file`` index
and the ``file_chunk`` pieces. Every function runs on the caller's connection and transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlmodel import col

from server.models.storage import FileChunk, StoredFile

_FILE = StoredFile.__table__  # type: ignore[attr-defined]
_CHUNK = FileChunk.__table__  # type: ignore[attr-defined]


def find(conn: Connection, area: str, name: str) -> tuple[str, int] | None:
    """(sha256, size) of a finished file, or None."""
    row = conn.execute(
        select(_FILE.c.sha256, _FILE.c.size).where(_FILE.c.area == area, _FILE.c.name == name)
    ).first()
    return None if row is None else (str(row[0]), int(row[1]))


def names(conn: Connection, area: str) -> list[str]:
    stmt = select(_FILE.c.name).where(_FILE.c.area == area).order_by(_FILE.c.name)
    return [str(n) for n in conn.execute(stmt).scalars()]


def chunk(conn: Connection, content: str, seq: int) -> bytes | None:
    stmt = select(_CHUNK.c.data).where(_CHUNK.c.content == content, _CHUNK.c.seq == seq)
    data = conn.execute(stmt).scalar_one_or_none()
    return None if data is None else bytes(data)


def content_size(conn: Connection, content: str) -> int:
    """The bytes held under ``content`` (PostgreSQL reads each piece's length from its header)."""
    stmt = select(func.coalesce(func.sum(func.length(_CHUNK.c.data)), 0)).where(
        _CHUNK.c.content == content
    )
    return int(conn.execute(stmt).scalar_one())


def content_exists(conn: Connection, content: str) -> bool:
    stmt = select(_CHUNK.c.seq).where(_CHUNK.c.content == content).limit(1)
    return conn.execute(stmt).first() is not None


def delete_chunks(conn: Connection, content: str, *, from_seq: int = 0) -> None:
    conn.execute(delete(_CHUNK).where(_CHUNK.c.content == content, _CHUNK.c.seq >= from_seq))


def insert_chunk(conn: Connection, content: str, seq: int, data: bytes) -> None:
    conn.execute(insert(_CHUNK).values(content=content, seq=seq, data=data))


def rename_content(conn: Connection, old: str, new: str) -> None:
    """Give an unfinished upload's pieces their content's name (PostgreSQL copies no bytes: an
    unchanged out-of-line value is kept by reference)."""
    conn.execute(update(_CHUNK).where(_CHUNK.c.content == old).values(content=new))


def record(
    conn: Connection, area: str, name: str, sha256: str, size: int, now: datetime
) -> str | None:
    """Point ``name`` at the content ``sha256``; returns the content it held before (None)."""
    before = find(conn, area, name)
    if before is not None:
        conn.execute(
            update(_FILE)
            .where(_FILE.c.area == area, _FILE.c.name == name)
            .values(sha256=sha256, size=size, created_at=now)
        )
        return before[0]
    conn.execute(
        insert(_FILE).values(area=area, name=name, sha256=sha256, size=size, created_at=now)
    )
    return None


def forget(conn: Connection, area: str, name: str) -> str | None:
    """Remove ``name`` from the index; returns the content it held (None)."""
    before = find(conn, area, name)
    if before is not None:
        conn.execute(delete(_FILE).where(_FILE.c.area == area, _FILE.c.name == name))
    return None if before is None else before[0]


def content_in_use(conn: Connection, sha256: str) -> bool:
    stmt = select(col(StoredFile.name)).where(col(StoredFile.sha256) == sha256).limit(1)
    return conn.execute(stmt).first() is not None
