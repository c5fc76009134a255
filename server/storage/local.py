"""Files in a directory of this host (``YIXIAN_STORAGE=local``, the default).

Photos live at ``root / name[:2] / name`` (``fan_out``), minutes at ``root / name``; an
unfinished upload is ``<file>.part`` beside it, a ``put`` in progress a hidden ``.tmp`` file.
A file appears under its name only complete and fsynced (rename, then the directory fsynced).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from server.storage import (
    CHUNK_BYTES,
    ContentMismatch,
    StoredFileMissing,
    StoredInfo,
    verifying,
)

_SKIP_SUFFIXES = (".part", ".tmp")


def check_name(name: str) -> str:
    """A file name the stores accept: no path, nothing hidden, not a working file's name."""
    if (
        not name
        or len(name) > 200
        or name.startswith(".")
        or any(c in name for c in "/\\\0")
        or name.endswith(_SKIP_SUFFIXES)
    ):
        raise ValueError(f"not a stored file's name: {name!r}")
    return name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalFileStore:
    kind = "local"

    def __init__(self, root: Path, area: str, *, fan_out: bool) -> None:
        self.root = root
        self.area = area
        self.fan_out = fan_out

    def path(self, name: str) -> Path:
        check_name(name)
        return self.root / name[:2] / name if self.fan_out else self.root / name

    def part_path(self, name: str) -> Path:
        final = self.path(name)
        return final.with_name(final.name + ".part")

    # --- whole files ---------------------------------------------------------------------------

    def put(self, name: str, chunks: Iterable[bytes], *, sha256: str | None = None) -> StoredInfo:
        final = self.path(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            with tmp.open("wb") as fh:
                for piece in chunks:
                    fh.write(piece)
                    digest.update(piece)
                    size += len(piece)
                fh.flush()
                os.fsync(fh.fileno())
            if sha256 is not None and digest.hexdigest() != sha256:
                raise ContentMismatch(f"{self.area}/{name}: content does not hash to {sha256}")
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return StoredInfo(name, digest.hexdigest(), size)

    def open(self, name: str, sha256: str | None = None) -> Iterator[bytes]:
        try:
            fh = self.path(name).open("rb")
        except FileNotFoundError:
            raise StoredFileMissing(self.area, name) from None
        return verifying(_blocks(fh), area=self.area, name=name, sha256=sha256, size=None)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def size(self, name: str) -> int | None:
        try:
            return self.path(name).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        self.part_path(name).unlink(missing_ok=True)
        self.path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        folders = (
            sorted(p for p in self.root.iterdir() if p.is_dir()) if self.fan_out else [self.root]
        )
        for folder in folders:
            for path in sorted(folder.iterdir()):
                name = path.name
                if (
                    path.is_file()
                    and not name.startswith(".")
                    and not name.endswith(_SKIP_SUFFIXES)
                ):
                    yield name

    # --- an upload in pieces -------------------------------------------------------------------

    def part_size(self, name: str) -> int:
        try:
            return self.part_path(name).stat().st_size
        except FileNotFoundError:
            return 0

    def write_part(self, name: str, offset: int, chunk: bytes) -> None:
        path = self.part_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            view = memoryview(chunk)
            written = 0
            while written < len(view):
                written += os.pwrite(fd, view[written:], offset + written)
            os.ftruncate(fd, offset + len(chunk))
        finally:
            os.close(fd)

    def open_part(self, name: str) -> BinaryIO:
        fh = self.part_path(name).open("rb")
        os.fsync(fh.fileno())  # what is checked is what reached the disk
        return fh

    def publish_part(self, name: str, sha256: str) -> None:
        final = self.path(name)
        os.replace(self.part_path(name), final)
        _fsync_dir(final.parent)

    def check_writable(self) -> str | None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-") as f:
                f.write(b"ok")
                f.flush()
        except OSError as exc:
            return f"not writable: {type(exc).__name__}"
        return None


def _blocks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        while block := fh.read(CHUNK_BYTES):
            yield block
