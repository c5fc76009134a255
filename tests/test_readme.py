"""The README documents what a new user needs: the two commands, demo accounts, settings."""

from __future__ import annotations

import re
from pathlib import Path

from server.demo_data import DEMO_PASSWORD, DEMO_USERS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    head = README[: README.index("## Demo accounts")]
    assert "make run" in head and "make test" in head


def test_every_demo_account_and_the_password_are_in_the_readme() -> None:
    for user in DEMO_USERS:
        assert f"`{user.username}`" in README, user.username
    assert DEMO_PASSWORD in README


def test_every_environment_setting_the_server_reads_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "server").rglob("*.py"))
    names = set(re.findall(r"environ(?:\.get)?\(\s*\"([A-Z_]+)\"", source))
    names |= set(re.findall(r"environ\[\"([A-Z_]+)\"\]", source))
    assert names, "the server reads no setting: this test would prove nothing"
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"undocumented settings: {missing}"
