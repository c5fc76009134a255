"""Security headers on every answer of the API (success, error, unknown path, file, docs), a
policy that lets nothing run on API answers and only the docs' own assets on the docs pages,
and no server banner from the real server process (``python -m server serve``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from server.api.security_headers import CDN
from tests.conftest import T0, Server
from tests.support.live_server import free_port
from tests.support.server_process import prepare_demo_db

REQUIRED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _missing(headers: requests.structures.CaseInsensitiveDict[str] | dict[str, str]) -> list[str]:
    wrong = [name for name, value in REQUIRED.items() if headers.get(name) != value]
    if "frame-ancestors 'none'" not in headers.get("content-security-policy", ""):
        wrong.append("content-security-policy")
    return wrong


def test_every_kind_of_answer_carries_the_security_headers(server: Server) -> None:
    client: TestClient = server.client
    answers = {
        "health": client.get("/health"),
        "signed in": server.get("/cases", "supervisor"),
        "401": client.get("/cases"),
        "404 of an unknown case": server.get("/cases/no-such-case", "supervisor"),
        "404 of an unknown path": client.get("/no/such/path"),
        "405": client.delete("/health"),
        "422": client.post("/auth/login", json={}),
        "docs": client.get("/docs"),
        "openapi": client.get("/openapi.json"),
    }
    assert {name: _missing(r.headers) for name, r in answers.items()} == {
        name: [] for name in answers
    }
    assert {name: "server" in r.headers for name, r in answers.items()} == dict.fromkeys(
        answers, False
    )


def test_api_answers_let_nothing_run_and_the_docs_load_only_their_own_assets(
    server: Server,
) -> None:
    api = server.get("/cases", "supervisor").headers["content-security-policy"]
    assert api.startswith("default-src 'none'") and "script-src" not in api
    docs = server.client.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert f"script-src 'self' 'unsafe-inline' {CDN}" in policy
    # every script and style the Swagger page loads is allowed by its policy
    assert f'src="{CDN}/' in docs.text and f'href="{CDN}/' in docs.text


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[str]:
    url = prepare_demo_db(tmp_path / "yixian.db", now=T0)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "YIXIAN_VAR_DIR": str(tmp_path),
        "YIXIAN_ENV": "development",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # up to a minute on a loaded machine (not a timed assertion)
            try:
                requests.get(base + "/health", timeout=2)
                break
            except requests.RequestException:
                if proc.poll() is not None:
                    raise RuntimeError("python -m server serve exited") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_real_server_process_sends_no_server_banner_and_the_security_headers(
    real_server: str,
) -> None:
    answers = [
        requests.get(real_server + "/health", timeout=10),
        requests.get(real_server + "/cases", timeout=10),
        requests.get(real_server + "/nowhere", timeout=10),
    ]
    assert [r.status_code for r in answers] == [200, 401, 404]
    assert [r.headers.get("server") for r in answers] == [None, None, None]
    assert [_missing(r.headers) for r in answers] == [[], [], []]
