"""Photo upload throughput (device -> server, resumable chunks) against a plain local file copy.

The real server runs under uvicorn on 127.0.0.1 with SQLite in a temporary directory; each
round uploads a fresh ~4 MB JPEG from a file with ``sync.photo_upload.upload_photo`` (256 KiB
chunks: HEAD, then one PATCH per chunk, each checksummed; the server fsyncs and hashes the
whole photo at the end). The baseline copies the same file with ``shutil.copyfile`` (no
fsync). ``ratio`` = upload MB/s / copy MB/s. Run: ``.venv/bin/python -m bench.bench_sync_photo``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import uvicorn
from PIL import Image

from server.app import create_app
from server.config import Settings
from server.db import make_engine, migrate
from server.demo import load_demo
from sync.photo_upload import DEFAULT_CHUNK, upload_photo

ROUNDS = 7
SIDE = 1700  # noise does not compress: ~4 MB at quality 100, a large phone photo
MB = 1_000_000


def make_photo(seed: int) -> bytes:
    picture = Image.effect_noise((SIDE, SIDE), 50 + seed).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=100)
    return out.getvalue()


@contextmanager
def live_server(workdir: Path) -> Iterator[str]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, now=datetime.now(UTC), with_cases=False)
    settings = Settings(database_url=url, photo_dir=workdir / "photos", secret="bench")
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


def _login(base_url: str) -> dict[str, str]:
    r = requests.post(
        f"{base_url}/auth/login",
        json={"username": "inspector", "password": "yixian-demo"},
        timeout=10,
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _mb_per_s(size: int, seconds: float) -> float:
    return size / MB / seconds


def run(rounds: int = ROUNDS) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="yixian-bench-") as tmp:
        workdir = Path(tmp)
        sources = []
        for i in range(rounds + 1):  # +1 warm-up; each photo is new to the server
            path = workdir / f"IMG_{i:04d}.jpg"
            path.write_bytes(make_photo(i))
            sources.append(path)
        upload_speeds: list[float] = []
        copy_speeds: list[float] = []
        with live_server(workdir) as base_url, requests.Session() as session:
            headers = _login(base_url)
            for i, path in enumerate(sources):
                data = path.read_bytes()
                name = hashlib.sha256(data).hexdigest()
                start = time.perf_counter()
                upload_photo(session, base_url, headers, path, name, chunk_size=DEFAULT_CHUNK)
                upload_s = time.perf_counter() - start
                start = time.perf_counter()
                shutil.copyfile(path, workdir / f"copy_{i}.jpg")
                copy_s = time.perf_counter() - start
                if i == 0:
                    continue  # warm-up: connections, code paths
                upload_speeds.append(_mb_per_s(len(data), upload_s))
                copy_speeds.append(_mb_per_s(len(data), copy_s))
        photo_bytes = sources[0].stat().st_size if sources[0].exists() else 0
    value = statistics.median(upload_speeds)
    baseline = statistics.median(copy_speeds)
    return [
        {
            "name": "sync_photo_upload",
            "value": value,
            "unit": "MB/s",
            "baseline": "local_file_copy",
            "baseline_value": baseline,
            "ratio": value / baseline,
            "photo_bytes": photo_bytes,
            "chunk_bytes": DEFAULT_CHUNK,
            "rounds": rounds,
        }
    ]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
