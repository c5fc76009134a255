"""Scheduled work's bookkeeping: one row per periodic job (its last run, success and failure),
read by ``/ready`` and ``/metrics`` in every server process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from server.models.types import UTCDateTime


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    name: str = Field(primary_key=True, max_length=40)
    # the period (wall-clock seconds // the job's interval) of the last successful run: a second
    # scheduler that gets the lock in the same period skips it
    last_period: int | None = None
    last_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_failure_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, max_length=2000)
    consecutive_failures: int = 0
    runner: str = Field(default="", max_length=200)  # host:pid of the last run's process


class JobRunLog(SQLModel, table=True):
    """One row per finished run of a periodic job, by whichever process ran it: which period
    it ran for (None: a forced run, ``python -m server escalate``), where, when, and how it
    ended. Shows that several server processes ran each period's job once; kept
    ``RUN_LOG_DAYS`` (``server/data/jobs.py``)."""

    __tablename__ = "job_run_log"
    __table_args__ = (Index("ix_job_run_log_name_period", "name", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    period: int | None = Field(default=None, sa_column=Column(BigInteger()))
    runner: str = Field(max_length=200)  # host:pid
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    outcome: str = Field(max_length=10)  # ran | failed
