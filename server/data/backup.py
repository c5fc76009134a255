"""SQL of backups (``server/backup.py``): what a database snapshot holds, read in the
snapshot's own transaction, and whether a database is empty."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, inspect, select, text
from sqlmodel import col

from server.data.sync import COUNTER
from server.models import Case, CaseEvent, Minute, Photo, SyncCounter


@dataclass
class SnapshotFacts:
    """What a backup must hold besides the database: and the counts to check a restore by."""

    cases: int = 0
    events: int = 0
    migration_head: str = ""
    epoch: str = ""
    photos: list[tuple[str, int]] = field(default_factory=list)  # (sha256, size), complete
    minutes: list[tuple[str, str | None, int | None]] = field(default_factory=list)
    # (file name, sha256, size); sha256 None: made before migration 0020


def snapshot_facts(conn: Connection) -> SnapshotFacts:
    """Read on ``conn`` inside the snapshot's transaction (one consistent view)."""
    facts = SnapshotFacts()
    facts.cases = int(conn.execute(select(func.count()).select_from(Case)).scalar_one())
    facts.events = int(conn.execute(select(func.count()).select_from(CaseEvent)).scalar_one())
    facts.migration_head = ",".join(
        sorted(
            str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
    )
    epoch = conn.execute(
        select(col(SyncCounter.epoch)).where(col(SyncCounter.name) == COUNTER)
    ).scalar_one_or_none()
    facts.epoch = str(epoch or "")
    photos = conn.execute(
        select(col(Photo.sha256), col(Photo.size))
        .where(col(Photo.complete).is_(True))
        .order_by(col(Photo.sha256))
    )
    facts.photos = [(str(sha), int(size)) for sha, size in photos]
    minutes = conn.execute(
        select(col(Minute.file_name), col(Minute.sha256), col(Minute.size)).order_by(
            col(Minute.file_name)
        )
    )
    facts.minutes = [(str(n), s, None if z is None else int(z)) for n, s, z in minutes]
    return facts


def export_snapshot(conn: Connection) -> str:
    """PostgreSQL: name this REPEATABLE READ transaction's snapshot, so ``pg_dump --snapshot``
    dumps exactly what this transaction sees."""
    return str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def table_names(conn: Connection) -> list[str]:
    """The tables of the database (of the current schema on PostgreSQL): none when empty."""
    return sorted(inspect(conn).get_table_names())
