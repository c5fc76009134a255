"""A long outbox goes up in pushes the server accepts: never more than ``MAX_BATCH`` commands
and never a body over the server's push limit (which answers 413), over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

import sync.client
from server.api import body_limit
from sync.client import SyncClient, fitting_push
from sync.device_store import DeviceStore
from sync.protocol import MAX_BATCH, MAX_PUSH_BYTES
from tests.support.live_server import LiveServer
from tests.sync.test_sync_roundtrip import record_offline

SMALL_LIMIT = 8_000  # bytes: a few commands with long descriptions per push


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """A server whose push limit is ``SMALL_LIMIT``, and phones that know it."""
    small = body_limit.RouteLimit("POST", re.compile(r"^/sync/push$"), SMALL_LIMIT)
    monkeypatch.setattr(body_limit, "ROUTE_LIMITS", (small, *body_limit.ROUTE_LIMITS))
    monkeypatch.setattr(sync.client, "MAX_PUSH_BYTES", SMALL_LIMIT)
    server = LiveServer.with_demo(tmp_path, now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    server.start()
    yield server
    server.stop()


def test_a_long_outbox_is_paged_under_the_servers_push_limit_and_all_of_it_applies(
    tmp_path: Path, live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = SyncClient(
        DeviceStore(tmp_path / "phone.db"),
        live.base_url,
        sleep=lambda _s: None,
        attempts=2,
        batch=10_000,
    )
    assert phone.batch == MAX_BATCH  # never more commands than the server takes
    phone.register(live.login("inspector"), "phone")
    ids = [record_offline(phone, f"{i}号路口积水，" + "水深约三十厘米" * 30) for i in range(10)]

    pushes: list[int] = []
    send = phone.http.request

    def recording(method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.endswith("/sync/push"):
            pushes.append(len(json.dumps(kwargs["json"], allow_nan=False).encode()))
        return send(method, url, **kwargs)

    monkeypatch.setattr(phone.http, "request", recording)
    report = phone.sync_once()
    assert report.applied == len(ids) and phone.store.pending_count() == 0
    assert len(pushes) >= 3 and max(pushes) <= SMALL_LIMIT
    # the limit is real: one body over it is refused before it is read
    r = requests.post(
        live.base_url + "/sync/push", data=b"{" + b" " * SMALL_LIMIT + b"}", timeout=10
    )
    assert r.status_code == 413 and r.json()["detail"]["code"] == "too_large"


def test_one_command_always_goes_even_alone_over_the_page_size() -> None:
    big = {"description": "x" * (MAX_PUSH_BYTES + 10)}
    assert fitting_push([big, big]) == 1
    small = {"description": "x" * 100}
    assert fitting_push([small] * 5) == 5
    assert fitting_push([{"description": "x" * (MAX_PUSH_BYTES // 3)}] * 5) == 2
