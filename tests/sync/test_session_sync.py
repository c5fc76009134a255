"""Sessions as the phone lives them, through its own sync engine and API client, on SQLite and
PostgreSQL: a revoked phone or a disabled user's phone is cut off and keeps its outbox (sent
once an administrator allows it again), and the phone's access token is refreshed
transparently after days offline — once, however many screens ask at the same time."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.api_client import ApiClient, Rejected
from fieldapp.session_tokens import SessionTokens, forget, track
from server.config import Settings
from server.demo_data import SITES
from sync.client import NotRegistered, SyncClient, SyncError
from sync.device_store import DeviceStore
from sync.protocol import CommandType
from tests.conftest import Server

WATER = next(s for s in SITES if s.kind == "waterlogging_point")
BASE = "http://testserver"


def phone_of(server: Server, tmp_path: Path, username: str) -> SyncClient:
    phone = SyncClient(
        DeviceStore(tmp_path / f"{username}.db"),
        BASE,
        http=server.client,  # type: ignore[arg-type]  # the same calls as requests.Session
        sleep=lambda _s: None,
        attempts=1,
    )
    phone.register(sign_in(server, username))
    return phone


def sign_in(server: Server, username: str) -> str:
    r = server.client.post("/auth/login", json={"username": username, "password": "yixian-demo"})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def record_offline(phone: SyncClient, text: str) -> str:
    case_id = str(uuid.uuid4())
    payload = {
        "case_id": case_id,
        "category": "waterlogging",
        "description": text,
        "location": {"lat": WATER.location.lat, "lon": WATER.location.lon},
    }
    phone.store.enqueue(CommandType.CREATE_CASE, payload, now=phone.clock())
    return case_id


def case_on_server(server: Server, case_id: str) -> int:
    return int(server.get(f"/cases/{case_id}", "supervisor").status_code)


def test_a_revoked_phone_keeps_its_outbox_and_sends_it_once_an_admin_reinstates_it(
    server: Server, tmp_path: Path
) -> None:
    phone = phone_of(server, tmp_path, "inspector")
    device_id = phone.store.get("device_id")
    case_id = record_offline(phone, "路口积水")
    assert server.post(f"/devices/{device_id}/revoke", "inspector").status_code == 204
    with pytest.raises(NotRegistered):
        phone.sync_once()
    with pytest.raises(SyncError, match="403"):  # signing in again does not bring it back
        phone.register(sign_in(server, "inspector"))
    assert phone.store.pending_count() == 1
    assert case_on_server(server, case_id) == 404
    assert server.post(f"/devices/{device_id}/reinstate", "admin").status_code == 204
    phone.register(sign_in(server, "inspector"))
    report = phone.sync_once()
    assert (report.applied, phone.store.pending_count()) == (1, 0)
    assert case_on_server(server, case_id) == 200


def test_a_disabled_users_phone_stops_at_once_and_its_work_arrives_after_re_enabling(
    server: Server, tmp_path: Path
) -> None:
    phone = phone_of(server, tmp_path, "inspector")
    case_id = record_offline(phone, "停车场堵塞")
    inspector = server.get("/auth/me", "inspector").json()["id"]
    assert server.post(f"/users/{inspector}/disable", "admin").status_code == 200
    with pytest.raises(NotRegistered):
        phone.sync_once()
    assert phone.store.pending_count() == 1
    assert server.post(f"/users/{inspector}/enable", "admin").status_code == 200
    with pytest.raises(NotRegistered):  # its old device token stays ended
        phone.sync_once()
    phone.register(sign_in(server, "inspector"))
    assert phone.sync_once().applied == 1
    assert case_on_server(server, case_id) == 200


def test_the_phone_refreshes_its_access_token_after_days_offline_and_signs_out_when_ended(
    server: Server,
) -> None:
    app: Any = server.client.app
    app.state.settings = dataclasses.replace(
        app.state.settings, access_ttl_minutes=Settings.access_ttl_minutes
    )
    http: Any = server.client
    login = ApiClient(BASE, session=http).login("inspector", "yixian-demo")
    assert login.refresh_token
    rotated: list[tuple[str, str]] = []
    ended: list[bool] = []
    tokens = track(
        SessionTokens(
            login.token,
            login.refresh_token,
            on_rotated=lambda a, r: rotated.append((a, r)),
            on_ended=lambda: ended.append(True),
        )
    )
    try:
        server.clock.now += timedelta(days=3)  # the phone was offline for days
        screen_a = ApiClient(BASE, token=login.token, session=http)
        screen_b = ApiClient(BASE, token=login.token, session=http)  # made before the refresh
        assert screen_a.get_json("/auth/me")["username"] == "inspector"
        assert screen_b.get_json("/auth/me")["username"] == "inspector"
        assert len(rotated) == 1  # one refresh for both: a second would end the sign-in
        assert rotated[0][0] == tokens.access
        # the sign-in is ended elsewhere (logout); an hour on, the next call signs out
        ApiClient(BASE, token=tokens.access, session=http).logout()
        server.clock.now += timedelta(hours=2)
        with pytest.raises(Rejected) as refused:
            screen_a.get_json("/auth/me")
        assert refused.value.status == 401
        assert ended == [True]
    finally:
        forget(tokens)


def test_a_phone_whose_access_token_expired_offline_registers_after_one_refresh(
    server: Server, tmp_path: Path
) -> None:
    from fieldapp.device import DeviceSession

    app: Any = server.client.app
    app.state.settings = dataclasses.replace(
        app.state.settings, access_ttl_minutes=Settings.access_ttl_minutes
    )
    http: Any = server.client
    login = ApiClient(BASE, session=http).login("inspector", "yixian-demo")
    rotated: list[str] = []
    tokens = track(
        SessionTokens(login.token, login.refresh_token, on_rotated=lambda a, _r: rotated.append(a))
    )
    try:
        device = DeviceSession(tmp_path, str(uuid.uuid4()), BASE)
        device.client.http = http
        case_id = record_offline(device.client, "夜间积水")
        server.clock.now += timedelta(hours=5)  # signed in, then offline all afternoon
        device._register_with_fresh_token(login.token)
        assert len(rotated) == 1 and device.client.registered
        assert device.client.sync_once().applied == 1
        assert case_on_server(server, case_id) == 200
    finally:
        forget(tokens)
