"""Photos: resumable uploads by sha256, who may fetch them, and links to cases.

The bytes live in the photo store (``server/storage``: a local directory, or the PostgreSQL
database that several hosts share), named by their sha256. An upload is a series of chunks,
each sent at the offset the server already holds and carrying its own sha256; when the last
chunk lands the whole upload is hashed and kept only if the hash equals its name and it is a
JPEG or PNG. A download is checked against its name as it is read.

Because the bytes on disk and the ``photo`` row must agree, the upload functions here commit
their own transaction. ``link_photo`` does not: it runs inside its caller's transaction (the
``POST /photos/{sha}/links`` route, or the sync ``AddPhoto`` command).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, BinaryIO

from PIL import Image
from sqlmodel import Session

from server.data import cases as cases_data
from server.data import photos as photos_data
from server.db import begin_write
from server.models import Photo, PhotoLink
from server.services.cases import get_visible_case, visible
from server.storage import FileStore, StoredFileMissing, read_verified
from sync.errors import DomainError, InvalidInput, NotFound, RuleViolation
from sync.lifecycle import Actor

MAX_CHUNK_BYTES = 8 * 1024 * 1024
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)
_HASH_BLOCK = 1024 * 1024

MAX_PHOTO_PIXELS = 50_000_000  # a phone's photo is ≤ 1600 px on its long edge: far below
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class PhotoTooLarge(DomainError):
    """The photo or the chunk is larger than allowed (HTTP 413)."""

    code = "too_large"


class TooManyUploads(RuleViolation):
    """The user has as many unfinished uploads as allowed (HTTP 429): finish one first."""

    code = "too_many_open_uploads"


# Unfinished uploads started longer ago than this no longer count against the quota: a phone
# that lost a photo mid-upload does not lock its user out for ever.
OPEN_UPLOAD_WINDOW = timedelta(hours=24)


class OffsetMismatch(RuleViolation):
    """The chunk was sent for another offset than the one the server holds (HTTP 409)."""

    code = "offset_mismatch"

    def __init__(self, reason: str, *, offset: int, code: str | None = None) -> None:
        super().__init__(reason, code=code)
        self.offset = offset


@dataclass(frozen=True)
class UploadState:
    sha256: str
    offset: int  # bytes the server holds, contiguous from the start
    length: int | None  # the declared total, None before the first chunk
    complete: bool


# A user who may not see a photo the server holds, sending its bytes, writes them to an upload
# of their own (``<sha>.shadow.<user>``, its declared length in ``<sha>.shadow-length.<user>``):
# their upload goes exactly as if the server had never seen the photo, and its last chunk
# proves (or not) that they hold it. Both are unfinished uploads of the photo store (any
# backend), never published.
def _shadow_name(sha256: str, user_id: str) -> str:
    return f"{sha256}.shadow.{user_id}"


def _shadow_length_name(sha256: str, user_id: str) -> str:
    return f"{sha256}.shadow-length.{user_id}"


def _shadow_of(store: FileStore, sha256: str, user_id: str) -> tuple[int, int] | None:
    """The bytes held of the user's shadow upload of this photo and its declared length."""
    meta = _shadow_length_name(sha256, user_id)
    if store.part_size(meta) == 0:
        return None
    with store.open_part(meta) as fh:
        declared = fh.read().decode("ascii", "replace")
    if not declared.isdigit():
        return None
    return store.part_size(_shadow_name(sha256, user_id)), int(declared)


def _drop_shadow(store: FileStore, sha256: str, user_id: str) -> None:
    store.delete(_shadow_name(sha256, user_id))
    store.delete(_shadow_length_name(sha256, user_id))


def check_sha256(value: str, field: str = "sha256") -> str:
    """The canonical (lower-case hex) form of a photo's name."""
    if not _SHA256.match(value):
        raise InvalidInput(field, "应为 64 位十六进制 sha256 / must be 64 hex characters")
    return value.lower()


def image_problem(path: str | BinaryIO) -> InvalidInput | None:
    """Why ``path`` (a path or a seekable file) is not a photo the server keeps (None: it is
    one): it must decode as a JPEG or PNG of at most ``MAX_PHOTO_PIXELS`` pixels. The pixel
    count is read from the header before anything is decoded (a decompression bomb is refused
    unopened); a JPEG is then decoded at a reduced scale, a PNG's chunks checked, so verifying
    costs little memory whatever the photo."""
    not_image = InvalidInput(
        "content",
        "不是有效的 JPEG 或 PNG 图片 / not a valid JPEG or PNG image",
        code="not_an_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=("JPEG", "PNG")) as im:
                width, height = im.size
                if width < 1 or height < 1:
                    return not_image
                if width * height > MAX_PHOTO_PIXELS:
                    return _too_many_pixels(width, height)
                if im.format == "PNG":
                    im.verify()
                else:
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _too_many_pixels(None, None)
    except Exception:  # Pillow raises many kinds on a damaged or hostile file
        return not_image
    return None


def _too_many_pixels(width: int | None, height: int | None) -> InvalidInput:
    dims = f"{width}×{height}, " if width else ""
    mp = MAX_PHOTO_PIXELS // 1_000_000
    return InvalidInput(
        "content",
        f"图片像素过多（{dims}超过 {mp} 百万像素）/ too many pixels ({dims}over {mp} megapixels)",
        code="too_many_pixels",
    )


def content_type_of(head: bytes) -> str | None:
    """image/jpeg or image/png from the magic bytes; None for anything else."""
    if head.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if head.startswith(PNG_MAGIC):
        return "image/png"
    return None


def _state(photo: Photo | None, sha256: str, offset: int | None = None) -> UploadState:
    if photo is None:
        return UploadState(sha256=sha256, offset=0, length=None, complete=False)
    held = photo.size if photo.complete else (photo.received if offset is None else offset)
    return UploadState(sha256=sha256, offset=held, length=photo.size, complete=photo.complete)


def _settle(store: FileStore, photo: Photo) -> bool:
    """Make the row agree with the disk after a crash; True if it changed.

    - complete but the file is gone (lost disk): start again from zero;
    - not complete but published (crash between rename and commit): complete;
    - the partial file is shorter than ``received`` (unsynced tail lost): trust the file.
    """
    final_exists = store.exists(photo.sha256)
    if photo.complete and not final_exists:
        photo.complete, photo.received = False, 0
        return True
    if not photo.complete and final_exists:
        photo.complete, photo.received = True, photo.size
        return True
    if not photo.complete:
        on_disk = store.part_size(photo.sha256)
        if on_disk < photo.received:
            photo.received = on_disk
            return True
    return False


def _started_by(photo: Photo, actor: Actor, device_id: str | None) -> bool:
    """Whether the caller is the one writing this upload: its device, or its user when it was
    started without a device."""
    if photo.uploader != actor.user_id:
        return False
    return photo.uploader_device is None or photo.uploader_device == device_id


def upload_state(
    session: Session,
    store: FileStore,
    sha256: str,
    actor: Actor | None = None,
    device_id: str | None = None,
) -> UploadState:
    """What the server holds of a photo (offset 0 if it has never seen it). To an ``actor``
    who may not see the photo — complete and not theirs nor on a case they see, or an upload
    another device is writing — it is a photo the server has never seen."""
    sha256 = check_sha256(sha256)
    photo = photos_data.get_photo(session, sha256)
    if photo is not None and _settle(store, photo):
        # The row must change, and a HEAD's transaction is a read: settle it again in a
        # write transaction of its own (server/db.py: a read never upgrades to a write).
        session.rollback()
        begin_write(session)
        photo = photos_data.get_photo(session, sha256, for_update=True)
        if photo is not None and _settle(store, photo):
            photos_data.save_photo(session, photo)
        session.commit()
    if photo is not None and actor is not None:
        if photo.complete and not _may_see(session, photo, sha256, actor):
            return _shadow_state(store, sha256, actor)  # as if never seen: their own upload
        if not photo.complete and not _started_by(photo, actor, device_id):
            return _state(None, sha256)
    return _state(photo, sha256)


def _shadow_state(store: FileStore, sha256: str, actor: Actor) -> UploadState:
    found = _shadow_of(store, sha256, actor.user_id)
    if found is None:
        return _state(None, sha256)
    held, length = found
    return UploadState(sha256=sha256, offset=held, length=length, complete=False)


def _check_chunk(
    *, offset: int, length: int, chunk: bytes, chunk_sha256: str, max_bytes: int
) -> None:
    if length < 1:
        raise InvalidInput("Upload-Length", "应大于 0 / must be at least 1 byte")
    if length > max_bytes:
        raise PhotoTooLarge(
            f"照片不能超过 {max_bytes} 字节 / a photo may be at most {max_bytes} bytes"
        )
    if offset < 0:
        raise InvalidInput("Upload-Offset", "不能为负 / must not be negative")
    if len(chunk) > MAX_CHUNK_BYTES:
        raise PhotoTooLarge(
            f"每块不能超过 {MAX_CHUNK_BYTES} 字节 / a chunk may be at most {MAX_CHUNK_BYTES} bytes"
        )
    if not chunk:
        raise InvalidInput("body", "分块为空 / the chunk is empty")
    if offset + len(chunk) > length:
        raise PhotoTooLarge(
            "分块超出声明的长度 / the chunk goes past Upload-Length", code="chunk_past_length"
        )
    if hashlib.sha256(chunk).hexdigest() != check_sha256(chunk_sha256, "Chunk-Sha256"):
        raise InvalidInput(
            "Chunk-Sha256",
            "分块校验不符，请重传 / the chunk's sha256 differs: send it again",
            code="chunk_checksum_mismatch",
        )
    if offset == 0 and len(chunk) >= len(PNG_MAGIC) and content_type_of(chunk) is None:
        raise InvalidInput(
            "content", "只接受 JPEG 或 PNG / only JPEG or PNG", code="unsupported_media_type"
        )


def receive_chunk(
    session: Session,
    store: FileStore,
    actor: Actor,
    sha256: str,
    *,
    offset: int,
    length: int,
    chunk: bytes,
    chunk_sha256: str,
    max_bytes: int,
    now: datetime,
    device_id: str | None = None,
    max_open_uploads: int = 50,
) -> UploadState:
    """Append one chunk at ``offset``; on the last one verify and publish the photo. Commits.
    An upload in progress is written only by the device that started it (``device_id``; or by
    its user when it was started without a device). Starting a new upload is refused while the
    user has ``max_open_uploads`` unfinished."""
    sha256 = check_sha256(sha256)
    _check_chunk(
        offset=offset, length=length, chunk=chunk, chunk_sha256=chunk_sha256, max_bytes=max_bytes
    )
    photo = photos_data.get_photo(session, sha256, for_update=True)
    if photo is None:
        started = photos_data.open_uploads(session, actor.user_id, since=now - OPEN_UPLOAD_WINDOW)
        if started >= max_open_uploads:
            raise TooManyUploads(
                f"未完成的上传已有 {started} 个，请先传完 / you have {started} unfinished "
                f"uploads (at most {max_open_uploads}): finish one before starting another"
            )
        photos_data.insert_photo_if_absent(
            session,
            sha256=sha256,
            size=length,
            uploader=actor.user_id,
            uploader_device=device_id,
            now=now,
        )
        photo = photos_data.get_photo(session, sha256, for_update=True)
    if photo is None:  # deleted between the insert and the lock: a failed upload was discarded
        raise OffsetMismatch("请重新查询进度 / ask for the offset again", offset=0)
    _settle(store, photo)
    if photo.complete and not _may_see(session, photo, sha256, actor):
        # answered exactly as if the server had never seen it (README "Hostile input …")
        return _receive_shadow(
            session, store, actor, sha256, offset=offset, length=length, chunk=chunk, now=now
        )
    if photo.complete:  # someone finished it meanwhile: nothing to write
        session.commit()
        return _state(photo, sha256)
    if not _started_by(photo, actor, device_id) and photos_data.uploader_cut_off(session, photo):
        # a lost (revoked) phone's or a disabled user's unfinished upload blocks nobody: the
        # caller starts it again from nothing, as a new upload of theirs
        if offset != 0:
            session.commit()
            raise OffsetMismatch("请从头上传 / start the upload from the beginning", offset=0)
        store.delete(sha256)
        photos_data.restart_upload(
            session,
            photo,
            uploader=actor.user_id,
            uploader_device=device_id,
            size=length,
            now=now,
        )
    if not _started_by(photo, actor, device_id):
        session.rollback()
        raise RuleViolation(
            "此照片正由其他设备上传，稍后再试 / another device is uploading this photo: try "
            "again later",
            code="upload_in_progress",
        )
    if photo.size != length:
        if photo.received != 0:
            raise OffsetMismatch(
                f"与进行中的上传长度 {photo.size} 不符 / Upload-Length differs from the upload "
                f"in progress ({photo.size} bytes)",
                offset=photo.received,
                code="length_mismatch",
            )
        photo.size = length
    if offset != photo.received:
        raise OffsetMismatch(
            f"服务器已收到 {photo.received} 字节 / the server holds {photo.received} bytes",
            offset=photo.received,
        )
    store.write_part(sha256, offset, chunk)
    photo.received = offset + len(chunk)
    if photo.received == photo.size:
        _finish(session, store, photo)
    photos_data.save_photo(session, photo)
    session.commit()
    return _state(photo, sha256)


def _hash_part(fh: BinaryIO) -> tuple[str, bytes]:
    """The upload's sha256 and its first bytes."""
    digest = hashlib.sha256()
    head = fh.read(len(PNG_MAGIC))
    digest.update(head)
    while block := fh.read(_HASH_BLOCK):
        digest.update(block)
    return digest.hexdigest(), head


def _hash_mismatch() -> InvalidInput:
    return InvalidInput(
        "sha256",
        "照片内容与名称的 sha256 不符，已丢弃 / the bytes do not hash to the photo's name: "
        "discarded",
        code="photo_hash_mismatch",
    )


def _receive_shadow(
    session: Session,
    store: FileStore,
    actor: Actor,
    sha256: str,
    *,
    offset: int,
    length: int,
    chunk: bytes,
    now: datetime,
) -> UploadState:
    """A chunk of a photo the server holds, from one who may not see it: kept in their own
    upload, with the offsets, refusals and answers of an upload of a photo never seen. When
    every byte has come and hashes to the name, they hold the photo (``photo_holder``) and
    may see it like its uploader; nothing of the held photo is touched."""
    found = _shadow_of(store, sha256, actor.user_id)
    held = 0
    if found is not None:
        held, declared = found
        if declared != length:
            if held != 0:
                session.commit()
                raise OffsetMismatch(
                    f"与进行中的上传长度 {declared} 不符 / Upload-Length differs from the upload "
                    f"in progress ({declared} bytes)",
                    offset=held,
                    code="length_mismatch",
                )
            _drop_shadow(store, sha256, actor.user_id)
    if offset != held:
        session.commit()
        raise OffsetMismatch(
            f"服务器已收到 {held} 字节 / the server holds {held} bytes", offset=held
        )
    if offset == 0:
        store.write_part(_shadow_length_name(sha256, actor.user_id), 0, str(length).encode())
    store.write_part(_shadow_name(sha256, actor.user_id), offset, chunk)
    held = offset + len(chunk)
    if held < length:
        session.commit()
        return UploadState(sha256=sha256, offset=held, length=length, complete=False)
    with store.open_part(_shadow_name(sha256, actor.user_id)) as fh:
        digest, _ = _hash_part(fh)
    _drop_shadow(store, sha256, actor.user_id)
    if digest != sha256:
        session.commit()
        raise _hash_mismatch()
    photos_data.add_holder(session, sha256, actor.user_id, now)
    session.commit()
    return UploadState(sha256=sha256, offset=length, length=length, complete=True)


def _finish(session: Session, store: FileStore, photo: Photo) -> None:
    with store.open_part(photo.sha256) as fh:
        digest, head = _hash_part(fh)
        problem: InvalidInput | None = None
        if digest == photo.sha256 and content_type_of(head) is not None:
            fh.seek(0)
            problem = image_problem(fh)
    if digest != photo.sha256:
        problem = _hash_mismatch()
    elif content_type_of(head) is None:
        problem = InvalidInput(
            "content", "只接受 JPEG 或 PNG / only JPEG or PNG", code="unsupported_media_type"
        )
    if problem is not None:
        photos_data.delete_photo(session, photo.sha256)
        if problem.code != "photo_hash_mismatch":
            # these bytes are the photo its name promised, and they are no image: it can never
            # arrive, so no case keeps a link to it (a link made before the bytes came)
            photos_data.delete_links(session, photo.sha256)
        session.commit()
        store.delete(photo.sha256)
        raise problem
    store.publish_part(photo.sha256, photo.sha256)
    photo.complete = True


def _may_see(session: Session, photo: Photo | None, sha256: str, actor: Actor) -> bool:
    """Its uploader, a holder, or one who may see a case it shows on (a link vouched for by
    its linker, or made by its uploader or a holder)."""
    if photo is not None and photo.uploader == actor.user_id:
        return True
    holders = photos_data.holders(session, sha256)
    if actor.user_id in holders:
        return True
    vouchers = holders | ({photo.uploader} if photo is not None else set())
    case_ids = photos_data.linked_case_ids(session, sha256, vouchers=vouchers)
    return any(visible(case, actor) for case in cases_data.cases_by_ids(session, case_ids))


@dataclass(frozen=True)
class PhotoFile:
    content: IO[bytes]  # the whole photo, checked against its sha256, rewound
    content_type: str
    size: int


def photo_for_download(session: Session, store: FileStore, actor: Actor, sha256: str) -> PhotoFile:
    """A complete photo the actor may see: its uploader, or one who may see a linked case."""
    sha256 = check_sha256(sha256)
    photo = photos_data.get_photo(session, sha256)
    not_found = NotFound(f"照片 {sha256[:12]}… 不存在或无权查看 / photo not found")
    if photo is None or not photo.complete or not _may_see(session, photo, sha256, actor):
        raise not_found
    try:
        content = read_verified(store, sha256, sha256)  # StoredFileDamaged: the API says so
    except StoredFileMissing:
        raise not_found from None
    head = content.read(len(PNG_MAGIC))
    content.seek(0)
    return PhotoFile(content, content_type=content_type_of(head) or "image/jpeg", size=photo.size)


def link_photo(
    session: Session, actor: Actor, sha256: str, case_id: str, now: datetime
) -> PhotoLink:
    """Make a photo evidence for a case the actor may see. Idempotent; the caller commits.

    The photo's bytes may not have arrived yet (the command travels first). Knowing a hash
    never opens a photo, nor tells that the server holds it: a link by one who may not see the
    photo now is answered like any other, but shows the photo on the case only once its linker
    uploads the bytes (or proves holding them) — until then the case has a photo yet to come.
    """
    sha256 = check_sha256(sha256)
    case = get_visible_case(session, case_id, actor)
    existing = photos_data.get_link(session, sha256, case.id)
    if existing is not None:
        return existing
    photo = photos_data.get_photo(session, sha256)
    vouched = photo is not None and _may_see(session, photo, sha256, actor)
    photos_data.insert_link_if_absent(
        session,
        sha256=sha256,
        case_id=case.id,
        linked_by=actor.user_id,
        now=now,
        vouched=vouched,
    )
    link = photos_data.get_link(session, sha256, case.id)
    assert link is not None
    return link
