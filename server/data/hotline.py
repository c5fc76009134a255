"""Queries for hotline tickets and their imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

import server.models.evaluation  # noqa: F401  (registers the tables)
from server.data.event_chain import seal_rows
from server.models import Case, CaseEvent
from server.models.evaluation import (
    HotlineCallBack,
    HotlineColumnAlias,
    HotlineImport,
    HotlineTicket,
)
from sync.vocabulary import TERMINAL_STATUSES

_CHUNK = 1000  # ids per IN (…) query: one query per import chunk


def _columns(*attrs: Any) -> list[Any]:
    return [col(a) for a in attrs]


def existing_ticket_imports(session: Session, ticket_nos: Sequence[str]) -> dict[str, str]:
    """Ticket number → the import that stored it, for those already stored."""
    out: dict[str, str] = {}
    for i in range(0, len(ticket_nos), _CHUNK):
        chunk = list(ticket_nos[i : i + _CHUNK])
        stmt = select(HotlineTicket.ticket_no, HotlineTicket.import_id).where(
            col(HotlineTicket.ticket_no).in_(chunk)
        )
        for ticket_no, import_id in session.exec(stmt):
            out[ticket_no] = import_id
    return out


def open_cases_with_place(
    session: Session, categories: Iterable[str]
) -> list[tuple[str, str, float, float, str | None]]:
    """(id, category, lat, lon, lead) of open cases with a location in these categories."""
    cats = sorted(set(categories))
    if not cats:
        return []
    stmt = sa_select(
        *_columns(Case.id, Case.category, Case.lat, Case.lon, Case.lead_department)
    ).where(
        col(Case.category).in_(cats),
        col(Case.status).not_in([s.value for s in TERMINAL_STATUSES]),
        col(Case.lat).is_not(None),
        col(Case.lon).is_not(None),
    )
    return [
        (cid, cat, float(lat), float(lon), lead)
        for cid, cat, lat, lon, lead in session.execute(stmt)
    ]


def widen_page_cache(session: Session) -> None:
    """Bulk loading into big indexes wants more than SQLite's default 2 MB page cache: give this
    connection 64 MB (PostgreSQL manages its own buffers)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA cache_size = -65536")


def add_import(session: Session, run: HotlineImport) -> None:
    session.add(run)


def add_tickets(session: Session, tickets: Sequence[HotlineTicket]) -> None:
    session.add_all(tickets)


def insert_tickets(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store hotline_ticket rows in one round trip."""
    if rows:
        session.execute(insert(HotlineTicket.__table__), list(rows))  # type: ignore[attr-defined,arg-type]


def lock_cases(session: Session, ids: Iterable[str]) -> dict[str, tuple[str, int | None]]:
    """Case id → (status, list_version) of these cases, locked until commit (PostgreSQL) so
    their next event numbers cannot be taken by a concurrent writer."""
    wanted = sorted(set(ids))
    out: dict[str, tuple[str, int | None]] = {}
    for i in range(0, len(wanted), _CHUNK):
        stmt = (
            sa_select(*_columns(Case.id, Case.status, Case.list_version))
            .where(col(Case.id).in_(wanted[i : i + _CHUNK]))
            .order_by(col(Case.id))
            .with_for_update()
        )
        for cid, status, list_version in session.execute(stmt):
            out[cid] = (status, list_version)
    return out


def last_event_seqs(session: Session, ids: Iterable[str]) -> dict[str, int]:
    """Case id → its highest event number (cases without events are left out)."""
    wanted = sorted(set(ids))
    out: dict[str, int] = {}
    for i in range(0, len(wanted), _CHUNK):
        stmt = (
            sa_select(col(CaseEvent.case_id), func.max(CaseEvent.seq))
            .where(col(CaseEvent.case_id).in_(wanted[i : i + _CHUNK]))
            .group_by(col(CaseEvent.case_id))
        )
        for cid, seq in session.execute(stmt):
            out[cid] = int(seq)
    return out


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append case_event rows in one round trip, sealed into their cases' hash chains."""
    if rows:
        sealed = [dict(r) for r in rows]
        seal_rows(session, sealed)
        session.execute(insert(CaseEvent.__table__), sealed)  # type: ignore[attr-defined,arg-type]


def touch_cases(
    session: Session, events_per_case: Mapping[str, int], *, now: datetime, change_seq: int
) -> None:
    """Each case gained this many events: bump its version by as many, set ``updated_at`` and
    stamp the change number devices pull by (one executemany)."""
    if not events_per_case:
        return
    table = Case.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            version=table.c.version + bindparam("b_events"),
            updated_at=bindparam("b_now", type_=table.c.updated_at.type),
            change_seq=bindparam("b_seq"),
        )
    )
    session.connection().execute(
        stmt,
        [
            {"b_id": cid, "b_events": n, "b_now": now, "b_seq": change_seq}
            for cid, n in sorted(events_per_case.items())
        ],
    )


def get_import(session: Session, import_id: str) -> HotlineImport | None:
    return session.get(HotlineImport, import_id)


def list_imports(session: Session, limit: int = 50) -> list[HotlineImport]:
    stmt = select(HotlineImport).order_by(col(HotlineImport.imported_at).desc()).limit(limit)
    return list(session.exec(stmt))


def tickets_of_case(session: Session, case_id: str) -> list[HotlineTicket]:
    stmt = (
        select(HotlineTicket)
        .where(HotlineTicket.case_id == case_id)
        .order_by(col(HotlineTicket.received_at))
    )
    return list(session.exec(stmt))


def tickets_of_import(session: Session, import_id: str) -> list[HotlineTicket]:
    stmt = (
        select(HotlineTicket)
        .where(HotlineTicket.import_id == import_id)
        .order_by(col(HotlineTicket.row_number))
    )
    return list(session.exec(stmt))


def column_aliases(session: Session) -> dict[str, str]:
    """An administrator's header names (normalised) → the column each means."""
    return {a.header: a.column for a in session.exec(select(HotlineColumnAlias))}


def list_column_aliases(session: Session) -> list[HotlineColumnAlias]:
    return list(session.exec(select(HotlineColumnAlias).order_by(col(HotlineColumnAlias.header))))


def get_column_alias(session: Session, header: str) -> HotlineColumnAlias | None:
    return session.get(HotlineColumnAlias, header)


def save_column_alias(session: Session, alias: HotlineColumnAlias) -> None:
    session.add(alias)
    session.flush()


def delete_column_alias(session: Session, alias: HotlineColumnAlias) -> None:
    session.delete(alias)
    session.flush()


def get_ticket(session: Session, ticket_no: str) -> HotlineTicket | None:
    return session.get(HotlineTicket, ticket_no)


def tickets_by_number(session: Session, ticket_nos: Sequence[str]) -> dict[str, HotlineTicket]:
    out: dict[str, HotlineTicket] = {}
    for i in range(0, len(ticket_nos), _CHUNK):
        stmt = select(HotlineTicket).where(
            col(HotlineTicket.ticket_no).in_(list(ticket_nos[i : i + _CHUNK]))
        )
        out.update({t.ticket_no: t for t in session.exec(stmt)})
    return out


def call_back_exists(session: Session, ticket_no: str, called_back_at: datetime) -> bool:
    stmt = select(HotlineCallBack.id).where(
        HotlineCallBack.ticket_no == ticket_no, HotlineCallBack.called_back_at == called_back_at
    )
    return session.exec(stmt).first() is not None


def add_call_back(session: Session, call_back: HotlineCallBack) -> None:
    session.add(call_back)
    session.flush()


def call_backs_of_case(session: Session, case_id: str) -> list[HotlineCallBack]:
    stmt = (
        select(HotlineCallBack)
        .where(HotlineCallBack.case_id == case_id)
        .order_by(col(HotlineCallBack.called_back_at), col(HotlineCallBack.id))
    )
    return list(session.exec(stmt))
