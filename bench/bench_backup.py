"""Backup and restore (``server/backup.py``): time and size for the demo data and for a bigger
data set, on SQLite with the local store and (when PostgreSQL answers at ``YIXIAN_TEST_PG``'s
server) on PostgreSQL with the database store.

The bigger set is made the way phones make it: one device records ``CASES`` cases, ``PHOTOS``
of them with a ~70 KB photo, and syncs them to a real server (uvicorn on 127.0.0.1). Then
``backup`` runs against the live database and ``restore`` into an empty one (and empty
storage), which also checks counts, every event chain and every file's sha256. The baseline is
copying the same bytes (the backup directory) with ``shutil.copytree``: ``ratio`` = backup (or
restore) seconds ÷ copy seconds. Run: ``.venv/bin/python -m bench backup``; sizes with
``YIXIAN_BENCH_BACKUP_CASES`` / ``YIXIAN_BENCH_BACKUP_PHOTOS``.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import uvicorn
from PIL import Image
from sqlalchemy import create_engine, text

from server.app import create_app
from server.backup import Manifest, backup, restore
from server.config import Settings
from server.db import make_engine, migrate
from server.demo import load_demo
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType

CASES = int(os.environ.get("YIXIAN_BENCH_BACKUP_CASES", "3000"))
PHOTOS = int(os.environ.get("YIXIAN_BENCH_BACKUP_PHOTOS", "600"))
PG_ADMIN = os.environ.get("YIXIAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOCATION = {"lat": 35.7215, "lon": 116.4877}  # 汶上县城区


def _photo(seed: int) -> bytes:
    rng = random.Random(seed)
    side = 300
    picture = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _settings(url: str, root: Path, storage: str) -> Settings:
    return Settings(
        database_url=url,
        photo_dir=root / "photos",
        minutes_dir=root / "minutes",
        secret="bench",
        storage=storage,
    )


@contextmanager
def _serving(settings: Settings) -> Iterator[str]:
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine=engine)
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()


def _fill(settings: Settings, root: Path) -> None:
    """``CASES`` cases and ``PHOTOS`` photos, recorded on a device and synced."""
    with _serving(settings) as base_url:
        r = requests.post(
            f"{base_url}/auth/login",
            json={"username": "inspector", "password": "yixian-demo"},
            timeout=30,
        )
        r.raise_for_status()
        store = DeviceStore(root / "device.db")
        client = SyncClient(store, base_url, sleep=lambda _s: None, batch=500)
        client.register(r.json()["token"], "bench")
        now = datetime.now(UTC)
        (root / "device-photos").mkdir()
        for i in range(CASES):
            case_id = str(uuid.uuid4())
            payload: dict[str, Any] = {
                "case_id": case_id,
                "category": "waterlogging",
                "description": f"积水 {i}",
                "location": LOCATION,
                "recorded_at": now.isoformat(),
            }
            store.enqueue(CommandType.CREATE_CASE, payload, now=now)
            if i < PHOTOS:
                data = _photo(i)
                sha = hashlib.sha256(data).hexdigest()
                path = root / "device-photos" / f"{sha}.jpg"
                path.write_bytes(data)

                def local(
                    session: Any,
                    sha: str = sha,
                    path: Path = path,
                    n: int = len(data),
                    case_id: str = case_id,
                ) -> None:
                    store.add_photo(session, sha256=sha, path=str(path), size=n, case_id=case_id)

                store.enqueue(
                    CommandType.ADD_PHOTO,
                    {"case_id": case_id, "sha256": sha},
                    now=now,
                    local_change=local,
                )
        for _ in range(50):
            client.sync_once()
            if store.pending_count() == 0 and not store.photos_to_upload():
                break
        store.close()


class _Databases:
    """Fresh databases: SQLite files, or PostgreSQL databases dropped at the end."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        self.root = root
        self.made: list[str] = []

    def new(self, name: str) -> Settings:
        root = self.root / name
        root.mkdir(parents=True)
        if self.kind == "sqlite":
            return _settings(f"sqlite:///{root / 'yixian.db'}", root, "local")
        db = f"yx_bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        self.made.append(db)
        return _settings(f"{PG_ADMIN.rsplit('/', 1)[0]}/{db}", root, "postgres")

    def drop(self) -> None:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _pg_available() -> bool:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        admin.dispose()
        return shutil.which("pg_dump") is not None
    except Exception:
        return False


def _measure(kind: str, label: str, root: Path, bigger: bool) -> list[dict[str, Any]]:
    dbs = _Databases(kind, root)
    try:
        source = dbs.new("source")
        migrate(source.database_url)
        engine = make_engine(source.database_url)
        load_demo(engine, now=datetime.now(UTC), with_cases=True)
        engine.dispose()
        if bigger:
            _fill(source, root / "source")
        start = time.perf_counter()
        manifest: Manifest = backup(source, root / "backup")
        backup_s = time.perf_counter() - start
        start = time.perf_counter()
        shutil.copytree(root / "backup", root / "copy")
        copy_s = max(time.perf_counter() - start, 1e-6)
        target = dbs.new("target")
        start = time.perf_counter()
        restore(target, root / "backup")
        restore_s = time.perf_counter() - start
    finally:
        if kind == "postgres":
            dbs.drop()
    facts = {
        "cases": manifest.counts["cases"],
        "events": manifest.counts["events"],
        "photos": manifest.counts["photos"],
        "backup_mb": round(manifest.total_bytes / 1e6, 2),
        "database_mb": round(manifest.database.size / 1e6, 2),
    }
    rows = []
    for what, seconds in (("backup", backup_s), ("restore", restore_s)):
        rows.append(
            {
                "name": f"{what}_{label}_{kind}",
                "value": round(seconds, 3),
                "unit": "s",
                "baseline": "copytree_of_the_backup",
                "baseline_value": round(copy_s, 3),
                "ratio": seconds / copy_s,
                **facts,
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    kinds = ["sqlite"] + (["postgres"] if _pg_available() else [])
    for kind in kinds:
        for label, bigger in (("demo", False), (f"{CASES}cases_{PHOTOS}photos", True)):
            with tempfile.TemporaryDirectory(prefix="yixian-bench-backup-") as tmp:
                rows += _measure(kind, label, Path(tmp), bigger)
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
