"""The phone database's schema version and the ordered migrations applied when it is opened.

The version is SQLite's ``PRAGMA user_version`` (in the file's header, written in the same
transaction as the migration that sets it). The releases so far:

- **0 with tables** — a database of the first release (it set no version): its schema is
  version 1, frozen in ``tests/support/release_store.py``.
- **1** — the first release's schema.
- **2** — photo paths are kept relative to the database's folder. The first release kept the
  absolute path the shelf had when the photo was taken; an iPhone moves an app's container on
  every app update and an IT office may move ``YIXIAN_DATA_DIR``, and an absolute path then names
  a file that is no longer there (an unsent photo lost). The migration finds each photo's file —
  where it was, or at the same place under the database's folder — and stores it relative.

A new database is made at the newest version straight from the models. A database of a newer
version than this code (an app downgraded from a backup) is refused with ``NewerStore`` before
anything is written to it: this code does not know what that version means. Each migration runs
together with the version they set in one transaction (``BEGIN IMMEDIATE``: a second process
opening the same file waits, then finds it migrated); one that fails leaves the database as it
was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text


class NewerStore(Exception):
    """The phone's database was written by a newer app than this one: not opened."""


@dataclass(frozen=True)
class Migration:
    version: int  # the version the database has after it
    what: str
    apply: Callable[[Connection, Path], None]  # (connection in a transaction, the db's folder)


def portable_photo_path(stored: str, folder: Path) -> str:
    """Where a photo's file is, as a path relative to the database's ``folder`` when it lies
    under it (absolute otherwise). A file that is no longer at ``stored`` is looked for under
    the folder at the same ``<shelf>/<file>``: the data directory moved with its files."""
    given = Path(stored)
    candidates = [given if given.is_absolute() else Path.cwd() / given]
    candidates.append(folder / given.parent.name / given.name)
    home = folder.resolve()
    for found in candidates:
        if found.is_file():
            resolved = found.resolve()
            try:
                return resolved.relative_to(home).as_posix()
            except ValueError:
                return str(resolved)
    return stored  # nowhere to be found: kept as it was (the upload reports it missing)


def _relative_photo_paths(conn: Connection, folder: Path) -> None:
    rows = conn.execute(text("SELECT sha256, path FROM local_photo")).all()
    for sha, path in rows:
        portable = portable_photo_path(str(path), folder)
        if portable != path:
            conn.execute(
                text("UPDATE local_photo SET path = :p WHERE sha256 = :s"),
                {"p": portable, "s": sha},
            )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "photo paths relative to the database's folder", _relative_photo_paths),
)
LATEST = 2
FIRST_RELEASE = 1


def file_version(path: Path) -> int | None:
    """The version in an existing database file's header (None: no file yet), read without
    the store's engine (which would switch the journal mode of a file it must not touch)."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(version: int | None, path: Path) -> None:
    if version is not None and version > LATEST:
        raise NewerStore(
            f"本机数据由更新版本的应用写入（数据版本 {version}，本应用支持到 {LATEST}），"
            f"请安装最新版本的应用；数据未被改动 / {path.name} was written by a newer app "
            f"(schema version {version}, this app knows up to {LATEST}): install the newest app. "
            "The database was not changed."
        )


def bring_up_to_date(
    conn: Connection, folder: Path, path: Path, create: Callable[[Connection], None]
) -> int:
    """In the caller's transaction (taken with ``BEGIN IMMEDIATE``): create a new database at
    ``LATEST``, or apply the migrations an older one lacks. Returns the version it had."""
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    refuse_newer(version, path)
    has_tables = conn.execute(
        text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'")
    ).scalar_one()
    if version == 0 and not has_tables:
        create(conn)
        conn.exec_driver_sql(f"PRAGMA user_version = {LATEST}")
        return 0
    found = version or FIRST_RELEASE
    for migration in MIGRATIONS:
        if migration.version > found:
            migration.apply(conn, folder)
            conn.exec_driver_sql(f"PRAGMA user_version = {migration.version}")
    if version != LATEST:
        conn.exec_driver_sql(f"PRAGMA user_version = {LATEST}")
    return found
