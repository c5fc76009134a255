"""Where the problem is, on a map and in words (docs/map.md).

- ``PlaceMap``: one map (flet-map) of a ``MapModel`` — the town/street outline, registered
  sites, other open cases coloured by urgency, the case's point and the phone. Tiles come from
  the tile server set in 设置 (``AppState.tile_url``); with none set, or none reachable, it
  draws the same on a plain background and says that tiles are unavailable.
- ``CasePlace``: the case screen's section (the place in words, the copy button, the map).
- ``InspectionMap``: the new inspection's map around the fix.
- ``NearbyMapScreen``: the 附近/我的案件 view (``/map``).

The view-models are ``fieldapp/viewmodels/case_map.py``; this module only draws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import flet as ft
import flet_map as ftm

from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.config import TileSource, tile_source
from fieldapp.device import DeviceSession, use_device, use_sync_status
from fieldapp.screens.common import screen_column
from fieldapp.screens.home import actor_of
from fieldapp.screens.widgets import back_heading, labelled, message
from fieldapp.theme import TOUCH_TARGET
from fieldapp.viewmodels.case_map import (
    NEARBY_M,
    CasePin,
    Level,
    MapModel,
    Place,
    around_me_map,
    case_map,
    inspection_map,
    place_of,
    point_of,
    tiles_unavailable,
)
from fieldapp.viewmodels.tasks import my_tasks
from sync.boundary_types import Point, Site
from sync.device_store import DeviceStore
from sync.geo import bounding_box
from sync.vocabulary import OPEN_STATUSES

GPS_TIMEOUT_S = 6.0
MAP_ROUTE = "/map"
TILE_PREFS = ("yixian.tile_url", "yixian.tile_key")
PLAIN_BACKGROUND = "#EEF1F4"  # the map without tiles: a light grey, outlines stand out
LEVEL_COLORS: dict[Level, str] = {
    Level.OVERDUE: "#C62828",  # red
    Level.DUE_SOON: "#EF6C00",  # orange
    Level.NORMAL: "#2E7D32",  # green
}
CASE_COLOR = "#6A1B9A"  # this case: purple, unlike any urgency
HERE_COLOR = "#1565C0"  # the phone: blue
SITE_COLOR = "#00838F"  # registered sites: teal
OUTLINE_COLOR = "#37474F"  # town/street outlines: blue-grey, unlike the phone's blue
# The inline map takes taps, drags and pinches, never the mouse wheel: a wheel over it scrolls
# the screen (a user on a desktop browser, and the browser tests' scrolling).
INLINE_FLAGS = (
    ftm.InteractionFlag.DRAG
    | ftm.InteractionFlag.PINCH_ZOOM
    | ftm.InteractionFlag.PINCH_MOVE
    | ftm.InteractionFlag.DOUBLE_TAP_ZOOM
)


def _ll(p: Point) -> ftm.MapLatitudeLongitude:
    return ftm.MapLatitudeLongitude(p.lat, p.lon)


async def restore_tiles(env: AppEnv) -> None:
    """The tile server this device was given in 设置 (over the app's configured default)."""
    prefs = env.services.prefs
    if prefs is None:
        return
    url = await prefs.get(TILE_PREFS[0])
    key = await prefs.get(TILE_PREFS[1])
    if isinstance(url, str):
        env.state.tile_url = url
    if isinstance(key, str):
        env.state.tile_key = key


async def save_tiles(env: AppEnv, url: str, key: str) -> None:
    env.state.tile_url, env.state.tile_key = url.strip(), key.strip()
    if env.services.prefs is not None:
        await env.services.prefs.set(TILE_PREFS[0], env.state.tile_url)
        await env.services.prefs.set(TILE_PREFS[1], env.state.tile_key)


def use_position(key: object) -> Point | None:
    """The phone's position, asked once per ``key`` (None until it answers)."""
    holder = use_device()
    here, set_here = ft.use_state(cast("Point | None", None))

    async def locate() -> None:
        try:
            pos = await asyncio.wait_for(holder.locator().get_current_position(), GPS_TIMEOUT_S)
        except Exception:
            return
        if pos.latitude is not None and pos.longitude is not None:
            set_here(Point(float(pos.latitude), float(pos.longitude)))

    ft.use_effect(locate, [key])
    return here


# --- the map ---------------------------------------------------------------------------------


def _dot(color: str, size: float, *, icon: ft.IconData | None = None) -> ft.Control:
    return ft.Container(
        width=size,
        height=size,
        border_radius=size / 2,
        bgcolor=color,
        border=ft.Border.all(2, ft.Colors.WHITE),
        alignment=ft.Alignment.CENTER,
        content=ft.Icon(icon, size=size * 0.6, color=ft.Colors.WHITE) if icon else None,
    )


def _case_marker(pin: CasePin) -> ftm.Marker:
    return ftm.Marker(
        coordinates=_ll(pin.point),
        width=28,
        height=28,
        content=ft.Container(
            content=_dot(LEVEL_COLORS[pin.level], 22),
            tooltip=pin.number,
            on_click=lambda: ft.context.page.navigate(f"/case/{pin.case_id}"),
        ),
    )


def _legend(env: AppEnv, model: MapModel) -> ft.Control:
    items: list[tuple[str, str]] = []
    if model.subject is not None and model.here is not model.subject:
        items.append((CASE_COLOR, env.t("map.legend.case")))
    if model.here is not None:
        items.append((HERE_COLOR, env.t("map.legend.here")))
    if model.sites:
        items.append((SITE_COLOR, env.t("map.legend.site")))
    levels = {pin.level for pin in model.others}
    items.extend(
        (LEVEL_COLORS[level], env.t(f"map.legend.{level.value}"))
        for level in Level
        if level in levels
    )
    return ft.Row(
        [
            ft.Row([_dot(color, 14), ft.Text(text, size=14)], spacing=4, tight=True)
            for color, text in items
        ],
        wrap=True,
        spacing=12,
        run_spacing=4,
    )


def build_map(
    model: MapModel, source: TileSource | None, on_tile_error: Callable[[], None]
) -> ftm.Map:
    """The flet-map control of ``model`` (which must have a centre): the tiles when a source
    is set, then outlines, site circles and the markers drawn on the plain background."""
    center = model.center
    assert center is not None
    layers: list[ftm.MapLayer] = []
    if source is not None:
        layers.append(
            ftm.TileLayer(
                url_template=source.url_template,
                subdomains=source.subdomains,
                additional_options={"key": source.key} if source.key else {},
                user_agent_package_name="cn.gov.yixian",
                on_image_error=on_tile_error,
            )
        )
    layers.append(
        ftm.PolygonLayer(
            polygons=[
                ftm.PolygonMarker(
                    coordinates=[_ll(p) for p in town.polygon],
                    label=town.name,
                    label_text_style=ft.TextStyle(size=14, color=OUTLINE_COLOR),
                    color=ft.Colors.with_opacity(0.06, OUTLINE_COLOR),
                    border_color=OUTLINE_COLOR,
                    border_stroke_width=2,
                )
                for town in model.outlines
                if len(town.polygon) >= 3
            ],
            draw_labels_last=True,
        )
    )
    if model.sites:
        layers.append(
            ftm.CircleLayer(
                circles=[
                    ftm.CircleMarker(
                        coordinates=_ll(site.location),
                        radius=site.radius_m,
                        use_radius_in_meter=True,
                        color=ft.Colors.with_opacity(0.18, SITE_COLOR),
                        border_color=SITE_COLOR,
                        border_stroke_width=1.5,
                    )
                    for site in model.sites
                ]
            )
        )
    markers: list[ftm.Marker] = [
        ftm.Marker(
            coordinates=_ll(site.location),
            width=24,
            height=24,
            content=ft.Container(
                content=_dot(SITE_COLOR, 20, icon=ft.Icons.FLAG), tooltip=site.name
            ),
        )
        for site in model.sites
    ]
    markers.extend(_case_marker(pin) for pin in reversed(model.others))  # nearest on top
    if model.here is not None:
        markers.append(
            ftm.Marker(
                coordinates=_ll(model.here), width=22, height=22, content=_dot(HERE_COLOR, 18)
            )
        )
    if model.subject is not None and model.subject is not model.here:
        markers.append(
            ftm.Marker(
                coordinates=_ll(model.subject),
                width=36,
                height=36,
                alignment=ft.Alignment.TOP_CENTER,
                content=ft.Icon(ft.Icons.PLACE, size=36, color=CASE_COLOR),
            )
        )
    layers.append(ftm.MarkerLayer(markers=markers))
    fit = (
        ftm.CameraFit(
            coordinates=[_ll(p) for p in model.fit],
            padding=ft.Padding.all(48),
            max_zoom=17,
        )
        if len(model.fit) >= 2
        else None
    )
    return ftm.Map(
        layers=layers,
        initial_center=_ll(center),
        initial_zoom=model.zoom,
        initial_camera_fit=fit,
        bgcolor=PLAIN_BACKGROUND,
        interaction_configuration=ftm.InteractionConfiguration(flags=INLINE_FLAGS),
        expand=True,
        # the camera is fitted once, when the map is made: a new fit (the phone's fix came)
        # makes a new map
        key=f"map-{hash((model.fit, center))}",
    )


@component
def PlaceMap(model: MapModel, height: float = 260, identifier: str = "place-map") -> ft.Control:
    """The map of ``model``, with the tiles note and a legend under it."""
    env = use_app()
    failed, set_failed = ft.use_state(False)  # a tile could not be fetched
    source = tile_source(env.state.tile_url, env.state.tile_key)
    if model.center is None:
        return message(env.t("map.no_point"), error=False)
    the_map = build_map(model, source, lambda: set_failed(True))
    parts: list[ft.Control] = [
        ft.Semantics(
            identifier=identifier,
            container=True,
            content=ft.Container(
                height=height,
                border_radius=12,
                clip_behavior=ft.ClipBehavior.HARD_EDGE,
                border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
                content=the_map,
            ),
        ),
    ]
    if tiles_unavailable(source is not None, failed):
        parts.append(
            ft.Semantics(
                identifier="map-no-tiles",
                content=ft.Row(
                    [
                        ft.Icon(ft.Icons.LAYERS_CLEAR, size=18, color=ft.Colors.ON_SURFACE_VARIANT),
                        ft.Text(
                            env.t("map.no_tiles"),
                            size=14,
                            color=ft.Colors.ON_SURFACE_VARIANT,
                            expand=True,
                        ),
                    ],
                    spacing=6,
                ),
            )
        )
    parts.append(_legend(env, model))
    return ft.Column(parts, spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


# --- the case screen's section ---------------------------------------------------------------


def distance_text(env: AppEnv, metres: int | None) -> str:
    if metres is None:
        return env.t("place.distance_unknown")
    if metres >= 1000:
        return env.t("place.distance_km", km=f"{metres / 1000:.1f}")
    return env.t("place.distance", m=metres)


def place_lines(env: AppEnv, place: Place) -> list[ft.Control]:
    """The place in words: site, town/street, address, distance, coordinates to copy."""
    none = env.t("place.none")
    lines: list[ft.Control] = [
        labelled(env.t("place.site"), place.site or none),
        labelled(env.t("place.town"), place.town or none),
    ]
    if place.address:
        lines.append(labelled(env.t("place.address"), place.address))
    lines.append(
        ft.Semantics(
            identifier="place-distance",
            content=ft.Text(distance_text(env, place.distance_m), weight=ft.FontWeight.W_600),
        )
    )
    coordinates = place.coordinates
    if coordinates is not None:

        def copied() -> None:
            ft.context.page.show_dialog(ft.SnackBar(ft.Text(env.t("place.copied"))))

        lines.append(
            ft.Row(
                [
                    ft.Container(labelled(env.t("place.coordinates"), coordinates), expand=True),
                    ft.OutlinedButton(
                        content=env.t("place.copy"),
                        icon=ft.Icons.CONTENT_COPY,
                        height=TOUCH_TARGET,
                        action=ft.CopyToClipboard(coordinates),
                        on_click=copied,
                    ),
                ],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            )
        )
    return lines


def nearby_snapshots(store: DeviceStore, point: Point | None) -> list[dict[str, Any]]:
    """Open cases in the box around ``point`` (an index read; the rule measures them)."""
    if point is None:
        return []
    return store.cases_in_box(
        bounding_box(point, NEARBY_M), statuses=[s.value for s in OPEN_STATUSES]
    )


@component
def CasePlace(device: DeviceSession, snapshot: Mapping[str, Any]) -> ft.Control:
    """The case screen's 位置 section: the place in words, then the map."""
    env = use_app()
    here = use_position(str(snapshot.get("id")))
    reference = device.reference()
    point = point_of(snapshot)
    model = case_map(
        snapshot, reference, nearby_snapshots(device.store, point), here=here, now=datetime.now(UTC)
    )
    place = place_of(snapshot, reference, here)
    return ft.Semantics(
        identifier="case-place",
        container=True,
        content=ft.Column(
            [
                ft.Text(env.t("place.title"), size=20, weight=ft.FontWeight.W_600),
                *place_lines(env, place),
                PlaceMap(model, identifier="case-map"),
            ],
            spacing=8,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        ),
    )


@component
def InspectionMap(device: DeviceSession, fix: Point | None, site: Site | None) -> ft.Control:
    """The new inspection's map: where the fix is, its site and town, open cases around."""
    model = inspection_map(
        device.reference(),
        nearby_snapshots(device.store, fix),
        fix=fix,
        site=site,
        now=datetime.now(UTC),
    )
    if model.is_empty:
        return ft.Container()
    return PlaceMap(model, height=200, identifier="inspection-map")


# --- 附近/我的案件 ----------------------------------------------------------------------------


@component
def NearbyMapScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    device = holder.device
    if device is None:
        return screen_column([back_heading(env, env.t("map.title")), ft.ProgressRing()])
    return NearbyMap(device)


@component
def NearbyMap(device: DeviceSession) -> ft.Control:
    env = use_app()
    use_sync_status(device)  # re-read after each sync
    here = use_position(device.client_id)
    reference = device.reference()
    now = datetime.now(UTC)
    actor = actor_of(env)
    cases = device.cases()
    buckets = my_tasks(cases, actor, now, reference.calendar) if actor is not None else []
    mine = [row.case_id for _bucket, rows in buckets for row in rows]
    around = nearby_snapshots(device.store, here) if here is not None else []
    known = {str(c.get("id")) for c in around}
    model = around_me_map(
        reference,
        [*around, *(c for c in cases if str(c.get("id")) in set(mine) - known)],
        here=here,
        now=now,
        mine=mine,
    )
    controls: list[ft.Control] = [back_heading(env, env.t("map.title"))]
    if here is None:
        controls.append(message(env.t("map.no_fix_mine"), error=False))
    controls.append(ft.Text(env.t("map.count", n=len(model.others))))
    controls.append(PlaceMap(model, height=480, identifier="nearby-map"))
    return screen_column(controls)
