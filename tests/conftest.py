"""Shared fixtures: the server on both databases, a controllable clock, demo sign-ins."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from server.app import create_app
from server.config import Settings
from server.db import make_engine, migrate
from server.demo import load_demo
from server.services import auth as auth_service
from sync.clock import CHINA_TZ

# Demo passwords hashed with cheap argon2 parameters in the test databases: the same code path
# (verify reads the parameters from the stored hash), without 60 ms per sign-in.
auth_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

BROWSER_TEST_LIMIT_S = 300


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run one at a time, on one worker, beside the other tests: each drives a
    Chromium, a Flet app and a server, and two of them at once on two cores starve each other's
    timeouts. A browser test that fails is run once more (shown as R and counted as "rerun" in
    the summary): on a loaded machine a tap can still land while the canvas is moving. A real
    fault fails twice; every other test gets no second chance."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
            # Seen here: a page's renderer spinning at full load, and Playwright's calls that
            # read the page (count(), bounding_box()) waiting on it for ever. None of these
            # tests takes over 2 minutes on a loaded machine: fail it, and try it once more.
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_LIMIT_S))
    _deselect_postgres_storage_on_sqlite(items)


def _deselect_postgres_storage_on_sqlite(items: list[pytest.Item]) -> None:
    """A test run with both stores (``storage_kind``) keeps photos in the database only where
    the database is PostgreSQL: on SQLite that combination does not exist (docs/storage.md)."""
    dropped = [
        item
        for item in items
        if (params := getattr(getattr(item, "callspec", None), "params", {})).get("storage_kind")
        == "postgres"
        and params.get("backend") == "sqlite"
    ]
    if dropped:
        dropped_ids = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in dropped_ids]
        dropped[0].config.hook.pytest_deselected(items=dropped)


_reruns: list[pytest.TestReport] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.outcome == "rerun":  # type: ignore[comparison-overlap]
        _reruns.append(report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Why each rerun browser test failed the first time (a flake worth fixing, not hiding)."""
    for report in _reruns:
        terminalreporter.section(f"first attempt of {report.nodeid}", sep="-")
        lines = report.longreprtext.splitlines()
        terminalreporter.line("\n".join(lines[-40:]))


PG_ADMIN_URL = os.environ.get("YIXIAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_BASE = PG_ADMIN_URL.rsplit("/", 1)[0]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)  # a Monday, a working day
LONG_ACCESS_MINUTES = 300 * 24 * 60  # under a year: test_authorisation moves a year on


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Backend:
    name: str
    template: str  # sqlite file path or PG database name

    def fresh_url(self, tmp_path: Path) -> str:
        if self.name == "sqlite":
            target = tmp_path / "yixian.db"
            shutil.copy(self.template, target)
            return f"sqlite:///{target}"
        name = f"yx_{uuid.uuid4().hex[:12]}"
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        eng.dispose()
        return f"{PG_BASE}/{name}"

    def drop(self, url: str) -> None:
        if self.name != "postgres":
            return
        name = url.rsplit("/", 1)[1]
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


def _make_template(name: str, tmp_dir: Path) -> Backend:
    if name == "sqlite":
        path = tmp_dir / "template.db"
        url = f"sqlite:///{path}"
        migrate(url)
        engine = make_engine(url)
        load_demo(engine, now=T0, with_cases=False)
        engine.dispose()
        return Backend("sqlite", str(path))
    reason = _pg_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be available when CI=true: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {reason}")
    tname = f"yx_tmpl_{uuid.uuid4().hex[:8]}"
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{tname}"'))
    url = f"{PG_BASE}/{tname}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, now=T0, with_cases=False)
    engine.dispose()
    eng.dispose()
    return Backend("postgres", tname)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    b = _make_template(request.param, tmp_path_factory.mktemp(f"tmpl-{request.param}"))
    yield b
    if b.name == "postgres":
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{b.template}" WITH (FORCE)'))
        eng.dispose()


@dataclass
class Server:
    client: TestClient
    clock: FakeClock
    url: str
    backend: Backend
    _tokens: dict[str, str]

    def login(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post(
                "/auth/login", json={"username": username, "password": "yixian-demo"}
            )
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def post(self, path: str, user: str, json: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=json or {}, headers=self.login(user))

    def get(self, path: str, user: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.login(user))


@pytest.fixture
def storage_kind() -> str:
    """Where the server keeps photos and minutes (``YIXIAN_STORAGE``): a test parametrizes it
    (``BOTH_STORES``) to run with the database store too."""
    return "local"


BOTH_STORES = pytest.mark.parametrize("storage_kind", ["local", "postgres"])


@pytest.fixture
def server(backend: Backend, tmp_path: Path, storage_kind: str) -> Iterator[Server]:
    url = backend.fresh_url(tmp_path)
    clock = FakeClock(T0)
    # tests move the clock by days with one sign-in: access tokens live 300 days here (their
    # expiry is tested with the default in tests/server/test_sessions.py)
    settings = Settings(
        database_url=url,
        photo_dir=tmp_path / "photos",
        secret="test",
        access_ttl_minutes=LONG_ACCESS_MINUTES,
        device_idle_days=300,
        storage=storage_kind,
    )
    engine = make_engine(url)
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app) as client:
        yield Server(client, clock, url, backend, {})
    engine.dispose()
    backend.drop(url)
