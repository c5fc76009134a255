"""A fault-injecting ``requests`` transport: mount it on a device's session and arm faults.

    adapter = FaultAdapter()
    http = requests.Session(); http.mount("http://", adapter)
    adapter.arm({2: Fault.LOSE_REPLY})  # the third request from now: sent, reply lost

Faults, each hitting one request (counted from the last ``arm``):

- ``DROP``        the request never leaves the device (``ConnectionError`` before sending);
- ``LOSE_REPLY``  the server receives and commits it; the reply is lost (``ConnectionError``);
- ``DUPLICATE``   the network delivers it twice; the device sees the second reply;
- ``RESTART``     the server commits it, then restarts before the reply arrives (the hook
                  restarts the server; the device gets ``ConnectionError``);
- ``KILL_BEFORE`` / ``KILL_AFTER``  the device dies just before sending / just after the server
                  committed (``DeviceKilled`` escapes the sync engine, so nothing after that
                  point runs on the device: the caller drops the engine and reopens the store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class Fault(StrEnum):
    DROP = "drop"
    LOSE_REPLY = "lose_reply"
    DUPLICATE = "duplicate"
    RESTART = "restart"
    KILL_BEFORE = "kill_before"
    KILL_AFTER = "kill_after"


class DeviceKilled(BaseException):
    """The device process died here. A BaseException, so no ``except Exception`` in the sync
    engine can carry on as if it had survived."""


class FaultAdapter(HTTPAdapter):
    def __init__(self, *, on_restart: Callable[[], None] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.on_restart = on_restart
        self._plan: dict[int, Fault] = {}
        self._count = 0
        self.injected: list[tuple[Fault, str]] = []  # (fault, "METHOD path") as they happened

    def arm(self, plan: Mapping[int, Fault]) -> None:
        """Faults by request index, counted from now (0 = the next request)."""
        self._plan = dict(plan)
        self._count = 0

    def disarm(self) -> None:
        self._plan = {}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        fault = self._plan.pop(self._count, None)
        self._count += 1
        if fault is None:
            return super().send(request, *args, **kwargs)
        where = f"{request.method} {request.path_url}"
        self.injected.append((fault, where))
        if fault == Fault.DROP:
            raise requests.ConnectionError(f"injected: request lost ({where})", request=request)
        if fault == Fault.KILL_BEFORE:
            raise DeviceKilled(where)
        if fault == Fault.DUPLICATE:
            super().send(request, *args, **kwargs)
            return super().send(request, *args, **kwargs)
        response = super().send(request, *args, **kwargs)
        response.close()
        if fault == Fault.KILL_AFTER:
            raise DeviceKilled(where)
        if fault == Fault.RESTART and self.on_restart is not None:
            self.on_restart()
        raise requests.ConnectionError(f"injected: reply lost ({where})", request=request)


def faulty_session(adapter: FaultAdapter) -> requests.Session:
    http = requests.Session()
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http
