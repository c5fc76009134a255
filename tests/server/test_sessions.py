"""Sessions, devices and passwords through the REST API, on SQLite and PostgreSQL: an access
token lives an hour, a refresh token is used once (a second use ends the whole sign-in), a
revoked device's every token ends and it cannot register again until an administrator says so,
a disabled user's every token ends at once, and a password change ends the other sign-ins."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session, select

from server.config import Settings
from server.models import AuthToken, User
from server.services import auth as auth_service
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.conftest import Server
from tests.support.answers import detail_without_request_id

PASSWORD = "yixian-demo"


def default_lifetimes(server: Server) -> None:
    """The production lifetimes (the fixture's are long: other tests move the clock by days)."""
    app: Any = server.client.app
    app.state.settings = dataclasses.replace(
        app.state.settings,
        access_ttl_minutes=Settings.access_ttl_minutes,
        refresh_ttl_days=Settings.refresh_ttl_days,
        device_idle_days=Settings.device_idle_days,
    )


def sign_in(server: Server, username: str, password: str = PASSWORD) -> dict[str, Any]:
    r = server.client.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(server: Server, token: str) -> int:
    return int(server.client.get("/auth/me", headers=bearer(token)).status_code)


def refresh(server: Server, refresh_token: str) -> Any:
    return server.client.post("/auth/refresh", json={"refresh_token": refresh_token})


def register(server: Server, access: str, client_id: str | None = None) -> Any:
    return server.client.post(
        "/devices",
        json={"client_id": client_id or str(uuid.uuid4()), "name": "phone"},
        headers=bearer(access),
    )


def pull(server: Server, device_token: str) -> int:
    r = server.client.post(
        "/sync/pull",
        json={"protocol": PROTOCOL_VERSION, "cursor": None},
        headers={**bearer(device_token), PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    return int(r.status_code)


def user_id(server: Server, username: str) -> str:
    return str(server.get("/auth/me", username).json()["id"])


def test_a_refresh_token_works_once_and_its_second_use_ends_the_whole_sign_in(
    server: Server,
) -> None:
    first = sign_in(server, "inspector")
    second = refresh(server, first["refresh_token"]).json()
    stolen = refresh(server, first["refresh_token"])  # a copy of the old one, used again
    assert stolen.status_code == 401
    assert stolen.json()["detail"]["code"] == "refresh_reused"
    assert me(server, second["token"]) == 401
    assert refresh(server, second["refresh_token"]).status_code == 401
    # another sign-in of the same user is untouched
    assert me(server, sign_in(server, "inspector")["token"]) == 200


def test_logout_ends_this_sign_ins_access_and_refresh_token_only(server: Server) -> None:
    mine, other = sign_in(server, "inspector"), sign_in(server, "inspector")
    r = server.client.post("/auth/logout", headers=bearer(mine["token"]))
    assert r.status_code == 204
    assert me(server, mine["token"]) == 401
    assert refresh(server, mine["refresh_token"]).status_code == 401
    assert me(server, other["token"]) == 200
    assert server.client.post("/auth/logout").status_code == 401


def test_a_password_change_ends_the_other_sign_ins_and_devices_and_keeps_this_one(
    server: Server,
) -> None:
    here, there = sign_in(server, "inspector"), sign_in(server, "inspector")
    this_phone = register(server, here["token"]).json()
    other_phone = register(server, there["token"]).json()
    r = server.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "河道巡查2026春"},
        headers=bearer(here["token"]),
    )
    assert r.status_code == 204, r.text
    assert me(server, here["token"]) == 200
    assert pull(server, this_phone["device_token"]) == 200
    assert me(server, there["token"]) == 401
    assert refresh(server, there["refresh_token"]).status_code == 401
    assert pull(server, other_phone["device_token"]) == 401
    old = server.client.post("/auth/login", json={"username": "inspector", "password": PASSWORD})
    assert old.status_code == 401
    assert sign_in(server, "inspector", "河道巡查2026春")


def test_tokens_expire_sensibly_for_a_phone_offline_for_days(server: Server) -> None:
    """Access: an hour. Refresh: 60 days, slid by each use. Device token: 60 days unused."""
    default_lifetimes(server)
    first = sign_in(server, "inspector")
    assert first["expires_in"] == 3600 and first["refresh_token"]
    idle = sign_in(server, "inspector")
    busy_phone = register(server, first["token"]).json()
    idle_phone = register(server, idle["token"]).json()
    server.clock.now += timedelta(minutes=61)
    assert me(server, first["token"]) == 401
    assert refresh(server, first["token"]).status_code == 401  # an access token is no refresh
    assert refresh(server, "not-a-token").status_code == 401
    used = first
    for _ in range(3):  # back online every 40 days: the sign-in and the device go on
        server.clock.now += timedelta(days=40)
        r = refresh(server, used["refresh_token"])
        assert r.status_code == 200, r.text
        used = r.json()
        assert used["user"]["username"] == "inspector"
        assert me(server, used["token"]) == 200
        assert pull(server, busy_phone["device_token"]) == 200
    r = refresh(server, idle["refresh_token"])
    assert r.status_code == 401 and r.json()["detail"]["code"] == "session_ended"
    r = server.client.post(
        "/sync/pull",
        json={"protocol": PROTOCOL_VERSION, "cursor": None},
        headers={**bearer(idle_phone["device_token"]), PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert r.status_code == 401 and r.json()["detail"]["code"] == "device_token_expired"


def test_a_revoked_device_loses_every_token_and_registers_again_only_once_an_admin_allows(
    server: Server,
) -> None:
    phone = sign_in(server, "inspector")
    desk = sign_in(server, "inspector")  # the same user at a desk: not the lost phone
    client_id = str(uuid.uuid4())
    device = register(server, phone["token"], client_id).json()
    assert pull(server, device["device_token"]) == 200
    r = server.client.post(f"/devices/{device['device_id']}/revoke", headers=bearer(desk["token"]))
    assert r.status_code == 204
    assert pull(server, device["device_token"]) == 401
    assert me(server, device["device_token"]) == 401
    assert me(server, phone["token"]) == 401
    assert refresh(server, phone["refresh_token"]).status_code == 401
    assert me(server, desk["token"]) == 200
    # whoever has the phone signs in again with the password: it still cannot register
    refused = register(server, sign_in(server, "inspector")["token"], client_id)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "device_revoked"
    device_id = device["device_id"]
    assert server.post(f"/devices/{device_id}/reinstate", "inspector").status_code == 403
    assert server.post(f"/devices/{device_id}/reinstate", "admin").status_code == 204
    fresh = register(server, sign_in(server, "inspector")["token"], client_id)
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["device_id"] == device_id
    assert pull(server, fresh.json()["device_token"]) == 200
    assert pull(server, device["device_token"]) == 401  # the old token stays ended


def test_disabling_a_user_ends_every_token_of_theirs_at_once(server: Server) -> None:
    a, b = sign_in(server, "inspector"), sign_in(server, "inspector")
    device = register(server, a["token"]).json()
    target = user_id(server, "inspector")
    assert server.post(f"/users/{target}/disable", "supervisor").status_code == 403
    assert server.post(f"/users/{user_id(server, 'admin')}/disable", "admin").status_code == 403
    assert server.post(f"/users/{uuid.uuid4()}/disable", "admin").status_code == 404
    r = server.post(f"/users/{target}/disable", "admin")
    assert r.status_code == 200 and r.json()["active"] is False
    for token in (a["token"], b["token"], device["device_token"]):
        assert me(server, token) == 401
    assert pull(server, device["device_token"]) == 401
    assert refresh(server, b["refresh_token"]).status_code == 401
    login = server.client.post("/auth/login", json={"username": "inspector", "password": PASSWORD})
    assert login.status_code == 401
    # enabled again: the old tokens stay ended; a new sign-in and registration work
    assert server.post(f"/users/{target}/enable", "admin").json()["active"] is True
    assert me(server, a["token"]) == 401
    assert pull(server, device["device_token"]) == 401
    assert register(server, sign_in(server, "inspector")["token"]).status_code == 201


def test_a_new_password_needs_the_current_one_and_a_weak_one_is_refused_naming_the_field(
    server: Server,
) -> None:
    wrong = server.post(
        "/auth/password",
        "inspector",
        {"current_password": "guess-guess", "new_password": "河道巡查2026春"},
    )
    assert wrong.status_code == 422
    assert detail_without_request_id(wrong) == {
        "code": "bad_password",
        "field": "current_password",
        "reason": "当前密码不正确 / the current password is wrong",
    }
    for weak in ("short1", "1234567890", "inspector", "ROTCEPSNI", PASSWORD, "x" * 201):
        r = server.post(
            "/auth/password", "inspector", {"current_password": PASSWORD, "new_password": weak}
        )
        assert r.status_code == 422, (weak, r.text)
        assert r.json()["detail"]["field"] == "new_password", weak
    assert sign_in(server, "inspector")  # nothing changed: the old password still works


def test_two_users_with_the_same_password_have_different_salts_and_tokens_are_keyed_hashes(
    server: Server,
) -> None:
    for username in ("inspector", "supervisor"):
        r = server.post(
            "/auth/password",
            username,
            {"current_password": PASSWORD, "new_password": "同一个密码-same-one"},
        )
        assert r.status_code == 204, r.text
    token = sign_in(server, "admin")["token"]
    engine = create_engine(server.url)
    with Session(engine) as session:
        hashes = {
            u.username: u.password_hash
            for u in session.exec(select(User)).all()
            if u.username in ("inspector", "supervisor")
        }
        stored_tokens = [t.token_hash for t in session.exec(select(AuthToken)).all()]
    engine.dispose()
    a, b = hashes["inspector"], hashes["supervisor"]
    assert a != b
    assert a.split("$")[-2] != b.split("$")[-2]  # argon2: …$<salt>$<hash>
    for username in ("inspector", "supervisor"):
        assert sign_in(server, username, "同一个密码-same-one")
    # stored as HMAC keyed with YIXIAN_SECRET: never in clear, never a plain sha256
    assert token not in stored_tokens
    assert hashlib.sha256(token.encode()).hexdigest() not in stored_tokens
    assert auth_service.token_hash(token) in stored_tokens
    try:
        auth_service.use_secret("another-server-secret-of-enough-length")
        assert me(server, token) == 401  # the same rows under another secret mint nothing
    finally:
        auth_service.use_secret("test")
    assert me(server, token) == 200
