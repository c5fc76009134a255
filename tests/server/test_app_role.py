"""On PostgreSQL the server connects as a role that does not own the tables: migrations run as
the owner and grant it what it needs. As that role the server works as usual, and it cannot
rewrite history by any statement (UPDATE, DELETE, TRUNCATE, upsert, setting the triggers
aside) nor change the schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from server.app import create_app
from server.config import Settings, settings_from_env
from server.db import make_engine, migrate
from server.services.audit import verify_chains
from server.services.escalation_job import run_escalation
from tests.conftest import PG_ADMIN_URL, T0, Backend, FakeClock
from tests.server.test_cases_api import case_body

APP_ROLE_REFUSALS = {
    "UPDATE": "UPDATE case_event SET kind = 'Forged'",
    "DELETE": "DELETE FROM case_event",
    "TRUNCATE": "TRUNCATE case_event",
    "upsert": (
        "INSERT INTO case_event SELECT * FROM case_event ON CONFLICT (id) "
        "DO UPDATE SET kind = 'Forged'"
    ),
    "disable the triggers": "ALTER TABLE case_event DISABLE TRIGGER USER",
    "drop a trigger": "DROP TRIGGER case_event_append_only ON case_event",
    "drop the table": "DROP TABLE case_event CASCADE",
    "change the schema": "ALTER TABLE case_record ADD COLUMN forged text",
    "restamp the migrations": "UPDATE alembic_version SET version_num = '0001'",
}


@pytest.fixture
def owner_and_app_urls(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, str]]:
    owner_url = backend.fresh_url(tmp_path)
    role = f"yx_app_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        app_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
        yield owner_url, app_url
    finally:
        backend.drop(owner_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_server_as_the_app_role_works_and_cannot_rewrite_history(
    owner_and_app_urls: tuple[str, str], tmp_path: Path
) -> None:
    owner_url, app_url = owner_and_app_urls
    role = make_url(app_url).username
    migrate(owner_url, app_role=role)  # the owner migrates (a no-op here) and grants

    engine = make_engine(app_url)
    settings = Settings(database_url=app_url, photo_dir=tmp_path / "photos", secret="test")
    app = create_app(settings, engine=engine, clock=FakeClock(T0))
    try:
        with TestClient(app) as client:
            r = client.post(
                "/auth/login", json={"username": "supervisor", "password": "yixian-demo"}
            )
            assert r.status_code == 200, r.text
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            r = client.post("/cases", json=case_body(), headers=auth)
            assert r.status_code == 201, r.text
            case_id = r.json()["id"]
            r = client.post(
                f"/cases/{case_id}/assign", json={"lead_department": "zhzf"}, headers=auth
            )
            assert r.status_code == 200, r.text
            r = client.post(f"/cases/{case_id}/notes", json={"note": "到场查看"}, headers=auth)
            assert r.status_code in (200, 201), r.text
            assert client.get("/cases", headers=auth).status_code == 200
        run_escalation(engine, T0)  # the supervision job runs as the app role too

        refused: dict[str, bool] = {}
        for name, statement in APP_ROLE_REFUSALS.items():
            try:
                with engine.begin() as conn:
                    conn.execute(text(statement))
                refused[name] = False
            except DBAPIError as exc:
                refused[name] = "permission denied" in str(exc) or "must be owner" in str(exc)
        assert refused == dict.fromkeys(APP_ROLE_REFUSALS, True)
        with Session(engine) as session:
            report = verify_chains(session)
        assert report.breaks == [] and report.events >= 3
    finally:
        engine.dispose()


def test_the_app_role_is_database_urls_user_when_migrations_connect_as_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("YIXIAN_APP_ROLE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://yixian_app:pw@db.local/yixian")
    monkeypatch.setenv("MIGRATION_DATABASE_URL", "postgresql://yixian_owner:pw@db.local/yixian")
    settings = settings_from_env()
    assert (settings.app_role, settings.migration_database_url) == (
        "yixian_app",
        "postgresql://yixian_owner:pw@db.local/yixian",
    )
    monkeypatch.delenv("MIGRATION_DATABASE_URL")
    assert settings_from_env().app_role is None  # one role: nothing to grant
