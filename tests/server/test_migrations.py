"""Migrations, on a fresh SQLite file and a fresh PostgreSQL database: upgrade to head, downgrade
to base, upgrade again; the schema is the models' and is made by Alembic (never create_all)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

import server.models  # noqa: F401  (registers the tables)
from server.app import create_app
from server.config import Settings
from server.db import alembic_config, make_engine, migrate
from server.demo import load_demo
from server.services.audit import verify_chains
from tests.conftest import PG_ADMIN_URL, PG_BASE, T0, FakeClock, _pg_available


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    reason = _pg_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be available when CI=true: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    name = f"yx_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def model_tables() -> set[str]:
    return set(SQLModel.metadata.tables)


def stamped_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def events_refuse_rewrites(engine: Engine) -> bool:
    """Whether UPDATE and DELETE on case_event are both refused by the database (the demo
    cases give the row triggers rows to fire on)."""
    assert load_demo(engine, now=T0) is True
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_event")).scalar_one() > 0
    refused = 0
    for statement in ("UPDATE case_event SET kind = 'x'", "DELETE FROM case_event"):
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
        except DBAPIError as exc:
            refused += "append-only" in str(exc)
    return refused == 2


def test_upgrade_downgrade_and_upgrade_again_leave_the_models_schema(empty_db: str) -> None:
    engine = make_engine(empty_db)
    try:
        migrate(empty_db)
        assert stamped_revision(engine) == head_revision(empty_db)
        first = tables(engine)
        assert "alembic_version" in first  # the schema came from Alembic, not create_all
        assert model_tables() <= first
        assert events_refuse_rewrites(engine)

        command.downgrade(alembic_config(empty_db), "base")
        engine.dispose()
        assert tables(engine) - {"alembic_version"} == set()
        assert stamped_revision(engine) is None

        migrate(empty_db)
        engine.dispose()
        assert stamped_revision(engine) == head_revision(empty_db)
        assert tables(engine) == first
        assert events_refuse_rewrites(engine)  # the triggers came back with the tables
    finally:
        engine.dispose()


def test_the_migrations_create_exactly_what_the_models_declare(empty_db: str) -> None:
    migrate(empty_db)
    engine = make_engine(empty_db)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], "a model changed without a migration (run alembic revision --autogenerate)"


def test_a_migrated_database_takes_the_demo_data_and_migrating_again_changes_nothing(
    empty_db: str,
) -> None:
    migrate(empty_db)
    engine = make_engine(empty_db)
    try:
        assert load_demo(engine, now=T0) is True
        with engine.connect() as conn:
            cases = conn.execute(text("SELECT count(*) FROM case_record")).scalar_one()
        assert cases > 0
        migrate(empty_db)  # already at head: a no-op that keeps the data
        with engine.connect() as conn:
            again = conn.execute(text("SELECT count(*) FROM case_record")).scalar_one()
        assert again == cases
        assert load_demo(engine, now=T0) is False  # not empty: left as it is
    finally:
        engine.dispose()


# --- from the previous release's schema, with its data in it ---------------------------------

# The schema before the last three migrations (0016 sign-in throttle, 0017 scheduled work's
# bookkeeping, 0011 sessions and refresh tokens): the release the county runs today.
PREVIOUS_RELEASE = "0014"


def _all_case_ids(client: TestClient, headers: dict[str, str]) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        r = client.get("/cases", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        ids += [c["id"] for c in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def test_a_database_of_the_previous_release_with_its_data_upgrades_and_serves_all_of_it(
    empty_db: str, tmp_path: Path
) -> None:
    command.upgrade(alembic_config(empty_db), PREVIOUS_RELEASE)
    engine = make_engine(empty_db)
    try:
        # that release's data: departments, users, the demo cases through their whole workflow
        # (with their event chains), and a user signed in with that release's token
        assert load_demo(engine, now=T0) is True
        with engine.begin() as conn:
            user_id = conn.execute(
                text("SELECT id FROM app_user WHERE username = 'supervisor'")
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO auth_token (token_hash, user_id, created_at, expires_at, revoked)"
                    " VALUES (:h, :u, :c, :e, :r)"
                ),
                {"h": "a" * 64, "u": user_id, "c": T0, "e": T0 + timedelta(days=30), "r": False},
            )
            cases = sorted(conn.execute(text("SELECT id FROM case_record")).scalars())
            events = conn.execute(text("SELECT count(*) FROM case_event")).scalar_one()
            hashes = dict(conn.execute(text("SELECT id, hash FROM case_event")).all())
        assert cases and events > len(cases)

        migrate(empty_db)
        engine.dispose()
        assert stamped_revision(engine) == head_revision(empty_db)
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT id, hash FROM case_event")).all()) == hashes
            kinds = conn.execute(text("SELECT kind FROM auth_token")).scalars().all()
            assert kinds == ["access"]  # the release's token row took the new column's default
        with Session(engine) as session:
            report = verify_chains(session)
        assert report.intact and report.events == events and report.cases == len(cases)

        settings = Settings(database_url=empty_db, photo_dir=tmp_path / "photos", secret="test")
        with TestClient(create_app(settings, engine=engine, clock=FakeClock(T0))) as client:
            r = client.post(
                "/auth/login", json={"username": "supervisor", "password": "yixian-demo"}
            )
            assert r.status_code == 200, r.text  # a sign-in of the new schema (a session)
            supervisor = {"Authorization": f"Bearer {r.json()['token']}"}
            refreshed = client.post(
                "/auth/refresh", json={"refresh_token": r.json()["refresh_token"]}
            )
            assert refreshed.status_code == 200, refreshed.text
            supervisor = {"Authorization": f"Bearer {refreshed.json()['token']}"}
            assert sorted(_all_case_ids(client, supervisor)) == cases
            one = client.get(f"/cases/{cases[0]}", headers=supervisor)
            assert one.status_code == 200 and one.json()["id"] == cases[0]
            r = client.post(
                "/auth/login", json={"username": "inspector", "password": "yixian-demo"}
            )
            inspector = {"Authorization": f"Bearer {r.json()['token']}"}
            new = client.post(
                "/cases",
                json={
                    "id": str(uuid.uuid4()),
                    "category": "waterlogging",
                    "description": "升级后记录的第一件",
                    "location": {"lat": 35.7215, "lon": 116.4877},
                },
                headers=inspector,
            )
            assert new.status_code == 201, new.text
        with Session(engine) as session:
            after = verify_chains(session)
        assert after.intact and after.cases == len(cases) + 1
    finally:
        engine.dispose()
