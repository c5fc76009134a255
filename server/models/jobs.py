"""Scheduled work's bookkeeping: one row per periodic job (its last run, success and failure),
read by ``/ready`` and ``/metrics`` in every server process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
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
