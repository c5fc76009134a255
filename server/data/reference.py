"""Queries for departments, towns, sites and intake channels, mapped to the shared value types."""

from __future__ import annotations

from sqlmodel import Session, select

from server.models import Department, IntakeChannelRow, SiteRow, TownRow
from sync.boundary_types import Point, Site, Town
from sync.intake import IntakeChannel


def list_departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.code)))


def department_codes(session: Session) -> set[str]:
    return set(session.exec(select(Department.code)))


def get_department(session: Session, code: str) -> Department | None:
    return session.get(Department, code)


def list_town_rows(session: Session) -> list[TownRow]:
    return list(session.exec(select(TownRow).order_by(TownRow.code)))


def list_site_rows(session: Session) -> list[SiteRow]:
    return list(session.exec(select(SiteRow).order_by(SiteRow.code)))


def town_from_row(row: TownRow) -> Town:
    return Town(
        code=row.code,
        name=row.name,
        kind=row.kind,
        urban=row.urban,
        polygon=tuple(Point(lat, lon) for lat, lon in row.polygon),
    )


def site_from_row(row: SiteRow) -> Site:
    return Site(
        code=row.code,
        name=row.name,
        kind=row.kind,
        category=row.category,
        town_code=row.town_code,
        location=Point(row.lat, row.lon),
        radius_m=row.radius_m,
    )


def load_towns(session: Session) -> list[Town]:
    return [town_from_row(r) for r in list_town_rows(session)]


def load_sites(session: Session) -> list[Site]:
    return [site_from_row(r) for r in list_site_rows(session)]


def list_intake_channel_rows(session: Session) -> list[IntakeChannelRow]:
    stmt = select(IntakeChannelRow).order_by(IntakeChannelRow.position, IntakeChannelRow.code)  # type: ignore[arg-type]
    return list(session.exec(stmt))


def load_intake_channels(session: Session) -> list[IntakeChannel]:
    return [
        IntakeChannel(code=r.code, name_zh=r.name_zh, name_en=r.name_en, position=r.position)
        for r in list_intake_channel_rows(session)
    ]
