"""On SQLite the server checkpoints its write-ahead log from a background thread, so no request
pays for it; processes without that thread still checkpoint by themselves (the safety net)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from server.data.wal import SAFETY_NET_PAGES, WalCheckpointer
from server.db import make_engine, migrate


def test_the_background_thread_copies_the_log_into_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    migrate(url)
    engine = make_engine(url)
    checkpointer = WalCheckpointer(engine, interval_s=0.05)
    checkpointer.start()
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        for batch in range(20):
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO note (body) VALUES (:b)"),
                    [{"b": f"{batch}-{i}" * 20} for i in range(50)],
                )
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints >= 3
    finally:
        checkpointer.stop()
    # the database file alone (without its -wal log) already holds every row
    alone = tmp_path / "copy.db"
    shutil.copyfile(tmp_path / "wal.db", alone)
    with closing(sqlite3.connect(alone)) as copy:
        assert copy.execute("SELECT count(*) FROM note").fetchone() == (1000,)
    raw = engine.raw_connection()
    try:
        (limit,) = raw.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()
        assert limit == SAFETY_NET_PAGES  # without the thread, a commit checkpoints past this
    finally:
        raw.close()
    engine.dispose()


def test_postgresql_needs_no_checkpointer() -> None:
    engine = make_engine("postgresql://127.0.0.1:5432/test")
    checkpointer = WalCheckpointer(engine)
    checkpointer.start()  # does nothing: PostgreSQL manages its own log
    assert not checkpointer.applies and checkpointer.checkpoints == 0
    checkpointer.stop()
    engine.dispose()
