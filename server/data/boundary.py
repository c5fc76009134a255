"""Queries for the boundary list, mapped to ``sync.boundary_types``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.models import BoundaryEntryRow, BoundaryVersionRow
from sync.boundary_types import (
    Area,
    AreaKind,
    AssistingDuty,
    BoundaryEntry,
    BoundaryVersion,
    TimeLimit,
)
from sync.vocabulary import TimeUnit


def entry_from_row(row: BoundaryEntryRow) -> BoundaryEntry:
    return BoundaryEntry(
        matter=row.matter,
        category=row.category,
        lead_department_code=row.lead_department_code,
        lead_duty=row.lead_duty,
        assisting=tuple(AssistingDuty(a["department_code"], a["duty"]) for a in row.assisting),
        legal_basis=row.legal_basis,
        area=Area(AreaKind(row.area_kind), tuple(row.area_towns)),
        time_limit=TimeLimit(row.time_amount, TimeUnit(row.time_unit)),
        source=row.source,
    )


def row_from_entry(version_number: int, entry: BoundaryEntry) -> BoundaryEntryRow:
    return BoundaryEntryRow(
        version_number=version_number,
        matter=entry.matter,
        category=entry.category,
        lead_department_code=entry.lead_department_code,
        lead_duty=entry.lead_duty,
        assisting=[{"department_code": a.department_code, "duty": a.duty} for a in entry.assisting],
        legal_basis=entry.legal_basis,
        area_kind=entry.area.kind.value,
        area_towns=list(entry.area.town_codes),
        area_towns_key=",".join(sorted(entry.area.town_codes)),
        time_amount=entry.time_limit.amount,
        time_unit=entry.time_limit.unit.value,
        source=entry.source,
    )


def list_version_rows(session: Session) -> list[BoundaryVersionRow]:
    return list(session.exec(select(BoundaryVersionRow).order_by(col(BoundaryVersionRow.number))))


def entry_rows(session: Session, version_number: int) -> list[BoundaryEntryRow]:
    stmt = (
        select(BoundaryEntryRow)
        .where(BoundaryEntryRow.version_number == version_number)
        .order_by(col(BoundaryEntryRow.id))
    )
    return list(session.exec(stmt))


def load_versions(session: Session) -> list[BoundaryVersion]:
    """Every version with its entries (a few hundred rows: small enough to hold in memory)."""
    rows = list(session.exec(select(BoundaryEntryRow).order_by(col(BoundaryEntryRow.id))))
    by_version: dict[int, list[BoundaryEntry]] = {}
    for row in rows:
        by_version.setdefault(row.version_number, []).append(entry_from_row(row))
    return [
        BoundaryVersion(v.number, v.effective_from, v.reason, tuple(by_version.get(v.number, [])))
        for v in list_version_rows(session)
    ]


def insert_version(
    session: Session,
    version: BoundaryVersion,
    *,
    published_by: str | None,
    published_at: datetime,
    backdate_reason: str | None = None,
) -> None:
    session.add(
        BoundaryVersionRow(
            number=version.number,
            effective_from=version.effective_from,
            reason=version.reason,
            backdate_reason=backdate_reason,
            published_by=published_by,
            published_at=published_at,
        )
    )
    session.flush()
    for entry in version.entries:
        session.add(row_from_entry(version.number, entry))
    session.flush()


def latest_version_number(session: Session) -> int | None:
    return session.exec(select(func.max(BoundaryVersionRow.number))).one()
