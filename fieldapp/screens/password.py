"""设置 → 修改密码: the current password, the new one twice, 确认修改 (needs a connection)."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from fieldapp.api_client import ApiClient
from fieldapp.app_context import use_app
from fieldapp.component import component
from fieldapp.screens.common import heading, screen_column
from fieldapp.theme import field, primary_button
from fieldapp.viewmodels.password import PasswordViewModel

ObservablePasswordViewModel = ft.observable(PasswordViewModel)
PASSWORD_ROUTE = "/settings/password"


@component
def PasswordScreen() -> ft.Control:
    env = use_app()
    state = env.state
    lang = state.lang
    session = state.session

    def make() -> Any:
        api = ApiClient(
            session.server_url if session else "", token=session.token if session else None
        )
        return ObservablePasswordViewModel(api, username=session.user.username if session else "")

    vm, _ = ft.use_state(make)

    async def change() -> None:
        attempt = vm.start()
        if attempt is None:
            return
        vm.finish(await asyncio.to_thread(vm.call, attempt))

    def setter(name: str) -> ft.ControlEventHandler[ft.TextField]:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(vm, name, e.control.value or "")

        return on_change

    error = vm.error_message(lang)
    return screen_column(
        [
            heading(env.t("password.title")),
            ft.Text(env.t("password.rule"), color=ft.Colors.ON_SURFACE_VARIANT),
            field(
                env.t("password.current"),
                value=vm.current_password,
                password=True,
                on_change=setter("current_password"),
                icon=ft.Icons.LOCK_OUTLINE,
                error=vm.field_error("current_password", lang),
            ),
            field(
                env.t("password.new"),
                value=vm.new_password,
                password=True,
                on_change=setter("new_password"),
                icon=ft.Icons.KEY_OUTLINED,
                error=vm.field_error("new_password", lang),
            ),
            field(
                env.t("password.repeat"),
                value=vm.repeat_password,
                password=True,
                on_change=setter("repeat_password"),
                on_submit=change,
                icon=ft.Icons.KEY_OUTLINED,
                error=vm.field_error("repeat_password", lang),
            ),
            ft.Text(error or "", color=ft.Colors.ERROR, visible=error is not None),
            ft.Text(env.t("password.done"), color=ft.Colors.PRIMARY, visible=vm.done),
            primary_button(
                env.t("password.busy" if vm.busy else "password.submit"),
                on_click=change,
                disabled=vm.busy,
                icon=ft.Icons.CHECK,
            ),
        ]
    )
