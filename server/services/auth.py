"""Password login (argon2) and bearer tokens (stored as sha256 hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlmodel import Session

from server.data import users as users_data
from server.models import AuthToken, User
from sync.errors import DomainError
from sync.lifecycle import Actor
from sync.vocabulary import Role

_hasher = PasswordHasher()


class BadCredentials(DomainError):
    code = "bad_credentials"


class Unauthenticated(DomainError):
    code = "unauthenticated"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    session: Session, *, username: str, password: str, now: datetime, ttl_hours: int
) -> tuple[str, User]:
    user = users_data.get_user_by_username(session, username)
    if user is None or not user.active:
        raise BadCredentials("用户名或密码错误 / wrong username or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        raise BadCredentials("用户名或密码错误 / wrong username or password") from None
    token = secrets.token_urlsafe(32)
    users_data.add_token(
        session,
        AuthToken(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=ttl_hours),
        ),
    )
    session.commit()
    return token, user


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    return users_data.user_for_token(session, token_hash(token), now)


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), department=user.department_code)


def user_for_device_token(session: Session, token: str) -> User | None:
    """A registered, unrevoked device acts for the user it was registered to."""
    return users_data.user_for_device_token_hash(session, token_hash(token))
