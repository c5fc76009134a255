"""A phone database as the first release wrote it (schema version 1), for the upgrade tests.

``RELEASE_1_SCHEMA`` is that release's schema, copied verbatim from ``sqlite_master`` of a store
it created (it set no ``user_version``: the header says 0). Its rows differ from today's in one
way only: a photo's path was the absolute path of its file when it was taken.
``as_release_1`` turns the work a test recorded through today's store (the real write paths:
the local change and its numbered command in one transaction) into such a database: every row
copied as it is, each photo's path made absolute again, under the release's exact schema.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

RELEASE_1_SCHEMA = (
    "CREATE TABLE outbox (\n\tid INTEGER NOT NULL, \n\ttype VARCHAR NOT NULL, \n\t"
    "payload TEXT NOT NULL, \n\tcreated_at VARCHAR NOT NULL, \n\tcase_id VARCHAR, \n\t"
    "status VARCHAR NOT NULL, \n\tcode VARCHAR, \n\treason VARCHAR, \n\t"
    "seen BOOLEAN NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_outbox_case_id ON outbox (case_id)",
    "CREATE INDEX ix_outbox_status ON outbox (status)",
    "CREATE TABLE local_case (\n\tid VARCHAR NOT NULL, \n\tstatus VARCHAR NOT NULL, \n\t"
    "category VARCHAR NOT NULL, \n\tlat FLOAT, \n\tlon FLOAT, \n\tdue_at VARCHAR, \n\t"
    "updated_at VARCHAR NOT NULL, \n\tdata TEXT NOT NULL, \n\t"
    "from_server BOOLEAN NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE INDEX ix_local_case_due_at ON local_case (due_at)",
    "CREATE INDEX ix_local_case_status ON local_case (status)",
    "CREATE INDEX ix_local_case_updated_at ON local_case (updated_at)",
    "CREATE TABLE local_photo (\n\tsha256 VARCHAR NOT NULL, \n\tpath VARCHAR NOT NULL, \n\t"
    "size INTEGER NOT NULL, \n\tcase_id VARCHAR NOT NULL, \n\tuploaded BOOLEAN NOT NULL, \n\t"
    "refused VARCHAR, \n\tPRIMARY KEY (sha256)\n)",
    "CREATE INDEX ix_local_photo_uploaded ON local_photo (uploaded)",
    "CREATE INDEX ix_local_photo_case_id ON local_photo (case_id)",
    'CREATE TABLE meta (\n\t"key" VARCHAR NOT NULL, \n\tvalue VARCHAR NOT NULL, \n\t'
    'PRIMARY KEY ("key")\n)',
)
TABLES = ("outbox", "local_case", "local_photo", "meta")


def schema_of(path: Path) -> set[str]:
    """The tables' and indexes' SQL of a database (SQLite's own indexes left out)."""
    with closing(sqlite3.connect(path)) as conn:
        return {
            str(sql)
            for (sql,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'index')"
            )
        }


def as_release_1(
    source: Path, target: Path, *, photos_were_in: Path | None = None
) -> dict[str, Path]:
    """Write ``target`` as the first release would have held ``source``'s rows, and copy the
    photo files beside it (``<target's folder>/<the shelf's name>/``). Each photo row names
    its file by the absolute path the release stored: under ``photos_were_in`` when given (the
    data directory has moved since), else where the copied file is. Returns sha256 → file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        for statement in RELEASE_1_SCHEMA:
            dst.execute(statement)
        dst.execute("PRAGMA journal_mode=WAL")  # what the release's engine set on every open
        for table in TABLES:
            rows = src.execute(f"SELECT * FROM {table}").fetchall()
            if table == "local_photo":
                rows = [
                    _release_photo_row(row, source, target, photos_were_in, files) for row in rows
                ]
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                dst.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        dst.commit()
        assert dst.execute("PRAGMA user_version").fetchone()[0] == 0
    return files


def _release_photo_row(
    row: tuple[object, ...],
    source: Path,
    target: Path,
    photos_were_in: Path | None,
    files: dict[str, Path],
) -> tuple[object, ...]:
    sha, path, *rest = row
    held = Path(str(path))
    held = held if held.is_absolute() else source.parent / held
    copy = target.parent / held.parent.name / held.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(held, copy)
    files[str(sha)] = copy
    stored = (photos_were_in / held.parent.name / held.name) if photos_were_in else copy
    return (sha, str(stored.resolve()), *rest)
