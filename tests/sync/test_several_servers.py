"""Several server processes share the work: two ``python -m server serve`` processes (one of
them with ``--workers 2``: three server processes in all) on different ports and one PostgreSQL
database, each running the escalation job every second. Phones — the real sync engine, each
with its own SQLite store, in threads — record cases, photos and edits offline and sync
alternately to one process and the other, all at once. Afterwards every sync invariant holds:
each command applied once (none lost, none twice), each case created once, every photo's bytes
held and linked, every device's pull complete (it holds every case it may see), every case's
event chain intact; and the job ran exactly once in each period that all processes were up.

Short in ``make test`` (4 phones × 3 rounds); ``YIXIAN_SOAK=1`` runs 24 phones × 12 rounds.
Figures go to ``var/sync-proof-figures.txt`` (``tests/support/proof_figures.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, text
from sqlmodel import Session

from server.data import jobs as jobs_data
from server.db import make_engine
from server.services.audit import verify_chains
from server.services.scheduler import ESCALATION_JOB
from sync.client import SyncClient
from sync.device_store import DeviceStore
from tests.conftest import Backend
from tests.support.device_worker import (
    add_photo,
    edit_description,
    record_case,
    small_jpeg,
    sync_until_quiet,
)
from tests.support.live_server import free_port
from tests.support.proof_figures import report

SOAK = os.environ.get("YIXIAN_SOAK") == "1"
PHONES = 24 if SOAK else 4
ROUNDS = 12 if SOAK else 3
CASES_PER_ROUND = 4
EVERY_S = 2  # the escalation job's period
MIN_PERIODS = 2  # the job's runs are checked over at least these many periods
WORKERS = (2, 1)  # ``--workers`` of each ``serve`` process
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@dataclass
class Serve:
    """One ``python -m server serve`` process (its workers are its children)."""

    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # uvicorn shuts its workers down on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_serve(url: str, root: Path, workers: int, index: int) -> Serve:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "YIXIAN_VAR_DIR": str(root),
        "YIXIAN_PHOTO_DIR": str(root / "photos"),  # one store the processes share
        "YIXIAN_ESCALATE_EVERY": str(EVERY_S),
        "YIXIAN_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(root / f"metrics-{index}"),
    }
    env.pop("YIXIAN_ENV", None)
    log = root / f"serve-{index}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Serve(proc, f"http://127.0.0.1:{port}", log)


def wait_ready(serve: Serve, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if serve.proc.poll() is not None:
            raise RuntimeError(f"serve exited: {serve.log.read_text()[-2000:]}")
        try:
            if requests.get(serve.base_url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"serve did not answer: {serve.log.read_text()[-2000:]}")


@pytest.fixture
def servers(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, list[Serve]]]:
    url = backend.fresh_url(tmp_path)
    started = [start_serve(url, tmp_path, w, i) for i, w in enumerate(WORKERS)]
    try:
        for serve in started:
            wait_ready(serve)
        yield url, started
    finally:
        for serve in started:  # all at once: each takes a moment to end its workers
            if serve.proc.poll() is None:
                serve.proc.terminate()
        for serve in started:
            serve.stop()
        backend.drop(url)


@dataclass
class Phone:
    index: int
    client: SyncClient
    cases: list[str] = field(default_factory=list)
    photos: dict[str, str] = field(default_factory=dict)  # sha256 -> case id
    last_edit: dict[str, str] = field(default_factory=dict)  # case id -> description
    syncs: Counter[str] = field(default_factory=Counter)  # base url -> syncs there


def login(base_url: str, username: str) -> str:
    r = requests.post(
        base_url + "/auth/login",
        json={"username": username, "password": "yixian-demo"},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["token"])


def make_phone(index: int, root: Path, serves: list[Serve]) -> Phone:
    store = DeviceStore(root / "phones" / f"phone-{index}.db")
    home = serves[index % len(serves)].base_url
    client = SyncClient(store, home, sleep=lambda s: time.sleep(min(s, 0.2)), attempts=6)
    client.register(login(home, "inspector"), f"phone-{index}")
    return Phone(index, client)


def work_and_sync(phone: Phone, serves: list[Serve], root: Path, now: datetime) -> None:
    """Each round: record cases with a photo and edit an earlier case offline, then sync —
    to the next server process each time."""
    store = phone.client.store
    for rnd in range(ROUNDS):
        for k in range(CASES_PER_ROUND):
            case_id = str(uuid.uuid4())
            record_case(store, case_id=case_id, description=f"手机{phone.index}-{rnd}-{k}", now=now)
            phone.cases.append(case_id)
        shelf = root / "phones" / f"phone-{phone.index}-photos"
        data = small_jpeg(phone.index * 10_000 + rnd)
        phone.photos[add_photo(store, case_id=case_id, data=data, photo_dir=shelf, now=now)] = (
            case_id
        )
        if rnd:  # an earlier case, as this phone last pulled it
            earlier = phone.cases[(rnd - 1) * CASES_PER_ROUND]
            value = f"第{rnd}轮修改"
            if edit_description(store, case_id=earlier, value=value, now=now) is not None:
                phone.last_edit[earlier] = value
        phone.client.base_url = serves[(phone.index + rnd) % len(serves)].base_url
        phone.syncs[phone.client.base_url] += 1
        phone.client.sync_once()


def check_invariants(engine: Engine, phones: list[Phone]) -> tuple[int, int]:
    all_cases = {c for p in phones for c in p.cases}
    with engine.connect() as conn:
        held = set(conn.execute(text("SELECT id FROM case_record")).scalars())
        created = Counter(
            conn.execute(
                text("SELECT case_id FROM case_event WHERE kind = 'CaseCreated'")
            ).scalars()
        )
        descriptions = dict(conn.execute(text("SELECT id, description FROM case_record")).all())
        photos = dict(conn.execute(text("SELECT sha256, complete FROM photo")).all())
        links = set(conn.execute(text("SELECT sha256, case_id FROM photo_link")).all())
        applied = 0
        for phone in phones:
            device_id = phone.client.store.get("device_id")
            results = dict(
                conn.execute(
                    text(
                        "SELECT command_id, status FROM device_command_result WHERE device_id = :d"
                    ),
                    {"d": device_id},
                ).all()
            )
            commands = phone.client.store.commands()
            assert sorted(results) == [c.id for c in commands], "a command lost or doubled"
            assert set(results.values()) == {"applied"}
            assert {c.status for c in commands} == {"applied"}
            applied += len(results)
    assert held == all_cases, "a case lost or invented"
    assert set(created.values()) == {1} and set(created) == all_cases, "a case created twice"
    for phone in phones:
        for case_id, value in phone.last_edit.items():
            assert descriptions[case_id] == value
        for sha, case_id in phone.photos.items():
            assert photos.get(sha) is True, f"photo {sha[:12]} not held"
            assert (sha, case_id) in links
        # the pull is complete: this phone holds every case the inspector may see
        assert set(phone.client.store.case_ids()) == all_cases
        assert all((phone.client.store.case(c) or {}).get("number") for c in all_cases)
    with Session(engine) as session:
        chains = verify_chains(session)
    assert chains.intact and chains.cases == len(all_cases)
    return applied, len(all_cases)


def check_job_ran_once_per_period(
    engine: Engine, first: int, last: int
) -> tuple[int, Counter[str]]:
    """Every period from ``first`` to ``last`` (all processes up) ran once; none ran twice."""
    runs = [r for r in jobs_data.run_log(engine, ESCALATION_JOB) if r.period is not None]
    assert not [r for r in jobs_data.run_log(engine, ESCALATION_JOB) if r.outcome != "ran"]
    per_period = Counter(r.period for r in runs)
    assert max(per_period.values()) == 1, f"a period ran twice: {per_period.most_common(3)}"
    missing = [p for p in range(first, last + 1) if per_period[p] != 1]
    assert not missing, f"periods without a run: {missing}"
    return len(runs), Counter(r.runner for r in runs)


@pytest.mark.slow
@pytest.mark.timeout(1800 if SOAK else 300)
def test_phones_syncing_alternately_to_several_server_processes_lose_and_double_nothing(
    servers: tuple[str, list[Serve]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, serves = servers
    engine = make_engine(url)
    try:
        first_period = int(time.time() // EVERY_S) + 1  # every process is up from here
        started = time.monotonic()
        phones = [make_phone(i, tmp_path, serves) for i in range(PHONES)]
        now = datetime.now(UTC)
        errors: list[BaseException] = []

        def run(phone: Phone) -> None:
            try:
                work_and_sync(phone, serves, tmp_path, now)
                sync_until_quiet(phone.client)
            except BaseException as exc:  # shown below with the phone's number
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(p,)) for p in phones]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        while int(time.time() // EVERY_S) - first_period < MIN_PERIODS + 1:
            time.sleep(0.2)  # a quick run still sees the job's schedule over several periods
        # then every phone pulls from each process in turn: each one's pull is complete
        for phone in phones:
            for serve in serves:
                phone.client.base_url = serve.base_url
                phone.client.sync_once()
        duration = time.monotonic() - started
        last_period = int(time.time() // EVERY_S) - 1
        for serve in serves:  # still serving: none died under the load
            assert serve.proc.poll() is None, serve.log.read_text()[-2000:]
        applied, cases = check_invariants(engine, phones)
        assert all(len(p.syncs) == len(serves) for p in phones)  # each phone used each process
        job_runs, runners = check_job_ran_once_per_period(engine, first_period, last_period)
    finally:
        engine.dispose()
    report(
        capsys,
        f"several servers: {len(serves)} serve processes ({sum(WORKERS)} server processes) on "
        f"one PostgreSQL, {PHONES} phones syncing alternately, {applied} commands applied once, "
        f"{cases} cases, {sum(len(p.photos) for p in phones)} photos, {duration:.1f} s; "
        f"escalation job ran {job_runs} times, once in each of "
        f"{last_period - first_period + 1} periods checked, by {len(runners)} processes",
    )
