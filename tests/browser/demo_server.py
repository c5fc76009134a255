"""The demo server most browser tests run against: a module's fixtures, imported by name.

    from tests.browser.demo_server import api_server_url, live

``live`` is a real server (uvicorn in a thread) on a migrated SQLite database with the 汶上县
demo data, its clock starting on Monday 2026-11-02; ``api_server_url`` points the app at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.live_server import LiveServer

DEMO_NOW = datetime(2026, 11, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(tmp_path_factory.mktemp("server"), now=DEMO_NOW)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_server_url(live: LiveServer) -> str:
    return live.base_url
