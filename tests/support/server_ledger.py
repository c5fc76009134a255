"""What a test server's SQLite holds, read directly (no HTTP), and a fast reset between runs.

``reset`` empties every table that was empty when the ledger was made (cases, events, devices,
results, photos, workflow rows…) and the photo directory, so one long-running server serves
many independent schedules. Reference data, users and sign-in tokens stay.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine

KEEP = frozenset({"auth_token", "auth_session", "alembic_version"})


@dataclass(frozen=True)
class Event:
    case_id: str
    seq: int
    kind: str
    data: dict[str, Any]


class ServerLedger:
    def __init__(self, db_path: Path, photo_dir: Path) -> None:
        self.db_path = db_path
        self.photo_dir = photo_dir
        engine = create_engine(f"sqlite:///{db_path}")
        meta = MetaData()
        meta.reflect(engine)
        engine.dispose()
        with self._conn() as conn:
            empty = {
                t.name
                for t in meta.sorted_tables
                if conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] == 0
            }
        # children before parents
        self._volatile = [t.name for t in reversed(meta.sorted_tables) if t.name in empty - KEEP]

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def reset(self) -> None:
        conn = self._conn()
        try:
            with conn:  # append-only guards are lifted for the wipe, in the same transaction
                guards = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE ?",
                    ("%BEFORE DELETE%",),
                ).fetchall()
                for name, _sql in guards:
                    conn.execute(f'DROP TRIGGER "{name}"')
                for table in self._volatile:
                    conn.execute(f'DELETE FROM "{table}"')
                for _name, sql in guards:
                    conn.execute(sql)
        finally:
            conn.close()
        shutil.rmtree(self.photo_dir, ignore_errors=True)

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        conn = self._conn()
        try:
            return list(conn.execute(sql, args).fetchall())
        finally:
            conn.close()

    def cases(self) -> dict[str, dict[str, Any]]:
        cols = (
            "id, status, description, version, created_at, first_contact_department, "
            "lead_department, assisting, reporter_user_id"
        )
        out: dict[str, dict[str, Any]] = {}
        for row in self._rows(f"SELECT {cols} FROM case_record"):
            keys = [c.strip() for c in cols.split(",")]
            rec = dict(zip(keys, row, strict=True))
            rec["assisting"] = json.loads(rec["assisting"] or "[]")
            out[rec["id"]] = rec
        return out

    def events(self) -> list[Event]:
        return [
            Event(case_id, seq, kind, json.loads(data or "{}"))
            for case_id, seq, kind, data in self._rows(
                "SELECT case_id, seq, kind, data FROM case_event ORDER BY case_id, seq"
            )
        ]

    def results(self, device_id: str) -> dict[int, tuple[str, str | None, str | None]]:
        return {
            cid: (status, code, reason)
            for cid, status, code, reason in self._rows(
                "SELECT command_id, status, code, reason FROM device_command_result "
                "WHERE device_id = ?",
                device_id,
            )
        }

    def last_applied(self, device_id: str) -> int:
        rows = self._rows("SELECT last_applied FROM device WHERE id = ?", device_id)
        return int(rows[0][0]) if rows else 0

    def change_counter(self) -> int:
        return int(self._rows("SELECT value FROM sync_counter WHERE name = 'changes'")[0][0])

    def users(self) -> dict[str, tuple[str, str, str]]:
        """username -> (id, role, department)"""
        return {
            name: (uid, role, dept)
            for uid, name, role, dept in self._rows(
                "SELECT id, username, role, department_code FROM app_user"
            )
        }

    def photos(self) -> dict[str, tuple[bool, int]]:
        return {
            sha: (bool(complete), int(size))
            for sha, complete, size in self._rows("SELECT sha256, complete, size FROM photo")
        }

    def links(self) -> set[tuple[str, str]]:
        return {
            (sha, case_id) for sha, case_id in self._rows("SELECT sha256, case_id FROM photo_link")
        }

    def photo_bytes(self, sha256: str) -> bytes | None:
        path = self.photo_dir / sha256[:2] / sha256
        return path.read_bytes() if path.exists() else None

    def corrupt_photo_files(self) -> list[str]:
        """Published photo files whose bytes do not hash to their name."""
        if not self.photo_dir.exists():
            return []
        return [
            p.name
            for p in self.photo_dir.glob("*/*")
            if not p.name.endswith(".part") and hashlib.sha256(p.read_bytes()).hexdigest() != p.name
        ]
