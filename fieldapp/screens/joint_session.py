"""Joint on-site sessions (联合办公) on the phone. Online only: every call goes to the server,
and the screen says 需要网络 when it cannot be reached.

``/joint``               my sessions (open first); a supervisor starts one at a site
``/joint/:session_id``   the session: departments invited and who checked in (签到 with the
                         phone's position), the points with their cases' progress to closure,
                         recording a point with duties divided on the spot, and 结束并生成纪要
``JointEntry``           the home screen's small entry, for organizers and invited departments
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import flet as ft

from fieldapp.api_client import ApiClient
from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.device import DeviceHolder, DeviceSession, use_device
from fieldapp.i18n import label_for
from fieldapp.joint_api import JointApi, JointSession, Minute, SessionPoint, SessionSummary
from fieldapp.screens.common import screen_column
from fieldapp.screens.online import (
    call,
    minute_download_button,
    problem_text,
)
from fieldapp.screens.widgets import back_heading, message, status_chip, when
from fieldapp.theme import TOUCH_TARGET, field, primary_button
from fieldapp.viewmodels.joint_session import (
    OPEN,
    ConcludeForm,
    ConveneForm,
    PointForm,
    attendance,
    may_add_point,
    may_check_in,
    may_conclude,
    may_convene,
    open_first,
    open_invitations,
    point_progress,
    present_departments,
    shows_home_entry,
    suggested_facts,
)
from sync.boundary_types import Point
from sync.lifecycle import Actor
from sync.reference_codec import Reference
from sync.vocabulary import Role

T = TypeVar("T")
GPS_TIMEOUT_S = 6.0
POINT_FORM, CONCLUDE_FORM = "point", "conclude"


# --- plumbing ----------------------------------------------------------------------------------


def actor_of(env: AppEnv) -> Actor | None:
    session = env.state.session
    if session is None:
        return None
    try:
        role = Role(session.user.role)
    except ValueError:
        role = Role.INSPECTOR
    return Actor(session.user.id, role, session.user.department_code or "")


def api_of(env: AppEnv) -> JointApi | None:
    session = env.state.session
    if session is None:
        return None
    return JointApi(ApiClient(session.server_url, token=session.token))


def use_once(factory: Callable[[], T]) -> T:
    """A value made once per mounted component (a form, a new case's id)."""
    value, _ = ft.use_state(cast(Any, factory))
    return cast(T, value)


async def where_am_i(holder: DeviceHolder) -> Point | None:
    try:
        pos = await asyncio.wait_for(holder.locator().get_current_position(), GPS_TIMEOUT_S)
    except Exception:  # no fix, no permission: check in without a position
        return None
    if pos.latitude is None or pos.longitude is None:
        return None
    return Point(float(pos.latitude), float(pos.longitude))


def picker(identifier: str, dropdown: ft.Dropdown) -> ft.Control:
    """A dropdown tests can find (Flutter names its button by nothing)."""
    return ft.Semantics(identifier=identifier, content=dropdown)


def section(text: str) -> ft.Text:
    return ft.Text(text, size=20, weight=ft.FontWeight.W_600)


def muted(text: str, size: int = 15) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def card(controls: list[ft.Control], on_click: Callable[[], None] | None = None) -> ft.Card:
    return ft.Card(
        content=ft.Container(
            padding=14, on_click=on_click, content=ft.Column(controls, spacing=6, tight=True)
        )
    )


def session_chip(env: AppEnv, status: str) -> ft.Container:
    return ft.Container(
        content=ft.Text(label_for("joint.status", status, env.state.lang), size=14),
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        border_radius=12,
        bgcolor=ft.Colors.TERTIARY_CONTAINER if status == OPEN else ft.Colors.SURFACE_CONTAINER,
    )


def offline_block(env: AppEnv, text: str, retry: Callable[[], Any]) -> list[ft.Control]:
    return [
        ft.Row(
            [
                ft.Icon(ft.Icons.CLOUD_OFF, color=ft.Colors.ERROR),
                ft.Text(text, color=ft.Colors.ERROR, expand=True),
            ]
        ),
        ft.OutlinedButton(
            content=env.t("joint.retry"), icon=ft.Icons.REFRESH, on_click=retry, height=48
        ),
    ]


# --- home entry --------------------------------------------------------------------------------


@component
def JointEntry() -> ft.Control:
    """A small 联合办公 card on the home screen: organizers always see it; a department sees it
    while an open session invites it (needs the server; hidden offline for departments)."""
    env = use_app()
    actor = actor_of(env)
    rows, set_rows = ft.use_state(cast("list[SessionSummary]", []))

    async def load() -> None:
        api = api_of(env)
        if api is None:
            return
        try:
            set_rows(await call(api.my_sessions, OPEN))
        except Exception:  # offline: organizers still see the entry, departments do not
            return

    ft.use_effect(load, [])
    if actor is None or not shows_home_entry(actor, rows):
        return ft.Container()
    invited = open_invitations(actor, rows)
    detail = (
        env.t("joint.entry_open", n=len(invited)) if invited else env.t("joint.entry_organizer")
    )
    return ft.Semantics(
        identifier="joint-entry",
        content=card(
            [
                ft.Row(
                    [
                        ft.Icon(ft.Icons.GROUPS, color=ft.Colors.PRIMARY),
                        ft.Text(env.t("joint.entry"), weight=ft.FontWeight.W_600, expand=True),
                        ft.Icon(ft.Icons.CHEVRON_RIGHT),
                    ]
                ),
                muted(detail),
            ],
            on_click=lambda: ft.context.page.navigate("/joint"),
        ),
    )


# --- my sessions -------------------------------------------------------------------------------


@component
def JointListScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    actor = actor_of(env)
    rows, set_rows = ft.use_state(cast("list[SessionSummary] | None", None))
    error, set_error = ft.use_state(cast("str | None", None))
    creating, set_creating = ft.use_state(False)

    async def load() -> None:
        api = api_of(env)
        if api is None:
            return
        set_error(None)
        try:
            set_rows(open_first(await call(api.my_sessions)))
        except Exception as exc:
            set_error(problem_text(env, exc, "joint"))

    ft.use_effect(load, [])
    controls: list[ft.Control] = [back_heading(env, env.t("joint.title"))]
    device = holder.device
    if actor is not None and may_convene(actor) and device is not None:
        if creating:
            controls.append(ConveneCard(device, actor, lambda: set_creating(False)))
        else:
            controls.append(
                primary_button(
                    env.t("joint.convene"),
                    icon=ft.Icons.GROUP_ADD,
                    on_click=lambda: set_creating(True),
                )
            )
    if error:
        controls.extend(offline_block(env, error, load))
    elif rows is None:
        controls.append(ft.ProgressRing())
    elif not rows:
        controls.append(muted(env.t("joint.none"), 16))
    for row in rows or []:
        controls.append(summary_card(env, row))
    return screen_column(controls)


def summary_card(env: AppEnv, row: SessionSummary) -> ft.Control:
    return ft.Semantics(
        identifier=f"joint-session-{row.id}",
        content=card(
            [
                ft.Row(
                    [
                        ft.Text(row.title, weight=ft.FontWeight.W_600, expand=True),
                        session_chip(env, row.status),
                    ]
                ),
                muted(f"{row.place or '—'} · {env.t('joint.started', when=when(row.started_at))}"),
                muted(
                    env.t(
                        "joint.summary",
                        present=len(row.checked_in),
                        invited=len(row.called_departments),
                        closed=row.closed_points,
                        points=row.points,
                    )
                ),
            ],
            on_click=lambda: ft.context.page.navigate(f"/joint/{row.id}"),
        ),
    )


@component
def ConveneCard(device: DeviceSession, actor: Actor, cancel: Callable[[], None]) -> ft.Control:
    env = use_app()
    reference = device.reference()
    form = use_once(lambda: ConveneForm(own_department=actor.department))
    _, set_tick = ft.use_state(0)
    busy, set_busy = ft.use_state(False)
    error, set_error = ft.use_state(cast("str | None", None))

    def refresh() -> None:
        set_tick(lambda n: n + 1)

    def choose_site(e: ft.Event[ft.Dropdown]) -> None:
        site = reference.site(e.control.value)
        if site is not None:
            form.choose_site(site, reference, datetime.now(UTC))
            refresh()

    def invite(code: str, on: bool) -> None:
        form.toggle(code, on)
        refresh()

    def add_department(e: ft.Event[ft.Dropdown]) -> None:
        if e.control.value:
            form.toggle(e.control.value, True)
            refresh()

    def on_title(e: ft.Event[ft.TextField]) -> None:
        form.title = e.control.value or ""

    def on_purpose(e: ft.Event[ft.TextField]) -> None:
        form.purpose = e.control.value or ""

    async def start() -> None:
        api = api_of(env)
        if api is None or busy:
            return
        if not form.validate():
            refresh()
            return
        set_busy(True)
        set_error(None)
        try:
            created = await call(
                api.convene,
                title=form.title.strip(),
                purpose=form.purpose.strip(),
                place=form.place,
                location=form.location,
                departments=form.departments,
            )
        except Exception as exc:
            set_error(problem_text(env, exc, "joint"))
            set_busy(False)
            return
        ft.context.page.navigate(f"/joint/{created.id}")

    def err(name: str) -> str | None:
        key = form.errors.get(name)
        return env.t(key) if key else None

    others = [
        d
        for d in reference.departments
        if d.code not in form.departments and d.code != actor.department
    ]
    controls: list[ft.Control] = [
        section(env.t("joint.convene")),
        picker(
            "joint-site",
            ft.Dropdown(
                label=env.t("joint.site"),
                value=form.site_code,
                options=[ft.DropdownOption(key=s.code, text=s.name) for s in reference.sites],
                on_select=choose_site,
                menu_height=420,
            ),
        ),
        field(
            env.t("joint.session_title"),
            value=form.title,
            on_change=on_title,
            error=err("title"),
        ),
        field(env.t("joint.purpose"), value=form.purpose, on_change=on_purpose),
        muted(env.t("joint.invite")),
    ]
    for code in form.departments:
        controls.append(
            ft.Checkbox(
                label=reference.department_name(code),
                value=True,
                on_change=lambda e, c=code: invite(c, bool(e.control.value)),
            )
        )
    controls.append(message(err("departments")))
    controls.append(
        picker(
            "joint-add-department",
            ft.Dropdown(
                label=env.t("joint.add_department"),
                value=None,
                options=[
                    ft.DropdownOption(key=d.code, text=d.short_name or d.name) for d in others
                ],
                on_select=add_department,
                menu_height=420,
            ),
        )
    )
    controls.append(message(error))
    controls.append(
        primary_button(
            env.t("joint.start"), icon=ft.Icons.PLAY_ARROW, on_click=start, disabled=busy
        )
    )
    controls.append(ft.TextButton(content=env.t("joint.cancel"), on_click=cancel))
    return card(controls)


# --- one session -------------------------------------------------------------------------------


@component
def JointSessionScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    session_id = ft.use_route_params().get("session_id", "")
    actor = actor_of(env)
    js, set_js = ft.use_state(cast("JointSession | None", None))
    error, set_error = ft.use_state(cast("str | None", None))
    notice, set_notice = ft.use_state(cast("str | None", None))
    form, set_form = ft.use_state(cast("str | None", None))
    busy, set_busy = ft.use_state(False)
    minute, set_minute = ft.use_state(cast("Minute | None", None))

    async def load() -> None:
        api = api_of(env)
        if api is None:
            return
        set_error(None)
        try:
            fresh = await call(api.session, session_id)
            set_js(fresh)
            if fresh.minute_id:
                set_minute(await call(api.minute, fresh.minute_id))
        except Exception as exc:
            set_error(problem_text(env, exc, "joint"))

    ft.use_effect(load, [session_id])

    async def check_in() -> None:
        api = api_of(env)
        if api is None or busy:
            return
        set_busy(True)
        set_notice(env.t("joint.checking_in"))
        here = await where_am_i(holder)
        try:
            set_js(await call(api.check_in, session_id, here))
            set_notice(None)
        except Exception as exc:
            set_notice(problem_text(env, exc, "joint"))
        set_busy(False)

    def point_saved(updated: JointSession) -> None:
        set_js(updated)
        set_form(None)
        number = updated.points[-1].case.number if updated.points else ""
        set_notice(env.t("joint.saved_point", number=number))
        if holder.device is not None:
            holder.device.request_sync()  # bring the new case to this phone

    async def concluded(updated: JointSession) -> None:
        set_js(updated)
        set_form(None)
        api = api_of(env)
        if api is not None and updated.minute_id:
            try:
                set_minute(await call(api.minute, updated.minute_id))
            except Exception as exc:
                set_notice(problem_text(env, exc, "joint"))

    controls: list[ft.Control] = [back_heading(env, env.t("joint.title"), to="/joint")]
    device = holder.device
    if error:
        return screen_column([*controls, *offline_block(env, error, load)])
    if js is None or actor is None or device is None:
        return screen_column([*controls, ft.ProgressRing()])
    reference = device.reference()
    controls.append(header(env, js))
    if form == POINT_FORM:  # the form alone: what the user works on, near the top
        controls.append(PointFormCard(device, js, point_saved, lambda: set_form(None)))
        return screen_column(controls)
    if form == CONCLUDE_FORM:
        controls.append(ConcludeCard(js, concluded, lambda: set_form(None)))
        return screen_column(controls)
    if minute is not None:
        download = minute_download_button(
            env, holder.file_picker(), minute, on_problem=set_notice, screen="joint"
        )
        controls.append(minute_card(env, js, minute, reference, download))
    controls.append(message(notice, error=False))
    controls.extend(attendance_block(env, js, reference))
    if may_check_in(actor, js):
        controls.append(
            ft.FilledTonalButton(
                content=env.t("joint.check_in"),
                icon=ft.Icons.HOW_TO_REG,
                height=TOUCH_TARGET,
                on_click=check_in,
                disabled=busy,
            )
        )
    if may_add_point(actor, js):
        controls.append(
            ft.OutlinedButton(
                content=env.t("joint.add_point"),
                icon=ft.Icons.ADD_LOCATION_ALT,
                height=TOUCH_TARGET,
                on_click=lambda: set_form(POINT_FORM),
            )
        )
    if may_conclude(actor, js):
        controls.append(
            primary_button(
                env.t("joint.conclude"),
                icon=ft.Icons.DESCRIPTION,
                on_click=lambda: set_form(CONCLUDE_FORM),
            )
        )
    controls.extend(points_block(env, js, reference))
    controls.append(
        ft.TextButton(content=env.t("joint.refresh"), icon=ft.Icons.REFRESH, on_click=load)
    )
    return screen_column(controls)


def header(env: AppEnv, js: JointSession) -> ft.Control:
    return ft.Column(
        [
            ft.Row(
                [
                    ft.Text(js.title, size=20, weight=ft.FontWeight.W_600, expand=True),
                    session_chip(env, js.status),
                ]
            ),
            muted(f"{js.place or '—'} · {env.t('joint.started', when=when(js.started_at))}"),
        ],
        spacing=4,
    )


def attendance_block(env: AppEnv, js: JointSession, reference: Reference) -> list[ft.Control]:
    out: list[ft.Control] = [section(env.t("joint.attendance"))]
    for row in attendance(js):
        c = row.check_in
        if c is None:
            state = env.t("joint.not_checked_in")
        elif c.where is not None:
            state = env.t(
                "joint.checked_in_at",
                when=when(c.at),
                lat=f"{c.where.lat:.4f}",
                lon=f"{c.where.lon:.4f}",
            )
        else:
            state = env.t("joint.checked_in", when=when(c.at))
        who = reference.department_name(row.department)
        if c is not None and c.display_name:
            who = f"{who} · {c.display_name}"
        out.append(
            ft.Semantics(
                identifier=f"attendance-{row.department}",
                content=ft.Row(
                    [
                        ft.Icon(
                            ft.Icons.CHECK_CIRCLE if c else ft.Icons.RADIO_BUTTON_UNCHECKED,
                            color=ft.Colors.PRIMARY if c else ft.Colors.OUTLINE,
                        ),
                        ft.Column([ft.Text(who), muted(state, 14)], spacing=0, expand=True),
                    ]
                ),
            )
        )
    return out


def points_block(env: AppEnv, js: JointSession, reference: Reference) -> list[ft.Control]:
    out: list[ft.Control] = [section(env.t("joint.points"))]
    if not js.points:
        out.append(muted(env.t("joint.no_points"), 16))
        return out
    out.append(
        ft.Text(
            env.t("joint.all_closed")
            if js.all_closed
            else env.t("joint.closed_count", closed=js.closed_points, points=len(js.points)),
            color=ft.Colors.PRIMARY if js.all_closed else ft.Colors.ON_SURFACE_VARIANT,
            weight=ft.FontWeight.W_600,
        )
    )
    now = datetime.now(UTC)
    for point in js.points:
        out.append(point_card(env, point, reference, now))
    return out


def point_card(env: AppEnv, point: SessionPoint, reference: Reference, now: datetime) -> ft.Control:
    c = point.case
    progress = point_progress(c, now)
    status = label_for("status", c.status, env.state.lang)
    parts = "；".join(f"{reference.department_name(a.department)}（{a.duty}）" for a in c.assisting)
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(point.label or c.number, weight=ft.FontWeight.W_600, expand=True),
                status_chip(env, c.status),
            ]
        ),
        muted(f"{c.number} · {c.description}", 14),
        ft.ProgressBar(
            value=progress.fraction,
            color=ft.Colors.PRIMARY if not progress.overdue else ft.Colors.ERROR,
        ),
        muted(env.t("joint.progress", step=progress.step, of=progress.of, status=status), 14),
        ft.Text(
            env.t(
                "joint.lead",
                department=reference.department_name(c.lead_department),
                when=when(c.due_at),
            ),
            size=15,
        ),
    ]
    if parts:
        lines.append(ft.Text(env.t("joint.assisting", parts=parts), size=15))
    if progress.overdue:
        lines.append(ft.Text(env.t("joint.overdue"), color=ft.Colors.ERROR, size=15))
    return ft.Semantics(
        identifier=f"joint-point-{c.number}",
        content=card(lines, on_click=lambda: ft.context.page.navigate(f"/case/{c.id}")),
    )


def minute_card(
    env: AppEnv,
    js: JointSession,
    minute: Minute,
    reference: Reference,
    download: ft.Control | None,
) -> ft.Control:
    """The generated minute: its title, file, and the decision per department it records."""
    decisions: dict[str, list[str]] = {}
    for p in js.points:
        lead = p.case.lead_department or ""
        decisions.setdefault(lead, []).append(f"{p.label}：主办，时限 {when(p.case.due_at)}")
        for a in p.case.assisting:
            decisions.setdefault(a.department, []).append(f"{p.label}：{a.duty}")
    rows: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(ft.Icons.DESCRIPTION, color=ft.Colors.PRIMARY),
                ft.Text(env.t("joint.minute_ready"), weight=ft.FontWeight.W_600, expand=True),
            ]
        ),
        ft.Text(minute.title),
        muted(env.t("joint.minute_file", file=minute.download.rsplit("/", 2)[-2][:8]), 14),
        *([download] if download is not None else []),
        muted(env.t("joint.decisions"), 14),
    ]
    for dept, items in decisions.items():
        rows.append(ft.Text(reference.department_name(dept), weight=ft.FontWeight.W_600, size=15))
        rows.extend(ft.Text(f"· {item}", size=14) for item in items)
    return ft.Semantics(identifier="joint-minute", content=card(rows))


@component
def PointFormCard(
    device: DeviceSession,
    js: JointSession,
    saved: Callable[[JointSession], None],
    cancel: Callable[[], None],
) -> ft.Control:
    env = use_app()
    holder = use_device()
    reference = device.reference()
    form = use_once(PointForm)
    _, set_tick = ft.use_state(0)
    locating, set_locating = ft.use_state(True)
    busy, set_busy = ft.use_state(False)
    error, set_error = ft.use_state(cast("str | None", None))
    case_id = use_once(lambda: str(uuid.uuid4()))
    present = present_departments(js)
    now = datetime.now(UTC)

    def refresh() -> None:
        set_tick(lambda n: n + 1)

    async def locate() -> None:
        here = await where_am_i(holder)
        if form.location is None and here is not None:
            form.location = here
        set_locating(False)

    ft.use_effect(locate, [])

    def choose_site(e: ft.Event[ft.Dropdown]) -> None:
        site = reference.site(e.control.value)
        if site is not None:
            form.choose_site(site)
            refresh()

    def choose_category(e: ft.Event[ft.Dropdown]) -> None:
        form.category = e.control.value or None
        refresh()

    def choose_lead(e: ft.Event[ft.Dropdown]) -> None:
        form.choose_lead(e.control.value or None)
        refresh()

    def setter(name: str) -> Callable[[ft.Event[ft.TextField]], None]:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(form, name, e.control.value or "")

        return on_change

    def duty_setter(code: str, name: str) -> Callable[[ft.Event[ft.TextField]], None]:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(form.draft(code), name, e.control.value or "")

        return on_change

    def toggle(code: str, on: bool) -> None:
        form.toggle_assisting(code, on, reference, datetime.now(UTC))
        refresh()

    async def save() -> None:
        api = api_of(env)
        if api is None or busy:
            return
        point = form.new_point(case_id, present, datetime.now(UTC))
        if point is None:
            refresh()
            return
        set_busy(True)
        set_error(None)
        try:
            updated = await call(api.add_point, js.id, point)
        except Exception as exc:
            set_error(problem_text(env, exc, "joint"))
            set_busy(False)
            return
        saved(updated)

    def err(name: str) -> str | None:
        key = form.errors.get(name)
        return env.t(key) if key else None

    site = reference.site(form.site_code)
    if site is not None:
        where = env.t("joint.location_site", name=site.name)
    elif form.location is not None:
        where = env.t(
            "joint.location_gps", lat=f"{form.location.lat:.5f}", lon=f"{form.location.lon:.5f}"
        )
    else:
        where = env.t("joint.locating") if locating else ""
    controls: list[ft.Control] = [
        section(env.t("joint.add_point")),
        picker(
            "point-site",
            ft.Dropdown(
                label=env.t("joint.point_site"),
                value=form.site_code,
                options=[ft.DropdownOption(key=s.code, text=s.name) for s in reference.sites],
                on_select=choose_site,
                menu_height=420,
            ),
        ),
        muted(where),
        message(err("location")),
        picker(
            "point-category",
            ft.Dropdown(
                label=env.t("joint.category"),
                value=form.category,
                options=[ft.DropdownOption(key=c, text=m) for c, m in reference.categories(now)],
                on_select=choose_category,
                error_text=err("category"),
                menu_height=420,
            ),
        ),
        field(env.t("joint.point_label"), value=form.label, on_change=setter("label")),
        field(
            env.t("joint.description"),
            value=form.description,
            on_change=setter("description"),
            error=err("description"),
        ),
        picker(
            "point-lead",
            ft.Dropdown(
                label=env.t("joint.lead_department"),
                value=form.lead,
                options=[
                    ft.DropdownOption(key=code, text=reference.department_name(code))
                    for code in present
                ],
                on_select=choose_lead,
                error_text=err("lead_department"),
            ),
        ),
        field(
            env.t("joint.lead_days"),
            value=form.lead_days,
            on_change=setter("lead_days"),
            error=err("lead_days"),
            keyboard_type=ft.KeyboardType.NUMBER,
        ),
        muted(env.t("joint.duties")),
        muted(env.t("joint.only_present"), 14),
    ]
    for code in present:
        if code == form.lead:
            continue
        name = reference.department_name(code)
        draft = form.draft(code)
        controls.append(
            ft.Checkbox(
                label=name,
                value=draft.selected,
                on_change=lambda e, c=code: toggle(c, bool(e.control.value)),
            )
        )
        if draft.selected:
            controls.append(
                field(
                    env.t("joint.duty_of", department=name),
                    value=draft.duty,
                    on_change=duty_setter(code, "duty"),
                    error=err(f"duties.{code}.duty"),
                )
            )
            controls.append(
                field(
                    env.t("joint.days_of", department=name),
                    value=draft.days,
                    on_change=duty_setter(code, "days"),
                    error=err(f"duties.{code}.days"),
                    keyboard_type=ft.KeyboardType.NUMBER,
                )
            )
            controls.append(message(err(f"duties.{code}.department")))
    controls.append(message(error))
    controls.append(
        primary_button(env.t("joint.save_point"), icon=ft.Icons.CHECK, on_click=save, disabled=busy)
    )
    controls.append(ft.TextButton(content=env.t("joint.cancel"), on_click=cancel))
    return card(controls)


@component
def ConcludeCard(
    js: JointSession,
    concluded: Callable[[JointSession], Any],
    cancel: Callable[[], None],
) -> ft.Control:
    env = use_app()
    form = use_once(lambda: ConcludeForm(facts=suggested_facts(js)))
    _, set_tick = ft.use_state(0)
    busy, set_busy = ft.use_state(False)
    error, set_error = ft.use_state(cast("str | None", None))

    def on_facts(e: ft.Event[ft.TextField]) -> None:
        form.facts = e.control.value or ""

    def on_basis(e: ft.Event[ft.TextField]) -> None:
        form.legal_basis = e.control.value or ""

    async def submit() -> None:
        api = api_of(env)
        if api is None or busy:
            return
        if not form.validate():
            set_tick(lambda n: n + 1)
            return
        set_busy(True)
        set_error(None)
        try:
            updated = await call(
                api.conclude, js.id, facts=form.facts.strip(), legal_basis=form.legal_basis.strip()
            )
        except Exception as exc:
            set_error(problem_text(env, exc, "joint"))
            set_busy(False)
            return
        await concluded(updated)

    facts_error = form.errors.get("facts")
    return card(
        [
            section(env.t("joint.conclude")),
            ft.TextField(
                label=env.t("joint.facts"),
                value=form.facts,
                multiline=True,
                min_lines=3,
                max_lines=6,
                on_change=on_facts,
                error=env.t(facts_error) if facts_error else None,
                border_radius=12,
            ),
            field(env.t("joint.legal_basis"), value=form.legal_basis, on_change=on_basis),
            message(error),
            primary_button(
                env.t("joint.conclude"), icon=ft.Icons.DESCRIPTION, on_click=submit, disabled=busy
            ),
            ft.TextButton(content=env.t("joint.cancel"), on_click=cancel),
        ]
    )
