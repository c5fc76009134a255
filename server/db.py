"""Engines, sessions and migrations: SQLite (WAL) by default, PostgreSQL by DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from server.data.wal import SAFETY_NET_PAGES

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# How a transaction begins, as a connection execution option that the engine's "begin" hook
# reads (SQLite; PostgreSQL's MVCC needs nothing: its readers never block writers).
#
# - a session for a GET or HEAD request is a *read* session (``read_session``): every
#   transaction it begins is DEFERRED;
# - any other session begins IMMEDIATE, the default;
# - one session may switch between the two at a transaction boundary (``begin_read`` /
#   ``begin_write``): e.g. an expensive POST reads and computes in a deferred transaction, then
#   stores its result in a short IMMEDIATE one.
#
# A read transaction must not write: under WAL, upgrading a reader whose snapshot is stale
# fails at once with "database is locked" (busy_timeout cannot help). Code that finds it must
# write ends the read (``session.commit()``) and calls ``begin_write``.
BEGIN_MODE = "yixian_begin"
DEFERRED = "deferred"
IMMEDIATE = "immediate"
READ: dict[str, Any] = {BEGIN_MODE: DEFERRED}
WRITE: dict[str, Any] = {BEGIN_MODE: IMMEDIATE}


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if url.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


POOL_SIZE = 10
MAX_OVERFLOW = 20
POOL_TIMEOUT_S = 10.0
# connections kept free of the pools for migrations, the escalation job and administrators
RESERVED_CONNECTIONS = 10


@dataclass(frozen=True)
class PoolSize:
    """One process's connection pool (PostgreSQL): ``size`` kept, ``overflow`` more at peaks."""

    size: int = POOL_SIZE
    overflow: int = MAX_OVERFLOW
    timeout_s: float = POOL_TIMEOUT_S

    @property
    def most(self) -> int:
        return self.size + self.overflow


def pool_for_workers(workers: int, max_connections: int) -> PoolSize:
    """Each of ``workers`` processes' pool, so that together they stay within the database's
    ``max_connections`` (less ``RESERVED_CONNECTIONS``): workers × (size + overflow) ≤ it."""
    share = max(1, (max_connections - RESERVED_CONNECTIONS) // max(1, workers))
    most = min(share, POOL_SIZE + MAX_OVERFLOW)
    size = max(1, min(POOL_SIZE, most // 3 or 1))
    return PoolSize(size=size, overflow=max(0, most - size))


def max_connections(url: str) -> int | None:
    """PostgreSQL's ``SHOW max_connections`` (None for SQLite)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
    finally:
        engine.dispose()


def make_engine(url: str, pool: PoolSize | None = None) -> Engine:
    """An engine on ``url``; on PostgreSQL with ``pool`` (a waiting request gives up after its
    ``timeout_s``: the API answers 503 with Retry-After, server/api/errors.py)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # checkpoints run off the request path (server.data.wal); this is the safety net
            cur.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A write transaction takes the write lock at BEGIN (IMMEDIATE): one writer at a
            # time, decided up front, so two writers never deadlock upgrading a read lock. A
            # read transaction (see ``READ``) begins DEFERRED: under WAL it only pins a
            # snapshot, so a slow read blocks neither writers nor other readers.
            mode = conn.get_execution_options().get(BEGIN_MODE, IMMEDIATE)
            conn.exec_driver_sql("BEGIN" if mode == DEFERRED else "BEGIN IMMEDIATE")

        # Let SQLAlchemy's "begin" event issue the BEGIN itself.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    pool = pool or PoolSize()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout_s,
    )


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, *, app_role: str | None = None) -> None:
    """Bring the database schema to the newest migration (``url``: the tables' owner); on
    PostgreSQL, then grant ``app_role`` (the role the server connects as) what it needs."""
    _ensure_sqlite_dir(normalise_url(url))
    command.upgrade(alembic_config(url), "head")
    if app_role and not normalise_url(url).startswith("sqlite"):
        engine = create_engine(normalise_url(url))
        try:
            with engine.begin() as conn:
                grant_app_role(conn, app_role)
        finally:
            engine.dispose()


def grant_app_role(conn: Connection, role: str) -> None:
    """The server's role reads and writes the tables but never rewrites history: no UPDATE,
    DELETE or TRUNCATE on ``case_event`` (the triggers refuse them too), no schema changes
    (it owns nothing), read-only ``alembic_version``. Run after every migration, so tables
    added later are granted too."""
    quote = conn.dialect.identifier_preparer.quote
    who = quote(role)
    schema = quote(conn.execute(text("SELECT current_schema()")).scalar_one())
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON case_event FROM {who}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
    ):
        conn.execute(text(statement))


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def read_session(engine: Engine) -> Session:
    """A session whose transactions begin DEFERRED (SQLite): for requests that only read."""
    return Session(engine, expire_on_commit=False, execution_options=READ)


def _begin(session: Session, options: dict[str, Any]) -> None:
    if session.in_transaction():
        raise RuntimeError("end the current transaction (commit) before choosing the next")
    session.connection(execution_options=options)


def begin_read(session: Session) -> None:
    """Begin the session's next transaction DEFERRED: a read that blocks no writer."""
    _begin(session, READ)


def begin_write(session: Session) -> None:
    """Begin the session's next transaction IMMEDIATE: it holds the write lock from the start."""
    _begin(session, WRITE)
