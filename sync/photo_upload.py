"""The device side of the resumable photo upload (see ``server/api/photos.py``).

``upload_photo`` asks the server how much it holds (HEAD), then sends the rest one chunk at a
time, each with its offset and sha256. After any interruption it asks again and carries on
from the server's offset, so at most the chunk in flight is sent twice. A photo the server
already holds is never sent. It returns only once the server has confirmed the whole photo:
until then the device must keep its file.

The HTTP session is passed in (``requests.Session`` or anything with its ``head``/``patch``),
so this module holds no connection of its own.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

DEFAULT_CHUNK = 256 * 1024
OFFSET = "Upload-Offset"
LENGTH = "Upload-Length"
COMPLETE = "Upload-Complete"
CHUNK_SHA = "Chunk-Sha256"

Progress = Callable[[int, int], None]


class PhotoUploadError(Exception):
    """The photo could not be uploaded; the device keeps it and may try again later."""


class PhotoRefused(PhotoUploadError):
    """The server refused the photo (too large, not an image, wrong name, not signed in...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class PhotoUploadGaveUp(PhotoUploadError):
    """Too many failures in a row (network or server); try again later."""


class _Source(Protocol):
    def __len__(self) -> int: ...

    def read(self, offset: int, size: int) -> bytes: ...


@dataclass(frozen=True)
class _BytesSource:
    data: bytes

    def __len__(self) -> int:
        return len(self.data)

    def read(self, offset: int, size: int) -> bytes:
        return self.data[offset : offset + size]


@dataclass(frozen=True)
class _FileSource:
    path: Path

    def __len__(self) -> int:
        return self.path.stat().st_size

    def read(self, offset: int, size: int) -> bytes:
        with self.path.open("rb") as fh:
            fh.seek(offset)
            return fh.read(size)


def _source_of(path_or_bytes: str | Path | bytes) -> _Source:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return _BytesSource(bytes(path_or_bytes))
    return _FileSource(Path(path_or_bytes))


def _sha256_of(source: _Source) -> str:
    digest = hashlib.sha256()
    offset, total = 0, len(source)
    while offset < total:
        block = source.read(offset, 1024 * 1024)
        if not block:
            break
        digest.update(block)
        offset += len(block)
    return digest.hexdigest()


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, base * (2**attempt)))


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return str(detail)[:500]


def _error_code(response: requests.Response) -> str | None:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    return str(detail.get("code")) if isinstance(detail, dict) else None


class _Transient(PhotoUploadError):
    """A failure worth retrying after a pause: the network, a cut response, a 5xx/429."""


# Refusals that no error body can turn into "try again".
_ALWAYS_REFUSED = frozenset({401, 403, 404, 413, 415, 426})


def upload_photo(
    session: requests.Session,
    base_url: str,
    headers: dict[str, str],
    path_or_bytes: str | Path | bytes,
    sha256: str,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    on_progress: Progress | None = None,
    max_failures: int = 8,
    backoff_base: float = 0.25,
    backoff_cap: float = 15.0,
    timeout: tuple[float, float] = (10.0, 60.0),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> None:
    """Send one photo, resuming wherever the server stands; return once it holds all of it.

    Raises ``PhotoRefused`` when the server refuses it for good and ``PhotoUploadGaveUp``
    after ``max_failures`` consecutive network/server failures; ``ValueError`` if the bytes do
    not hash to ``sha256`` (nothing is sent then).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    source = _source_of(path_or_bytes)
    name = sha256.lower()
    if _sha256_of(source) != name:
        raise ValueError(f"the photo's bytes do not hash to {name}")
    total = len(source)
    url = f"{base_url.rstrip('/')}/photos/{name}"
    rng = rng or random.Random()
    failures = 0
    offset: int | None = None  # unknown until the server says

    def report(done: int) -> None:
        if on_progress is not None:
            on_progress(done, total)

    def pause() -> None:
        nonlocal failures
        failures += 1
        if failures > max_failures:
            raise PhotoUploadGaveUp(f"photo {name[:12]}: {max_failures} failures in a row")
        sleep(backoff_delay(failures - 1, base=backoff_base, cap=backoff_cap, rng=rng))

    while True:
        try:
            if offset is None:
                held, complete = _ask_offset(session, url, headers, timeout)
                if complete:
                    report(total)
                    return
                offset = held
                report(offset)
            chunk = source.read(offset, chunk_size)
            outcome = _send_chunk(session, url, headers, offset, total, chunk, timeout)
        except _Transient:
            offset = None  # ask where the server stands before sending anything again
            pause()
            continue
        failures = 0
        new_offset, complete = outcome
        offset = new_offset
        report(total if complete else offset)
        if complete:
            return


def _upload_state(response: requests.Response) -> tuple[int, bool]:
    """(offset, complete) from the headers. The server sends ``Upload-Complete`` after
    ``Upload-Offset``: a response cut inside its headers lacks it and is not trusted."""
    offset = response.headers.get(OFFSET, "")
    complete = response.headers.get(COMPLETE, "")
    if not offset.isdigit() or complete not in ("0", "1"):
        raise _Transient("incomplete upload headers: the response was cut")
    return int(offset), complete == "1"


def _refusal_or_damage(response: requests.Response) -> PhotoUploadError:
    """A 4xx whose error body did not arrive whole is a damaged response, not a refusal —
    except for statuses that refuse whatever the body says."""
    status = response.status_code
    if status >= 500 or status == 429:
        return _Transient(f"HTTP {status}")
    if status in _ALWAYS_REFUSED or _error_code(response) is not None:
        return PhotoRefused(status, _detail(response))
    return _Transient(f"HTTP {status} without a readable error: the response was cut")


def _ask_offset(
    session: requests.Session, url: str, headers: dict[str, str], timeout: tuple[float, float]
) -> tuple[int, bool]:
    try:
        r = session.head(url, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise _Transient(str(exc)) from exc
    if r.status_code == 200:
        return _upload_state(r)
    raise _refusal_or_damage(r)


def _send_chunk(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    offset: int,
    total: int,
    chunk: bytes,
    timeout: tuple[float, float],
) -> tuple[int, bool]:
    """Send one chunk; return (the server's offset, complete). A 409 is not a failure: the
    server says where it stands and the caller carries on from there."""
    chunk_headers = {
        **headers,
        OFFSET: str(offset),
        LENGTH: str(total),
        CHUNK_SHA: hashlib.sha256(chunk).hexdigest(),
        "Content-Type": "application/offset+octet-stream",
    }
    try:
        r = session.patch(url, data=chunk, headers=chunk_headers, timeout=timeout)
    except requests.RequestException as exc:
        raise _Transient(str(exc)) from exc
    status = r.status_code
    if status == 204:
        return _upload_state(r)
    code = _error_code(r)
    if status == 409 and code == "offset_mismatch":
        server_offset = r.headers.get(OFFSET, "")
        if server_offset.isdigit() and int(server_offset) != offset:
            return int(server_offset), False
    if status == 422 and code == "chunk_checksum_mismatch":
        raise _Transient("the chunk was damaged on the way")
    if status == 409 and code == "upload_in_progress":
        raise _Transient("another device is uploading this photo: ask again later")
    raise _refusal_or_damage(r)
