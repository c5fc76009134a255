"""Sign-in throttling: refused sign-ins are counted per account (the username given, whether
or not it exists) and per client address; too many in a window lock the key out for a time
that grows with each lockout in a row. A locked key is refused before any password is checked,
so a right password during a lockout is refused too: nobody can keep guessing through it.

How one sign-in goes (server/services/auth.py ``login``):

1. ``refuse_if_locked`` — a read: a locked account or address is refused at once (429).
2. ``begin_attempt`` — a short write: the attempt is counted as a failure *before* the password
   is checked, so that many guesses sent at once (from one process or several) cannot all be
   checked before the first of them is counted.
3. the password is checked, with no transaction open.
4. ``attempt_failed`` (a lockout starts when the count reaches the limit: that answer is already
   429) or ``attempt_succeeded`` (the account's count and lockouts are forgotten, the address's
   count gives back the attempt; refused after all if a lockout started meanwhile).

The rows live in the database (``login_throttle``) so that every server process shares them and
a restart forgets none; administrators list and clear them (server/api/login_lockouts.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from server.data import login_throttle as throttle_data
from server.data.login_throttle import Key
from server.models import LoginThrottleRow
from sync.errors import DomainError, NotFound

log = logging.getLogger("yixian.sign_in")

ACCOUNT = "account"
ADDRESS = "address"
SCOPES = (ACCOUNT, ADDRESS)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    account_failures: int = 5  # refused sign-ins of one username within the window
    # of one client address, across usernames: an office behind one NAT address signs in
    # together, so the limit is higher than one account's
    address_failures: int = 20
    # the n-th lockout in a row lasts lockouts[n-1] (the last one from then on)
    lockouts: tuple[timedelta, ...] = (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=60),
    )
    # a key with no attempt for this long starts again from its first lockout
    forget_after: timedelta = timedelta(hours=24)

    def limit(self, scope: str) -> int:
        return self.account_failures if scope == ACCOUNT else self.address_failures

    def lockout_length(self, nth: int) -> timedelta:
        return self.lockouts[min(nth, len(self.lockouts)) - 1]


POLICY = ThrottlePolicy()


class SignInLocked(DomainError):
    """Too many refused sign-ins for this account or from this address: try again later."""

    code = "sign_in_locked"

    def __init__(self, until: datetime, now: datetime) -> None:
        self.retry_after_s = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(self.retry_after_s / 60)
        super().__init__(
            f"登录失败次数过多，请 {minutes} 分钟后再试 / too many failed sign-ins: try again in "
            f"{self.retry_after_s} s"
        )


class SignInBusy(DomainError):
    """Every password check of this server process is taken: try again in a second."""

    code = "sign_in_busy"
    retry_after_s = 1


# Password checks (argon2: memory-hard, ~60 ms of every core) run one at a time per server
# process, in one thread of their own at a lower CPU priority (nice 10, inherited by argon2's
# own threads): a burst of sign-ins, wrong or not, takes what CPU the other users' requests
# leave, never theirs. A sign-in waits for its turn at most PASSWORD_CHECK_WAIT_S (holding one
# worker thread meanwhile), then is answered 429 with Retry-After 1 and not counted.
PASSWORD_CHECKS_AT_ONCE = 1
PASSWORD_CHECK_WAIT_S = 0.5
PASSWORD_CHECK_NICE = 10
_password_checks = threading.BoundedSemaphore(PASSWORD_CHECKS_AT_ONCE)


def _lower_priority() -> None:
    # Linux: the nice value is the thread's own, inherited by the threads it starts; elsewhere,
    # or when not allowed, the check runs at the normal priority
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_CHECK_NICE)


_checker = ThreadPoolExecutor(
    max_workers=PASSWORD_CHECKS_AT_ONCE,
    thread_name_prefix="password-check",
    initializer=_lower_priority,
)


@contextmanager
def password_check_turn(wait_s: float = PASSWORD_CHECK_WAIT_S) -> Iterator[None]:
    """This sign-in's turn to have its password checked; SignInBusy when it does not come
    within ``wait_s``."""
    if not _password_checks.acquire(timeout=wait_s):
        raise SignInBusy("登录繁忙，请稍后再试 / too many sign-ins at once: try again in a second")
    try:
        yield
    finally:
        _password_checks.release()


def run_password_check(check: Callable[[], bool]) -> bool:
    """Run ``check`` in the password-check thread (low priority) and wait for its answer."""
    return _checker.submit(check).result()


def address_key(host: str | None) -> str:
    """The key of a client address: an IPv4 address as it is, an IPv6 address by its /64
    network (one subscriber holds a whole /64 and could otherwise change address per guess)."""
    if not host:
        return UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def keys_for(username: str, address: str) -> list[Key]:
    return [(ACCOUNT, username), (ADDRESS, address)]


def is_locked(row: LoginThrottleRow, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _latest_lock(rows: Sequence[LoginThrottleRow], now: datetime) -> datetime | None:
    ends = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now]
    return max(ends) if ends else None


def _roll(row: LoginThrottleRow, now: datetime, policy: ThrottlePolicy) -> None:
    """Start a new counting window when the last one has passed; forget old lockouts."""
    if row.last_attempt_at <= now - policy.forget_after:
        row.lockouts = 0
    if row.window_started_at <= now - policy.window:
        row.failures = 0
        row.window_started_at = now


def _lock(row: LoginThrottleRow, now: datetime, policy: ThrottlePolicy) -> None:
    row.lockouts += 1
    length = policy.lockout_length(row.lockouts)
    row.locked_until = now + length
    row.failures = 0
    row.window_started_at = row.locked_until  # counting starts again when the lockout ends
    log.warning(
        "sign-in lockout %d of %s %r for %d s",
        row.lockouts,
        row.scope,
        row.key,
        int(length.total_seconds()),
    )


def refuse_if_locked(session: Session, keys: Sequence[Key], now: datetime) -> None:
    """Refuse at once (a read, no write) when the account or the address is locked out. The
    caller ends the transaction."""
    until = _latest_lock(throttle_data.rows_of(session, keys), now)
    if until is not None:
        session.rollback()
        raise SignInLocked(until, now)


def begin_attempt(
    session: Session, keys: Sequence[Key], now: datetime, policy: ThrottlePolicy = POLICY
) -> None:
    """Count the attempt as a failure before its password is checked (one short transaction,
    committed here); refused if a lockout runs or the attempts in progress reach the limit."""
    rows = throttle_data.lock_rows(session, keys, now)
    for row in rows:
        _roll(row, now, policy)
        if not is_locked(row, now) and row.failures >= policy.limit(row.scope):
            _lock(row, now, policy)  # that many attempts at once: they count as failures
    until = _latest_lock(rows, now)
    if until is None:
        for row in rows:
            row.failures += 1
            row.last_attempt_at = now
    session.commit()
    if until is not None:
        raise SignInLocked(until, now)


def attempt_failed(
    session: Session, keys: Sequence[Key], now: datetime, policy: ThrottlePolicy = POLICY
) -> None:
    """The password was wrong (or the account unknown or disabled): the count stays; a key that
    reached its limit is locked out, and then this answer is already the lockout's (raised)."""
    rows = throttle_data.lock_rows(session, keys, now)
    for row in rows:
        if not is_locked(row, now) and row.failures >= policy.limit(row.scope):
            _lock(row, now, policy)
    until = _latest_lock(rows, now)
    throttle_data.forget_idle(session, idle_since=now - policy.forget_after, now=now)
    session.commit()
    if until is not None:
        raise SignInLocked(until, now)


def attempt_succeeded(
    session: Session, keys: Sequence[Key], now: datetime, policy: ThrottlePolicy = POLICY
) -> None:
    """The password was right: forget the account's failures and lockouts, give the attempt
    back to the address. Refused if a lockout started while the password was checked. Leaves
    the transaction open: the caller adds the token and commits."""
    rows = throttle_data.lock_rows(session, keys, now)
    until = _latest_lock(rows, now)
    if until is not None:
        session.commit()  # the attempt stays counted
        raise SignInLocked(until, now)
    for row in rows:
        if row.scope == ACCOUNT:
            row.failures = 0
            row.lockouts = 0
        else:
            row.failures = max(0, row.failures - 1)


def current_lockouts(session: Session, now: datetime) -> list[LoginThrottleRow]:
    return throttle_data.current_lockouts(session, now)


def clear_lockout(
    session: Session, *, scope: str, key: str, admin_id: str, now: datetime
) -> LoginThrottleRow:
    """An administrator ends a lockout: the key starts again with no failures and from its
    first lockout. Committed here."""
    if scope not in SCOPES:
        raise NotFound(f"没有该锁定 / no lockout of {scope} {key!r}", code="lockout_not_found")
    (row,) = throttle_data.lock_rows(session, [(scope, key)], now)
    if not is_locked(row, now):
        session.rollback()
        raise NotFound(f"没有该锁定 / no lockout of {scope} {key!r}", code="lockout_not_found")
    row.locked_until = None
    row.failures = 0
    row.lockouts = 0
    row.window_started_at = now
    row.cleared_by = admin_id
    row.cleared_at = now
    session.commit()
    log.warning("sign-in lockout of %s %r cleared by %s", scope, key, admin_id)
    return row
