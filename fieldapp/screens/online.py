"""What the online-only screens (异议, 联合办公) share: blocking API calls off the UI loop, the
text for a failed call, and downloading a generated minute (.docx) to the phone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import flet as ft

from fieldapp.api_client import ApiClient, Rejected, ServerUnreachable
from fieldapp.app_context import AppEnv
from fieldapp.theme import TOUCH_TARGET

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking API call, off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def problem_text(env: AppEnv, exc: Exception, screen: str) -> str:
    """需要网络 when offline; a refused rule's own reason; else a server fault. ``screen`` is
    the message namespace (``dispute``, ``joint``): each says why it needs the network."""
    if isinstance(exc, ServerUnreachable):
        return env.t(f"{screen}.offline")
    if isinstance(exc, Rejected):
        return exc.reason
    return env.t(f"{screen}.server_fault")


def minute_file_name(title: str, minute_id: str) -> str:
    """A file name for the phone: the minute's title (no path separators) and its number."""
    safe = "".join(c for c in title if c not in '\\/:*?"<>|').strip() or "会议纪要"
    return f"{safe[:40]}-{minute_id[:8]}.docx"


class MinuteFile(Protocol):
    """A generated minute as the online screens know it."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def download(self) -> str: ...  # its path on the server (.docx)


def minute_download_button(
    env: AppEnv,
    picker: ft.FilePicker,
    minute: MinuteFile,
    *,
    on_problem: Callable[[str], None],
    screen: str,
) -> ft.Control | None:
    """下载纪要: fetch the .docx with the user's token and hand it to the browser to save
    (None when nobody is signed in)."""
    session = env.state.session
    if session is None:
        return None
    client = ApiClient(session.server_url, token=session.token)
    file_name = minute_file_name(minute.title, minute.id)

    async def download() -> None:
        try:
            data = await call(client.get_bytes, minute.download)
        except Exception as exc:
            on_problem(problem_text(env, exc, screen))
            return
        await picker.save_file(file_name=file_name, src_bytes=data)

    return ft.OutlinedButton(
        content=env.t("minute.download"),
        icon=ft.Icons.DOWNLOAD,
        height=TOUCH_TARGET,
        on_click=download,
    )
