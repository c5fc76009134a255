"""Yixian's sync and photos against PouchDB, measured side by side in this run (issue #15).

The baseline is PouchDB 9 (LevelDB on disk) replicating to pouchdb-server 4.2 (a child process,
LevelDB on disk) over loopback in batches of 100 — the best-known offline-first replication pair,
which validates nothing. ``bench/pouchdb/run.js`` measures it; its packages are pinned in
``bench/pouchdb/package-lock.json`` and installed there by ``npm ci`` on the first run. If node,
npm or the registry is missing, the rows say so (baseline "pouchdb skipped: why", values NaN)
and the bench does not fail.

Rows (``ratio`` = Yixian ÷ PouchDB; the issue's targets: >= 2 for sync, >= 1 for photos):

- ``sync_push_vs_pouchdb``: 10,000 CreateCase commands pushed in batches of 100 to one uvicorn
  process on SQLite, every rule checked (``bench.bench_sync``), in commands/s, against PouchDB
  pushing 10,000 inspection documents of 448 bytes to pouchdb-server, in docs/s.
- ``sync_pull_vs_pouchdb``: a fresh device pulling those cases (pages of 200, with events),
  against a fresh PouchDB database replicating those documents from pouchdb-server.
- ``photo_upload_vs_pouchdb`` / ``photo_download_vs_pouchdb``: the same 50 JPEGs of ~240 KiB,
  sent with ``sync.photo_upload.upload_photo`` and fetched with ``GET /photos/{sha256}``, against
  the same files as PouchDB attachments (one document each) replicated to and from the server.

Both sides run ``ROUNDS`` times (``YIXIAN_BENCH_POUCHDB_ROUNDS``, default 2), alternating which
goes first, and each figure is its best round: the machine is shared, and the best round is the
least disturbed one for either side. Run: ``.venv/bin/python -m bench pouchdb``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from bench.bench_sync import _device, _pull_all, _push_all, server_process
from bench.bench_sync_photo import _login, live_server
from sync.photo_upload import DEFAULT_CHUNK, upload_photo

HERE = Path(__file__).resolve().parent / "pouchdb"
DOCS = 10_000
DOC_BYTES = 448
BATCH = 100
PHOTOS = 50
PHOTO_SIDE = 414  # noise at JPEG quality 100: ~240 KiB
MB = 1_000_000
NODE_TIMEOUT = 240
ROUNDS = int(os.environ.get("YIXIAN_BENCH_POUCHDB_ROUNDS", "2"))


def _install() -> str | None:
    """Install the pinned PouchDB packages if they are missing; the reason if that fails."""
    if (HERE / "node_modules" / "pouchdb-server").is_dir() and (
        HERE / "node_modules" / "pouchdb"
    ).is_dir():
        return None
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node or npm not installed"
    try:
        done = subprocess.run(
            [
                "npm",
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--fetch-retries=1",  # no registry: give up in a minute, not ten
                "--fetch-timeout=30000",
            ],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        return "npm ci took more than 15 minutes"
    if done.returncode != 0:
        said = [
            line.removeprefix("npm error").strip()
            for line in done.stderr.splitlines()
            if line.startswith("npm error") and "  at " not in line and "log of this" not in line
        ]
        return "npm ci failed: " + ("; ".join(said[:4]) or "?")[:300]
    return None


def _photos(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(PHOTOS):
        picture = Image.effect_noise((PHOTO_SIDE, PHOTO_SIDE), 40 + i).convert("RGB")
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=100)
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def _pouchdb(workdir: Path, photos: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            "node",
            str(HERE / "run.js"),
            "--workdir",
            str(workdir),
            "--docs",
            str(DOCS),
            "--doc-bytes",
            str(DOC_BYTES),
            "--batch",
            str(BATCH),
            "--photos",
            str(photos),
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _yixian_sync(workdir: Path) -> tuple[float, float, int]:
    """Commands/s pushed and cases/s pulled, as ``bench.bench_sync`` measures them."""
    with server_process(workdir) as base, requests.Session() as http:
        _push_all(http, base, _device(http, base), 200)  # warm-up, as PouchDB's side has
        push_s = _push_all(http, base, _device(http, base), DOCS)
        pull_s, pulled = _pull_all(http, base, _device(http, base))
    return DOCS / push_s, pulled / pull_s, pulled


def _yixian_photos(workdir: Path, paths: list[Path]) -> tuple[float, float]:
    """MB/s uploading every photo (resumable chunks) and downloading every one back."""
    total = sum(p.stat().st_size for p in paths)
    named = [(p, hashlib.sha256(p.read_bytes()).hexdigest()) for p in paths]
    with live_server(workdir) as base, requests.Session() as http:
        headers = _login(base)
        start = time.perf_counter()
        for path, name in named:
            upload_photo(http, base, headers, path, name, chunk_size=DEFAULT_CHUNK)
        up_s = time.perf_counter() - start
        start = time.perf_counter()
        for path, name in named:
            r = http.get(f"{base}/photos/{name}", headers=headers, timeout=60)
            r.raise_for_status()
            if hashlib.sha256(r.content).hexdigest() != name:
                raise RuntimeError(f"{path.name} came back different")
        down_s = time.perf_counter() - start
    return total / MB / up_s, total / MB / down_s


def _skipped(reason: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "value": math.nan,
            "unit": unit,
            "baseline": f"pouchdb skipped: {reason}",
            "baseline_value": math.nan,
            "ratio": math.nan,
            "skipped": reason,
        }
        for name, unit in (
            ("sync_push_vs_pouchdb", "commands/s"),
            ("sync_pull_vs_pouchdb", "cases/s"),
            ("photo_upload_vs_pouchdb", "MB/s"),
            ("photo_download_vs_pouchdb", "MB/s"),
        )
    ]


def _yixian(workdir: Path, paths: list[Path]) -> dict[str, float]:
    (workdir / "sync").mkdir()
    push, pull, pulled = _yixian_sync(workdir / "sync")
    (workdir / "photo").mkdir()
    up, down = _yixian_photos(workdir / "photo", paths)
    return {"push": push, "pull": pull, "pulled": pulled, "up": up, "down": down}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's best round: on a shared machine the least disturbed one."""
    return {
        k: max(r[k] for r in runs) if isinstance(runs[0][k], int | float) else runs[0][k]
        for k in runs[0]
    }


def run(rounds: int = ROUNDS) -> list[dict[str, Any]]:
    reason = _install()
    if reason is not None:
        return _skipped(reason)
    pouch_runs: list[dict[str, Any]] = []
    yixian_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="yixian-bench-pouchdb-") as tmp:
        workdir = Path(tmp)
        paths = _photos(workdir / "photos")
        photo_bytes = sum(p.stat().st_size for p in paths)
        for i in range(rounds):  # alternate which side goes first, so neither gets the quiet end
            here = workdir / f"round{i}"
            (here / "pouch").mkdir(parents=True)
            if i % 2:
                yixian_runs.append(_yixian(here, paths))
            try:
                pouch_runs.append(_pouchdb(here / "pouch", workdir / "photos"))
            except (OSError, subprocess.SubprocessError, ValueError) as err:
                detail = getattr(err, "stderr", None) or str(err)
                return _skipped(f"PouchDB run failed: {str(detail).strip()[-300:]}")
            if not i % 2:
                yixian_runs.append(_yixian(here, paths))
    pouch = _best(pouch_runs)
    best = _best(yixian_runs)
    push, pull, pulled, up, down = (
        best["push"],
        best["pull"],
        int(best["pulled"]),
        best["up"],
        best["down"],
    )
    common = {
        "pouchdb": pouch["pouchdb"],
        "pouchdb_server": pouch["pouchdb_server"],
        "rounds": rounds,
    }
    sync = {**common, "batch": BATCH, "docs": DOCS, "pouchdb_doc_bytes": pouch["doc_bytes"]}
    photo = {**common, "photos": PHOTOS, "photo_bytes": photo_bytes, "chunk_bytes": DEFAULT_CHUNK}
    return [
        {
            "name": "sync_push_vs_pouchdb",
            "value": push,
            "unit": "commands/s",
            "baseline": "pouchdb_push_docs_per_s",
            "baseline_value": pouch["push_docs_per_s"],
            "ratio": push / pouch["push_docs_per_s"],
            "rounds_values": [r["push"] for r in yixian_runs],
            "rounds_baseline_values": [r["push_docs_per_s"] for r in pouch_runs],
            "target": 2.0,
            **sync,
        },
        {
            "name": "sync_pull_vs_pouchdb",
            "value": pull,
            "unit": "cases/s",
            "baseline": "pouchdb_pull_docs_per_s",
            "baseline_value": pouch["pull_docs_per_s"],
            "ratio": pull / pouch["pull_docs_per_s"],
            "rounds_values": [r["pull"] for r in yixian_runs],
            "rounds_baseline_values": [r["pull_docs_per_s"] for r in pouch_runs],
            "target": 2.0,
            "cases": pulled,
            **sync,
        },
        {
            "name": "photo_upload_vs_pouchdb",
            "value": up,
            "unit": "MB/s",
            "baseline": "pouchdb_attachment_push_mb_per_s",
            "baseline_value": pouch["photo_upload_mb_per_s"],
            "ratio": up / pouch["photo_upload_mb_per_s"],
            "rounds_values": [r["up"] for r in yixian_runs],
            "rounds_baseline_values": [r["photo_upload_mb_per_s"] for r in pouch_runs],
            "target": 1.0,
            **photo,
        },
        {
            "name": "photo_download_vs_pouchdb",
            "value": down,
            "unit": "MB/s",
            "baseline": "pouchdb_attachment_pull_mb_per_s",
            "baseline_value": pouch["photo_download_mb_per_s"],
            "ratio": down / pouch["photo_download_mb_per_s"],
            "rounds_values": [r["down"] for r in yixian_runs],
            "rounds_baseline_values": [r["photo_download_mb_per_s"] for r in pouch_runs],
            "target": 1.0,
            **photo,
        },
    ]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
