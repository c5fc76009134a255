"""A render that raises must not take the session's UI down with it (see fieldapp/component)."""

from __future__ import annotations

import logging

import flet as ft
import pytest

from fieldapp.component import RENDER_FAILED, contained


def test_a_failing_render_shows_a_notice_and_logs_the_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def Broken(device_id: str) -> ft.Control:
        raise RuntimeError(f"store of {device_id} unreadable")

    with caplog.at_level(logging.ERROR, logger="fieldapp.component"):
        shown = contained(Broken)("phone-1")

    assert isinstance(shown, ft.Container)
    assert isinstance(shown.content, ft.Text) and shown.content.value == RENDER_FAILED
    [record] = caplog.records
    assert "render of" in record.getMessage() and "Broken" in record.getMessage()
    assert record.exc_info is not None and "phone-1 unreadable" in str(record.exc_info[1])


def test_a_healthy_render_is_passed_through_untouched() -> None:
    text = ft.Text("待同步 0 条")

    def Healthy() -> ft.Control:
        return text

    assert contained(Healthy)() is text
