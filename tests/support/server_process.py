"""The real server in its own process (so a test's devices do not share its GIL), restartable.

    python -m tests.support.server_process --db sqlite:///... --photos DIR

The child runs a ``LiveServer`` (uvicorn in a thread), prints ``ready PORT``, then obeys lines
on stdin: ``restart`` (stop the server, dispose its engine, start a fresh app on the same
port; answers ``ok``) and ``stop``. ``ServerProcess`` is the parent's handle.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

from server.db import make_engine, migrate
from server.demo import load_demo


def prepare_demo_db(db_path: Path, *, now: datetime) -> str:
    """A migrated SQLite file with the demo reference data and users (no cases)."""
    url = f"sqlite:///{db_path}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, now=now, with_cases=False)
    engine.dispose()
    return url


def _wait_healthy(base_url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(base_url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.02)
    raise RuntimeError("server did not answer /health")


class ServerProcess:
    def __init__(self, db_url: str, photo_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.server_process",
                "--db",
                db_url,
                "--photos",
                str(photo_dir),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            self.proc.kill()
            raise RuntimeError(f"server process did not start: {line}")
        self.base_url = f"http://127.0.0.1:{line[1]}"
        self.photo_dir = photo_dir
        self.restarts = 0

    def _command(self, word: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def restart(self) -> None:
        """Stop the server and start it again (same database, same port)."""
        answer = self._command("restart")
        if answer != "ok":
            raise RuntimeError(f"restart failed: {answer!r}")
        self.restarts += 1

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self._command("stop")
                self.proc.wait(timeout=15)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def login(self, username: str) -> str:
        r = requests.post(
            self.base_url + "/auth/login",
            json={"username": username, "password": "yixian-demo"},
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["token"])


def main() -> int:
    from tests.support.live_server import LiveServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--photos", required=True, type=Path)
    args = parser.parse_args()
    live = LiveServer(args.db, args.photos)

    def start() -> None:
        with contextlib.suppress(requests.RequestException):
            live.start()  # a slow first reply on a busy machine: keep asking below
        _wait_healthy(live.base_url)

    start()
    print(f"ready {live.port}", flush=True)
    for line in sys.stdin:
        word = line.strip()
        if word == "restart":
            live.stop()
            start()
            print("ok", flush=True)
        elif word == "stop":
            break
    live.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
