"""Screens whose real content other modules will provide: new case, case detail."""

from __future__ import annotations

import flet as ft

from fieldapp.app_context import use_app
from fieldapp.screens.common import heading, screen_column


@ft.component
def NewCaseScreen() -> ft.Control:
    env = use_app()
    return screen_column([heading(env.t("new.title")), ft.Text(env.t("new.placeholder"))])


@ft.component
def CaseScreen() -> ft.Control:
    env = use_app()
    case_id = ft.use_route_params().get("case_id", "")
    return screen_column(
        [
            ft.Row(
                [
                    ft.IconButton(
                        ft.Icons.ARROW_BACK,
                        tooltip=env.t("nav.back"),
                        on_click=lambda: ft.context.page.navigate("/home"),
                    ),
                    heading(env.t("case.title", id=case_id)),
                ]
            ),
            ft.Text(env.t("case.placeholder")),
        ]
    )
