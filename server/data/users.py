"""Queries for users and login tokens."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from server.models import AuthToken, Device, User


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def add_token(session: Session, token: AuthToken) -> None:
    session.add(token)


def user_for_token(session: Session, token_hash: str, now: datetime) -> User | None:
    row = session.get(AuthToken, token_hash)
    if row is None or row.revoked or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user


def user_for_device_token_hash(session: Session, token_hash: str) -> User | None:
    device = session.exec(select(Device).where(Device.token_hash == token_hash)).first()
    if device is None or device.revoked:
        return None
    user = session.get(User, device.user_id)
    return user if user is not None and user.active else None
