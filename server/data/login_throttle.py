"""Queries for the sign-in throttle (failed sign-ins and lockouts per account and address).

Writers take the rows they change with ``lock_rows``: the transaction starts with a write
(an INSERT that ignores existing rows), so on SQLite it holds the write lock from its first
statement, and on PostgreSQL the rows are locked in one order (by scope, then key) by every
transaction — two sign-ins never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from server.models import LoginThrottleRow

Key = tuple[str, str]  # (scope, key)


def _matching(keys: Sequence[Key]) -> Any:
    return or_(
        *(
            and_(col(LoginThrottleRow.scope) == scope, col(LoginThrottleRow.key) == key)
            for scope, key in keys
        )
    )


def rows_of(session: Session, keys: Sequence[Key]) -> list[LoginThrottleRow]:
    """The rows of these keys as they are (no lock)."""
    stmt = select(LoginThrottleRow).where(_matching(keys)).execution_options(populate_existing=True)
    return list(session.exec(stmt))


def lock_rows(session: Session, keys: Sequence[Key], now: datetime) -> list[LoginThrottleRow]:
    """The rows of these keys, created if missing, locked until the transaction ends; in the
    order of ``sorted(keys)``."""
    ordered = sorted(set(keys))
    table = LoginThrottleRow.__table__  # type: ignore[attr-defined]
    ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for scope, key in ordered:
        session.execute(
            ins(table)
            .values(
                scope=scope,
                key=key,
                failures=0,
                window_started_at=now,
                last_attempt_at=now,
                lockouts=0,
            )
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
    stmt = (
        select(LoginThrottleRow)
        .where(_matching(ordered))
        .order_by(col(LoginThrottleRow.scope), col(LoginThrottleRow.key))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {(r.scope, r.key): r for r in session.exec(stmt)}
    return [found[k] for k in ordered]


def current_lockouts(session: Session, now: datetime) -> list[LoginThrottleRow]:
    stmt = (
        select(LoginThrottleRow)
        .where(col(LoginThrottleRow.locked_until) > now)
        .order_by(col(LoginThrottleRow.scope), col(LoginThrottleRow.key))
    )
    return list(session.exec(stmt))


def forget_idle(session: Session, *, idle_since: datetime, now: datetime) -> None:
    """Delete the rows of keys with no attempt since ``idle_since`` and no lockout running.
    Rows another transaction holds are skipped (PostgreSQL), never waited for."""
    idle = (
        select(col(LoginThrottleRow.scope), col(LoginThrottleRow.key))
        .where(
            col(LoginThrottleRow.last_attempt_at) < idle_since,
            or_(
                col(LoginThrottleRow.locked_until).is_(None),
                col(LoginThrottleRow.locked_until) <= now,
            ),
        )
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LoginThrottleRow).where(
            tuple_(col(LoginThrottleRow.scope), col(LoginThrottleRow.key)).in_(idle)
        )
    )
