"""The figures of the long sync proofs (schedules run, kills survived), printed and also kept
in ``$YIXIAN_VAR_DIR/sync-proof-figures.txt``: under ``pytest -n`` a worker's output is not
shown, and ``make soak`` prints this file's newest lines when it ends."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def figures_file() -> Path:
    return Path(os.environ.get("YIXIAN_VAR_DIR") or REPO / "var") / "sync-proof-figures.txt"


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Show ``line`` in the test output and append it, time-stamped, to the figures file."""
    with capsys.disabled():
        print(f"\n{line}")
    keep(line)


def keep(line: str) -> None:
    """Append ``line``, time-stamped, to the figures file."""
    path = figures_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {line}\n")
