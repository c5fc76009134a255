"""Queries for hotline tickets and their imports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

import server.models.evaluation  # noqa: F401  (registers the tables)
from server.models import Case
from server.models.evaluation import HotlineImport, HotlineTicket
from sync.vocabulary import TERMINAL_STATUSES

_CHUNK = 500


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


def add_import(session: Session, run: HotlineImport) -> None:
    session.add(run)


def add_tickets(session: Session, tickets: Sequence[HotlineTicket]) -> None:
    session.add_all(tickets)


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
