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


class SlowStore(MemoryTokenStore):
    """Answers, but only after ``delay_s`` (a busy phone; or never, with a huge delay)."""

    kind = "secure"

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    async def load(self) -> Session | None:
        await asyncio.sleep(self.delay_s)
        return await super().load()


def test_a_slow_secure_store_keeps_the_session_across_restarts() -> None:
    async def scenario() -> None:
        slow = SlowStore(0.3)
        await slow.save(SESSION)
        store = FallbackTokenStore(slow, timeout_s=2.0, attempt_s=1.0)
        assert await store.load() == SESSION  # slow, but not mistaken for a missing plugin
        assert store.kind == "secure"

    asyncio.run(scenario())


class LosesFirstCall(MemoryTokenStore):
    """The first call is never answered (sent before the browser side existed)."""

    kind = "secure"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def load(self) -> Session | None:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(3600)
        return await super().load()


def test_a_lost_first_call_is_asked_again_and_the_session_survives() -> None:
    async def scenario() -> None:
        primary = LosesFirstCall()
        await primary.save(SESSION)
        store = FallbackTokenStore(primary, timeout_s=2.0, attempt_s=0.2)
        assert await store.load() == SESSION
        assert store.kind == "secure" and primary.calls == 2

    asyncio.run(scenario())


def test_a_store_that_never_answers_falls_back_to_memory() -> None:
    async def scenario() -> None:
        store = FallbackTokenStore(SlowStore(3600), timeout_s=0.3, attempt_s=0.1)
        assert await store.load() is None
        assert store.kind == "memory"

    asyncio.run(scenario())


def test_working_store_is_used_as_is() -> None:
    async def scenario() -> None:
        primary = MemoryTokenStore()
        store = FallbackTokenStore(primary)
        await store.save(SESSION)
        assert await primary.load() == SESSION
        assert store.kind == "memory"  # the primary's own kind

    asyncio.run(scenario())
