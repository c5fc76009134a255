"""Settings: language, server, who is signed in, where the token is kept, sign out."""

from __future__ import annotations

import asyncio
import contextlib

import flet as ft

from fieldapp.api_client import ApiClient, ApiError
from fieldapp.app_context import use_app
from fieldapp.component import component
from fieldapp.config import tile_url_problem
from fieldapp.i18n import Lang, label_for
from fieldapp.screens.case_map import save_tiles
from fieldapp.screens.common import heading, screen_column, set_language
from fieldapp.theme import TOUCH_TARGET, field

LOGIN_ROUTE = "/login"
PASSWORD_ROUTE = "/settings/password"


@component
def SettingsScreen() -> ft.Control:
    env = use_app()
    state, services = env.state, env.services
    lang = state.lang

    async def choose_language(e: ft.Event[ft.SegmentedButton]) -> None:
        chosen = e.control.selected[0] if e.control.selected else lang.value
        await set_language(env, Lang(chosen))

    async def sign_out() -> None:
        session = state.session
        if session is not None:  # end the sign-in on the server too, when it can be reached
            client = ApiClient(session.server_url, token=session.token, timeout_s=3.0)
            with contextlib.suppress(ApiError):
                await asyncio.to_thread(client.logout)
        await services.token_store.clear()
        state.sign_out()
        await ft.context.page.push_route(LOGIN_ROUTE)

    user = state.session.user if state.session else None
    storage_key = (
        "settings.storage.secure"
        if state.token_storage == "secure"
        else ("settings.storage.memory")
    )
    return screen_column(
        [
            heading(env.t("settings.title")),
            ft.Text(env.t("settings.language"), weight=ft.FontWeight.W_600),
            ft.SegmentedButton(
                selected=[lang.value],
                allow_empty_selection=False,
                allow_multiple_selection=False,
                show_selected_icon=False,
                on_change=choose_language,
                segments=[
                    ft.Segment(value=option.value, label=ft.Text(env.t(f"lang.{option.value}")))
                    for option in Lang
                ],
            ),
            ft.ListTile(
                leading=ft.Icon(ft.Icons.PERSON_OUTLINE),
                title=ft.Text(env.t("settings.account")),
                subtitle=ft.Text(
                    f"{user.display_name}（{label_for('role', user.role, lang)}）" if user else "—"
                ),
            ),
            ft.ListTile(
                leading=ft.Icon(ft.Icons.DNS_OUTLINED),
                title=ft.Text(env.t("settings.server")),
                subtitle=ft.Text(state.server_url),
            ),
            ft.ListTile(
                leading=ft.Icon(ft.Icons.KEY_OUTLINED),
                title=ft.Text(env.t("settings.secure_storage")),
                subtitle=ft.Text(env.t(storage_key)),
            ),
            ft.ListTile(
                leading=ft.Icon(ft.Icons.PASSWORD),
                title=ft.Text(env.t("settings.change_password")),
                trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
                on_click=lambda: ft.context.page.navigate(PASSWORD_ROUTE),
            ),
            ft.OutlinedButton(
                content=env.t("settings.sign_out"),
                icon=ft.Icons.LOGOUT,
                on_click=sign_out,
                height=TOUCH_TARGET,
            ),
            TileSettings(),  # the base map (docs/map.md): last, below what people use daily
        ]
    )


@component
def TileSettings() -> ft.Control:
    """The base map's tile server (docs/map.md): a county's own, or 天地图 with its key."""
    env = use_app()
    url, set_url = ft.use_state(env.state.tile_url)
    key, set_key = ft.use_state(env.state.tile_key)
    error, set_error = ft.use_state(False)

    def on_url(e: ft.Event[ft.TextField]) -> None:
        set_url(e.control.value or "")
        set_error(False)

    def on_key(e: ft.Event[ft.TextField]) -> None:
        set_key(e.control.value or "")

    async def save() -> None:
        if tile_url_problem(url) is not None:
            set_error(True)
            return
        await save_tiles(env, url, key)
        ft.context.page.show_dialog(ft.SnackBar(ft.Text(env.t("settings.tiles_saved"))))

    return ft.Column(
        [
            ft.Text(env.t("settings.tiles"), weight=ft.FontWeight.W_600),
            field(
                env.t("settings.tiles_url"),
                value=url,
                on_change=on_url,
                error=env.t("settings.tiles_invalid") if error else None,
            ),
            field(env.t("settings.tiles_key"), value=key, on_change=on_key),
            ft.Text(env.t("settings.tiles_hint"), size=14, color=ft.Colors.ON_SURFACE_VARIANT),
            ft.OutlinedButton(
                content=env.t("settings.tiles_save"),
                icon=ft.Icons.MAP_OUTLINED,
                on_click=save,
                height=TOUCH_TARGET,
            ),
        ],
        spacing=8,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )
