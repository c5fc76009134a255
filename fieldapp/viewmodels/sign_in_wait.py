"""Waiting out a 429 of sign-in or of a change of password (README "Sign-in protection").

The server answers too many refused sign-ins with ``429`` and a ``Retry-After`` header; the
phone says how long to wait ("登录尝试过多，请 5 分钟后再试") and sends nothing for that
username before the time is up — a tap meanwhile only shows the time left. A wait is kept per
key (the sign-in screen keys by server and username: another account is another request).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable

from fieldapp.api_client import ApiError, Rejected

DEFAULT_WAIT_S = 60.0  # a 429 whose Retry-After is missing or unreadable
Clock = Callable[[], float]  # seconds, monotonic


class SignInWait:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[Hashable, tuple[float, bool]] = {}  # key -> (until, server busy)

    def hold(self, error: ApiError, key: Hashable = None) -> bool:
        """Start waiting when ``error`` is a 429 (True), else nothing (False)."""
        if not (isinstance(error, Rejected) and error.status == 429):
            return False
        wait = DEFAULT_WAIT_S if error.retry_after_s is None else error.retry_after_s
        self._until[key] = (self._clock() + wait, error.code == "sign_in_busy")
        return True

    def remaining_s(self, key: Hashable = None) -> float:
        until, _ = self._until.get(key, (0.0, False))
        return max(0.0, until - self._clock())

    def message(self, key: Hashable = None) -> tuple[str, int]:
        """(i18n key, n) of the wait left now: minutes from one minute up, else seconds."""
        _, busy = self._until.get(key, (0.0, False))
        left = max(1, math.ceil(self.remaining_s(key)))
        if busy:
            return "login.error.busy_seconds", left
        if left >= 60:
            return "login.error.locked_minutes", math.ceil(left / 60)
        return "login.error.locked_seconds", left
