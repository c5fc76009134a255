"""Sign-in cannot be used to guess passwords or to stall the server, on both databases.

Refused sign-ins are counted per account and per client address; too many lock the key out for
1, 5, 15, then 60 minutes, answered 429 with Retry-After, a right password included. Lockouts
live in the database (another server process sees them), administrators list and clear them.
The password is checked with no transaction open, and an unknown username is checked against a
dummy hash, like a known one against its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from server.app import create_app
from server.config import Settings
from server.db import make_engine
from server.services import auth as auth_service
from server.services import login_throttle
from tests.conftest import Server
from tests.support.answers import detail_without_request_id

PASSWORD = "yixian-demo"


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/login", json={"username": username, "password": password})


def from_address(server: Server, host: str) -> TestClient:
    """A client of the same server calling from another address."""
    return TestClient(server.client.app, client=(host, 40000))


def fail(client: TestClient, username: str, times: int) -> list[int]:
    return [sign_in(client, username, "wrong-password").status_code for _ in range(times)]


def assert_locked(response: Any, retry_after_s: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after_s)
    detail = response.json()["detail"]
    assert detail["code"] == "sign_in_locked"
    assert str(retry_after_s) in detail["reason"]


def test_failed_sign_ins_lock_the_account_for_longer_each_time(server: Server) -> None:
    client = from_address(server, "198.51.100.1")
    for minutes in (1, 5, 15, 60, 60):
        # four refusals, and the fifth failure is answered with the lockout
        assert fail(client, "inspector", 4) == [401] * 4
        assert_locked(sign_in(client, "inspector", "wrong-password"), minutes * 60)
        # while it runs, every attempt is refused at once, the right password too
        server.clock.now += timedelta(seconds=30)
        assert_locked(sign_in(client, "inspector"), minutes * 60 - 30)
        server.clock.now += timedelta(minutes=minutes) - timedelta(seconds=29)
    # a day without attempts: the next lockout is a short one again
    server.clock.now += timedelta(hours=25)
    assert fail(client, "inspector", 5) == [401] * 4 + [429]
    assert sign_in(client, "inspector").headers["Retry-After"] == "60"


def test_a_right_password_is_refused_during_a_lockout_and_accepted_after_it(
    server: Server,
) -> None:
    client = from_address(server, "198.51.100.2")
    assert fail(client, "zhzf_handler", 5) == [401] * 4 + [429]
    assert_locked(sign_in(client, "zhzf_handler"), 60)
    server.clock.now += timedelta(seconds=59)
    assert sign_in(client, "zhzf_handler").status_code == 429
    server.clock.now += timedelta(seconds=2)
    assert sign_in(client, "zhzf_handler").status_code == 200
    # the sign-in forgot the failures and the lockouts: four more are refused, not locked
    assert fail(client, "zhzf_handler", 4) == [401] * 4
    assert sign_in(client, "zhzf_handler").status_code == 200


def test_an_unknown_username_is_locked_out_like_a_known_one(server: Server) -> None:
    """Lockouts say nothing about which usernames exist."""
    client = from_address(server, "198.51.100.3")
    assert fail(client, "nobody-here", 5) == fail(client, "sw_handler", 5) == [401] * 4 + [429]


def test_one_address_is_locked_out_across_many_usernames(server: Server) -> None:
    attacker = from_address(server, "203.0.113.7")
    limit = login_throttle.POLICY.address_failures
    answers = [fail(attacker, f"guess-{n}", 1)[0] for n in range(limit)]
    assert answers == [401] * (limit - 1) + [429]
    # every username from that address is refused now, a real one with its right password too
    assert_locked(sign_in(attacker, "inspector"), 60)
    # the same account from another address signs in
    assert sign_in(from_address(server, "203.0.113.8"), "inspector").status_code == 200


def test_an_ipv6_client_is_counted_by_its_network_and_a_mapped_ipv4_as_ipv4() -> None:
    assert login_throttle.address_key("2001:db8:1:2::5") == login_throttle.address_key(
        "2001:db8:1:2:ffff:ffff:ffff:9"
    )
    assert login_throttle.address_key("2001:db8:1:2::5") != login_throttle.address_key(
        "2001:db8:1:3::5"
    )
    assert login_throttle.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert login_throttle.address_key(None) == login_throttle.UNKNOWN_ADDRESS


def test_guesses_sent_at_once_are_counted_before_their_passwords_are_checked(
    server: Server,
) -> None:
    """Five attempts still being checked (by any server process) fill the account's allowance:
    a sixth is refused without a check, even with the right password."""
    engine = server.client.app.state.engine
    keys = login_throttle.keys_for("coordinator", "198.51.100.4")
    with Session(engine) as session:
        for _ in range(login_throttle.POLICY.account_failures):
            login_throttle.begin_attempt(session, keys, server.clock.now)
    assert_locked(sign_in(from_address(server, "198.51.100.4"), "coordinator"), 60)


def test_a_lockout_is_seen_by_another_server_process_on_the_same_database(
    server: Server, tmp_path: Any
) -> None:
    assert fail(from_address(server, "198.51.100.5"), "supervisor", 5)[-1] == 429
    engine = make_engine(server.url)
    other = create_app(
        Settings(database_url=server.url, photo_dir=tmp_path / "p2", secret="test"),
        engine=engine,
        clock=server.clock,
    )
    try:
        with TestClient(other, client=("198.51.100.6", 40000)) as client:
            assert_locked(sign_in(client, "supervisor"), 60)
    finally:
        engine.dispose()


def test_administrators_see_and_clear_lockouts_and_nobody_else_can(server: Server) -> None:
    admin = server.login("admin")
    supervisor = server.login("supervisor")
    assert fail(from_address(server, "198.51.100.9"), "inspector", 5)[-1] == 429
    attacker = from_address(server, "2001:db8:7:7::1")
    for n in range(login_throttle.POLICY.address_failures):
        fail(attacker, f"guess-{n}", 1)

    listed = server.client.get("/auth/lockouts", headers=admin)
    assert listed.status_code == 200, listed.text
    found = {(x["scope"], x["key"]): x for x in listed.json()["lockouts"]}
    assert set(found) == {("account", "inspector"), ("address", "2001:db8:7:7::/64")}
    assert found[("account", "inspector")]["retry_after_s"] == 60
    assert found[("account", "inspector")]["lockouts"] == 1

    for method, kwargs in (
        ("GET", {}),
        ("DELETE", {"params": {"scope": "account", "key": "inspector"}}),
    ):
        r = server.client.request(method, "/auth/lockouts", headers=supervisor, **kwargs)
        assert r.status_code == 403, r.text
        assert r.json()["detail"]["code"] == "role_not_allowed"
    assert sign_in(from_address(server, "198.51.100.10"), "inspector").status_code == 429

    for scope, key in (("account", "inspector"), ("address", "2001:db8:7:7::/64")):
        r = server.client.delete(
            "/auth/lockouts", params={"scope": scope, "key": key}, headers=admin
        )
        assert r.status_code == 204, r.text
    assert server.client.get("/auth/lockouts", headers=admin).json() == {"lockouts": []}
    assert sign_in(from_address(server, "198.51.100.10"), "inspector").status_code == 200
    assert sign_in(from_address(server, "2001:db8:7:7::2"), "sw_handler").status_code == 200
    again = server.client.delete(
        "/auth/lockouts", params={"scope": "account", "key": "inspector"}, headers=admin
    )
    assert again.status_code == 404
    assert again.json()["detail"]["code"] == "lockout_not_found"
    with Session(server.client.app.state.engine) as session:
        cleared_by = session.execute(
            text("SELECT cleared_by FROM login_throttle WHERE key = 'inspector'")
        ).scalar_one()
    assert cleared_by == server.client.get("/auth/me", headers=admin).json()["id"]


class SpyHasher(PasswordHasher):
    """The tests' cheap hasher, noting each hash it checks against and how many database
    transactions were open then (the test client sends one request at a time)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked: list[str] = []
        self.open_transactions: list[int] = []
        self._open: Counter[int] = Counter()
        self.engine = engine

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.checked.append(str(hash))
        # the check runs in a thread of its own: count the transactions open in any thread
        self.open_transactions.append(sum(self._open.values()))
        return super().verify(hash, password)

    def begun(self, _conn: Any) -> None:
        self._open[threading.get_ident()] += 1

    def ended(self, _conn: Any) -> None:
        self._open[threading.get_ident()] -= 1


@pytest.fixture
def spy(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[SpyHasher]:
    engine = server.client.app.state.engine
    hasher = SpyHasher(engine)
    monkeypatch.setattr(auth_service, "_hasher", hasher)
    listeners = (("begin", hasher.begun), ("commit", hasher.ended), ("rollback", hasher.ended))
    for name, fn in listeners:
        event.listen(engine, name, fn)
    yield hasher
    for name, fn in listeners:
        event.remove(engine, name, fn)


def test_unknown_disabled_and_known_usernames_take_the_same_path_through_the_password_check(
    server: Server, spy: SpyHasher
) -> None:
    with server.client.app.state.engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET active = false WHERE username = 'sw_handler'"))
        stored = {
            name: conn.execute(
                text("SELECT password_hash FROM app_user WHERE username = :u"), {"u": name}
            ).scalar_one()
            for name in ("inspector", "sw_handler")
        }
    unknown = sign_in(server.client, "nobody-here", "wrong-password")
    known = sign_in(server.client, "inspector", "wrong-password")
    disabled = sign_in(server.client, "sw_handler")  # its right password
    assert unknown.status_code == known.status_code == disabled.status_code == 401
    bodies = [detail_without_request_id(r) for r in (unknown, known, disabled)]  # own ids
    assert bodies[0] == bodies[1] == bodies[2]
    assert spy.checked == [auth_service.dummy_hash(), stored["inspector"], stored["sw_handler"]]


def test_the_password_is_checked_with_no_database_transaction_open(
    server: Server, spy: SpyHasher
) -> None:
    assert sign_in(server.client, "inspector").status_code == 200
    assert sign_in(server.client, "inspector", "wrong-password").status_code == 401
    assert sign_in(server.client, "nobody-here").status_code == 401
    assert spy.open_transactions == [0, 0, 0]


def test_changing_a_password_cannot_be_used_to_guess_the_current_one(server: Server) -> None:
    """Whoever holds a signed-in phone may not try current passwords faster than at sign-in: a
    change of password counts its failures on the same account and address, and locks them."""
    client = from_address(server, "198.51.100.9")
    token = sign_in(client, "rx_handler").json()["token"]

    def change(current: str) -> Any:
        return client.post(
            "/auth/password",
            json={"current_password": current, "new_password": "稳妥的新密码2026"},
            headers={"Authorization": f"Bearer {token}"},
        )

    answers = [change(f"guess-{n}") for n in range(5)]
    assert [r.status_code for r in answers] == [422] * 4 + [429]
    assert answers[0].json()["detail"]["field"] == "current_password"
    assert_locked(answers[4], 60)
    assert_locked(change(PASSWORD), 60)  # the right one too, while the lockout runs
    assert_locked(sign_in(client, "rx_handler"), 60)  # one account, one count
    server.clock.now += timedelta(seconds=61)
    assert change(PASSWORD).status_code == 204
