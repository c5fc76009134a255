"""Files in the PostgreSQL database (``YIXIAN_STORAGE=postgres``, docs/storage.md): every
server host reaches them through the database it already shares.

A finished file's content is kept once, in pieces of 256 KiB (``file_chunk``), named by its
sha256; ``stored_file`` maps each (area, name) to the content. An upload in progress writes its
pieces under ``part:<area>:<name>`` — any host may take the next chunk — and publishing renames
them to the content's sha256 in one transaction (or drops them when that content is held
already). Reads fetch one piece at a time: no file is ever whole in memory. SQL:
``server/data/stored_files.py``.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from server.data import stored_files as sql
from server.storage import (
    CHUNK_BYTES,
    ContentMismatch,
    StoredFileDamaged,
    StoredFileMissing,
    StoredInfo,
    verifying,
)
from server.storage.local import check_name


class DatabaseFileStore:
    kind = "postgres"

    def __init__(self, engine: Engine, area: str) -> None:
        self.engine = engine
        self.area = area

    def _part(self, name: str) -> str:
        return f"part:{self.area}:{check_name(name)}"

    # --- whole files ---------------------------------------------------------------------------

    def put(self, name: str, chunks: Iterable[bytes], *, sha256: str | None = None) -> StoredInfo:
        """Streams ``chunks`` into pieces under a working name inside one transaction, then
        names them by their sha256: a failure or a crash leaves nothing behind."""
        check_name(name)
        working = f"put:{uuid.uuid4()}"
        digest = hashlib.sha256()
        size = 0
        with self.engine.begin() as conn:
            seq = 0
            buffer = bytearray()
            for piece in chunks:
                digest.update(piece)
                size += len(piece)
                buffer += piece
                while len(buffer) >= CHUNK_BYTES:
                    sql.insert_chunk(conn, working, seq, bytes(buffer[:CHUNK_BYTES]))
                    del buffer[:CHUNK_BYTES]
                    seq += 1
            if buffer or seq == 0:
                sql.insert_chunk(conn, working, seq, bytes(buffer))
            content = digest.hexdigest()
            if sha256 is not None and content != sha256:
                raise ContentMismatch(f"{self.area}/{name}: content does not hash to {sha256}")
            self._name_content(conn, working, content)
            self._record(conn, name, content, size)
        return StoredInfo(name, content, size)

    def _name_content(self, conn: Connection, working: str, content: str) -> None:
        if sql.content_exists(conn, content):
            sql.delete_chunks(conn, working)  # held already (another name, another upload)
            return
        try:
            with conn.begin_nested():
                sql.rename_content(conn, working, content)
        except IntegrityError:  # the same content published at this instant by another host
            sql.delete_chunks(conn, working)

    def _record(self, conn: Connection, name: str, content: str, size: int) -> None:
        before = sql.record(conn, self.area, name, content, size, datetime.now(UTC))
        if before is not None and before != content and not sql.content_in_use(conn, before):
            sql.delete_chunks(conn, before)

    def open(self, name: str, sha256: str | None = None) -> Iterator[bytes]:
        with self.engine.connect() as conn:
            found = sql.find(conn, self.area, check_name(name))
        if found is None:
            raise StoredFileMissing(self.area, name)
        content, size = found
        if sha256 is not None and sha256 != content:
            raise StoredFileDamaged(
                self.area, name, f"recorded as {content[:16]}…, expected {sha256[:16]}…"
            )
        return verifying(
            self._pieces(name, content, size), area=self.area, name=name, sha256=content,
            size=size,
        )  # fmt: skip

    def _pieces(self, name: str, content: str, size: int) -> Iterator[bytes]:
        seq, done = 0, 0
        while done < size or seq == 0:
            with self.engine.connect() as conn:  # one short read per piece
                piece = sql.chunk(conn, content, seq)
            if piece is None:
                if done < size:
                    raise StoredFileDamaged(self.area, name, f"piece {seq} is missing")
                return
            yield piece
            done += len(piece)
            seq += 1
            if not piece:
                return

    def exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return sql.find(conn, self.area, check_name(name)) is not None

    def size(self, name: str) -> int | None:
        with self.engine.connect() as conn:
            found = sql.find(conn, self.area, check_name(name))
        return None if found is None else found[1]

    def delete(self, name: str) -> None:
        with self.engine.begin() as conn:
            sql.delete_chunks(conn, self._part(name))
            before = sql.forget(conn, self.area, name)
            if before is not None and not sql.content_in_use(conn, before):
                sql.delete_chunks(conn, before)

    def names(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            found = sql.names(conn, self.area)
        yield from found

    # --- an upload in pieces -------------------------------------------------------------------

    def part_size(self, name: str) -> int:
        with self.engine.connect() as conn:
            return sql.content_size(conn, self._part(name))

    def write_part(self, name: str, offset: int, chunk: bytes) -> None:
        """Pieces stay 256 KiB each (the last shorter): a write at an offset inside a piece
        rewrites that piece with its kept beginning."""
        part = self._part(name)
        first, within = divmod(offset, CHUNK_BYTES)
        with self.engine.begin() as conn:
            kept = b""
            if within:
                held = sql.chunk(conn, part, first) or b""
                if len(held) < within:
                    raise ValueError(f"offset {offset} is past the upload's {name} end")
                kept = held[:within]
            sql.delete_chunks(conn, part, from_seq=first)
            data = kept + chunk
            for i in range(0, len(data), CHUNK_BYTES):
                sql.insert_chunk(conn, part, first + i // CHUNK_BYTES, data[i : i + CHUNK_BYTES])

    def open_part(self, name: str) -> BinaryIO:
        raw = _PieceReader(self.engine, self._part(name), self.part_size(name))
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=CHUNK_BYTES))

    def publish_part(self, name: str, sha256: str) -> None:
        part = self._part(name)
        with self.engine.begin() as conn:
            size = sql.content_size(conn, part)
            self._name_content(conn, part, sha256)
            self._record(conn, name, sha256, size)

    def check_writable(self) -> str | None:
        try:
            with self.engine.connect() as conn, conn.begin() as txn:
                sql.insert_chunk(conn, f"ready:{self.area}", 0, b"ok")
                txn.rollback()
        except Exception as exc:
            return f"not writable: {type(exc).__name__}"
        return None


class _PieceReader(io.RawIOBase):
    """A seekable read of pieces stored under one name, one piece in memory at a time."""

    def __init__(self, engine: Engine, content: str, size: int) -> None:
        self.engine, self.content, self.length = engine, content, size
        self.pos = 0
        self._seq = -1
        self._piece = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.pos >= self.length:
            return 0
        seq, within = divmod(self.pos, CHUNK_BYTES)
        if seq != self._seq:
            with self.engine.connect() as conn:
                self._piece = sql.chunk(conn, self.content, seq) or b""
            self._seq = seq
        data = self._piece[within : within + len(buffer)]
        if not data:
            return 0
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)
