"""Where photos and meeting minutes are kept (docs/storage.md).

One interface, ``FileStore``, two backends chosen by ``YIXIAN_STORAGE``:

- ``local`` (the default): a directory on this host (``YIXIAN_PHOTO_DIR``,
  ``YIXIAN_MINUTES_DIR``), the embedded setup of ``make run``;
- ``postgres``: in the PostgreSQL database itself, so every server host reaches the same files
  (content-addressed pieces of 256 KiB, streamed, never a whole file in memory).

Every read is checked against the file's sha256: a file whose bytes differ raises
``StoredFileDamaged`` instead of handing out silently damaged content.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from sqlalchemy import Engine

CHUNK_BYTES = 256 * 1024  # a piece of a file: the database backend's row, the copy block
SPOOL_IN_MEMORY = 2 * 1024 * 1024  # a verified read kept in memory up to this, then on disk

PHOTOS = "photos"
MINUTES = "minutes"
KINDS = ("local", "postgres")


class StorageError(Exception):
    """Base of the store's errors."""


class StoredFileMissing(StorageError):
    """No finished file of that name."""

    def __init__(self, area: str, name: str) -> None:
        super().__init__(f"{area}/{name}: not in storage")
        self.area, self.name = area, name


class StoredFileDamaged(StorageError):
    """A stored file's bytes are not what its sha256 says (or a piece is missing)."""

    code = "stored_file_damaged"

    def __init__(self, area: str, name: str, why: str) -> None:
        super().__init__(f"{area}/{name}: {why}")
        self.area, self.name, self.why = area, name, why


class ContentMismatch(StorageError):
    """``put`` was given bytes that do not hash to the sha256 they were announced with."""


@dataclass(frozen=True)
class StoredInfo:
    name: str
    sha256: str
    size: int


class FileStore(Protocol):
    """A place for one area's files (photos or minutes), by name.

    ``put`` streams a whole file in; ``open`` streams it out, checking it. A photo's upload
    arrives in pieces over several requests (possibly to several hosts): ``write_part`` at an
    offset, ``part_size``, ``open_part`` to check it, then ``publish_part`` makes it the file.
    """

    kind: str
    area: str

    def put(self, name: str, chunks: Iterable[bytes], *, sha256: str | None = None) -> StoredInfo:
        """Store a whole file from ``chunks``; with ``sha256`` the content must hash to it
        (``ContentMismatch``, nothing kept). Replaces a file of that name."""
        ...

    def open(self, name: str, sha256: str | None = None) -> Iterator[bytes]:
        """The file's bytes in pieces; ``StoredFileMissing`` if absent. The content is hashed
        as it is read and ``StoredFileDamaged`` is raised before the last piece is given out
        if it differs from ``sha256`` (or from what the store recorded)."""
        ...

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int | None: ...

    def delete(self, name: str) -> None:
        """Remove the file and any unfinished upload of that name (failed uploads)."""
        ...

    def names(self) -> Iterator[str]:
        """Every finished file's name (backups)."""
        ...

    def part_size(self, name: str) -> int: ...

    def write_part(self, name: str, offset: int, chunk: bytes) -> None:
        """Write ``chunk`` at ``offset`` (≤ the part's size) of the unfinished upload, cutting
        anything after it."""
        ...

    def open_part(self, name: str) -> BinaryIO:
        """The unfinished upload, readable and seekable (hashing, image checks)."""
        ...

    def publish_part(self, name: str, sha256: str) -> None:
        """The unfinished upload (checked by the caller to hash to ``sha256``) becomes the
        file ``name``, durably."""
        ...

    def check_writable(self) -> str | None:
        """None if a file can be written now, else why not (``/ready``)."""
        ...


def read_verified(store: FileStore, name: str, sha256: str | None = None) -> IO[bytes]:
    """The whole file, checked, in a temporary file (memory up to 2 MiB, then disk), rewound:
    a damaged file raises before any byte reaches a client."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        for piece in store.open(name, sha256):
            out.write(piece)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out  # type: ignore[return-value]


def iter_file(fh: IO[bytes], block: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A file's bytes in blocks, closing it at the end."""
    try:
        while piece := fh.read(block):
            yield piece
    finally:
        fh.close()


def verifying(
    pieces: Iterable[bytes], *, area: str, name: str, sha256: str | None, size: int | None
) -> Iterator[bytes]:
    """Pass ``pieces`` through, holding the last one back until the whole content is known to
    hash to ``sha256`` (and to have ``size`` bytes): damage raises instead of being handed out."""
    digest = hashlib.sha256()
    held: bytes | None = None
    total = 0
    for piece in pieces:
        if held is not None:
            yield held
        digest.update(piece)
        total += len(piece)
        held = piece
    if size is not None and total != size:
        raise StoredFileDamaged(area, name, f"{total} bytes stored, {size} expected")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise StoredFileDamaged(
            area, name, f"content hashes to {digest.hexdigest()[:16]}…, not {sha256[:16]}…"
        )
    if held is not None:
        yield held


@dataclass(frozen=True)
class Stores:
    photos: FileStore
    minutes: FileStore


def open_stores(kind: str, *, engine: Engine, photo_dir: Path, minutes_dir: Path) -> Stores:
    """The photo and minutes stores of ``YIXIAN_STORAGE`` (``kind``)."""
    if kind == "local":
        from server.storage.local import LocalFileStore

        return Stores(
            LocalFileStore(photo_dir, PHOTOS, fan_out=True),
            LocalFileStore(minutes_dir, MINUTES, fan_out=False),
        )
    if kind == "postgres":
        if engine.dialect.name != "postgresql":
            raise RuntimeError(
                "YIXIAN_STORAGE=postgres keeps the files in the PostgreSQL database: "
                "DATABASE_URL must be a postgresql:// URL (SQLite: use YIXIAN_STORAGE=local)"
            )
        from server.storage.database import DatabaseFileStore

        return Stores(DatabaseFileStore(engine, PHOTOS), DatabaseFileStore(engine, MINUTES))
    raise RuntimeError(f"YIXIAN_STORAGE must be one of {', '.join(KINDS)}, not {kind!r}")
