"""The bulk insert used by sync push stores rows exactly as the ORM would: read back equal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from server.data.bulk import insert_many
from server.db import make_engine
from server.models import Case, User
from tests.conftest import T0, Server


def case_row(**overrides: Any) -> dict[str, Any]:
    case_id = str(uuid.uuid4())
    row: dict[str, Any] = {
        "id": case_id,
        "number": case_id[:16],
        "status": "discovered",
        "category": "waterlogging",
        "matter": None,
        "description": '涵洞积水 "引号" 与 emoji 🚧',
        "source": "inspection",
        "lat": 35.7215,
        "lon": 116.4877,
        "town_code": None,
        "site_code": None,
        "first_contact_department": "shzl",
        "reporter_user_id": "",
        "lead_department": None,
        "assisting": [{"department_code": "sw", "duty": "排水"}],
        "assisting_codes": ",sw,",
        "legal_basis": None,
        "list_version": None,
        "time_amount": None,
        "time_unit": None,
        "assigned_at": None,
        "due_at": T0 + timedelta(days=3, microseconds=7),
        "suspended": False,
        "disputed": True,
        "handler_user_ids": [],
        "rework_count": 0,
        "return_count": 2,
        "duplicate_of": None,
        "closed_at": None,
        "created_at": datetime(2026, 11, 2, 7, 0, tzinfo=timezone(timedelta(hours=8))),
        "updated_at": datetime(2026, 11, 2, 1, 0, 0, 0, tzinfo=UTC),  # no microseconds
        "version": 1,
        "change_seq": 5,
    }
    row.update(overrides)
    return row


def test_bulk_rows_read_back_equal_to_rows_the_orm_stored(server: Server) -> None:
    engine = make_engine(server.url)
    with Session(engine) as session:
        user_id = session.exec(select(User.id).where(User.username == "inspector")).one()
        by_orm, by_bulk = case_row(reporter_user_id=user_id), case_row(reporter_user_id=user_id)
        session.add(Case(**by_orm))
        insert_many(session, Case.__table__, [by_bulk])  # type: ignore[attr-defined]
        session.commit()
    with Session(engine) as session:
        orm = session.get(Case, by_orm["id"])
        bulk = session.get(Case, by_bulk["id"])
        assert orm is not None and bulk is not None
        skip = {"id", "number"}
        orm_values = {k: v for k, v in orm.model_dump().items() if k not in skip}
        bulk_values = {k: v for k, v in bulk.model_dump().items() if k not in skip}
        assert bulk_values == orm_values
        assert bulk.created_at == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
        assert bulk.due_at is not None and bulk.due_at.microsecond == 7
        # stored alike, so SQL comparisons and ordering (keyset pages) treat both the same
        raw = (
            "SELECT created_at, updated_at, due_at, assisting, disputed FROM case_record "
            "WHERE id = :i"
        )
        stored = [
            tuple(session.connection().execute(text(raw), {"i": row["id"]}).one())
            for row in (by_orm, by_bulk)
        ]
        assert stored[0] == stored[1]
    engine.dispose()
