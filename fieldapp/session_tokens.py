"""One sign-in's tokens on this phone: the short-lived access token and the refresh token.

Every ``ApiClient`` made with an access token of a tracked sign-in shares its ``SessionTokens``
(found by any access token it ever held), so a refresh happens once however many screens call
at the same time (the server ends the whole sign-in when a refresh token is used twice). A
refreshed pair is handed to ``on_rotated`` (the app keeps it in the token store); a refused
refresh (expired, revoked, reused) calls ``on_ended`` (the app goes to sign-in; the device's
outbox stays on the phone and is sent after the next sign-in).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Refresher = Callable[[str], "tuple[str, str] | None"]


class SessionTokens:
    def __init__(
        self,
        access: str,
        refresh: str,
        *,
        on_rotated: Callable[[str, str], None] = lambda _a, _r: None,
        on_ended: Callable[[], None] = lambda: None,
    ) -> None:
        self.access = access
        self.refresh = refresh
        self.ended = False
        self._on_rotated = on_rotated
        self._on_ended = on_ended
        self._lock = threading.Lock()

    def renewed(self, failed_access: str, refresher: Refresher) -> str | None:
        """A valid access token after ``failed_access`` was refused: the one another caller
        already got, or a new one from ``refresher(refresh_token)`` (None: sign in again).
        A network failure inside ``refresher`` propagates and changes nothing."""
        with self._lock:
            if self.access != failed_access and not self.ended:
                return self.access
            if self.ended or not self.refresh:
                return None
            pair = refresher(self.refresh)
            if pair is None:
                self.ended = True
                self.refresh = ""
                self._on_ended()
                return None
            self.access, self.refresh = pair
            _REGISTRY[self.access] = self
            self._on_rotated(*pair)
            return self.access


_REGISTRY: dict[str, SessionTokens] = {}


def track(tokens: SessionTokens) -> SessionTokens:
    """Let every ``ApiClient`` made with ``tokens.access`` refresh through ``tokens``."""
    _REGISTRY[tokens.access] = tokens
    return tokens


def tokens_for(access: str | None) -> SessionTokens | None:
    return _REGISTRY.get(access) if access else None


def forget(tokens: SessionTokens | None) -> None:
    """Sign-out: no client finds these tokens any more."""
    if tokens is None:
        return
    for key in [k for k, v in _REGISTRY.items() if v is tokens]:
        del _REGISTRY[key]
