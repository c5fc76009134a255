"""Small building blocks shared by screens."""

from __future__ import annotations

import flet as ft

from fieldapp.app_context import AppEnv
from fieldapp.component import component
from fieldapp.i18n import Lang
from fieldapp.theme import SPACING, TITLE_SIZE

LANG_PREF_KEY = "yixian.lang"


def heading(text: str) -> ft.Text:
    return ft.Text(text, size=TITLE_SIZE, weight=ft.FontWeight.W_600)


def screen_column(controls: list[ft.Control]) -> ft.Column:
    """Content of a screen: stacked, stretched to full width, evenly spaced."""
    return ft.Column(
        controls,
        spacing=SPACING,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )


async def set_language(env: AppEnv, lang: Lang) -> None:
    """Switch the UI language for this session and remember it on the device."""
    env.state.set_lang(lang)
    if env.services.prefs is not None:
        await env.services.prefs.set(LANG_PREF_KEY, lang.value)


@component
def Redirect(to: str) -> ft.Control:
    """Navigate to ``to`` once mounted; shows a progress ring meanwhile."""
    ft.use_effect(lambda: ft.context.page.navigate(to), [to])
    return ft.ProgressRing()
