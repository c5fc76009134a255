"""``/ready``: may this process take traffic? Each check answers ok or why not.

- ``database``: a query answers;
- ``migrations``: the database is at the newest migration this code knows (alembic's head);
- ``photo_storage`` and ``minutes_storage``: a file can be written and removed in each directory
  (``YIXIAN_STORAGE=postgres``: a piece can be written to the database's file store);
- ``scheduler``: the escalation job succeeded within ``stale_after`` seconds (whichever process
  ran it, from ``job_run``), or this process started less than ``stale_after`` ago and no run is
  recorded yet.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from server.data import jobs as jobs_data
from server.db import alembic_config
from server.services.scheduler import ESCALATION_JOB
from server.storage import FileStore, Stores

log = logging.getLogger("yixian.ready")


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass
class Readiness:
    engine: Engine
    database_url: str
    photo_dir: Path
    minutes_dir: Path
    stale_after: float
    stores: Stores | None = None  # checked instead of the directories unless local
    started_at: float = field(default_factory=time.time)
    wall: Callable[[], float] = time.time
    _heads: set[str] | None = None

    def code_heads(self) -> set[str]:
        if self._heads is None:
            self._heads = set(
                ScriptDirectory.from_config(alembic_config(self.database_url)).get_heads()
            )
        return self._heads

    def checks(self) -> dict[str, Check]:
        results: dict[str, Check] = {}
        try:
            jobs_data.ping(self.engine)
            results["database"] = Check(True, "answers")
        except Exception as exc:
            log.warning("ready: database unreachable", exc_info=True)
            results["database"] = Check(False, f"unreachable: {type(exc).__name__}")
        if results["database"].ok:
            results["migrations"] = self._migrations()
        else:
            results["migrations"] = Check(False, "unknown: the database is unreachable")
        results["photo_storage"] = self._storage(self.photo_dir, "photos")
        results["minutes_storage"] = self._storage(self.minutes_dir, "minutes")
        if results["database"].ok:
            results["scheduler"] = self._scheduler()
        else:
            results["scheduler"] = Check(False, "unknown: the database is unreachable")
        return results

    def _storage(self, directory: Path, area: str) -> Check:
        store: FileStore | None = getattr(self.stores, area, None)
        if store is None or store.kind == "local":
            return _writable(directory)
        problem = store.check_writable()
        return Check(problem is None, problem or f"writable ({store.kind})")

    def _migrations(self) -> Check:
        try:
            at = jobs_data.migration_heads(self.engine)
        except Exception as exc:
            return Check(False, f"unreadable: {type(exc).__name__}")
        want = self.code_heads()
        if at == want:
            return Check(True, f"at {', '.join(sorted(at))}")
        have = ", ".join(sorted(at)) or "none"
        return Check(False, f"database at {have}, code at {', '.join(sorted(want))}")

    def _scheduler(self) -> Check:
        try:
            row = jobs_data.get(self.engine, ESCALATION_JOB)
        except Exception as exc:
            return Check(False, f"unreadable: {type(exc).__name__}")
        now = self.wall()
        if row is None or row.last_success_at is None:
            if now - self.started_at <= self.stale_after:
                return Check(True, "no run yet (starting)")
            return Check(False, f"no successful escalation run in {self.stale_after:.0f} s")
        age = now - row.last_success_at.astimezone(UTC).timestamp()
        if age <= self.stale_after:
            return Check(True, f"last escalation run {age:.0f} s ago")
        failing = f"; {row.consecutive_failures} failed since" if row.consecutive_failures else ""
        return Check(False, f"last escalation run {age:.0f} s ago{failing}")


def _writable(directory: Path) -> Check:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".ready-") as f:
            f.write(b"ok")
            f.flush()
        return Check(True, "writable")
    except OSError as exc:
        return Check(False, f"not writable: {type(exc).__name__}")
