"""Model-based fault test: random schedules of offline work, syncs and network/device faults
from two or three devices against a real server on loopback; after healing, nothing is lost, nothing
is applied twice, every photo arrives intact, and every refusal reaches its user.

Faults come from ``tests.support.fault_transport`` (a ``requests`` adapter on each device's
session): request lost, reply lost after commit, duplicate delivery, server restart between
commit and reply, device killed just before sending / just after the server committed (its
engine is dropped and its store reopened from the file), and device clocks ±7 days off.

400 schedules by default; ``YIXIAN_SOAK=1`` runs 20,000.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

import sync.photo_upload
from sync.client import Offline, SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType
from sync.visibility import can_see_case
from sync.vocabulary import Role
from tests.support.device_worker import (
    add_photo,
    edit_description,
    quiet,
    record_case,
    small_jpeg,
)
from tests.support.fault_transport import DeviceKilled, Fault, FaultAdapter, faulty_session
from tests.support.proof_figures import report
from tests.support.server_ledger import ServerLedger
from tests.support.server_process import ServerProcess, prepare_demo_db

SOAK = os.environ.get("YIXIAN_SOAK") == "1"
SCHEDULES = int(os.environ.get("YIXIAN_FAULT_SCHEDULES", 20_000 if SOAK else 400))
# The soak runs in shards, each a test of its own: under ``pytest -n 2`` two run side by side (a
# schedule alternates between the devices and the server, so one keeps about one core busy), and
# a stopped soak keeps the figures of the shards it finished.
SHARDS = int(os.environ.get("YIXIAN_FAULT_SHARDS", 8 if SOAK else 1))
PER_SHARD = -(-SCHEDULES // SHARDS)
STEPS = 12
# Two devices of two users by default; the soak adds a second phone of the same inspector.
DEVICES = (("phone_a", "inspector"), ("desk", "supervisor")) + (
    (("phone_b", "inspector"),) if SOAK or os.environ.get("YIXIAN_FAULT_3_DEVICES") else ()
)
DEVICE = st.integers(0, len(DEVICES) - 1)
FINISHED = ("applied", "rejected", "conflict")
# Restarts cost a fraction of a second each: drawn rarely; the other faults are cheap.
FAULTS = [f for f in Fault if f != Fault.RESTART] * 4 + [Fault.RESTART]
ACTIONS = ("assign", "cancel", "suspend", "resume", "close", "merge")

completed = 0  # schedules that healed and passed every check


@dataclass
class World:
    live: ServerProcess
    ledger: ServerLedger
    root: Path
    user_tokens: dict[str, str]
    users: dict[str, tuple[str, str, str]]
    started: int = 0


@dataclass
class Device:
    name: str
    user: str
    path: Path
    photo_dir: Path
    adapter: FaultAdapter
    client: SyncClient
    device_id: str
    skew: timedelta = timedelta(0)
    kills: int = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + self.skew


@dataclass
class Expected:
    """What the model knows about each command it queued."""

    creates: dict[str, str] = field(default_factory=dict)  # case id -> device name
    bad_creates: set[str] = field(default_factory=set)
    # nonce -> (device name, command id, kind); a nonce marks the event a command makes
    nonces: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    photos: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)  # -> sha, case


def _open_client(path: Path, base_url: str, adapter: FaultAdapter) -> SyncClient:
    return SyncClient(
        DeviceStore(path),
        base_url,
        http=faulty_session(adapter),
        sleep=lambda _s: None,
        attempts=6,
        batch=3,  # several batches per push: a kill or a fault lands between them
        timeout=30,
    )


class SyncSchedules(RuleBasedStateMachine):
    world: ClassVar[World]
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        w.started += 1
        w.ledger.reset()
        self.dir = w.root / f"s{w.started}"
        self.devices = [self._register(name, user) for name, user in DEVICES]
        self.expected = Expected()
        self.counter = 0

    def _register(self, name: str, user: str) -> Device:
        path = self.dir / f"{name}.db"
        adapter = FaultAdapter(on_restart=self.world.live.restart)
        client = _open_client(path, self.world.live.base_url, adapter)
        device_id = client.register(self.world.user_tokens[user], name)
        return Device(name, user, path, self.dir / f"{name}-photos", adapter, client, device_id)

    def _reopen(self, device: Device) -> None:
        """The device was killed: drop its engine and open its store again from the file."""
        device.client.store.close()
        device.client.http.close()
        device.adapter = FaultAdapter(on_restart=self.world.live.restart)
        device.client = _open_client(device.path, self.world.live.base_url, device.adapter)
        device.kills += 1

    def _nonce(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-{self.counter}-{uuid.uuid4().hex[:6]}"

    # --- offline work --------------------------------------------------------------------

    @rule(target=cases, d=DEVICE)
    def create(self, d: int) -> str:
        device = self.devices[d]
        case_id = str(uuid.uuid4())
        record_case(device.client.store, case_id=case_id, description="积水", now=device.now())
        self.expected.creates[case_id] = device.name
        return case_id

    @rule(d=DEVICE)
    def create_unknown_category(self, d: int) -> None:
        device = self.devices[d]
        case_id = str(uuid.uuid4())
        record_case(
            device.client.store,
            case_id=case_id,
            description="无此类别",
            category="no_such_category",
            now=device.now(),
        )
        self.expected.bad_creates.add(case_id)

    @rule(d=DEVICE, case_id=cases)
    def edit(self, d: int, case_id: str) -> None:
        device = self.devices[d]
        value = self._nonce("edit")
        cmd = edit_description(device.client.store, case_id=case_id, value=value, now=device.now())
        if cmd is not None:
            self.expected.nonces[value] = (device.name, cmd, "edit")

    @rule(
        d=DEVICE,
        case_id=cases,
        action=st.sampled_from(ACTIONS),
        with_reason=st.booleans(),
        target_id=cases,
    )
    def transition(
        self, d: int, case_id: str, action: str, with_reason: bool, target_id: str
    ) -> None:
        device = self.devices[d]
        if device.client.store.case(case_id) is None:
            return  # a device acts only on cases it shows
        note = self._nonce("note")
        payload: dict[str, Any] = {
            "case_id": case_id,
            "action": action,
            "note": note,
            "reason": "现场核实" if with_reason else "",
            "photos": [],
        }
        if action == "merge":
            payload["duplicate_of"] = target_id
        cmd = device.client.store.enqueue(CommandType.TRANSITION_CASE, payload, now=device.now())
        self.expected.nonces[note] = (device.name, cmd, "transition")

    @rule(d=DEVICE, case_id=cases)
    def photo(self, d: int, case_id: str) -> None:
        device = self.devices[d]
        if device.client.store.case(case_id) is None:
            return
        self.counter += 1
        data = small_jpeg(self.world.started * 1000 + self.counter)
        sha = add_photo(
            device.client.store,
            case_id=case_id,
            data=data,
            photo_dir=device.photo_dir,
            now=device.now(),
        )
        last = device.client.store.commands()[-1]
        self.expected.photos[(device.name, last.id)] = (sha, case_id)

    @rule(d=DEVICE, days=st.sampled_from([-7, 0, 7]), seconds=st.integers(0, 3600))
    def skew_clock(self, d: int, days: int, seconds: int) -> None:
        self.devices[d].skew = timedelta(days=days, seconds=seconds if days else 0)

    # --- syncing under faults ------------------------------------------------------------

    @rule(
        d=DEVICE,
        faults=st.dictionaries(st.integers(0, 6), st.sampled_from(FAULTS), max_size=2),
    )
    def sync(self, d: int, faults: dict[int, Fault]) -> None:
        device = self.devices[d]
        device.adapter.arm(faults)
        try:
            device.client.sync_once()
        except DeviceKilled:
            self._reopen(device)
        except Offline:
            pass  # everything stays queued; the next sync carries on
        finally:
            device.adapter.disarm()

    # --- healing and the checks ----------------------------------------------------------

    def teardown(self) -> None:
        try:
            self._heal()
            self._check()
        finally:
            for device in self.devices:
                device.client.store.close()
                device.client.http.close()
        global completed
        completed += 1

    def _heal(self) -> None:
        ledger = self.world.ledger
        seen: dict[str, int] = {}  # the change counter when each device last pulled
        for _ in range(10):
            for device in self.devices:
                device.client.sync_once()
                seen[device.name] = ledger.change_counter()
            if all(quiet(device.client) for device in self.devices):
                break
        for device in self.devices:  # everyone pulls what changed after it last pulled
            if seen[device.name] != ledger.change_counter():
                device.client.sync_once()
        for device in self.devices:
            assert quiet(device.client), f"{device.name} still has work queued"

    def _check(self) -> None:
        ledger = self.world.ledger
        server_cases = ledger.cases()
        events = ledger.events()
        exp = self.expected
        by_name = {d.name: d for d in self.devices}
        # 0 records lost, 0 invented: the server holds exactly the valid cases recorded
        assert set(server_cases) == set(exp.creates), "cases lost or invented"
        # 0 duplicates: one creation per case, one event per command at most
        created = [e.case_id for e in events if e.kind == "CaseCreated"]
        assert sorted(created) == sorted(exp.creates), "a case was created twice"
        marks: dict[str, int] = {}
        for e in events:
            for nonce in _nonces_of(e):
                marks[nonce] = marks.get(nonce, 0) + 1
        now = datetime.now(UTC)
        for case in server_cases.values():  # a clock running ahead is not trusted
            assert datetime.fromisoformat(case["created_at"]).replace(tzinfo=UTC) <= now
        # every command finished on its device exactly as the server recorded it
        outcome: dict[tuple[str, int], tuple[str, str | None]] = {}
        for device in self.devices:
            commands = device.client.store.commands()
            stored = ledger.results(device.device_id)
            assert sorted(stored) == [c.id for c in commands], f"{device.name}: results differ"
            assert ledger.last_applied(device.device_id) == len(commands)
            problems = {c.id for c in device.client.store.problems()}
            for c in commands:
                status, code, reason = stored[c.id]
                assert c.status == status, f"{device.name} #{c.id}: {c.status} != {status}"
                outcome[(device.name, c.id)] = (status, code)
                if status in ("rejected", "conflict"):  # the user sees it, with the reason
                    assert c.id in problems and c.reason and c.reason == reason
                if c.type == CommandType.CREATE_CASE.value:
                    case_id = c.case_id or ""
                    wanted = "rejected" if case_id in exp.bad_creates else "applied"
                    assert status == wanted, f"create {case_id}: {status} {reason}"
        for nonce, (name, cmd, kind) in exp.nonces.items():
            status, code = outcome[(name, cmd)]
            if kind == "edit":
                want = 0 if status == "rejected" else 1
            elif status == "applied":
                want = 1
            else:  # a refused transition keeps its note as evidence on a case one can see
                want = 0 if code == "not_found" else 1
            assert marks.get(nonce, 0) == want, f"{kind} {nonce} ({status}) made {marks}"
        # photos: every one on the server, intact, linked where its command was applied
        photos = ledger.photos()
        links = ledger.links()
        assert ledger.corrupt_photo_files() == []
        for (name, cmd), (sha, case_id) in exp.photos.items():
            assert photos.get(sha, (False, 0))[0], f"photo {sha[:12]} missing"
            data = ledger.photo_bytes(sha)
            assert (
                data is not None and (by_name[name].photo_dir / f"{sha}.jpg").read_bytes() == data
            )
            status, code = outcome[(name, cmd)]  # a device links photos to cases it shows
            assert status == "applied" and (sha, case_id) in links, f"photo link {status} {code}"
        # every device shows the server's version of every case its user may see
        for device in self.devices:
            uid, role, dept = self.world.users[device.user]
            store = device.client.store
            local = set(store.case_ids())
            for case in server_cases.values():
                may_see = can_see_case(
                    role=Role(role),
                    department=dept,
                    user_id=uid,
                    first_contact_department=case["first_contact_department"],
                    lead_department=case["lead_department"],
                    assisting_departments=[a["department_code"] for a in case["assisting"]],
                    reporter_user_id=case["reporter_user_id"],
                )
                snap = store.case(case["id"])
                if may_see:
                    assert snap is not None, f"{device.name} lacks {case['id']}"
                    assert (snap["description"], snap["status"], snap["version"]) == (
                        case["description"],
                        case["status"],
                        case["version"],
                    ), f"{device.name} shows a stale copy"
                local.discard(case["id"])
            assert local <= exp.bad_creates, f"{device.name} shows cases not on the server"


def _nonces_of(event: Any) -> list[str]:
    """The command marks an event carries: a transition's note, an edit's new value."""
    data = event.data
    found: list[str] = []
    if event.kind == "FieldsEdited":
        to = (data.get("fields") or {}).get("description", {}).get("to")
        if to:
            found.append(to)
    elif event.kind == "EditConflicted":
        found += [c["yours"] for c in data.get("conflicts") or [] if c.get("yours")]
    elif data.get("note"):
        found.append(str(data["note"]))
    return [n for n in found if isinstance(n, str) and n.startswith(("edit-", "note-"))]


def _fast_dir(factory: pytest.TempPathFactory, name: str) -> Path:
    """A directory in memory when the machine has one (fsyncs there are free), else tmp."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix=f"yixian-{name}-", dir=shm))
    return factory.mktemp(name)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = _fast_dir(tmp_path_factory, "faults")
    url = prepare_demo_db(root / "server.db", now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    live = ServerProcess(url, root / "photos")
    ledger = ServerLedger(root / "server.db", live.photo_dir)
    tokens = {user: live.login(user) for user in {u for _, u in DEVICES}}
    yield World(live, ledger, root / "devices", tokens, ledger.users())
    live.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def quick_photo_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Photo uploads retry at once (as SyncClient(sleep=...) does for the rest)."""
    monkeypatch.setattr(
        sync.photo_upload,
        "upload_photo",
        functools.partial(sync.photo_upload.upload_photo, sleep=lambda _s: None),
    )


@pytest.mark.slow
@pytest.mark.timeout(max(1800, PER_SHARD * 2))  # ~0.3 s a schedule here; room for a slow CI
@pytest.mark.parametrize("shard", range(SHARDS))
def test_random_fault_schedules_lose_nothing_and_apply_nothing_twice(
    shard: int, world: World, quick_photo_retries: None, capsys: pytest.CaptureFixture[str]
) -> None:
    global completed
    completed = 0
    started, restarts = world.started, world.live.restarts  # a worker may run several shards
    SyncSchedules.world = world
    run_state_machine_as_test(
        SyncSchedules,
        settings=settings(
            max_examples=PER_SHARD,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    shard_name = f" (shard {shard + 1} of {SHARDS})" if SHARDS > 1 else ""
    report(
        capsys,
        f"sync fault schedules{shard_name}: {completed} passed with {len(DEVICES)} devices "
        f"({world.started - started} started, {world.live.restarts - restarts} server restarts)",
    )
    assert completed >= PER_SHARD
