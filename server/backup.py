"""``python -m server backup DEST`` and ``python -m server restore SRC`` (README "Backup and
restore", docs/storage.md).

A backup is a directory:

- ``database.sqlite3`` (SQLite's online backup API: one consistent copy while the server keeps
  writing) or ``database.pgdump`` (``pg_dump --format=custom`` of an exported snapshot);
- ``photos/<sha[:2]>/<sha>`` and ``minutes/<file name>``: every complete photo and every minute
  that snapshot names, read from the store (local or PostgreSQL) and checked on the way;
- ``manifest.json``, written last: each file with its sha256 and size, the counts of cases and
  events, the migration head and the server's sync epoch at the snapshot.

The files are whatever storage held, so a backup of one store restores into either. A photo is
never changed once complete and never deleted, so files copied after the snapshot are exactly
the snapshot's; photos and minutes added since are the next backup's. Unfinished uploads are
not kept: after a restore the phones send them again from the start.

``restore`` checks every file of the manifest first, refuses a database or store that is not
empty (unless ``--force``), restores the database, puts the files back, brings the schema to
this release, checks the counts, every case's event chain and every file's sha256, and gives
the database a new sync epoch so that every phone resynchronises (README "Concurrency and
restore").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from server.config import Settings
from server.data import backup as backup_data
from server.data import sync as sync_data
from server.db import alembic_config, make_engine, migrate, normalise_url
from server.services.audit import verify_chains
from server.storage import (
    CHUNK_BYTES,
    MINUTES,
    PHOTOS,
    FileStore,
    StorageError,
    Stores,
    open_stores,
)

FORMAT = "yixian-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# the data of the database file store is not dumped: its files are in photos/ and minutes/
PG_FILE_TABLES = ("file_chunk", "stored_file")


class BackupError(Exception):
    """The backup or the restore could not be done; the message says why."""


@dataclass
class FileEntry:
    path: str  # relative to the backup directory
    sha256: str
    size: int
    area: str = ""  # photos | minutes | database
    name: str = ""  # the name in its store


@dataclass
class Manifest:
    format: str
    created_at: str
    database_kind: str  # sqlite | postgresql
    database: FileEntry
    migration_head: str
    server_epoch: str
    counts: dict[str, int]
    files: list[FileEntry] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # unreadable from storage: not in backup
    storage: str = "local"
    seconds: float = 0.0
    pg_dump_version: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        if raw.get("format") != FORMAT:
            raise BackupError(f"not a Yixian backup manifest (format {raw.get('format')!r})")
        raw["database"] = FileEntry(**raw["database"])
        raw["files"] = [FileEntry(**f) for f in raw.get("files", [])]
        return cls(**raw)

    @property
    def total_bytes(self) -> int:
        return self.database.size + sum(f.size for f in self.files)


# --- helpers -----------------------------------------------------------------------------------


def _is_sqlite(url: str) -> bool:
    return normalise_url(url).startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    return Path(make_url(normalise_url(url)).database or "")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A URL pg_dump/pg_restore understand, and the environment carrying its password (never on
    the command line, where ``ps`` shows it)."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client of the server's major "
            f"version (Debian: apt-get install postgresql-client)"
        )
    return found


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            yield block


def _stores(settings: Settings, engine: Engine) -> Stores:
    return open_stores(
        settings.storage,
        engine=engine,
        photo_dir=settings.photo_dir,
        minutes_dir=settings.minutes_path,
    )


def _owner_url(settings: Settings) -> str:
    return settings.migration_database_url or settings.database_url


# --- backup ------------------------------------------------------------------------------------


def _copy_out(store: FileStore, name: str, sha256: str | None, target: Path) -> tuple[str, int]:
    """One stored file into the backup, checked as it is read; its sha256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as fh:
        for piece in store.open(name, sha256):
            fh.write(piece)
            digest.update(piece)
            size += len(piece)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest(), size


def _snapshot_sqlite(url: str, dest: Path) -> backup_data.SnapshotFacts:
    """SQLite's online backup API, in one step: a read transaction's consistent copy (in WAL
    mode the server's writers go on meanwhile). The copy is a single self-contained file."""
    source = sqlite3.connect(_sqlite_path(url), timeout=30)
    target = sqlite3.connect(dest / SQLITE_FILE)
    try:
        source.backup(target)  # pages=-1: the whole database at once, one snapshot
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    engine = create_engine(f"sqlite:///{dest / SQLITE_FILE}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return backup_data.snapshot_facts(conn)
    finally:
        engine.dispose()


def _snapshot_postgres(url: str, dest: Path) -> tuple[backup_data.SnapshotFacts, str]:
    """``pg_dump`` of a snapshot exported by a REPEATABLE READ transaction that stays open
    until the dump is done and reads the manifest's facts itself: dump and facts agree."""
    pg_dump = _pg_tool("pg_dump")
    version = _run([pg_dump, "--version"], dict(os.environ)).strip()
    libpq, env = _libpq(url)
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as conn, conn.begin():
            snapshot = backup_data.export_snapshot(conn)
            excluded = [f"--exclude-table-data={t}" for t in PG_FILE_TABLES]
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    *excluded,
                    f"--file={dest / PG_FILE}",
                    f"--dbname={libpq}",
                ],
                env,
            )
            facts = backup_data.snapshot_facts(conn)
    finally:
        engine.dispose()
    return facts, version


def backup(settings: Settings, dest: Path, *, engine: Engine | None = None) -> Manifest:
    """Write a consistent backup of the database and its files to the new directory ``dest``."""
    started = time.monotonic()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: a backup goes into a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    url = _owner_url(settings)
    pg_version: str | None = None
    if _is_sqlite(url):
        facts = _snapshot_sqlite(url, dest)
        db_file, kind = SQLITE_FILE, "sqlite"
    else:
        facts, pg_version = _snapshot_postgres(url, dest)
        db_file, kind = PG_FILE, "postgresql"
    db_sha, db_size = _hash_file(dest / db_file)
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    try:
        stores = _stores(settings, engine)
        files: list[FileEntry] = []
        damaged: list[str] = []
        wanted: list[tuple[FileStore, str, str | None, str]] = [
            (stores.photos, sha, sha, f"{PHOTOS}/{sha[:2]}/{sha}") for sha, _size in facts.photos
        ]
        wanted += [(stores.minutes, n, s, f"{MINUTES}/{n}") for n, s, _z in facts.minutes]
        for store, name, sha, rel in wanted:
            try:
                got_sha, got_size = _copy_out(store, name, sha, dest / rel)
            except StorageError as exc:
                (dest / rel).unlink(missing_ok=True)
                damaged.append(f"{store.area}/{name}: {exc}")
                continue
            files.append(FileEntry(rel, got_sha, got_size, store.area, name))
    finally:
        if own_engine:
            engine.dispose()
    manifest = Manifest(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database_kind=kind,
        database=FileEntry(db_file, db_sha, db_size, "database", db_file),
        migration_head=facts.migration_head,
        server_epoch=facts.epoch,
        counts={
            "cases": facts.cases,
            "events": facts.events,
            "photos": sum(f.area == PHOTOS for f in files),
            "minutes": sum(f.area == MINUTES for f in files),
        },
        files=files,
        damaged=damaged,
        storage=settings.storage,
        pg_dump_version=pg_version,
    )
    manifest.seconds = round(time.monotonic() - started, 3)
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, dest / MANIFEST)  # its presence marks a complete backup
    _fsync(dest)
    return manifest


# --- restore -----------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    counts: dict[str, int]
    events_verified: int
    files: int
    bytes: int
    epoch: str
    seconds: float


def read_manifest(src: Path) -> Manifest:
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} has no {MANIFEST}: not a complete backup")
    return Manifest.from_json(path.read_text(encoding="utf-8"))


def verify_backup(src: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is there with its size and sha256 (else BackupError)."""
    problems: list[str] = []
    for entry in [manifest.database, *manifest.files]:
        path = src / entry.path
        if not path.resolve().is_relative_to(src.resolve()):
            problems.append(f"{entry.path}: outside the backup")
            continue
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        sha, size = _hash_file(path)
        if (sha, size) != (entry.sha256, entry.size):
            problems.append(
                f"{entry.path}: {size} bytes hashing to {sha[:16]}…, the manifest says "
                f"{entry.size} bytes, {entry.sha256[:16]}…"
            )
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BackupError(f"the backup does not match its manifest:\n  {shown}{more}")


def _check_head_known(settings: Settings, head: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(settings.database_url))
    for revision in filter(None, head.split(",")):
        try:
            scripts.get_revision(revision)
        except CommandError:
            raise BackupError(
                f"the backup's schema is at migration {revision}, which this release does not "
                "know: restore it with the release that made it (or a newer one)"
            ) from None


def _target_contents(settings: Settings, engine: Engine) -> list[str]:
    """What the target database and storage already hold (empty: nothing)."""
    held: list[str] = []
    with engine.connect() as conn:
        tables = backup_data.table_names(conn)
    if tables:
        held.append(f"the database has {len(tables)} tables")
    if settings.storage == "local":
        stores = _stores(settings, engine)
        for store in (stores.photos, stores.minutes):
            if next(iter(store.names()), None) is not None:
                held.append(f"the {store.area} store holds files")
    return held


def _restore_sqlite(src: Path, manifest: Manifest, url: str, force: bool) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if force:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(src / manifest.database.path)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")
    finally:
        dest.close()
        source.close()


def _restore_postgres(src: Path, manifest: Manifest, url: str, force: bool) -> None:
    pg_restore = _pg_tool("pg_restore")
    libpq, env = _libpq(url)
    clean = ["--clean", "--if-exists"] if force else []
    _run(
        [
            pg_restore,
            "--no-owner",  # the tables belong to whoever restores (the migration owner)
            "--no-privileges",  # the server's role is granted again by the migration step
            "--exit-on-error",
            "--single-transaction",
            *clean,
            f"--dbname={libpq}",
            str(src / manifest.database.path),
        ],
        env,
    )


def restore(settings: Settings, src: Path, *, force: bool = False) -> RestoreReport:
    """Bring the backup at ``src`` back into the (empty) database and storage of ``settings``."""
    started = time.monotonic()
    manifest = read_manifest(src)
    verify_backup(src, manifest)
    url = _owner_url(settings)
    kind = "sqlite" if _is_sqlite(url) else "postgresql"
    if manifest.database_kind != kind:
        was = manifest.database_kind
        raise BackupError(
            f"this is a {was} backup: restore it into a {was} database (DATABASE_URL is {kind})"
        )
    _check_head_known(settings, manifest.migration_head)
    engine = make_engine(settings.database_url)
    try:
        held = _target_contents(settings, engine)
        if held and not force:
            raise BackupError(
                "the target is not empty (" + "; ".join(held) + "): restore into an empty "
                "database and storage, or pass --force to replace them"
            )
        engine.dispose()
        if kind == "sqlite":
            _restore_sqlite(src, manifest, url, force)
        else:
            _restore_postgres(src, manifest, url, force)
        migrate(url, app_role=settings.app_role)  # this release's schema; grants the server
        engine.dispose()
        stores = _stores(settings, engine)
        by_area = {PHOTOS: stores.photos, MINUTES: stores.minutes}
        for entry in manifest.files:
            by_area[entry.area].put(entry.name, _blocks(src / entry.path), sha256=entry.sha256)
        report = _verify_restored(engine, manifest, by_area)
        with Session(engine) as session:
            epoch = sync_data.new_epoch(session)
            session.commit()
    finally:
        engine.dispose()
    return RestoreReport(
        counts=report,
        events_verified=report["events"],
        files=len(manifest.files),
        bytes=manifest.total_bytes,
        epoch=epoch,
        seconds=round(time.monotonic() - started, 3),
    )


def _verify_restored(
    engine: Engine, manifest: Manifest, stores: dict[str, FileStore]
) -> dict[str, int]:
    """The restored database has the manifest's counts and intact chains; every file reads
    back with its sha256."""
    with engine.connect() as conn:
        facts = backup_data.snapshot_facts(conn)
    counts = {"cases": facts.cases, "events": facts.events}
    expected = {k: manifest.counts[k] for k in counts}
    if counts != expected:
        raise BackupError(f"restored {counts}, the manifest says {expected}")
    with Session(engine) as session:
        audit = verify_chains(session)
    if not audit.intact:
        first = audit.breaks[0].describe()
        raise BackupError(f"{len(audit.breaks)} event chains broken after restore, first: {first}")
    for entry in manifest.files:
        for _piece in stores[entry.area].open(entry.name, entry.sha256):
            pass  # StoredFileDamaged if it did not arrive whole
    return {**counts, "photos": len(facts.photos), "minutes": len(facts.minutes)}


# --- command line (``python -m server backup|restore``) -----------------------------------------

COMMANDS = ("backup", "restore")


def add_parsers(sub: Any) -> None:
    """The ``backup`` and ``restore`` subcommands of ``python -m server``."""
    b = sub.add_parser(
        "backup",
        help="write a consistent backup (database, photos, minutes, manifest) while serving",
    )
    b.add_argument("dest", type=Path, help="a new (or empty) directory")
    r = sub.add_parser(
        "restore", help="restore a backup into an empty database and storage; new sync epoch"
    )
    r.add_argument("src", type=Path, help="a backup directory (with manifest.json)")
    r.add_argument(
        "--force", action="store_true", help="replace a database and storage that are not empty"
    )


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.command == "backup":
            m = backup(settings, args.dest)
            print(
                f"backup {args.dest}: {m.counts['cases']} cases, {m.counts['events']} events, "
                f"{m.counts['photos']} photos, {m.counts['minutes']} minutes, "
                f"{_mb(m.total_bytes)} in {m.seconds:.1f} s (migration {m.migration_head})"
            )
            for problem in m.damaged:
                print(f"DAMAGED (not in the backup) {problem}")
            return 2 if m.damaged else 0
        report = restore(settings, args.src, force=args.force)
        c = report.counts
        print(
            f"restored {args.src}: {c['cases']} cases, {c['events']} events (every chain "
            f"intact), {report.files} files checked, {_mb(report.bytes)} in "
            f"{report.seconds:.1f} s; new sync epoch {report.epoch}: phones resynchronise"
        )
        return 0
    except (BackupError, StorageError) as exc:
        print(f"{args.command} failed: {exc}")
        return 1
