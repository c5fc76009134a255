"""The device process is SIGKILLed at random instants while it syncs 200 cases and 50 photos;
afterwards its database is intact and a resumed sync loses nothing and duplicates nothing.

Each run copies one prepared device database (200 recorded cases, 50 photos), resets the
server's data, registers the copy, starts ``tests.support.device_worker`` and kills it after a
random delay within the time a full sync takes. 50 runs by default; ``YIXIAN_SOAK=1`` runs 500.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.client import SyncClient
from sync.device_store import DeviceStore
from tests.support.device_worker import add_photo, record_case, small_jpeg, sync_until_quiet
from tests.support.proof_figures import report
from tests.support.server_ledger import ServerLedger
from tests.support.server_process import ServerProcess, prepare_demo_db

SOAK = os.environ.get("YIXIAN_SOAK") == "1"
RUNS = int(os.environ.get("YIXIAN_KILL_RUNS", 500 if SOAK else 30))
CASES = 200
PHOTOS = 50


@dataclass
class Bench:
    server: ServerProcess
    ledger: ServerLedger
    root: Path
    template: Path
    token: str
    case_ids: list[str]
    photos: dict[str, str]  # sha256 -> case id
    full_sync: float = 0.0  # seconds a worker takes to sync everything, unkilled


def _fast_dir(factory: pytest.TempPathFactory, name: str) -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix=f"yixian-{name}-", dir=shm))
    return factory.mktemp(name)


def _prepare_template(root: Path) -> tuple[Path, list[str], dict[str, str]]:
    path = root / "template.db"
    store = DeviceStore(path)
    start = datetime.now(UTC) - timedelta(hours=2)
    ids = [str(uuid.uuid4()) for _ in range(CASES)]
    for i, case_id in enumerate(ids):
        record_case(store, case_id=case_id, description=f"积水 {i}", now=start)
    photos = {}
    for i, case_id in enumerate(ids[:PHOTOS]):
        sha = add_photo(
            store, case_id=case_id, data=small_jpeg(i), photo_dir=root / "photos", now=start
        )
        photos[sha] = case_id
    store.close()
    return path, ids, photos


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = _fast_dir(tmp_path_factory, "kill")
    url = prepare_demo_db(root / "server.db", now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    server = ServerProcess(url, root / "server-photos")
    ledger = ServerLedger(root / "server.db", server.photo_dir)
    template, ids, photos = _prepare_template(root / "device")
    yield Bench(server, ledger, root, template, server.login("inspector"), ids, photos)
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _fresh_device(bench: Bench, run: int) -> Path:
    """The server forgets everything; the device is the prepared one, newly registered."""
    bench.ledger.reset()
    path = bench.template.parent / f"run-{run}.db"  # beside its photos, as on a phone
    shutil.copyfile(bench.template, path)
    store = DeviceStore(path)
    SyncClient(store, bench.server.base_url, sleep=lambda _s: None).register(bench.token)
    store.close()
    return path


def _start_worker(bench: Bench, path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.device_worker",
            "--db",
            str(path),
            "--server",
            bench.server.base_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _check_everything_arrived_once(bench: Bench, store: DeviceStore) -> None:
    ledger = bench.ledger
    device_id = store.get("device_id") or ""
    cases = ledger.cases()
    assert sorted(cases) == sorted(bench.case_ids), "cases lost or invented"
    created = [e.case_id for e in ledger.events() if e.kind == "CaseCreated"]
    assert len(created) == len(set(created)) == CASES, "a case was created twice"
    commands = store.commands()
    assert [c.status for c in commands] == ["applied"] * (CASES + PHOTOS)
    assert sorted(ledger.results(device_id)) == [c.id for c in commands]
    assert {s for s, (st, _c, _r) in ledger.results(device_id).items() if st != "applied"} == set()
    photos = ledger.photos()
    assert ledger.corrupt_photo_files() == []
    links = ledger.links()
    for sha, case_id in bench.photos.items():
        assert photos.get(sha, (False, 0))[0], f"photo {sha[:12]} missing"
        held = ledger.photo_bytes(sha)
        assert (
            held is not None
            and held == (bench.template.parent / "photos" / f"{sha}.jpg").read_bytes()
        )
        assert (sha, case_id) in links
    assert sorted(store.case_ids()) == sorted(bench.case_ids)
    assert all((store.case(i) or {}).get("number") for i in bench.case_ids), "not pulled back"


def _calibrate(bench: Bench) -> None:
    """One unkilled run: it must sync everything, and its duration bounds the kill delays."""
    path = _fresh_device(bench, 0)
    started = time.monotonic()
    proc = _start_worker(bench, path)
    assert proc.wait(timeout=300) == 0
    bench.full_sync = time.monotonic() - started
    store = DeviceStore(path)
    try:
        _check_everything_arrived_once(bench, store)
    finally:
        store.close()


@pytest.mark.slow
def test_an_unkilled_worker_syncs_everything(bench: Bench) -> None:
    _calibrate(bench)


@pytest.mark.slow
@pytest.mark.timeout(max(1200, RUNS * 20))  # ~3 s a run here; room for a slow CI
def test_a_device_killed_at_random_instants_resumes_without_loss_or_duplicates(
    bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    if not bench.full_sync:  # run alone (or on another xdist worker than the test above)
        _calibrate(bench)
    rng = random.Random(int(os.environ.get("YIXIAN_KILL_SEED", "0")) or None)
    survived = killed_mid_sync = 0
    window = bench.full_sync  # kill delays are drawn from [0, window)
    for run in range(1, RUNS + 1):
        path = _fresh_device(bench, run)
        proc = _start_worker(bench, path)
        delay = rng.uniform(0, window)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_sync += 1
        else:  # it finished first: syncs now run faster than calibrated (a quieter machine)
            window = max(0.05, delay * 0.9)
        proc.wait()
        assert _integrity(path) == "ok", f"run {run}: device database damaged"
        store = DeviceStore(path)
        try:
            sync_until_quiet(SyncClient(store, bench.server.base_url, sleep=lambda _s: None))
            _check_everything_arrived_once(bench, store)
        finally:
            store.close()
        path.unlink()
        survived += 1
    report(capsys, f"device kills: {survived} runs, {killed_mid_sync} killed mid-sync, all intact")
    assert survived == RUNS
    assert killed_mid_sync >= RUNS // 2  # the kills really landed while it was syncing
