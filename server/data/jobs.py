"""SQL of scheduled work's bookkeeping (``job_run``) and of the readiness probe."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import Session, col, delete, select

from server.models.jobs import JobRun, JobRunLog

RUN_LOG_DAYS = 30  # how long each run's row is kept in job_run_log


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


def mark_success(
    engine: Engine,
    name: str,
    at: datetime,
    period: int,
    *,
    started_at: datetime | None = None,
    runner: str = "",
    forced: bool = False,
) -> None:
    """The job succeeded at ``at`` for ``period``; with ``started_at``, the run is also logged
    (``job_run_log``, in the same transaction; ``forced``: logged without its period)."""
    with Session(engine) as session:
        row = _row(session, name)
        row.last_success_at, row.last_period, row.consecutive_failures = at, period, 0
        session.add(row)
        if started_at is not None:
            _log(session, name, None if forced else period, runner, started_at, at, "ran")
        session.commit()


def mark_failure(
    engine: Engine,
    name: str,
    at: datetime,
    error: str,
    *,
    started_at: datetime | None = None,
    runner: str = "",
) -> None:
    with Session(engine) as session:
        row = _row(session, name)
        row.last_failure_at, row.last_error = at, error[:2000]
        row.consecutive_failures += 1
        session.add(row)
        if started_at is not None:
            _log(session, name, None, runner, started_at, at, "failed")
        session.commit()


def _log(
    session: Session,
    name: str,
    period: int | None,
    runner: str,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
) -> None:
    session.add(
        JobRunLog(
            name=name,
            period=period,
            runner=runner[:200],
            started_at=started_at,
            finished_at=finished_at,
            outcome=outcome,
        )
    )
    cutoff = finished_at - timedelta(days=RUN_LOG_DAYS)
    session.exec(delete(JobRunLog).where(col(JobRunLog.finished_at) < cutoff))  # type: ignore[call-overload]


def run_log(engine: Engine, name: str) -> list[JobRunLog]:
    """Every logged run of ``name`` still kept, oldest first."""
    with Session(engine, expire_on_commit=False) as session:
        return list(
            session.exec(
                select(JobRunLog).where(JobRunLog.name == name).order_by(col(JobRunLog.id))
            ).all()
        )


def ping(engine: Engine) -> None:
    """Raises if the database cannot answer a query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def migration_heads(engine: Engine) -> set[str]:
    """The revisions the database says it is at (``alembic_version``)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
