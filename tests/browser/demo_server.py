"""The demo server most browser tests run against: a module's fixtures, imported by name.

    from tests.browser.demo_server import api_server_url, live

or, in a module with a single test, fresh ones for each attempt:

    live, api_server_url = demo_server_fixtures("function")
    app_server = app_fixture("function")

``live`` is a real server (uvicorn in a thread) on a migrated SQLite database with the 汶上县
demo data, its clock starting on Monday 2026-11-02; ``api_server_url`` points the app at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.live_server import LiveServer

DEMO_NOW = datetime(2026, 11, 2, 1, tzinfo=UTC)


def demo_server_fixtures(scope: str = "module") -> tuple[Any, Any]:
    """``live`` and ``api_server_url`` of the given scope. A module with one test takes them per
    test (``scope="function"``): a rerun after a failure then starts from a fresh server, not
    from the half-told story the failed attempt left behind."""

    @pytest.fixture(scope=scope, name="live")  # type: ignore[call-overload]
    def _live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
        server = LiveServer.with_demo(tmp_path_factory.mktemp("server"), now=DEMO_NOW)
        server.start()
        yield server
        server.stop()

    @pytest.fixture(scope=scope, name="api_server_url")  # type: ignore[call-overload]
    def _api_server_url(live: LiveServer) -> str:
        return live.base_url

    return _live, _api_server_url


live, api_server_url = demo_server_fixtures()
