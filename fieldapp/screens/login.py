"""Sign-in: server address (prefilled), username, password, 登录, language toggle."""

from __future__ import annotations

import asyncio

import flet as ft

from fieldapp.app_context import use_app
from fieldapp.i18n import other_lang, t
from fieldapp.screens.common import set_language
from fieldapp.theme import PAGE_PADDING, SPACING, field, primary_button
from fieldapp.viewmodels.login import LoginViewModel

ObservableLoginViewModel = ft.observable(LoginViewModel)
HOME_ROUTE = "/home"


@ft.component
def LoginScreen() -> ft.View:
    env = use_app()
    state, services = env.state, env.services
    lang = state.lang
    vm, _ = ft.use_state(
        lambda: ObservableLoginViewModel(services.client_for, server_url=state.server_url)
    )

    def leave_if_signed_in() -> None:
        if state.signed_in:
            ft.context.page.navigate(HOME_ROUTE)

    ft.use_effect(leave_if_signed_in, [state.signed_in])

    async def sign_in() -> None:
        attempt = vm.start()
        if attempt is None:
            return
        outcome = await asyncio.to_thread(vm.call, attempt)
        session = vm.finish(attempt, outcome)
        if session is None:
            return
        await services.token_store.save(session)
        state.token_storage = services.token_store.kind
        state.sign_in(session)  # the effect above navigates home

    async def toggle_language() -> None:
        await set_language(env, other_lang(lang))

    def setter(name: str) -> ft.ControlEventHandler[ft.TextField]:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(vm, name, e.control.value or "")

        return on_change

    error = vm.error_message(lang)
    return ft.View(
        route="/login",
        padding=PAGE_PADDING,
        scroll=ft.ScrollMode.AUTO,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        spacing=SPACING,
        controls=[
            ft.Row(
                [
                    ft.TextButton(
                        content=t("lang.switch_to", lang),
                        icon=ft.Icons.TRANSLATE,
                        on_click=toggle_language,
                    )
                ],
                alignment=ft.MainAxisAlignment.END,
            ),
            ft.Column(
                [
                    ft.Icon(ft.Icons.SHIELD_OUTLINED, size=56, color=ft.Colors.PRIMARY),
                    ft.Text(t("app.name", lang), size=40, weight=ft.FontWeight.BOLD),
                    ft.Text(t("app.tagline", lang), size=16, color=ft.Colors.ON_SURFACE_VARIANT),
                ],
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                spacing=4,
            ),
            ft.Container(height=8),
            field(
                t("login.server", lang),
                value=vm.server_url,
                on_change=setter("server_url"),
                keyboard_type=ft.KeyboardType.URL,
                icon=ft.Icons.DNS_OUTLINED,
                error=vm.field_error("server_url", lang),
            ),
            field(
                t("login.username", lang),
                value=vm.username,
                on_change=setter("username"),
                icon=ft.Icons.PERSON_OUTLINE,
                error=vm.field_error("username", lang),
            ),
            field(
                t("login.password", lang),
                value=vm.password,
                password=True,
                on_change=setter("password"),
                on_submit=sign_in,
                icon=ft.Icons.LOCK_OUTLINE,
                error=vm.field_error("password", lang),
            ),
            ft.Text(
                error or "",
                color=ft.Colors.ERROR,
                size=16,
                visible=error is not None,
            ),
            primary_button(
                t("login.busy" if vm.busy else "login.submit", lang),
                on_click=sign_in,
                disabled=vm.busy,
                icon=ft.Icons.LOGIN,
            ),
        ],
    )
