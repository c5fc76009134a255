"""A phone offline when its access token expires stays signed in (the refresh is tried again
when back online); only a refused refresh signs out."""

from __future__ import annotations

import pytest

from fieldapp.api_client import ServerUnreachable
from fieldapp.session_tokens import SessionTokens


def test_a_refresh_that_cannot_reach_the_server_changes_nothing_and_is_tried_again() -> None:
    ended: list[bool] = []
    tokens = SessionTokens("a1", "r1", on_ended=lambda: ended.append(True))

    def offline(_refresh: str) -> tuple[str, str] | None:
        raise ServerUnreachable("http://x", "ConnectionError")

    with pytest.raises(ServerUnreachable):
        tokens.renewed("a1", offline)
    assert (tokens.access, tokens.refresh, ended) == ("a1", "r1", [])
    assert tokens.renewed("a1", lambda r: ("a2", "r2") if r == "r1" else None) == "a2"
    assert tokens.renewed("a1", lambda _r: pytest.fail("refreshed twice")) == "a2"


def test_a_refused_refresh_signs_out_once() -> None:
    ended: list[bool] = []
    tokens = SessionTokens("a1", "r1", on_ended=lambda: ended.append(True))
    assert tokens.renewed("a1", lambda _r: None) is None
    assert tokens.renewed("a1", lambda _r: ("a2", "r2")) is None
    assert ended == [True]
