"""Jobs for the compute pool's tests (tests/server/test_compute_pool.py): module-level, so
that a worker process can import them; small, so that it imports them fast."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session

from server.evaluation.budget import Deadline

WAIT_S = 60  # a guard against hanging for ever, never a timed assertion


def where(_session: Session, *, deadline: Deadline) -> tuple[int, int]:
    """The worker's process id and CPU priority (nice value)."""
    del deadline
    return os.getpid(), os.nice(0)


def hold_until_file(
    session: Session, *, deadline: Deadline, started: str, release: str
) -> tuple[int, int]:
    """Say it started (a file), then wait, holding its worker, until ``release`` exists."""
    Path(started).touch()
    end = time.monotonic() + WAIT_S
    while not Path(release).exists() and time.monotonic() < end:
        time.sleep(0.02)
    return where(session, deadline=deadline)


def hold_until_event(
    _session: Session, *, deadline: Deadline, started: threading.Event, release: threading.Event
) -> str:
    """In-process (no pickling): the same with events."""
    del deadline
    started.set()
    release.wait(WAIT_S)
    return "done"


def die(_session: Session, *, deadline: Deadline) -> Any:
    """The worker process dies mid-computation (as when the system kills it)."""
    del deadline
    os._exit(3)
