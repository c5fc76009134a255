"""督办看板: cases over time by status, on-time rate per department, hotspots, overdue board.

Online only (read from the server each time; says so when the server cannot be reached).
Oversight roles only: anyone else is told they may not see it. Cards sit in a ResponsiveRow:
one per row on a phone, two per row on a wide screen. Every figure drawn in a chart is also
written as text under it (readable, and found by screen readers and tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import flet as ft
import flet_charts as fch

from fieldapp.api_client import ApiClient, ApiError, Rejected, ServerUnreachable
from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.dashboard_api import DashboardPayload, fetch_dashboard
from fieldapp.device import DeviceSession, use_device, use_sync_status
from fieldapp.screens.common import heading, screen_column
from fieldapp.screens.widgets import message
from fieldapp.viewmodels.dashboard import (
    PERIODS,
    BoardRow,
    Dashboard,
    HotspotRow,
    RateRow,
    TimeChart,
    bars,
    build_dashboard,
    may_see_dashboard,
    period_label,
)
from sync.reference_codec import EMPTY_REFERENCE, Reference

CHART_HEIGHT = 220
# one card per row on a phone, two from 992 px
CARD_COLUMNS: dict[str | ft.ResponsiveRowBreakpoint, int | float] = {"xs": 12, "lg": 6}
GRID = ft.Colors.OUTLINE_VARIANT
AXIS_TEXT = 12


@component
def DashboardScreen() -> ft.Control:
    env = use_app()
    session = env.state.session
    if session is None:  # the layout redirects to sign-in
        return ft.Container()
    if not may_see_dashboard(session.user.role):
        return screen_column(
            [heading(env.t("dashboard.title")), message(env.t("dashboard.not_allowed"))]
        )
    return DashboardBody(session.server_url, session.token)


@component
def DashboardBody(server_url: str, token: str) -> ft.Control:
    env = use_app()
    holder = use_device()
    period, set_period = ft.use_state("month")
    payload, set_payload = ft.use_state(cast("DashboardPayload | None", None))
    error, set_error = ft.use_state(cast("str | None", None))
    loading, set_loading = ft.use_state(True)
    attempt, set_attempt = ft.use_state(0)

    async def load() -> None:
        set_loading(True)
        set_error(None)
        client = ApiClient(server_url, token=token)
        try:
            got = await asyncio.to_thread(fetch_dashboard, client, period)
        except ServerUnreachable:
            set_error(env.t("online.offline"))
        except Rejected as exc:
            set_error(exc.reason)
        except ApiError:
            set_error(env.t("online.failed"))
        else:
            set_payload(got)
        finally:
            set_loading(False)

    ft.use_effect(load, [period, attempt])

    top: list[ft.Control] = [
        ft.Row(
            [
                ft.Container(heading(env.t("dashboard.title")), expand=True),
                ft.IconButton(
                    ft.Icons.REFRESH,
                    tooltip=env.t("online.retry"),
                    on_click=lambda: set_attempt(attempt + 1),
                    disabled=loading,
                ),
            ]
        ),
        period_selector(env, period, set_period),
    ]
    if error:
        top += [
            message(error),
            ft.OutlinedButton(
                content=env.t("online.retry"),
                icon=ft.Icons.REFRESH,
                on_click=lambda: set_attempt(attempt + 1),
            ),
        ]
    if payload is None or payload.period != period:
        if loading:
            top.append(ft.Row([ft.ProgressRing(), ft.Text(env.t("online.loading"))]))
        return screen_column(top)
    if loading:
        top.append(ft.ProgressBar())
    device = holder.device
    figures = DeviceFigures(payload, device) if device is not None else Figures(payload)
    return screen_column([*top, figures])


@component
def DeviceFigures(payload: DashboardPayload, device: DeviceSession) -> ft.Control:
    """Named from the device's reference list; re-rendered when a sync brings it."""
    use_sync_status(device)
    env = use_app()
    return cards(env, dashboard_of(env, payload, device.reference()))


@component
def Figures(payload: DashboardPayload) -> ft.Control:
    env = use_app()
    return cards(env, dashboard_of(env, payload, EMPTY_REFERENCE))


def dashboard_of(env: AppEnv, payload: DashboardPayload, reference: Reference) -> Dashboard:
    return build_dashboard(
        period=payload.period,
        on_time=payload.on_time,
        over_time=payload.over_time,
        hotspots=payload.hotspots,
        board=payload.board,
        reference=reference,
        lang=env.state.lang,
    )


def period_selector(env: AppEnv, period: str, choose: Callable[[str], None]) -> ft.Row:
    def button(p: str) -> ft.Control:
        text = period_label(p, env.state.lang)

        def pick() -> None:
            choose(p)

        if p == period:
            return ft.FilledButton(content=text, on_click=pick)
        return ft.OutlinedButton(content=text, on_click=pick)

    return ft.Row([button(p) for p in PERIODS], wrap=True, spacing=8)


def cards(env: AppEnv, dash: Dashboard) -> ft.Control:
    return ft.ResponsiveRow(
        [
            card(env.t("dashboard.over_time"), time_section(env, dash.over_time)),
            card(env.t("dashboard.on_time"), rate_section(env, dash)),
            card(env.t("dashboard.board"), board_section(env, dash.board)),
            card(env.t("dashboard.hotspots"), hotspot_section(env, dash.hotspots)),
        ],
        spacing=12,
        run_spacing=12,
    )


def card(title: str, body: list[ft.Control]) -> ft.Control:
    return ft.Card(
        col=CARD_COLUMNS,
        content=ft.Container(
            padding=14,
            content=ft.Column(
                [ft.Text(title, size=20, weight=ft.FontWeight.W_600), *body],
                spacing=10,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
        ),
    )


def muted(text: str, size: int = 15) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def axis_text(text: str) -> ft.Text:
    return ft.Text(text, size=AXIS_TEXT, color=ft.Colors.ON_SURFACE_VARIANT, no_wrap=True)


def count_axis(max_y: int) -> fch.ChartAxis:
    step = max(1, max_y // 4)
    return fch.ChartAxis(
        labels=[
            fch.ChartAxisLabel(value=v, label=axis_text(str(v))) for v in range(0, max_y + 1, step)
        ],
        label_spacing=step,
        label_size=32,
    )


# --- cases over time ---------------------------------------------------------------------------


def time_section(env: AppEnv, chart: TimeChart) -> list[ft.Control]:
    if chart.empty:
        return [muted(env.t("dashboard.over_time.empty"))]
    count = max(len(s.points) for s in chart.series)
    line = fch.LineChart(
        data_series=[
            fch.LineChartData(
                points=[fch.LineChartDataPoint(x=i, y=v) for i, v in enumerate(s.points)],
                color=s.color,
                stroke_width=3,
                point=count <= 14,
            )
            for s in chart.series
        ],
        min_x=0,
        max_x=max(count - 1, 1),
        min_y=0,
        max_y=chart.max_y,
        left_axis=count_axis(chart.max_y),
        bottom_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=i, label=axis_text(t)) for i, t in chart.x_labels],
            label_spacing=1,  # every index may carry a label; only the chosen ones have text
            label_size=28,
        ),
        horizontal_grid_lines=fch.ChartGridLines(
            interval=max(1, chart.max_y // 4), color=GRID, width=1
        ),
        vertical_grid_lines=fch.ChartGridLines(interval=max(1, count), color=GRID, width=1),
        interactive=False,
        expand=True,
    )
    legend = ft.Row(
        [
            ft.Row(
                [
                    ft.Container(width=12, height=12, border_radius=6, bgcolor=s.color),
                    ft.Text(f"{s.label} {s.latest}", size=15),
                ],
                spacing=6,
                tight=True,
            )
            for s in chart.series
        ],
        wrap=True,
        spacing=14,
        run_spacing=4,
    )
    return [ft.Container(line, height=CHART_HEIGHT, padding=ft.Padding.only(right=12)), legend]


# --- on-time rate ------------------------------------------------------------------------------


def rate_color(rate: float | None) -> str:
    if rate is None:
        return ft.Colors.OUTLINE
    if rate >= 0.9:
        return "#2E7D32"
    if rate >= 0.6:
        return "#F2A900"
    return "#C62828"


def rate_section(env: AppEnv, dash: Dashboard) -> list[ft.Control]:
    body: list[ft.Control] = []
    if dash.period_label:
        body.append(muted(env.t("dashboard.on_time.period", label=dash.period_label)))
    drawn = bars(dash.on_time)
    if not drawn:
        return [*body, muted(env.t("dashboard.on_time.none"))]
    width = 28 if len(drawn) <= 6 else 14
    chart = fch.BarChart(
        groups=[
            fch.BarChartGroup(
                x=i,
                rods=[
                    fch.BarChartRod(
                        from_y=0,
                        to_y=round((r.rate or 0.0) * 100, 1),
                        width=width,
                        color=rate_color(r.rate),
                        border_radius=ft.BorderRadius.only(top_left=4, top_right=4),
                        tooltip=f"{r.name} {r.percent}",
                    )
                ],
            )
            for i, r in enumerate(drawn)
        ],
        min_y=0,
        max_y=100,
        left_axis=fch.ChartAxis(
            labels=[fch.ChartAxisLabel(value=v, label=axis_text(f"{v}%")) for v in (0, 50, 100)],
            label_spacing=50,
            label_size=44,
        ),
        bottom_axis=fch.ChartAxis(
            labels=[
                fch.ChartAxisLabel(value=i, label=axis_text(r.axis_label))
                for i, r in enumerate(drawn)
            ],
            label_spacing=1,
            label_size=28,
        ),
        horizontal_grid_lines=fch.ChartGridLines(interval=25, color=GRID, width=1),
        interactive=False,
        expand=True,
    )
    body.append(ft.Container(chart, height=CHART_HEIGHT))
    body.extend(rate_row(env, r) for r in dash.on_time)
    return body


def rate_row(env: AppEnv, row: RateRow) -> ft.Control:
    figure = (
        env.t("dashboard.on_time.row", rate=row.percent, on_time=row.on_time, sample=row.sample)
        if row.rate is not None
        else "—"
    )
    return ft.Semantics(
        identifier=f"on-time-{row.department}",
        content=ft.Row(
            [
                ft.Container(width=10, height=10, border_radius=5, bgcolor=rate_color(row.rate)),
                ft.Text(row.name, expand=True, size=16),
                ft.Text(figure, size=16, weight=ft.FontWeight.W_600),
            ],
            spacing=8,
        ),
    )


# --- overdue board and hotspots ----------------------------------------------------------------


def count_chip(text: str, bgcolor: str, color: str) -> ft.Control:
    return ft.Container(
        content=ft.Text(text, size=14, color=color),
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        border_radius=12,
        bgcolor=bgcolor,
    )


def board_section(env: AppEnv, rows: list[BoardRow]) -> list[ft.Control]:
    if not rows:
        return [muted(env.t("dashboard.board.none"))]
    out: list[ft.Control] = []
    for r in rows:
        chips: list[ft.Control] = []
        if r.overdue:
            chips.append(
                count_chip(
                    env.t("dashboard.board.overdue", n=r.overdue),
                    ft.Colors.ERROR_CONTAINER,
                    ft.Colors.ON_ERROR_CONTAINER,
                )
            )
        if r.due_soon:
            chips.append(
                count_chip(
                    env.t("dashboard.board.due_soon", n=r.due_soon),
                    ft.Colors.TERTIARY_CONTAINER,
                    ft.Colors.ON_TERTIARY_CONTAINER,
                )
            )
        if r.disputed_overdue:
            chips.append(
                count_chip(
                    env.t("dashboard.board.disputed", n=r.disputed_overdue),
                    ft.Colors.SECONDARY_CONTAINER,
                    ft.Colors.ON_SECONDARY_CONTAINER,
                )
            )
        out.append(
            ft.Semantics(
                identifier=f"board-{r.key}",
                content=ft.Row(
                    [
                        ft.Text(r.name, size=16, expand=True),
                        ft.Row(chips, spacing=6, wrap=True, tight=True),
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
            )
        )
    return out


def hotspot_section(env: AppEnv, rows: list[HotspotRow]) -> list[ft.Control]:
    if not rows:
        return [muted(env.t("dashboard.hotspots.none"))]
    out: list[ft.Control] = []
    for index, h in enumerate(rows, start=1):
        out.append(
            ft.Row(
                [
                    ft.CircleAvatar(
                        content=ft.Text(str(index), size=14),
                        radius=14,
                        bgcolor=ft.Colors.PRIMARY_CONTAINER,
                    ),
                    ft.Column(
                        [
                            ft.Text(f"{h.matter} · {h.place}", size=16),
                            muted(
                                env.t("dashboard.hotspot.row", reports=h.reports, cases=h.cases),
                                14,
                            ),
                        ],
                        spacing=2,
                        expand=True,
                    ),
                ],
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
        )
    return out
