"""Queries for photos and their links to cases. The only place photos meet SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from server.models import Device, Photo, PhotoHolder, PhotoLink, User


def _insert_or_ignore(session: Session, model: type[SQLModel], values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on both databases: concurrent or replayed inserts of
    the same key are not errors."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(model).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(model).values(**values).on_conflict_do_nothing())


def get_photo(session: Session, sha256: str, *, for_update: bool = False) -> Photo | None:
    stmt = select(Photo).where(Photo.sha256 == sha256).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def insert_photo_if_absent(
    session: Session,
    *,
    sha256: str,
    size: int,
    uploader: str,
    now: datetime,
    uploader_device: str | None = None,
) -> None:
    _insert_or_ignore(
        session,
        Photo,
        {
            "sha256": sha256,
            "size": size,
            "received": 0,
            "complete": False,
            "created_at": now,
            "uploader": uploader,
            "uploader_device": uploader_device,
        },
    )


def open_uploads(session: Session, uploader: str, *, since: datetime) -> int:
    """How many unfinished uploads ``uploader`` started since ``since``. The uploader's row is
    locked first (PostgreSQL; SQLite's writers are serial anyway), so two chunks starting
    uploads at once are counted one after the other."""
    session.execute(
        sa_select(col(User.id)).where(col(User.id) == uploader).with_for_update()
    ).first()
    stmt = (
        sa_select(func.count())
        .select_from(Photo)
        .where(
            col(Photo.uploader) == uploader,
            col(Photo.complete).is_(False),
            col(Photo.created_at) >= since,
        )
    )
    return int(session.execute(stmt).scalar_one())


def save_photo(session: Session, photo: Photo) -> None:
    session.add(photo)
    session.flush()


def delete_photo(session: Session, sha256: str) -> None:
    session.execute(delete(Photo).where(col(Photo.sha256) == sha256))


def uploader_cut_off(session: Session, photo: Photo) -> bool:
    """Whoever started this upload can no longer write it: its device was revoked (a lost
    phone), or — started with a sign-in token — its user was disabled."""
    if photo.uploader_device is not None:
        device = session.get(Device, photo.uploader_device)
        return device is None or device.revoked
    user = session.get(User, photo.uploader)
    return user is None or not user.active


def restart_upload(
    session: Session,
    photo: Photo,
    *,
    uploader: str,
    uploader_device: str | None,
    size: int,
    now: datetime,
) -> None:
    """The upload starts again from nothing, written by ``uploader`` (and its device)."""
    photo.uploader, photo.uploader_device = uploader, uploader_device
    photo.size, photo.received, photo.created_at = size, 0, now
    save_photo(session, photo)


def insert_link_if_absent(
    session: Session,
    *,
    sha256: str,
    case_id: str,
    linked_by: str,
    now: datetime,
    vouched: bool = True,
) -> None:
    _insert_or_ignore(
        session,
        PhotoLink,
        {
            "sha256": sha256,
            "case_id": case_id,
            "linked_by": linked_by,
            "linked_at": now,
            "vouched": vouched,
        },
    )


def delete_links(session: Session, sha256: str) -> None:
    """Every case's link to a photo (its bytes were refused: it can never arrive)."""
    session.execute(delete(PhotoLink).where(col(PhotoLink.sha256) == sha256))


def holders(session: Session, sha256: str) -> set[str]:
    stmt = select(PhotoHolder.user_id).where(PhotoHolder.sha256 == sha256)
    return set(session.exec(stmt))


def add_holder(session: Session, sha256: str, user_id: str, now: datetime) -> None:
    _insert_or_ignore(
        session, PhotoHolder, {"sha256": sha256, "user_id": user_id, "held_since": now}
    )


def get_link(session: Session, sha256: str, case_id: str) -> PhotoLink | None:
    stmt = (
        select(PhotoLink)
        .where(PhotoLink.sha256 == sha256, PhotoLink.case_id == case_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(stmt).first()


def linked_case_ids(session: Session, sha256: str, *, vouchers: set[str]) -> list[str]:
    """The cases a photo shows on: links vouched for when made, or made by one of
    ``vouchers`` (its uploader and holders)."""
    stmt = select(PhotoLink.case_id).where(
        PhotoLink.sha256 == sha256,
        or_(col(PhotoLink.vouched).is_(True), col(PhotoLink.linked_by).in_(vouchers)),
    )
    return list(session.exec(stmt))


def photos_of_case(session: Session, case_id: str) -> list[str]:
    stmt = (
        select(PhotoLink.sha256)
        .where(PhotoLink.case_id == case_id)
        .order_by(col(PhotoLink.linked_at), col(PhotoLink.sha256))
    )
    return list(session.exec(stmt))
