"""Password sign-in (argon2), sign-in sessions and their tokens.

A password sign-in opens a *session* (a token family) and answers a short-lived access token
and a refresh token. The refresh token is used once: ``refresh`` answers a new pair and marks
the old one used; a used refresh token presented again means it was copied, and the whole
session ends (``refresh_reused``). A session is bound to the device that registers with it:
revoking the device ends it. Tokens are stored as HMAC-SHA256 hashes keyed with
``YIXIAN_SECRET`` (``use_secret``), never in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session

from server.config import DEV_SECRET, Settings
from server.data import users as users_data
from server.data.login_throttle import Key
from server.models import AuthSession, AuthToken, User
from server.services import login_throttle
from sync.errors import DomainError, InvalidInput, NotFound, NotPermitted
from sync.lifecycle import Actor
from sync.passwords import password_problem
from sync.vocabulary import Role

_hasher = PasswordHasher()
_key: bytes = DEV_SECRET.encode()


class BadCredentials(DomainError):
    code = "bad_credentials"


class Unauthenticated(DomainError):
    code = "unauthenticated"


def use_secret(secret: str) -> None:
    """Key the stored token hashes with this server's secret (called when the app is made)."""
    global _key
    _key = secret.encode()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    """What is stored for a token: HMAC-SHA256 keyed with the server's secret (64 hex)."""
    return hmac.new(_key, token.encode(), hashlib.sha256).hexdigest()


def unusable_token_hash() -> str:
    """A hash no token will ever match: a device's token is ended by storing this instead."""
    return token_hash("ended:" + secrets.token_urlsafe(32))


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    session_id: str


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, and through which sign-in session (None: a device token)."""

    user: User
    session_id: str | None = None


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


def _throttled_check(
    session: Session, keys: Sequence[Key], stored_hash: str | None, password: str, now: datetime
) -> bool:
    """Check a password under the sign-in throttle (server/services/login_throttle.py): the
    transaction ends first (nothing held while argon2 runs), the attempt is counted before the
    check, one check at a time per process. The caller then calls ``attempt_failed`` or
    ``attempt_succeeded``. Used by sign-in and by a change of password, so neither can be used
    to guess faster than the other."""
    session.commit()
    with login_throttle.password_check_turn():  # one at a time, at a low CPU priority
        login_throttle.begin_attempt(session, keys, now)
        return login_throttle.run_password_check(lambda: password_matches(stored_hash, password))


def login(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
    settings: Settings,
) -> tuple[TokenPair, User]:
    """Sign in, throttled per account and per client address (server/services/login_throttle.py).
    The password is hashed with no transaction open: read, end the transaction, verify, then a
    short write that opens the sign-in session."""
    keys = login_throttle.keys_for(username, address)
    login_throttle.refuse_if_locked(session, keys, now)
    user = users_data.get_user_by_username(session, username)
    stored_hash = user.password_hash if user is not None else None
    if not _throttled_check(session, keys, stored_hash, password, now) or not (
        user and user.active
    ):
        login_throttle.attempt_failed(session, keys, now)
        raise BadCredentials("用户名或密码错误 / wrong username or password")
    login_throttle.attempt_succeeded(session, keys, now)
    return open_session(session, user, now=now, settings=settings), user


def open_session(session: Session, user: User, *, now: datetime, settings: Settings) -> TokenPair:
    """A new sign-in session for ``user``: its first access and refresh tokens (committed)."""
    auth = AuthSession(
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_ttl_days),
    )
    users_data.add_session(session, auth)
    pair = _issue(session, auth, now, settings)
    session.commit()
    return pair


def _issue(session: Session, auth: AuthSession, now: datetime, settings: Settings) -> TokenPair:
    """A new access token and refresh token in ``auth`` (the caller commits)."""
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    access_ttl = timedelta(minutes=settings.access_ttl_minutes)
    for token, kind, expires in (
        (access, "access", now + access_ttl),
        (refresh, "refresh", auth.expires_at),
    ):
        users_data.add_token(
            session,
            AuthToken(
                token_hash=token_hash(token),
                user_id=auth.user_id,
                created_at=now,
                expires_at=expires,
                kind=kind,
                session_id=auth.id,
            ),
        )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(access_ttl.total_seconds()),
        session_id=auth.id,
    )


def refresh(session: Session, *, token: str, now: datetime, settings: Settings) -> TokenPair:
    """A new pair for a valid refresh token (which is used up); its session slides forward.
    A refresh token used a second time ends its whole session."""
    expired = Unauthenticated(
        "登录已过期，请重新登录 / signed out: sign in again", code="session_ended"
    )
    row = users_data.get_token(session, token_hash(token), for_update=True)
    if row is None or row.kind != "refresh" or row.session_id is None:
        raise expired
    auth = users_data.get_session(session, row.session_id)
    if auth is None or auth.ended_at is not None:
        raise expired
    if row.used_at is not None:
        users_data.end_sessions(session, [auth.id], now=now, reason="refresh_reused")
        session.commit()
        raise Unauthenticated(
            "登录凭据被重复使用，已全部退出，请重新登录 / this refresh token was already used: "
            "every token of this sign-in is ended, sign in again",
            code="refresh_reused",
        )
    user = users_data.get_user(session, auth.user_id)
    if row.revoked or auth.expires_at <= now or user is None or not user.active:
        raise expired
    if auth.device_id is not None and users_data.device_revoked(session, auth.device_id):
        users_data.end_sessions(session, [auth.id], now=now, reason="device_revoked")
        session.commit()
        raise Unauthenticated("该设备已停用 / this device was revoked", code="device_revoked")
    row.used_at = now
    session.add(row)
    auth.expires_at = now + timedelta(days=settings.refresh_ttl_days)
    session.add(auth)
    pair = _issue(session, auth, now, settings)
    session.commit()
    return pair


def logout(session: Session, *, session_id: str | None, now: datetime) -> None:
    """End this sign-in session: its access and refresh tokens stop at once."""
    if session_id is not None:
        users_data.end_sessions(session, [session_id], now=now, reason="logout")
        session.commit()


def change_password(
    session: Session,
    *,
    principal: Principal,
    current_password: str,
    new_password: str,
    address: str,
    now: datetime,
) -> None:
    """Set a new password (the current one is required, checked under the sign-in throttle
    for the account and ``address``: it cannot be used to guess). Every other session of the user
    ends, and every device token but the one of this session's device: a thief's copy stops."""
    user = principal.user
    keys = login_throttle.keys_for(user.username, address)
    login_throttle.refuse_if_locked(session, keys, now)
    if not _throttled_check(session, keys, user.password_hash, current_password, now):
        login_throttle.attempt_failed(session, keys, now)
        raise InvalidInput(
            "current_password",
            "当前密码不正确 / the current password is wrong",
            code="bad_password",
        )
    login_throttle.attempt_succeeded(session, keys, now)
    session.commit()  # the right current password: its attempt is settled, whatever comes next
    problem = password_problem(new_password, username=user.username)
    if problem is not None:
        raise InvalidInput("new_password", problem, code="weak_password")
    if password_matches(user.password_hash, new_password):
        raise InvalidInput(
            "new_password",
            "新密码不能与当前密码相同 / the new password must differ from the current one",
            code="weak_password",
        )
    user.password_hash = hash_password(new_password)
    session.add(user)
    keep_device = None
    if principal.session_id is not None:
        current = users_data.get_session(session, principal.session_id)
        keep_device = current.device_id if current is not None else None
    users_data.end_user_sessions(
        session, user.id, now=now, reason="password_changed", except_id=principal.session_id
    )
    users_data.end_device_tokens(
        session, user.id, new_hash=unusable_token_hash, except_device=keep_device
    )
    session.commit()


def set_user_active(
    session: Session, *, actor: Actor, user_id: str, active: bool, now: datetime
) -> User:
    """An administrator disables (every token of the user ends at once) or enables a user."""
    if actor.role != Role.ADMIN:
        raise NotPermitted("需要管理员 / administrators only", code="role_not_allowed")
    user = users_data.get_user(session, user_id)
    if user is None:
        raise NotFound("用户不存在 / user not found")
    if not active and user.id == actor.user_id:
        raise NotPermitted("不能停用自己的账号 / you cannot disable your own account")
    user.active = active
    session.add(user)
    if not active:
        users_data.end_user_sessions(session, user.id, now=now, reason="user_disabled")
        users_data.end_device_tokens(session, user.id, new_hash=unusable_token_hash)
    session.commit()
    return user


def authenticate(session: Session, token: str, now: datetime, settings: Settings) -> Principal:
    """The user a bearer token acts for: a live access token of a live session, or the token
    of an unrevoked device used within ``device_idle_days``; the user must be active."""
    hashed = token_hash(token)
    found = users_data.user_for_access_token(session, hashed, now)
    if found is not None:
        return Principal(user=found[0], session_id=found[1])
    device_user = users_data.user_for_device_token_hash(
        session, hashed, idle_since=now - timedelta(days=settings.device_idle_days)
    )
    if device_user is not None:
        return Principal(user=device_user)
    raise Unauthenticated("登录已失效，请重新登录 / session expired: sign in again")


def user_of_session(session: Session, session_id: str) -> User:
    auth = users_data.get_session(session, session_id)
    user = users_data.get_user(session, auth.user_id) if auth is not None else None
    if user is None:
        raise Unauthenticated("请先登录 / sign in first")
    return user


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), department=user.department_code)


__all__ = [
    "BadCredentials",
    "Principal",
    "TokenPair",
    "Unauthenticated",
    "actor_of",
    "authenticate",
    "change_password",
    "hash_password",
    "login",
    "logout",
    "open_session",
    "password_problem",
    "refresh",
    "set_user_active",
    "token_hash",
    "unusable_token_hash",
    "use_secret",
    "user_of_session",
]
