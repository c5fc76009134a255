"""Queries for users, sign-in sessions and their tokens, and device tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.models import AuthSession, AuthToken, Device, User


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def add_token(session: Session, token: AuthToken) -> None:
    session.add(token)


def add_session(session: Session, auth: AuthSession) -> None:
    session.add(auth)
    session.flush()


def get_session(session: Session, session_id: str) -> AuthSession | None:
    return session.get(AuthSession, session_id)


def get_token(session: Session, token_hash: str, *, for_update: bool = False) -> AuthToken | None:
    stmt = select(AuthToken).where(AuthToken.token_hash == token_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def user_for_access_token(
    session: Session, token_hash: str, now: datetime
) -> tuple[User, str | None] | None:
    """The active user of a live access token, and its session (None for an older token)."""
    # one round trip for the token, its session and its user (every request signs in so)
    stmt = (
        select(AuthToken, AuthSession, User)
        .join(User, col(User.id) == col(AuthToken.user_id))
        .outerjoin(AuthSession, col(AuthSession.id) == col(AuthToken.session_id))
        .where(col(AuthToken.token_hash) == token_hash)
    )
    found = session.exec(stmt).first()
    if found is None:
        return None
    row, auth, user = found
    if row.kind != "access" or row.revoked or row.expires_at <= now:
        return None
    if row.session_id is not None and (auth is None or auth.ended_at is not None):
        return None
    if not user.active:
        return None
    return user, row.session_id


def user_for_device_token_hash(
    session: Session, token_hash: str, *, idle_since: datetime
) -> User | None:
    """The active user of an unrevoked device holding this token, used since ``idle_since``."""
    device = session.exec(select(Device).where(Device.token_hash == token_hash)).first()
    if device is None or device.revoked or device_idle(device, idle_since):
        return None
    user = session.get(User, device.user_id)
    return user if user is not None and user.active else None


def device_idle(device: Device, idle_since: datetime) -> bool:
    """Whether the device's token went unused since before ``idle_since`` (it has ended)."""
    last = device.last_seen_at or device.created_at
    return last < idle_since


def device_revoked(session: Session, device_id: str) -> bool:
    device = session.get(Device, device_id)
    return device is None or device.revoked


def end_sessions(session: Session, ids: Sequence[str], *, now: datetime, reason: str) -> None:
    """End these sign-in sessions (every access and refresh token in them stops)."""
    if not ids:
        return
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.id).in_(list(ids)), col(AuthSession.ended_at).is_(None))
        .values(ended_at=now, ended_reason=reason)
    )


def end_user_sessions(
    session: Session, user_id: str, *, now: datetime, reason: str, except_id: str | None = None
) -> None:
    """End every sign-in session of the user (but ``except_id``), and its older tokens."""
    stmt = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.ended_at).is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    if except_id is not None:
        stmt = stmt.where(col(AuthSession.id) != except_id)
    session.execute(stmt)
    session.execute(
        update(AuthToken)
        .where(col(AuthToken.user_id) == user_id, col(AuthToken.session_id).is_(None))
        .values(revoked=True)
    )


def end_device_sessions(session: Session, device_id: str, *, now: datetime, reason: str) -> None:
    """End every sign-in session bound to the device."""
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.device_id) == device_id, col(AuthSession.ended_at).is_(None))
        .values(ended_at=now, ended_reason=reason)
    )


def bind_session_to_device(session: Session, session_id: str, device_id: str) -> None:
    session.execute(
        update(AuthSession).where(col(AuthSession.id) == session_id).values(device_id=device_id)
    )


def end_device_tokens(
    session: Session,
    user_id: str,
    *,
    new_hash: Callable[[], str],
    except_device: str | None = None,
) -> None:
    """Replace the token of every device of the user (but ``except_device``) by one nobody
    holds: those devices must sign in and register again (they are not revoked)."""
    stmt = select(Device).where(Device.user_id == user_id)
    if except_device is not None:
        stmt = stmt.where(col(Device.id) != except_device)
    for device in session.exec(stmt):
        device.token_hash = new_hash()
        session.add(device)
