"""The phone reports its outbox with each push, and the server shows it per device: an office
watching ``yixian_device_outbox_pending`` sees which phones hold unsent work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from server.observability.metrics import OUTBOX_PENDING
from sync.client import SyncClient
from sync.device_store import DeviceStore
from tests.support.live_server import LiveServer
from tests.sync.test_sync_roundtrip import record_offline


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(tmp_path, now=datetime(2026, 11, 2, 1, tzinfo=UTC))
    server.start()
    yield server
    server.stop()


def test_a_phone_reports_its_outbox_and_the_server_shows_it_per_device(
    tmp_path: Path, live: LiveServer
) -> None:
    phone = SyncClient(
        DeviceStore(tmp_path / "phone.db"), live.base_url, sleep=lambda _s: None, batch=2
    )
    phone.register(live.login("inspector"), "phone")
    for n in range(3):
        record_offline(phone, f"积水 {n}")
    reported: list[int | None] = []
    real = phone.http.request

    def spy(method: str, url: str, **kw: object) -> requests.Response:
        if url.endswith("/sync/push"):
            reported.append(kw["json"]["outbox_pending"])  # type: ignore[index]
        return real(method, url, **kw)  # type: ignore[arg-type]

    phone.http.request = spy  # type: ignore[method-assign]
    phone.sync_once()
    assert reported == [3, 1]  # batches of 2: three waiting, then one
    device_id = phone.store.get("device_id")
    value = OUTBOX_PENDING.labels(device_id)._value.get()
    assert value == 1  # the latest report
    OUTBOX_PENDING.remove(device_id)
