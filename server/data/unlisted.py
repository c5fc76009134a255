"""The register of unlisted matters (cases no list entry covered), for 编办."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.models import UnlistedMatter


def add(session: Session, row: UnlistedMatter) -> None:
    session.add(row)


def list_rows(session: Session, *, limit: int, offset: int = 0) -> list[UnlistedMatter]:
    return list(
        session.exec(
            select(UnlistedMatter)
            .order_by(col(UnlistedMatter.recorded_at).desc(), col(UnlistedMatter.id).desc())
            .limit(limit)
            .offset(offset)
        )
    )
