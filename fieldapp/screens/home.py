"""Home (placeholder): who is signed in; the case list will come here."""

from __future__ import annotations

import flet as ft

from fieldapp.app_context import use_app
from fieldapp.i18n import label_for
from fieldapp.screens.common import heading, screen_column


@ft.component
def HomeScreen() -> ft.Control:
    env = use_app()
    session = env.state.session
    if session is None:  # the layout redirects to sign-in
        return ft.Container()
    user = session.user
    role = label_for("role", user.role, env.state.lang)
    return screen_column(
        [
            heading(env.t("home.welcome", name=user.display_name)),
            ft.Text(
                env.t("home.signed_in_as", department=user.department_code or "—", role=role),
                color=ft.Colors.ON_SURFACE_VARIANT,
            ),
            ft.Card(
                content=ft.Container(
                    padding=24,
                    content=ft.Row(
                        [
                            ft.Icon(ft.Icons.INBOX_OUTLINED, size=32),
                            ft.Text(env.t("home.placeholder"), expand=True),
                        ],
                        spacing=16,
                    ),
                )
            ),
        ]
    )
