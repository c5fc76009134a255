"""Pieces several screens show: a case tile, a photo strip, labelled values, a back row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import flet as ft

from fieldapp.app_context import AppEnv
from fieldapp.i18n import label_for
from fieldapp.screens.common import heading
from fieldapp.viewmodels.records import PhotoShelf
from fieldapp.viewmodels.tasks import CaseRow
from sync.clock import to_local
from sync.reference_codec import Reference

THUMB = 88


def when(moment: datetime | None) -> str:
    return "—" if moment is None else to_local(moment).strftime("%m-%d %H:%M")


def status_chip(env: AppEnv, status: str) -> ft.Container:
    return ft.Container(
        content=ft.Text(label_for("status", status, env.state.lang), size=14),
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        border_radius=12,
        bgcolor=ft.Colors.SECONDARY_CONTAINER,
    )


def case_tile(env: AppEnv, row: CaseRow, reference: Reference) -> ft.Control:
    bits = [reference.matter(row.category)]
    if row.acceptance_due_at is not None:
        bits.append(env.t("case.accept_by", when=when(row.acceptance_due_at)))
    if row.reroute_due_at is not None:
        bits.append(env.t("case.reroute_by", when=when(row.reroute_due_at)))
    if row.due_at is not None:
        bits.append(env.t("case.due", when=when(row.due_at)))
    if row.distance_m is not None:
        bits.append(env.t("home.distance", m=round(row.distance_m)))
    if row.disputed:
        bits.append(env.t("case.disputed"))
    if not row.synced:
        bits.append(env.t("case.not_synced"))
    card = ft.Card(
        content=ft.Container(
            padding=14,
            on_click=lambda: ft.context.page.navigate(f"/case/{row.case_id}"),
            content=ft.Column(
                [
                    ft.Row(
                        [
                            ft.Text(row.number, weight=ft.FontWeight.W_600, expand=True),
                            status_chip(env, row.status),
                        ]
                    ),
                    ft.Text(
                        row.description or "—",
                        max_lines=2,
                        overflow=ft.TextOverflow.ELLIPSIS,
                    ),
                    ft.Text(" · ".join(bits), size=14, color=ft.Colors.ON_SURFACE_VARIANT),
                ],
                spacing=4,
            ),
        ),
    )
    return ft.Semantics(identifier=f"case-{row.number}", content=card)  # tests find it by number


def photo_strip(shelf: PhotoShelf, shas: Sequence[str], *, missing_label: str) -> ft.Row:
    tiles: list[ft.Control] = []
    for sha in shas:
        path = shelf.thumbnail(sha)
        if path is not None:
            tiles.append(
                ft.Image(
                    src=path.read_bytes(),
                    width=THUMB,
                    height=THUMB,
                    fit=ft.BoxFit.COVER,
                    border_radius=8,
                )
            )
        else:
            tiles.append(
                ft.Container(
                    width=THUMB,
                    height=THUMB,
                    border_radius=8,
                    bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                    alignment=ft.Alignment.CENTER,
                    content=ft.Icon(ft.Icons.IMAGE_OUTLINED, tooltip=missing_label),
                )
            )
    return ft.Row(tiles, wrap=True, spacing=8, run_spacing=8)


def labelled(label: str, value: str) -> ft.Control:
    return ft.Column(
        [
            ft.Text(label, size=14, color=ft.Colors.ON_SURFACE_VARIANT),
            ft.Text(value or "—"),
        ],
        spacing=2,
    )


def back_heading(env: AppEnv, title: str, to: str = "/home") -> ft.Row:
    return ft.Row(
        [
            ft.IconButton(
                ft.Icons.ARROW_BACK,
                tooltip=env.t("nav.back"),
                on_click=lambda: ft.context.page.navigate(to),
            ),
            ft.Container(heading(title), expand=True),
        ]
    )


def message(text: str | None, *, error: bool = True) -> ft.Text:
    return ft.Text(
        text or "",
        color=ft.Colors.ERROR if error else ft.Colors.TERTIARY,
        size=16,
        visible=bool(text),
    )


def toast(text: str) -> None:
    """Say that something went through (or what happened to the case): a snackbar that
    stays across a navigation (every signed-in screen shares one View)."""
    ft.context.page.show_dialog(
        ft.SnackBar(
            content=ft.Text(text),
            behavior=ft.SnackBarBehavior.FLOATING,
            duration=ft.Duration(milliseconds=4000),
        )
    )


def photo_progress(env: AppEnv, index: int, total: int) -> list[ft.Control]:
    """正在处理照片 2/3…: a photo takes seconds to process on a phone."""
    return [
        ft.Text(env.t("photo.processing", n=index, total=total), color=ft.Colors.PRIMARY),
        ft.ProgressBar(value=(index - 1) / total if total else None),
    ]
