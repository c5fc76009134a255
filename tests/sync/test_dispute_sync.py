"""A dispute raised on a phone carries its legal basis (and the department it names responsible)
through sync; one without a legal basis, or naming a department the county does not have, is
refused on arrival, naming the field (a device that skipped the phone's own check)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from server.demo_data import SITES
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType
from tests.support.live_server import LiveServer

WATER = next(s for s in SITES if s.kind == "waterlogging_point")
BASIS = "《城镇排水与污水处理条例》第二十条"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(
        tmp_path_factory.mktemp("server"), now=datetime(2026, 11, 2, 1, tzinfo=UTC)
    )
    server.start()
    yield server
    server.stop()


def device(tmp: Path, live: LiveServer, user: str) -> SyncClient:
    client = SyncClient(DeviceStore(tmp / f"{user}.db"), live.base_url, sleep=lambda _s: None)
    client.register(live.login(user), user)
    return client


def assigned_case(tmp: Path, live: LiveServer) -> str:
    """An inspector records and assigns a waterlogging case (lead zhzf, sw and zj assist)."""
    phone = device(tmp, live, "inspector")
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    point = {"lat": WATER.location.lat, "lon": WATER.location.lon}
    phone.store.enqueue(
        CommandType.CREATE_CASE,
        {"case_id": case_id, "category": "waterlogging", "description": "积水", "location": point},
        now=now,
    )
    phone.store.enqueue(
        CommandType.TRANSITION_CASE, {"case_id": case_id, "action": "assign"}, now=now
    )
    assert phone.sync_once().applied == 2
    return case_id


def disputes_of(live: LiveServer, case_id: str) -> list[dict[str, object]]:
    r = requests.get(
        f"{live.base_url}/workflow/cases/{case_id}",
        headers={"Authorization": f"Bearer {live.login('supervisor')}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return list(r.json()["disputes"])


def test_a_pushed_dispute_without_a_legal_basis_is_rejected_naming_the_field(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id = assigned_case(tmp_path, live)
    handler = device(tmp_path, live, "zhzf_handler")
    handler.sync_once()
    handler.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "raise_dispute", "reason": "非本局职责"},
        now=datetime.now(UTC),
    )
    report = handler.sync_once()
    assert report.applied == 0
    assert [r.code for r in report.rejected] == ["invalid_input"]
    assert "legal_basis" in (report.rejected[0].reason or "")
    assert disputes_of(live, case_id) == []


def test_a_pushed_dispute_keeps_its_legal_basis_on_the_dispute(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id, handler = push_dispute(tmp_path, live, claimed=None)
    assert handler.sync_once().applied == 1
    [dispute] = disputes_of(live, case_id)
    assert dispute["legal_basis"] == BASIS and dispute["reason"] == "涵洞排水属水务局管养"
    assert dispute["claimed_responsible"] is None


def push_dispute(tmp: Path, live: LiveServer, claimed: str | None) -> tuple[str, SyncClient]:
    """zhzf (the lead) queues a dispute with its reason and legal basis, naming ``claimed``."""
    case_id = assigned_case(tmp, live)
    handler = device(tmp, live, "zhzf_handler")
    handler.sync_once()
    payload = {
        "case_id": case_id,
        "action": "raise_dispute",
        "reason": "涵洞排水属水务局管养",
        "legal_basis": BASIS,
    }
    if claimed is not None:
        payload["claimed_responsible"] = claimed
    handler.store.enqueue(CommandType.TRANSITION_CASE, payload, now=datetime.now(UTC))
    return case_id, handler


def test_a_pushed_dispute_keeps_the_department_it_names_responsible(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id, handler = push_dispute(tmp_path, live, "sw")
    assert handler.sync_once().applied == 1
    [dispute] = disputes_of(live, case_id)
    assert dispute["claimed_responsible"] == "sw"


def test_a_pushed_dispute_naming_an_unknown_department_is_rejected_naming_the_field(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id, handler = push_dispute(tmp_path, live, "no-such-bureau")
    report = handler.sync_once()
    assert report.applied == 0
    assert [r.code for r in report.rejected] == ["invalid_input"]
    assert "claimed_responsible" in (report.rejected[0].reason or "")
    assert disputes_of(live, case_id) == []
