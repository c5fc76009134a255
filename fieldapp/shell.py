"""The app shell: session start-up, routing, and the signed-in layout with a NavigationBar.

Routes (``ROUTES``)::

    /login            LoginScreen (its own View, no navigation bar)
    /                 -> /home
    /home             HomeScreen      ┐
    /new              NewCaseScreen   │ inside AppLayout: one View with the
    /case/:case_id    CaseScreen      │ NavigationBar, shown only when signed in
    /case/:case_id/dispute DisputeScreen │ (异议, online only)
    /problems         ProblemsScreen  │ (同步问题)
    /settings         SettingsScreen  │
    /dashboard        DashboardScreen │ (督办看板; its tab only for oversight roles)
    /notifications    NotificationsScreen ┘ (通知, from the bell on Home)
    /map              NearbyMapScreen   (附近/我的案件 on a map, from Home)

Signing in opens this session's device (``fieldapp.device``): its local database, photo
shelf and background sync loop, reachable from screens with ``use_device()``.

A later screen plugs in by adding a ``ft.Route`` to ``SIGNED_IN_ROUTES`` (and, for a tab, a
``NavTab`` to ``NAV_TABS``). Screens reach shared state with ``use_app()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import flet as ft

from fieldapp.app_context import AppEnv, provide_app, use_app
from fieldapp.component import component
from fieldapp.device import (
    DeviceContext,
    ObservableDeviceHolder,
    client_id_of,
    open_device,
    use_device,
)
from fieldapp.i18n import Lang, t
from fieldapp.screens.case_detail import CaseScreen
from fieldapp.screens.case_map import NearbyMapScreen, restore_tiles
from fieldapp.screens.common import LANG_PREF_KEY, Redirect
from fieldapp.screens.dashboard import DashboardScreen
from fieldapp.screens.dispute import DisputeScreen
from fieldapp.screens.home import HomeScreen
from fieldapp.screens.joint_session import JointListScreen, JointSessionScreen
from fieldapp.screens.login import LoginScreen
from fieldapp.screens.new_case import NewCaseScreen
from fieldapp.screens.notifications import NotificationsScreen
from fieldapp.screens.password import PasswordScreen
from fieldapp.screens.problems import ProblemsScreen
from fieldapp.screens.settings import SettingsScreen
from fieldapp.session_tokens import SessionTokens, forget, tokens_for, track
from fieldapp.theme import PAGE_PADDING
from fieldapp.viewmodels.app_state import Session
from fieldapp.viewmodels.dashboard import may_see_dashboard

log = logging.getLogger(__name__)

LOGIN_ROUTE = "/login"
HOME_ROUTE = "/home"


@dataclass(frozen=True)
class NavTab:
    route: str
    label_key: str
    icon: ft.IconData
    selected_icon: ft.IconData


NAV_TABS: tuple[NavTab, ...] = (
    NavTab(HOME_ROUTE, "nav.home", ft.Icons.HOME_OUTLINED, ft.Icons.HOME),
    NavTab("/new", "nav.new", ft.Icons.ADD_LOCATION_ALT_OUTLINED, ft.Icons.ADD_LOCATION_ALT),
    NavTab("/settings", "nav.settings", ft.Icons.SETTINGS_OUTLINED, ft.Icons.SETTINGS),
)


DASHBOARD_TAB = NavTab("/dashboard", "nav.dashboard", ft.Icons.INSIGHTS_OUTLINED, ft.Icons.INSIGHTS)


def nav_tabs(role: str | None) -> tuple[NavTab, ...]:
    """The tabs this user sees: ``NAV_TABS``, plus 看板 (before 设置) for oversight roles."""
    if not may_see_dashboard(role):
        return NAV_TABS
    return (*NAV_TABS[:-1], DASHBOARD_TAB, NAV_TABS[-1])


def selected_tab(is_active: dict[str, bool], tabs: Sequence[NavTab] = NAV_TABS) -> int | None:
    """Index of the tab whose route is active, or None (e.g. on a case page)."""
    for index, tab in enumerate(tabs):
        if is_active.get(tab.route):
            return index
    return None


@ft.component
def AppLayout() -> ft.View:
    """Signed-in frame: the matched screen above a NavigationBar. Sends guests to /login."""
    env = use_app()
    outlet = ft.use_route_outlet()
    signed_in = env.state.signed_in

    def guard() -> None:
        if not signed_in:
            ft.context.page.navigate(LOGIN_ROUTE)

    ft.use_effect(guard, [signed_in])
    DeviceRunner()

    on_scroll = use_scroll_places()
    tabs = nav_tabs(env.state.session.user.role if env.state.session else None)
    selected = selected_tab({tab.route: ft.is_route_active(tab.route) for tab in tabs}, tabs)

    def on_nav_change(e: ft.Event[ft.NavigationBar]) -> None:
        ft.context.page.navigate(tabs[e.control.selected_index].route)

    return ft.View(
        route="/",  # one key for every tab: no page transition between tabs
        can_pop=False,
        padding=PAGE_PADDING,
        scroll=ft.ScrollMode.AUTO,
        on_scroll=on_scroll,
        scroll_interval=100,
        controls=[outlet if signed_in else ft.ProgressRing()],
        navigation_bar=ft.NavigationBar(
            selected_index=selected if selected is not None else 0,
            on_change=on_nav_change,
            destinations=[
                ft.NavigationBarDestination(
                    icon=tab.icon,
                    selected_icon=tab.selected_icon,
                    label=env.t(tab.label_key),
                )
                for tab in tabs
            ],
        ),
    )


RESTORED_ROUTES = frozenset({HOME_ROUTE})  # lists: coming back lands where the user was


def scroll_target(route: str, offsets: dict[str, float]) -> float:
    """Where a screen opens: a list where the user left it, everything else at its top."""
    return offsets.get(route, 0.0) if route in RESTORED_ROUTES else 0.0


def use_scroll_places() -> Callable[[ft.OnScrollEvent], None]:
    """Every screen opens at its top; going back to a list restores where it was. All
    signed-in screens share one scrolling View (``AppLayout``), so without this a case opened
    from half-way down the list would open half-way down too. Called inside ``AppLayout``;
    returns the View's ``on_scroll`` handler (it remembers each route's offset)."""
    location = ft.use_route_location()
    offsets = ft.use_ref(cast("dict[str, float]", {}))
    shown = ft.use_ref("")
    shown.current = location

    def remember(e: ft.OnScrollEvent) -> None:
        if offsets.current is not None and shown.current:
            offsets.current[shown.current] = float(e.pixels)

    async def place() -> None:
        target = scroll_target(location, offsets.current or {})
        page = ft.context.page
        for view in ft.unwrap_component(page.views) or []:
            mounted = ft.unwrap_component(view)
            if isinstance(mounted, ft.View) and mounted.route == "/":
                await asyncio.sleep(0.05)  # after the new screen is laid out
                with contextlib.suppress(Exception):  # a view being replaced: nothing to do
                    await mounted.scroll_to(offset=target, duration=0)
                return

    ft.use_effect(place, [location])
    return remember


def DeviceRunner() -> None:
    """Open this session's device once signed in (registering it, then syncing in the
    background); close it on sign-out. Called inside ``AppLayout`` (shares its hooks)."""
    env = use_app()
    holder = use_device()
    session = env.state.session
    user_id = session.user.id if session else None

    async def start() -> None:
        current = env.state.session
        if current is None or holder.device is not None:
            return
        client_id = await client_id_of(env.services.prefs)
        device = await asyncio.to_thread(
            open_device,
            env.services.config.data_dir,
            client_id,
            current.server_url,
            current.user.id,
        )
        log.info("device %s opened for user %s", client_id[:8], current.user.id)
        holder.device = device

        async def remember(device_token: str) -> None:
            latest = env.state.session
            if latest is None:
                return
            updated = replace(latest, device_token=device_token)
            await env.services.token_store.save(updated)
            env.state.session = updated

        track_sign_in(env, current)
        ft.context.page.run_task(device.run, current.token, current.device_token, remember)

    def stop() -> None:
        forget(tokens_for(session.token if session else None))
        log.info("device runner cleanup (device %s)", holder.device and holder.device.client_id[:8])
        if holder.device is not None:
            holder.device.stop()
            holder.device = None

    ft.use_effect(start, [user_id], cleanup=stop)


def track_sign_in(env: AppEnv, current: Session) -> None:
    """Let this sign-in's clients refresh its access token (``fieldapp.session_tokens``): a new
    pair is kept in the token store; a refused refresh signs out (the outbox stays)."""
    if not current.refresh_token or tokens_for(current.token) is not None:
        return
    loop = asyncio.get_running_loop()
    page = ft.context.page

    async def keep(access: str, refresh: str) -> None:
        latest = env.state.session
        if latest is None:
            return
        updated = replace(latest, token=access, refresh_token=refresh)
        env.state.session = updated
        await env.services.token_store.save(updated)

    async def ended() -> None:
        await env.services.token_store.clear()
        env.state.sign_out()

    def rotated(access: str, refresh: str) -> None:  # called from a worker thread
        loop.call_soon_threadsafe(page.run_task, keep, access, refresh)

    def refused() -> None:
        loop.call_soon_threadsafe(page.run_task, ended)

    track(SessionTokens(current.token, current.refresh_token, on_rotated=rotated, on_ended=refused))


@component
def NotFound() -> ft.Control:
    env = use_app()
    return ft.Column(
        [
            ft.Text(env.t("common.not_found"), size=22),
            ft.TextButton(
                content=env.t("nav.home"), on_click=lambda: ft.context.page.navigate("/")
            ),
        ]
    )


@component
def RootRedirect() -> ft.Control:
    return Redirect(HOME_ROUTE)


SIGNED_IN_ROUTES: list[ft.Route] = [
    ft.Route(index=True, component=RootRedirect),
    ft.Route(path="home", component=HomeScreen),
    ft.Route(path="new", component=NewCaseScreen),
    ft.Route(path="case/:case_id", component=CaseScreen),
    ft.Route(path="case/:case_id/dispute", component=DisputeScreen),  # 异议 (online only)
    ft.Route(path="problems", component=ProblemsScreen),
    ft.Route(path="settings", component=SettingsScreen),
    ft.Route(path="settings/password", component=PasswordScreen),  # 修改密码 (online only)
    ft.Route(path="joint", component=JointListScreen),  # 联合办公 (online only)
    ft.Route(path="joint/:session_id", component=JointSessionScreen),
    ft.Route(path="dashboard", component=DashboardScreen),
    ft.Route(path="notifications", component=NotificationsScreen),
    ft.Route(path="map", component=NearbyMapScreen),  # 附近/我的案件 on a map
]

ROUTES: list[ft.Route] = [
    ft.Route(path="login", component=LoginScreen),
    ft.Route(component=AppLayout, outlet=True, children=SIGNED_IN_ROUTES),
]


async def restore(env: AppEnv) -> None:
    """Load what this device remembers (language, session), then mark the state ready."""
    state, services = env.state, env.services
    try:
        if services.prefs is not None:
            stored = await services.prefs.get(LANG_PREF_KEY)
            if stored in {lang.value for lang in Lang}:
                state.set_lang(Lang(str(stored)))
        await restore_tiles(env)
        session = await services.token_store.load()
        if session is not None:
            state.sign_in(session)
        state.token_storage = services.token_store.kind
    finally:
        state.ready = True


@ft.component
def App(env: AppEnv) -> ft.Control | list[ft.View]:
    """Root component, rendered with ``page.render_views(App, env)``."""
    state, _ = ft.use_state(env.state)  # subscribes App to the observable state
    holder, _ = ft.use_state(lambda: ObservableDeviceHolder())  # this session's device

    async def start() -> None:
        await restore(env)

    ft.use_effect(start, [])

    if not state.ready:
        return [
            ft.View(
                route="/",
                vertical_alignment=ft.MainAxisAlignment.CENTER,
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                controls=[ft.ProgressRing(), ft.Text(t("app.starting", state.lang))],
            )
        ]
    # With manage_views the Router renders to one ft.View per stack level.
    return provide_app(
        env,
        lambda: DeviceContext(
            holder, lambda: ft.Router(ROUTES, not_found=NotFound, manage_views=True)
        ),
    )
