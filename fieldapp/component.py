"""``component``: ``ft.component`` with an error boundary; ``keep_updating``: a session's
update scheduler restarted if it ever fails.

Flet renders components from one scheduler task per session; an exception escaping a render
ends that task, and the session silently stops re-rendering (seen: a sync card frozen at
"上次同步 无" while the device kept syncing). Every screen and widget of the app is declared
with this decorator instead: a render that fails is logged with its traceback and shows a
short notice in place of the component, and the rest of the session keeps updating.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec

import flet as ft

log = logging.getLogger(__name__)

P = ParamSpec("P")

RENDER_FAILED = "此处显示出错，已记录；请返回重试 · This part failed to show; go back and retry"


def fallback(name: str) -> ft.Control:
    return ft.Container(
        padding=12,
        bgcolor=ft.Colors.ERROR_CONTAINER,
        border_radius=8,
        content=ft.Text(RENDER_FAILED, color=ft.Colors.ON_ERROR_CONTAINER, tooltip=name),
    )


def contained(fn: Callable[P, ft.Control]) -> Callable[P, ft.Control]:
    """``fn``, but a failure is logged and rendered as a notice instead of raised."""

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ft.Control:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("render of %s failed", fn.__qualname__)
            return fallback(fn.__qualname__)

    return guarded


def component(fn: Callable[P, ft.Control]) -> Callable[P, ft.Control]:
    """Declare a Flet component whose render errors are contained (see the module doc)."""
    return ft.component(contained(fn))


UPDATES_TASK = "_Session__updates_task"  # flet.messaging.session.Session's scheduler (1.0.x)


def keep_updating(session: Any) -> None:
    """Watch the session's update scheduler (the task that re-renders components). If it ends
    with an error, log it and start a new one: a single failure must not leave the phone's
    screen frozen for the rest of the session. A cancelled or finished task (the session
    closed) is left alone."""

    def on_done(task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("the update scheduler failed; restarting it", exc_info=task.exception())
        session.start_updates_scheduler()
        watch(getattr(session, UPDATES_TASK, None))

    def watch(task: object) -> None:
        if isinstance(task, asyncio.Task):
            task.add_done_callback(on_done)
        else:
            log.warning("no update scheduler to watch (Flet changed?): %r", type(session))

    watch(getattr(session, UPDATES_TASK, None))
