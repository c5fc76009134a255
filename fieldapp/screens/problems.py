"""同步问题: each command the server rejected or applied with a conflict, its reason, what to do."""

from __future__ import annotations

import flet as ft

from fieldapp.app_context import use_app
from fieldapp.component import component
from fieldapp.device import use_device, use_sync_status
from fieldapp.screens.common import screen_column
from fieldapp.screens.widgets import back_heading
from fieldapp.viewmodels.sync_status import problem_rows


@component
def ProblemsScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    device = holder.device
    controls: list[ft.Control] = [back_heading(env, env.t("problems.title"))]
    if device is None:
        return screen_column(controls)
    use_sync_status(device)
    rows = problem_rows(device.store.problems())
    if not rows:
        controls.append(ft.Text(env.t("problems.none")))
    for row in rows:
        snap = device.store.case(row.case_id) if row.case_id else None
        number = str(snap.get("number")) if snap else (row.case_id or "—")[:8]
        controls.append(
            ft.Card(
                content=ft.Container(
                    padding=14,
                    on_click=(
                        (lambda _e, cid=row.case_id: ft.context.page.navigate(f"/case/{cid}"))
                        if snap
                        else None
                    ),
                    content=ft.Column(
                        [
                            ft.Text(
                                f"#{row.command_id} {env.t(row.type_key)} · {number}",
                                weight=ft.FontWeight.W_600,
                            ),
                            ft.Text(
                                env.t(f"problems.status.{row.status}"),
                                color=ft.Colors.ERROR,
                            ),
                            ft.Text(row.reason or "—"),
                            ft.Text(env.t(row.advice_key), color=ft.Colors.PRIMARY),
                        ],
                        spacing=4,
                    ),
                )
            )
        )
    return screen_column(controls)
