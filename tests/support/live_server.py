"""A real server on a loopback port (uvicorn in a thread), restartable, on a migrated demo DB."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import uvicorn
from sqlalchemy import Engine

from server.app import create_app
from server.config import Settings
from server.db import make_engine, migrate
from server.demo import load_demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(
        self,
        url: str,
        photo_dir: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        port: int | None = None,
        storage: str = "local",
    ) -> None:
        self.db_url = url
        self.photo_dir = photo_dir
        self.storage = storage  # YIXIAN_STORAGE: local, or postgres (files in the database)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.clock = clock
        self.engine: Engine | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def with_demo(cls, tmp: Path, *, now: datetime, **kw: object) -> LiveServer:
        url = f"sqlite:///{tmp / 'server.db'}"
        migrate(url)
        engine = make_engine(url)
        load_demo(engine, now=now, with_cases=False)
        engine.dispose()
        return cls(url, tmp / "photos", **kw)  # type: ignore[arg-type]

    def start(self) -> None:
        settings = Settings(
            database_url=self.db_url,
            photo_dir=self.photo_dir,
            secret="test",
            access_ttl_minutes=366 * 24 * 60,  # a fake clock may move days past a sign-in
            device_idle_days=366,
            storage=self.storage,
        )
        self.engine = make_engine(self.db_url)
        kwargs = {"clock": self.clock} if self.clock else {}
        app = create_app(settings, engine=self.engine, **kwargs)  # type: ignore[arg-type]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30  # a busy machine can take seconds to answer first
        while time.monotonic() < deadline:
            try:
                requests.get(self.base_url + "/health", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.engine is not None:
            self.engine.dispose()
        self._server = self._thread = None

    def login(self, username: str) -> str:
        r = requests.post(
            self.base_url + "/auth/login",
            json={"username": username, "password": "yixian-demo"},
            timeout=5,
        )
        r.raise_for_status()
        return str(r.json()["token"])


def fresh_live_server(backend: Any, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on a fresh database of ``backend`` (tests/conftest.py's ``Backend``), dropped
    afterwards: the body of a module's ``live`` fixture (``yield from``)."""
    url = backend.fresh_url(tmp_path)
    server = LiveServer(url, tmp_path / "photos")
    server.start()
    yield server
    server.stop()
    backend.drop(url)
