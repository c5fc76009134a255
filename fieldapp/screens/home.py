"""Home: who is signed in, the sync indicator, my department's tasks by urgency, cases near me."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import flet as ft

from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.device import DeviceSession, use_device, use_sync_status
from fieldapp.i18n import label_for
from fieldapp.screens.common import heading, screen_column
from fieldapp.screens.joint_session import JointEntry
from fieldapp.screens.notifications import NotificationBell
from fieldapp.screens.widgets import case_tile
from fieldapp.viewmodels.sync_status import SyncStatus
from fieldapp.viewmodels.tasks import my_tasks, near_me
from sync.boundary_types import Point
from sync.lifecycle import Actor
from sync.vocabulary import Role

GPS_TIMEOUT_S = 8.0


def actor_of(env: AppEnv) -> Actor | None:
    session = env.state.session
    if session is None:
        return None
    user = session.user
    try:
        role = Role(user.role)
    except ValueError:
        role = Role.INSPECTOR
    return Actor(user_id=user.id, role=role, department=user.department_code or "")


@component
def SyncCard(device: DeviceSession) -> ft.Control:
    env = use_app()
    status = use_sync_status(device)  # re-render on every status change
    lang = env.state.lang
    assert isinstance(status, SyncStatus)
    icon = (
        ft.Icons.SYNC
        if status.syncing
        else ft.Icons.CLOUD_OFF
        if status.error_key
        else ft.Icons.CLOUD_DONE
        if status.all_sent
        else ft.Icons.CLOUD_UPLOAD
    )
    controls: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(icon, size=28, color=ft.Colors.PRIMARY),
                ft.Text(
                    status.headline(lang),
                    weight=ft.FontWeight.W_600,
                    expand=True,
                ),
                ft.TextButton(
                    content=env.t("sync.now"),
                    icon=ft.Icons.REFRESH,
                    on_click=device.request_sync,
                    disabled=status.syncing,
                ),
            ]
        ),
        ft.Semantics(
            identifier="sync-detail",
            content=ft.Text(status.detail(lang), size=15, color=ft.Colors.ON_SURFACE_VARIANT),
        ),
    ]
    if status.syncing:
        controls.append(ft.ProgressBar(value=status.fraction))
    if status.problems:
        controls.append(
            ft.OutlinedButton(
                content=status.problems_label(lang),
                icon=ft.Icons.WARNING_AMBER,
                on_click=lambda: ft.context.page.navigate("/problems"),
            )
        )
    return ft.Card(content=ft.Container(padding=14, content=ft.Column(controls, spacing=6)))


@component
def HomeScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    session = env.state.session
    here, set_here = ft.use_state(cast("Point | None", None))

    async def locate() -> None:
        if holder.device is None:
            return
        try:
            pos = await asyncio.wait_for(holder.locator().get_current_position(), GPS_TIMEOUT_S)
            if pos.latitude is not None and pos.longitude is not None:
                set_here(Point(float(pos.latitude), float(pos.longitude)))
        except Exception:  # no fix, no permission: "near me" stays empty
            return

    ft.use_effect(locate, [holder.device is not None])
    if session is None:  # the layout redirects to sign-in
        return ft.Container()
    user = session.user
    lang = env.state.lang
    role = label_for("role", user.role, lang)
    device = holder.device
    top: list[ft.Control] = [
        ft.Row(
            [
                ft.Container(heading(env.t("home.welcome", name=user.display_name)), expand=True),
                NotificationBell(),
            ]
        ),
    ]
    if device is None:
        return screen_column([*top, ft.Text(role), ft.ProgressRing()])
    return screen_column([*top, HomeLists(device, here)])


@component
def HomeLists(device: DeviceSession, here: Point | None) -> ft.Control:
    env = use_app()
    use_sync_status(device)  # re-read the store after each sync or local change
    session = env.state.session
    reference = device.reference()
    actor = actor_of(env)
    now = datetime.now(UTC)
    cases = device.cases()
    user = session.user if session is not None else None
    sections: list[ft.Control] = []
    if user is not None:  # the department by its name (re-read after the first sync)
        sections.append(
            ft.Semantics(
                identifier="signed-in-as",
                content=ft.Text(
                    env.t(
                        "home.signed_in_as",
                        department=reference.department_name(user.department_code),
                        role=label_for("role", user.role, env.state.lang),
                    ),
                    color=ft.Colors.ON_SURFACE_VARIANT,
                ),
            )
        )
    sections.append(SyncCard(device))
    sections.append(JointEntry())  # 联合办公: organizers, and departments invited
    buckets = my_tasks(cases, actor, now, reference.calendar) if actor else []
    sections.append(ft.Text(env.t("home.tasks"), size=20, weight=ft.FontWeight.W_600))
    if not buckets:
        sections.append(ft.Text(env.t("home.no_tasks"), color=ft.Colors.ON_SURFACE_VARIANT))
    for bucket, rows in buckets:
        sections.append(
            ft.Text(
                f"{env.t('bucket.' + bucket.value)}（{len(rows)}）",
                weight=ft.FontWeight.W_600,
                color=ft.Colors.ERROR if bucket.value == "overdue" else ft.Colors.PRIMARY,
            )
        )
        sections.extend(case_tile(env, row, reference) for row in rows)
    listed = {row.case_id for _, rows in buckets for row in rows}
    nearby = near_me(cases, here, exclude=listed)  # never a case already in 我的待办
    sections.append(
        ft.Row(
            [
                ft.Text(env.t("home.near_me"), size=20, weight=ft.FontWeight.W_600, expand=True),
                ft.TextButton(  # 附近/我的案件 on a map (fieldapp/screens/case_map.py)
                    content=env.t("map.open"),
                    icon=ft.Icons.MAP_OUTLINED,
                    on_click=lambda: ft.context.page.navigate("/map"),
                ),
            ]
        )
    )
    if here is None:
        sections.append(ft.Text(env.t("home.no_position"), color=ft.Colors.ON_SURFACE_VARIANT))
    elif not nearby:
        sections.append(ft.Text(env.t("home.nothing_near"), color=ft.Colors.ON_SURFACE_VARIANT))
    sections.extend(case_tile(env, row, reference) for row in nearby)
    return screen_column(sections)
