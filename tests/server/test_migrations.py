"""Migrations, on a fresh SQLite file and a fresh PostgreSQL database: upgrade to head, downgrade
to base, upgrade again; the schema is the models' and is made by Alembic (never create_all)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers the tables)
from server.db import alembic_config, make_engine, migrate
from server.demo import load_demo
from tests.conftest import PG_ADMIN_URL, PG_BASE, T0, _pg_available


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
