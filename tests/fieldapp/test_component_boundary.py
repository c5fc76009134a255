"""A render that raises, or an update scheduler that fails, must not take the session's UI
down with it (see fieldapp/component)."""

from __future__ import annotations

import asyncio
import logging

import flet as ft
import pytest

from fieldapp.component import RENDER_FAILED, contained, keep_updating


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


class SchedulerSession:
    """A session shaped like Flet's: ``start_updates_scheduler`` starts its update task; the
    first run fails (as when an update raised), later ones run until cancelled."""

    def __init__(self) -> None:
        self.starts = 0
        self._Session__updates_task: asyncio.Task[None] | None = None

    def start_updates_scheduler(self) -> None:
        self.starts += 1
        self._Session__updates_task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        if self.starts == 1:
            raise RuntimeError("a control's update failed")
        await asyncio.Event().wait()


def test_a_failed_update_scheduler_is_logged_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> SchedulerSession:
        session = SchedulerSession()
        session.start_updates_scheduler()
        keep_updating(session)
        for _ in range(5):
            await asyncio.sleep(0)
        assert session._Session__updates_task is not None
        session._Session__updates_task.cancel()  # the session closes: not restarted
        for _ in range(5):
            await asyncio.sleep(0)
        return session

    with caplog.at_level(logging.ERROR, logger="fieldapp.component"):
        session = asyncio.run(scenario())
    assert session.starts == 2
    [record] = caplog.records
    assert "restarting" in record.getMessage()
    assert record.exc_info is not None and "a control's update failed" in str(record.exc_info[1])
