"""SQL of scheduled work's bookkeeping (``job_run``) and of the readiness probe."""

from __future__ import annotations

from datetime import datetime

from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import Session

from server.models.jobs import JobRun


def get(engine: Engine, name: str) -> JobRun | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(JobRun, name)


def _row(session: Session, name: str) -> JobRun:
    return session.get(JobRun, name) or JobRun(name=name)


def mark_started(engine: Engine, name: str, at: datetime, runner: str) -> None:
    with Session(engine) as session:
        row = _row(session, name)
        row.last_started_at, row.runner = at, runner[:200]
        session.add(row)
        session.commit()


def mark_success(engine: Engine, name: str, at: datetime, period: int) -> None:
    with Session(engine) as session:
        row = _row(session, name)
        row.last_success_at, row.last_period, row.consecutive_failures = at, period, 0
        session.add(row)
        session.commit()


def mark_failure(engine: Engine, name: str, at: datetime, error: str) -> None:
    with Session(engine) as session:
        row = _row(session, name)
        row.last_failure_at, row.last_error = at, error[:2000]
        row.consecutive_failures += 1
        session.add(row)
        session.commit()


def ping(engine: Engine) -> None:
    """Raises if the database cannot answer a query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def migration_heads(engine: Engine) -> set[str]:
    """The revisions the database says it is at (``alembic_version``)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
