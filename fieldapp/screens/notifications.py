"""通知: this user's notifications (their department's and their role's), unread first.

Online only. Tapping a notification marks it read; one about a case links to the case by
number. ``NotificationBell`` (on Home) shows the unread count and opens this screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import cast

import flet as ft

from fieldapp.api_client import ApiClient, ApiError, Rejected, ServerUnreachable
from fieldapp.app_context import use_app
from fieldapp.component import component
from fieldapp.dashboard_api import fetch_notifications, mark_read
from fieldapp.device import use_device
from fieldapp.screens.common import screen_column
from fieldapp.screens.widgets import back_heading, message, when
from fieldapp.viewmodels.notifications import (
    NoticeRow,
    mark_read_locally,
    notice_rows,
    unread_count,
)

ROUTE = "/notifications"


@component
def NotificationBell() -> ft.Control:
    """A bell with the unread count; read once each time Home is shown."""
    env = use_app()
    session = env.state.session
    count, set_count = ft.use_state(0)
    token = session.token if session else None
    server_url = session.server_url if session else ""

    async def load() -> None:
        if token is None:
            return
        client = ApiClient(server_url, token=token)
        try:
            unread = await asyncio.to_thread(fetch_notifications, client, unread_only=True)
        except ApiError:
            return  # offline: the bell shows no count
        set_count(unread_count(unread))

    ft.use_effect(load, [token])
    label = env.t("notice.bell", n=count)
    return ft.Semantics(
        identifier="notifications-bell",
        content=ft.IconButton(
            ft.Icons.NOTIFICATIONS_ACTIVE if count else ft.Icons.NOTIFICATIONS_OUTLINED,
            tooltip=label,
            badge=ft.Badge(label=str(count)) if count else None,
            on_click=lambda: ft.context.page.navigate(ROUTE),
        ),
    )


@component
def NotificationsScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    session = env.state.session
    rows, set_rows = ft.use_state(cast("list[NoticeRow] | None", None))
    error, set_error = ft.use_state(cast("str | None", None))
    attempt, set_attempt = ft.use_state(0)
    lang = env.state.lang
    token = session.token if session else None
    server_url = session.server_url if session else ""

    def number_of(case_id: str) -> str | None:
        device = holder.device
        snap = device.store.case(case_id) if device is not None else None
        return str(snap["number"]) if snap and snap.get("number") else None

    async def load() -> None:
        if token is None:
            return
        set_error(None)
        client = ApiClient(server_url, token=token)
        try:
            got = await asyncio.to_thread(fetch_notifications, client)
        except ServerUnreachable:
            set_error(env.t("online.offline"))
            return
        except Rejected as exc:
            set_error(exc.reason)
            return
        except ApiError:
            set_error(env.t("online.failed"))
            return
        set_rows(notice_rows(got, lang, number_of))

    ft.use_effect(load, [token, attempt, lang])

    async def read(row: NoticeRow, then: str | None = None) -> None:
        if row.unread and rows is not None:
            set_rows(mark_read_locally(rows, row.id))
            client = ApiClient(server_url, token=token)
            with contextlib.suppress(ApiError):  # stays read here; a later tap marks it again
                await asyncio.to_thread(mark_read, client, row.id)
        if then is not None:
            ft.context.page.navigate(then)

    controls: list[ft.Control] = [back_heading(env, env.t("notice.title"))]
    if error:
        controls += [
            message(error),
            ft.OutlinedButton(
                content=env.t("online.retry"),
                icon=ft.Icons.REFRESH,
                on_click=lambda: set_attempt(attempt + 1),
            ),
        ]
    if rows is None:
        if not error:
            controls.append(ft.Row([ft.ProgressRing(), ft.Text(env.t("online.loading"))]))
        return screen_column(controls)
    if not rows:
        controls.append(ft.Text(env.t("notice.none"), color=ft.Colors.ON_SURFACE_VARIANT))
    controls.extend(notice_tile(env.t, row, read) for row in rows)
    return screen_column(controls)


Reader = Callable[[NoticeRow, "str | None"], Awaitable[None]]  # mark read, then go to a route


def notice_tile(tr: Callable[..., str], row: NoticeRow, read: Reader) -> ft.Control:
    async def tap() -> None:
        await read(row, None)

    async def open_case() -> None:
        await read(row, f"/case/{row.case_id}")

    title: list[ft.Control] = [
        ft.Text(
            row.title,
            weight=ft.FontWeight.W_700 if row.unread else ft.FontWeight.W_500,
            expand=True,
        ),
        ft.Text(when(row.created_at), size=14, color=ft.Colors.ON_SURFACE_VARIANT),
    ]
    if row.unread:
        title.insert(
            0, ft.Container(width=10, height=10, border_radius=5, bgcolor=ft.Colors.PRIMARY)
        )
    body: list[ft.Control] = [
        ft.Row(title, spacing=8),
        ft.Text(row.text, size=15, color=None if row.unread else ft.Colors.ON_SURFACE_VARIANT),
    ]
    if row.case_id and row.case_number:
        body.append(
            ft.Row(
                [
                    ft.TextButton(
                        content=tr("notice.open_case", number=row.case_number),
                        icon=ft.Icons.OPEN_IN_NEW,
                        on_click=open_case,
                    )
                ]
            )
        )
    return ft.Semantics(
        identifier=f"notice-{row.id}",
        content=ft.Card(
            bgcolor=ft.Colors.SECONDARY_CONTAINER if row.unread else None,
            content=ft.Container(padding=14, on_click=tap, content=ft.Column(body, spacing=4)),
        ),
    )
