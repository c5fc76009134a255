from __future__ import annotations

import asyncio

from fieldapp.api_client import UserInfo
from fieldapp.token_store import FallbackTokenStore, MemoryTokenStore
from fieldapp.viewmodels.app_state import AppState, Session

SESSION = Session(
    server_url="http://10.0.0.5:8000",
    token="tok",
    user=UserInfo("u-1", "zhangsan", "张三", "inspector", None),
)


def test_session_survives_its_stored_form() -> None:
    assert Session.from_json(SESSION.to_json()) == SESSION


def test_a_corrupt_stored_session_is_ignored_rather_than_crashing_start_up() -> None:
    for text in ("", "{", "[]", '{"token": "x"}', '{"server_url": 1, "token": 2, "user": {}}'):
        assert Session.from_json(text) is None, text


def test_sign_in_switches_to_the_sessions_server_and_sign_out_forgets_it() -> None:
    state = AppState(server_url="http://127.0.0.1:8000")
    state.sign_in(SESSION)
    assert state.signed_in and state.server_url == SESSION.server_url
    state.sign_out()
    assert not state.signed_in


class BrokenStore:
    kind = "secure"

    def __init__(self) -> None:
        self.calls = 0

    async def load(self) -> Session | None:
        self.calls += 1
        raise RuntimeError("MissingPluginException")

    async def save(self, session: Session) -> None:
        self.calls += 1
        raise RuntimeError("MissingPluginException")

    async def clear(self) -> None:
        self.calls += 1
        raise RuntimeError("MissingPluginException")


def test_failing_secure_storage_falls_back_to_memory_and_says_so() -> None:
    async def scenario() -> None:
        broken = BrokenStore()
        store = FallbackTokenStore(broken)
        assert store.kind == "secure"
        assert await store.load() is None
        assert store.kind == "memory"
        await store.save(SESSION)
        assert await store.load() == SESSION
        assert broken.calls == 1  # not retried after the first failure
        await store.clear()
        assert await store.load() is None

    asyncio.run(scenario())


def test_working_store_is_used_as_is() -> None:
    async def scenario() -> None:
        primary = MemoryTokenStore()
        store = FallbackTokenStore(primary)
        await store.save(SESSION)
        assert await primary.load() == SESSION
        assert store.kind == "memory"  # the primary's own kind

    asyncio.run(scenario())
