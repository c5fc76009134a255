"""Photos: a resumable upload by sha256 (HEAD for the offset, PATCH one chunk at a time), the
download for those who may see a linked case, and linking a photo to a case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from server.api.deps import CurrentActor, NowDep, SessionDep, SettingsDep
from server.data import sync as sync_data
from server.observability import metrics
from server.services import photos as photo_service
from server.services.auth import token_hash
from server.services.photos import (
    MAX_CHUNK_BYTES,
    SHA256_PATTERN,
    OffsetMismatch,
    PhotoTooLarge,
    TooManyUploads,
    UploadState,
)
from server.storage import FileStore, iter_file
from sync.errors import InvalidInput

router = APIRouter(prefix="/photos", tags=["photos"])

OFFSET = "Upload-Offset"
LENGTH = "Upload-Length"
COMPLETE = "Upload-Complete"
CHUNK_SHA = "Chunk-Sha256"

Sha256Path = Annotated[
    str, Path(pattern=SHA256_PATTERN, description="the photo's sha256, 64 hex characters")
]


class PhotoLinkIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"case_id": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11"}}
    )
    case_id: str = Field(min_length=1, max_length=36)


class PhotoLinkOut(BaseModel):
    sha256: str
    case_id: str
    linked_by: str
    linked_at: datetime


def get_store(request: Request) -> FileStore:
    """The photo store of ``YIXIAN_STORAGE`` (server/storage), made once by the app."""
    store: FileStore = request.app.state.stores.photos
    return store


StoreDep = Annotated[FileStore, Depends(get_store)]


def calling_device(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> str | None:
    """The device whose token signs this request (None: a user's sign-in token)."""
    token = (authorization or "")[7:].strip()
    found = sync_data.device_and_user_by_token_hash(session, token_hash(token)) if token else None
    return None if found is None else found[0].id


DeviceDep = Annotated[str | None, Depends(calling_device)]


def _state_headers(state: UploadState) -> dict[str, str]:
    headers = {OFFSET: str(state.offset), COMPLETE: "1" if state.complete else "0"}
    if state.length is not None:
        headers[LENGTH] = str(state.length)
    headers["Cache-Control"] = "no-store"
    return headers


def _too_large(exc: PhotoTooLarge) -> NoReturn:
    raise HTTPException(status_code=413, detail=exc.as_dict()) from exc


def _int_header(name: str, value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        raise InvalidInput(name, "应为非负整数 / must be a non-negative integer")
    return int(value)


async def read_chunk(request: Request) -> bytes:
    """The request body, refused (413) as soon as it passes the chunk limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CHUNK_BYTES:
        _too_large(PhotoTooLarge(f"每块不能超过 {MAX_CHUNK_BYTES} 字节 / chunk too large"))
    parts: list[bytes] = []
    size = 0
    try:
        async for part in request.stream():
            size += len(part)
            if size > MAX_CHUNK_BYTES:
                _too_large(PhotoTooLarge(f"每块不能超过 {MAX_CHUNK_BYTES} 字节 / chunk too large"))
            parts.append(part)
    except ClientDisconnect:
        # The connection was cut mid-body: nothing of this chunk is kept.
        raise HTTPException(status_code=400, detail={"code": "client_disconnected"}) from None
    return b"".join(parts)


ChunkDep = Annotated[bytes, Depends(read_chunk)]


@router.head(
    "/{sha256}",
    summary="How much of a photo the server holds",
    responses={200: {"description": "Upload-Offset, Upload-Complete (1|0), Upload-Length"}},
)
def upload_status(
    sha256: Sha256Path,
    session: SessionDep,
    actor: CurrentActor,
    store: StoreDep,
    device_id: DeviceDep,
) -> Response:
    """Offset 0 for a photo the server has never seen — and for one you may not see, or an
    upload another device is writing (the same answer); ``Upload-Complete: 1`` means the
    device need not (and must not) send it again."""
    state = photo_service.upload_state(session, store, sha256, actor, device_id)
    return Response(status_code=200, headers=_state_headers(state))


@router.patch(
    "/{sha256}",
    status_code=204,
    summary="Send one chunk of a photo",
    responses={
        204: {"description": "kept; Upload-Offset is the new offset"},
        409: {
            "description": "wrong offset: Upload-Offset says where the server is; or "
            "upload_in_progress: another device is writing this upload (try again later)"
        },
        413: {"description": "photo or chunk too large"},
        422: {
            "description": "bad chunk checksum, or the finished photo is not what it is named, "
            "not a JPEG/PNG that decodes, or over 50 megapixels"
        },
        429: {"description": "too many unfinished uploads: finish one first"},
    },
)
def upload_chunk(
    sha256: Sha256Path,
    actor: CurrentActor,  # before the body: strangers are refused before it is read
    device_id: DeviceDep,
    chunk: ChunkDep,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    upload_offset: Annotated[str | None, Header(alias=OFFSET)] = None,
    upload_length: Annotated[str | None, Header(alias=LENGTH)] = None,
    chunk_sha256: Annotated[str | None, Header(alias=CHUNK_SHA)] = None,
) -> Response:
    """The body is the chunk's bytes, sent at the offset HEAD gave, with its sha256 in
    ``Chunk-Sha256``. The last chunk makes the server hash the whole photo: if it is not what
    its name says, or not a JPEG/PNG, it is discarded (422)."""
    offset = _int_header(OFFSET, upload_offset)
    length = _int_header(LENGTH, upload_length)
    if chunk_sha256 is None:
        raise InvalidInput(CHUNK_SHA, "缺少分块校验 / the chunk's sha256 is required")
    try:
        state = photo_service.receive_chunk(
            session,
            store,
            actor,
            sha256,
            offset=offset,
            length=length,
            chunk=chunk,
            chunk_sha256=chunk_sha256,
            max_bytes=settings.max_photo_bytes,
            now=now,
            device_id=device_id,
            max_open_uploads=settings.max_open_uploads,
        )
    except PhotoTooLarge as exc:
        _too_large(exc)
    except TooManyUploads as exc:
        raise HTTPException(
            status_code=429, detail=exc.as_dict(), headers={"Retry-After": "60"}
        ) from exc
    except OffsetMismatch as exc:
        raise HTTPException(
            status_code=409,
            detail=exc.as_dict(),
            headers={OFFSET: str(exc.offset), "Cache-Control": "no-store"},
        ) from exc
    metrics.observe_photo_bytes("upload", len(chunk))
    return Response(status_code=204, headers=_state_headers(state))


@router.get(
    "/{sha256}",
    summary="A photo's bytes",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}},
        500: {"description": "stored_file_damaged: the stored bytes differ from the sha256"},
    },
)
def download_photo(
    sha256: Sha256Path, session: SessionDep, actor: CurrentActor, store: StoreDep
) -> StreamingResponse:
    """Only for its uploader and for whoever may see a case it is evidence for (else 404).
    The bytes are checked against the sha256 before any is sent."""
    photo = photo_service.photo_for_download(session, store, actor, sha256)
    metrics.observe_photo_bytes("download", photo.size)
    return StreamingResponse(
        iter_file(photo.content),
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Length": str(photo.size),
        },
    )


@router.post(
    "/{sha256}/links",
    status_code=201,
    response_model=PhotoLinkOut,
    summary="Make a photo evidence for a case",
)
def link_photo(
    sha256: Sha256Path, body: PhotoLinkIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> PhotoLinkOut:
    """The bytes may follow later. Linking again is harmless."""
    link = photo_service.link_photo(session, actor, sha256, body.case_id, now)
    session.commit()
    return PhotoLinkOut.model_validate(link, from_attributes=True)
