"""Offline work reaches the server once, and the server's changes come back — over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlmodel import Session, select

from server.demo_data import SITES
from server.models import User
from sync.client import NotRegistered, Offline, OutdatedApp, SyncClient
from sync.device_store import DeviceStore, LocalCase
from sync.protocol import CommandType
from tests.support.live_server import LiveServer

WATER = next(s for s in SITES if s.kind == "waterlogging_point")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(tmp_path, now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    server.start()
    yield server
    server.stop()


def device(tmp_path: Path, live: LiveServer, user: str, name: str) -> SyncClient:
    client = SyncClient(
        DeviceStore(tmp_path / f"{name}.db"), live.base_url, sleep=lambda _s: None, attempts=2
    )
    client.register(live.login(user), name)
    return client


def record_offline(client: SyncClient, text: str) -> str:
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    payload = {
        "case_id": case_id,
        "category": "waterlogging",
        "description": text,
        "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
    }

    def local(session: object) -> None:
        client.store.put_local_case(
            session,  # type: ignore[arg-type]
            {
                "id": case_id,
                "status": "discovered",
                "category": "waterlogging",
                "description": text,
                "updated_at": now.isoformat(),
            },
            from_server=False,
        )

    client.store.enqueue(CommandType.CREATE_CASE, payload, now=now, local_change=local)
    return case_id


def test_cases_recorded_offline_sync_once_and_come_back_from_the_server(
    tmp_path: Path, live: LiveServer
) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    live.stop()
    ids = [record_offline(phone, f"积水 {i}") for i in range(3)]
    with pytest.raises(Offline):
        phone.sync_once()
    assert phone.store.pending_count() == 3  # nothing lost while offline
    live.start()
    report = phone.sync_once()
    assert report.applied == 3 and phone.store.pending_count() == 0
    # a second sync sends nothing again and the server holds exactly three cases
    assert phone.sync_once().pushed == 0
    token = live.login("supervisor")
    listed = requests.get(
        live.base_url + "/cases", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()["items"]
    assert sorted(c["id"] for c in listed) == sorted(ids)
    snap = phone.store.case(ids[0])
    assert snap is not None and snap["number"].startswith("YX") and snap["events"]


def test_a_transition_refused_on_arrival_is_shown_and_its_note_kept_as_evidence(
    tmp_path: Path, live: LiveServer
) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    case_id = record_offline(phone, "积水")
    phone.sync_once()
    now = datetime.now(UTC)
    # the supervisor cancels the case meanwhile; the phone, offline, assigns it with a note
    token = live.login("supervisor")
    r = requests.post(
        f"{live.base_url}/cases/{case_id}/cancel",
        json={"reason": "重复上报"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 200
    phone.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "assign", "note": "现场已确认", "photos": []},
        now=now,
    )
    report = phone.sync_once()
    assert [r.code for r in report.rejected] == ["wrong_status"]
    problems = phone.store.problems()
    assert len(problems) == 1 and "cancelled" in (problems[0].reason or "")
    snap = phone.store.case(case_id)
    assert snap is not None
    kept = [e for e in snap["events"] if e["kind"] == "RejectedActionEvidenceKept"]
    assert kept and kept[0]["data"]["note"] == "现场已确认"


def test_an_edit_based_on_a_stale_value_keeps_the_servers_value_and_records_the_conflict(
    tmp_path: Path, live: LiveServer
) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    desk = device(tmp_path, live, "inspector", "desk")
    case_id = record_offline(phone, "原始描述")
    phone.sync_once()
    now = datetime.now(UTC)
    desk.store.enqueue(
        CommandType.EDIT_CASE,
        {"case_id": case_id, "fields": {"description": {"base": "原始描述", "value": "桌面修改"}}},
        now=now,
    )
    desk.sync_once()
    phone.store.enqueue(
        CommandType.EDIT_CASE,
        {"case_id": case_id, "fields": {"description": {"base": "原始描述", "value": "手机修改"}}},
        now=now + timedelta(1),
    )
    report = phone.sync_once()
    assert len(report.conflicts) == 1
    snap = phone.store.case(case_id)
    assert snap is not None and snap["description"] == "桌面修改"
    conflict = next(e for e in snap["events"] if e["kind"] == "EditConflicted")
    assert conflict["data"]["conflicts"][0] == {
        "field": "description",
        "yours": "手机修改",
        "server": "桌面修改",
    }


def test_a_revoked_device_is_cut_off_at_once(tmp_path: Path, live: LiveServer) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    token = live.login("inspector")
    device_id = phone.store.get("device_id")
    r = requests.post(
        f"{live.base_url}/devices/{device_id}/revoke",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 204
    record_offline(phone, "积水")
    with pytest.raises(NotRegistered):
        phone.sync_once()
    assert phone.store.pending_count() == 1


def test_a_disabled_accounts_phone_is_cut_off_and_keeps_its_work(
    tmp_path: Path, live: LiveServer
) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    assert live.engine is not None
    with Session(live.engine) as session:
        user = session.exec(select(User).where(User.username == "inspector")).one()
        user.active = False
        session.add(user)
        session.commit()
    record_offline(phone, "积水")
    with pytest.raises(NotRegistered):
        phone.sync_once()
    assert phone.store.pending_count() == 1


def test_an_outdated_app_is_told_to_update(tmp_path: Path, live: LiveServer) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    token = phone.store.get("device_token")
    r = requests.post(
        live.base_url + "/sync/pull",
        json={"protocol": 0},
        headers={"Authorization": f"Bearer {token}", "X-Yixian-Protocol": "0"},
        timeout=5,
    )
    assert r.status_code == 426 and "更新" in r.json()["detail"]["reason"]
    assert OutdatedApp  # the engine raises this on 426


def test_a_lost_reply_is_not_applied_twice(tmp_path: Path, live: LiveServer) -> None:
    phone = device(tmp_path, live, "inspector", "phone")
    case_id = record_offline(phone, "积水")
    commands = phone.store.pending(10)
    body = {"protocol": 1, "commands": [c.model_dump(mode="json") for c in commands]}
    headers = {
        "Authorization": f"Bearer {phone.store.get('device_token')}",
        "X-Yixian-Protocol": "1",
    }
    first = requests.post(live.base_url + "/sync/push", json=body, headers=headers, timeout=5)
    assert first.json()["results"][0]["status"] == "applied"
    # the reply is "lost": the device sends the same batch again
    report = phone.sync_once()
    assert report.applied == 1  # the stored result is returned, nothing applied again
    with phone.store.transaction() as s:
        assert s.get(LocalCase, case_id) is not None
    token = live.login("supervisor")
    r = requests.get(
        f"{live.base_url}/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert [e["kind"] for e in r.json()["events"]] == ["CaseCreated"]
