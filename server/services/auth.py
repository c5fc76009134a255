"""Password login (argon2) and bearer tokens (stored as sha256 hashes)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session

from server.data import users as users_data
from server.models import AuthToken, User
from server.services import login_throttle
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


def dummy_hash() -> str:
    """A hash of a password nobody knows, made by the hasher in use (so with its cost): an
    unknown username is checked against it and costs what a known one costs."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(24)))
    return _dummy[1]


_dummy: tuple[PasswordHasher, str] | None = None
dummy_hash()  # made now: the first unknown username costs no more than the next


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash, or against the dummy hash when there is none:
    the same work either way."""
    try:
        _hasher.verify(stored_hash if stored_hash is not None else dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
    ttl_hours: int,
) -> tuple[str, User]:
    """Sign in, throttled per account and per client address (server/services/login_throttle.py).
    The password is hashed with no transaction open: read, end the transaction, verify, then a
    short write."""
    keys = login_throttle.keys_for(username, address)
    login_throttle.refuse_if_locked(session, keys, now)
    user = users_data.get_user_by_username(session, username)
    stored_hash = user.password_hash if user is not None else None
    session.commit()  # nothing held while the password is hashed
    with login_throttle.password_check_turn():  # one at a time, at a low CPU priority
        login_throttle.begin_attempt(session, keys, now)
        matches = login_throttle.run_password_check(lambda: password_matches(stored_hash, password))
    if not matches or user is None or not user.active:
        login_throttle.attempt_failed(session, keys, now)
        raise BadCredentials("用户名或密码错误 / wrong username or password")
    login_throttle.attempt_succeeded(session, keys, now)
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
