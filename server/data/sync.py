"""Queries for devices, command results and the change counter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import false, func, not_, text, tuple_
from sqlmodel import Session, col, select

from server.data.bulk import insert_many
from server.data.cases import visibility_clause
from server.models import Case, CaseWithdrawal, CommandResultRow, Device, SyncCounter, User

COUNTER = "changes"


def next_change_seq(session: Session) -> int:
    """Take the next change number. The row lock it holds until commit orders writers, so
    change numbers follow commit order (a pull never skips a later-committed lower number)."""
    value = session.execute(
        text("UPDATE sync_counter SET value = value + 1 WHERE name = :n RETURNING value"),
        {"n": COUNTER},
    ).scalar_one()
    return int(value)


def epoch(session: Session) -> str:
    row = session.get(SyncCounter, COUNTER)
    return row.epoch if row else ""


def new_epoch(session: Session) -> str:
    """Give this database a new epoch (after a restore): every phone sees the change at its
    next sync and resynchronises (sync/client.py)."""
    value = str(uuid.uuid4())
    session.execute(
        text("UPDATE sync_counter SET epoch = :e WHERE name = :n"), {"e": value, "n": COUNTER}
    )
    return value


def current_change_seq(session: Session) -> int:
    row = session.get(SyncCounter, COUNTER)
    return row.value if row else 0


def get_device(session: Session, device_id: str, *, for_update: bool = False) -> Device | None:
    """The device; ``for_update`` locks its row and re-reads it (the request loaded it before
    the lock: a concurrent push of the same device may have moved ``last_applied`` since)."""
    stmt = select(Device).where(Device.id == device_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def device_by_client_id(session: Session, client_id: str) -> Device | None:
    return session.exec(select(Device).where(Device.client_id == client_id)).first()


def device_by_token_hash(session: Session, token_hash: str) -> Device | None:
    return session.exec(select(Device).where(Device.token_hash == token_hash)).first()


def device_and_user_by_token_hash(session: Session, token_hash: str) -> tuple[Device, User] | None:
    """The device holding this token and the user it acts for, in one query."""
    row = session.exec(
        select(Device, User)
        .join(User, col(User.id) == col(Device.user_id))
        .where(Device.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def stored_results(session: Session, device_id: str, ids: Sequence[int]) -> list[CommandResultRow]:
    if not ids:
        return []
    stmt = select(CommandResultRow).where(
        CommandResultRow.device_id == device_id, col(CommandResultRow.command_id).in_(list(ids))
    )
    return list(session.exec(stmt))


def results_after(
    session: Session, device_id: str, after: int, limit: int
) -> list[CommandResultRow]:
    stmt = (
        select(CommandResultRow)
        .where(CommandResultRow.device_id == device_id, col(CommandResultRow.command_id) > after)
        .order_by(col(CommandResultRow.command_id))
        .limit(limit)
    )
    return list(session.exec(stmt))


def changed_cases(
    session: Session,
    *,
    after: tuple[int, str],
    visible_to_department: str | None,
    reporter_user_id: str | None,
    limit: int,
) -> list[Case]:
    seq, case_id = after
    # a row comparison, not an OR: both databases seek ix_case_change to the cursor
    stmt = select(Case).where(tuple_(col(Case.change_seq), col(Case.id)) > (seq, case_id))
    if visible_to_department is not None:
        stmt = stmt.where(visibility_clause(visible_to_department, reporter_user_id))
    stmt = stmt.order_by(col(Case.change_seq), col(Case.id)).limit(limit)
    return list(session.exec(stmt))


def withdrawn_cases(
    session: Session,
    *,
    department: str,
    reporter_user_id: str,
    after_seq: int,
    upto_seq: int | None,
) -> list[tuple[str, int]]:
    """(case id, change number) of the withdrawals of ``department`` numbered in
    (after_seq, upto_seq] from cases the user does not see now."""
    stmt = (
        select(CaseWithdrawal.case_id, CaseWithdrawal.change_seq)
        .join(Case, col(Case.id) == col(CaseWithdrawal.case_id))
        .where(
            col(CaseWithdrawal.department) == department,
            col(CaseWithdrawal.change_seq) > after_seq,
            # NOT of a clause over NULL columns (a returned case has no lead) is NULL, not
            # true: coalesce first, or a withdrawn department would never hear of it
            not_(func.coalesce(visibility_clause(department, reporter_user_id), false())),
        )
        .order_by(col(CaseWithdrawal.change_seq))
    )
    if upto_seq is not None:
        stmt = stmt.where(col(CaseWithdrawal.change_seq) <= upto_seq)
    return [(str(case_id), int(seq)) for case_id, seq in session.exec(stmt).all()]


def add_results(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store command results (device_command_result rows) in one round trip."""
    insert_many(session, CommandResultRow.__table__, rows)  # type: ignore[attr-defined]
