"""Where the signed-in session (bearer token + user) is kept between app starts.

``SecureTokenStore`` uses flet-secure-storage: Android Keystore / iOS Keychain on a phone.
In web mode it works too (checked in headless Chromium, tests/browser/test_shell.py), but it
is only obfuscation: the value sits in the browser's localStorage under
``FletSecureStorage.yixian.session``, AES-GCM encrypted with a key stored in plain beside it
(``FletSecureStorage``) unless ``WebOptions.wrap_key`` is set. WebCrypto needs a secure
context (https, or a loopback address such as 127.0.0.1).
If the secure store fails or does not answer, the app keeps the session in memory (sign in
again at each start) and Settings says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from flet_secure_storage import SecureStorage

from fieldapp.viewmodels.app_state import Session

SESSION_KEY = "yixian.session"
# A platform without the plugin never answers; a busy phone or browser can take seconds to
# answer the first call (the start-up screen shows meanwhile), and giving up early would
# sign the user out at every start.
CALL_TIMEOUT_S = 20.0
log = logging.getLogger(__name__)
T = TypeVar("T")


class TokenStore(Protocol):
    @property
    def kind(self) -> str:
        """ "secure" or "memory": shown in Settings."""
        ...

    async def load(self) -> Session | None: ...
    async def save(self, session: Session) -> None: ...
    async def clear(self) -> None: ...


class MemoryTokenStore:
    kind = "memory"

    def __init__(self) -> None:
        self._session: Session | None = None

    async def load(self) -> Session | None:
        return self._session

    async def save(self, session: Session) -> None:
        self._session = session

    async def clear(self) -> None:
        self._session = None


class SecureTokenStore:
    kind = "secure"

    def __init__(self, storage: SecureStorage) -> None:
        self._storage = storage

    @classmethod
    def create(cls) -> SecureTokenStore:
        """Construct inside the Flet ``main`` (the service registers with the current page)."""
        return cls(SecureStorage())

    async def load(self) -> Session | None:
        text = await self._storage.get(SESSION_KEY)
        return Session.from_json(text) if text else None

    async def save(self, session: Session) -> None:
        await self._storage.set(SESSION_KEY, session.to_json())

    async def clear(self) -> None:
        await self._storage.remove(SESSION_KEY)


class FallbackTokenStore:
    """The secure store while it works; memory after its first failure or timeout (logged).

    A call that gets no answer within ``attempt_s`` is sent again, up to ``timeout_s`` in all:
    right after the page loads, a first call can be lost before the browser side of the
    service exists (seen in headless Chromium: the session looked gone after a restart).
    """

    def __init__(
        self, primary: TokenStore, *, timeout_s: float = CALL_TIMEOUT_S, attempt_s: float = 3.0
    ) -> None:
        self._primary: TokenStore = primary
        self._timeout_s = timeout_s
        self._attempt_s = min(attempt_s, timeout_s)
        self._memory = MemoryTokenStore()
        self._failed = False

    @property
    def kind(self) -> str:
        return self._memory.kind if self._failed else self._primary.kind

    def _fail(self, operation: str, exc: Exception) -> None:
        if not self._failed:
            log.warning(
                "secure storage failed to %s (%s: %s); keeping the session in memory",
                operation,
                type(exc).__name__,
                exc,
            )
        self._failed = True

    async def _call(self, make_call: Callable[[], Awaitable[T]]) -> T:
        """``make_call()``, sent again while unanswered, until ``timeout_s`` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while True:
            left = deadline - loop.time()
            try:
                return await asyncio.wait_for(make_call(), min(self._attempt_s, max(left, 0)))
            except TimeoutError:
                if deadline - loop.time() <= 0:
                    raise
                log.info("secure storage did not answer in %.1f s; asking again", self._attempt_s)

    async def load(self) -> Session | None:
        if not self._failed:
            try:
                return await self._call(self._primary.load)
            except Exception as exc:  # a platform channel error of any kind
                self._fail("load", exc)
        return await self._memory.load()

    async def save(self, session: Session) -> None:
        if not self._failed:
            try:
                await self._call(lambda: self._primary.save(session))
                return
            except Exception as exc:
                self._fail("save", exc)
        await self._memory.save(session)

    async def clear(self) -> None:
        if not self._failed:
            try:
                await self._call(self._primary.clear)
            except Exception as exc:
                self._fail("clear", exc)
        await self._memory.clear()
