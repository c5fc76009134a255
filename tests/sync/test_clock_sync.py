"""The phone's sync engine sends its clock with every push and pull, so the server can place an
offline assignment at the time it was made on the spot — over real HTTP, with the real engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from server.demo_data import SITES
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType
from tests.support.live_server import LiveServer

WATER = next(s for s in SITES if s.kind == "waterlogging_point")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(tmp_path, now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    server.start()
    yield server
    server.stop()


def phone(tmp_path: Path, live: LiveServer, clock: Callable[[], datetime]) -> SyncClient:
    client = SyncClient(
        DeviceStore(tmp_path / f"{uuid.uuid4().hex}.db"),
        live.base_url,
        sleep=lambda _s: None,
        attempts=2,
        clock=clock,
    )
    client.register(live.login("inspector"), "phone")
    return client


def record_and_assign(client: SyncClient, recorded: datetime, assigned: datetime) -> str:
    """Queue what an inspector does offline: record a case, then assign it on the spot."""
    case_id = str(uuid.uuid4())
    client.store.enqueue(
        CommandType.CREATE_CASE,
        {
            "case_id": case_id,
            "category": "waterlogging",
            "description": "路口积水",
            "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
            "recorded_at": recorded.isoformat(),
        },
        now=recorded,
    )
    client.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "assign", "note": "现场交办"},
        now=assigned,
    )
    return case_id


def server_case(live: LiveServer, case_id: str) -> dict[str, Any]:
    r = requests.get(
        f"{live.base_url}/cases/{case_id}",
        headers={"Authorization": f"Bearer {live.login('supervisor')}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_assignment_queued_hours_ago_on_a_phone_keeps_its_on_the_spot_time(
    tmp_path: Path, live: LiveServer
) -> None:
    client = phone(tmp_path, live, lambda: datetime.now(UTC))
    spot = datetime.now(UTC) - timedelta(hours=3)
    case_id = record_and_assign(client, spot - timedelta(minutes=5), spot)
    report = client.sync_once()
    assert report.applied == 2, report
    case = server_case(live, case_id)
    assert abs(datetime.fromisoformat(case["assigned_at"]) - spot) < timedelta(seconds=30)
    assert case["assigned_time_note"] is None


def test_a_phone_two_days_fast_gets_server_time_and_the_case_says_so(
    tmp_path: Path, live: LiveServer
) -> None:
    fast = timedelta(days=2)
    client = phone(tmp_path, live, lambda: datetime.now(UTC) + fast)
    spot = datetime.now(UTC) + fast
    case_id = record_and_assign(client, spot - timedelta(minutes=5), spot)
    before = datetime.now(UTC)
    assert client.sync_once().applied == 2
    case = server_case(live, case_id)
    assigned_at = datetime.fromisoformat(case["assigned_at"])
    assert before - timedelta(seconds=1) <= assigned_at <= datetime.now(UTC)
    assert "ahead" in case["assigned_time_note"] and "快" in case["assigned_time_note"]
    assert datetime.fromisoformat(case["created_at"]) <= datetime.now(UTC)  # never stored ahead
