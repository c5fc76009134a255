"""异议 (dispute) screen, ``/case/:case_id/dispute``: the case's dispute from raising to ruling.

Online only: it reads ``GET /workflow/cases/{id}`` and acts through the dispute endpoints, and
says 需要网络 when the server cannot be reached. It shows the stage (主办协商 → 编办协调 →
联合会商认定) with its deadline, the involved departments and their positions, and only the
steps this user may take (the rules of ``sync.disputes``); a refusal shows the server's reason.
After a ruling: who is responsible, the ruling, and the generated minute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import flet as ft

from fieldapp.api_client import ApiClient
from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.device import use_device
from fieldapp.dispute_api import CaseWork, DisputeApi
from fieldapp.i18n import label_for
from fieldapp.screens.common import screen_column
from fieldapp.screens.home import actor_of
from fieldapp.screens.online import (
    call,
    minute_download_button,
    problem_text,
)
from fieldapp.screens.widgets import back_heading, labelled, message, when
from fieldapp.theme import TOUCH_TARGET, field, primary_button
from fieldapp.viewmodels.dispute import (
    STAGES,
    ConsultForm,
    DisputeView,
    PositionForm,
    PositionRow,
    ReasonForm,
    RulingForm,
    RulingView,
    Step,
    build_view,
)
from sync.reference_codec import EMPTY_REFERENCE, Reference

T = TypeVar("T")
Form = PositionForm | ReasonForm | ConsultForm | RulingForm


def muted(text: str, size: int = 15) -> ft.Text:
    return ft.Text(text, size=size, color=ft.Colors.ON_SURFACE_VARIANT)


def card(lines: list[ft.Control], identifier: str) -> ft.Control:
    return ft.Semantics(
        identifier=identifier,
        content=ft.Card(
            content=ft.Container(
                padding=14,
                content=ft.Column(
                    lines, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH
                ),
            )
        ),
    )


@component
def DisputeScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    case_id = ft.use_route_params().get("case_id", "")
    session = env.state.session
    actor = actor_of(env)
    work, set_work = ft.use_state(cast("CaseWork | None", None))
    error, set_error = ft.use_state(cast("str | None", None))
    notice, set_notice = ft.use_state(cast("str | None", None))
    loading, set_loading = ft.use_state(True)
    attempt, set_attempt = ft.use_state(0)
    open_step, set_open_step = ft.use_state(cast("Step | None", None))
    form, set_form = ft.use_state(cast("Form | None", None))
    _, set_tick = ft.use_state(0)
    busy, set_busy = ft.use_state(False)
    tried, set_tried = ft.use_state(False)  # show the form's errors once a submit was refused
    api = (
        DisputeApi(ApiClient(session.server_url, token=session.token))
        if session is not None
        else None
    )

    async def load() -> None:
        if api is None:
            return
        set_loading(True)
        try:
            got = await call(api.case_work, case_id)
        except Exception as exc:
            set_error(problem_text(env, exc, "dispute"))
        else:
            set_work(got)
            set_error(None)
        finally:
            set_loading(False)

    ft.use_effect(load, [case_id, attempt])

    device = holder.device
    reference: Reference = device.reference() if device is not None else EMPTY_REFERENCE
    number = work.number if work is not None else case_id[:8]
    controls: list[ft.Control] = [
        back_heading(env, env.t("dispute.title", number=number), to=f"/case/{case_id}")
    ]
    if error and work is None:  # nothing loaded: say why, offer a retry
        controls += [
            message(error),
            ft.OutlinedButton(
                content=env.t("dispute.retry"),
                icon=ft.Icons.REFRESH,
                height=TOUCH_TARGET,
                on_click=lambda: set_attempt(attempt + 1),
            ),
        ]
    if work is None or actor is None or api is None:
        if loading and not error:
            controls.append(ft.Row([ft.ProgressRing(), ft.Text(env.t("dispute.loading"))]))
        return screen_column(controls)
    view = build_view(work, actor, reference, now=datetime.now(UTC))
    if view is None:
        controls.append(ft.Text(env.t("dispute.none")))
        return screen_column(controls)

    def refresh() -> None:
        set_tick(lambda n: n + 1)

    def start(step: Step) -> None:
        assert view is not None and work is not None and actor is not None
        dispute = view.dispute
        made: Form
        if step is Step.POSITION:
            made = PositionForm()
        elif step is Step.CONSULT:
            made = ConsultForm.for_dispute(dispute, actor)
        elif step is Step.SETTLE:
            made = RulingForm.for_dispute(work, dispute, actor)
        else:
            made = ReasonForm(required=step is Step.SUSPEND)
        set_form(made)
        set_open_step(step)
        set_tried(False)
        set_error(None)
        set_notice(None)

    def close() -> None:
        set_form(None)
        set_open_step(None)

    async def submit() -> None:
        if form is None or open_step is None or busy or api is None or work is None:
            return
        assert view is not None
        if form.errors():
            set_tried(True)  # show each error under its field
            refresh()
            return
        did = view.dispute.id
        set_busy(True)
        try:
            if isinstance(form, PositionForm):
                await call(
                    api.state_position,
                    did,
                    not_ours=bool(form.not_ours),
                    reason=form.reason,
                    legal_basis=form.legal_basis,
                )
            elif isinstance(form, ConsultForm):
                await call(api.call_consultation, work.case_id, form.departments, form.note)
            elif isinstance(form, RulingForm):
                ruling = form.ruling(work, reference, now=datetime.now(UTC))
                await call(api.settle, did, ruling)
            elif open_step is Step.SUSPEND:
                await call(api.suspend, did, form.reason)
            else:
                await call(api.escalate, did, form.reason)
            fresh = await call(api.case_work, work.case_id)
        except Exception as exc:
            set_error(problem_text(env, exc, "dispute"))
            return
        finally:
            set_busy(False)
        set_work(fresh)
        set_notice(env.t(f"dispute.done.{open_step.value}"))
        close()

    async def resume() -> None:
        if api is None or work is None or busy:
            return
        assert view is not None
        set_busy(True)
        try:
            await call(api.resume, view.dispute.id)
            fresh = await call(api.case_work, work.case_id)
        except Exception as exc:
            set_error(problem_text(env, exc, "dispute"))
            return
        finally:
            set_busy(False)
        set_work(fresh)
        set_notice(env.t("dispute.done.resume"))

    controls.append(work_goes_on(env, work))
    controls.append(dispute_card(env, view))
    if view.ruling is not None:
        minute = view.ruling.minute
        download = (
            minute_download_button(
                env, holder.file_picker(), minute, on_problem=set_error, screen="dispute"
            )
            if minute is not None
            else None
        )
        controls.append(ruling_card(env, view.ruling, download))
    controls.append(message(notice, error=False))
    controls.append(message(error))  # a refusal: the server's own reason, or 需要网络
    if form is None or open_step is None:
        buttons: list[ft.Control] = []
        for step in view.steps:
            label = step_label(env, step, view)
            if step is Step.RESUME:
                buttons.append(ft.FilledButton(content=label, height=TOUCH_TARGET, on_click=resume))
            elif step is Step.SUSPEND:  # the exception, not the way forward
                buttons.append(
                    ft.OutlinedButton(
                        content=label, height=TOUCH_TARGET, on_click=lambda _e: start(Step.SUSPEND)
                    )
                )
            else:
                buttons.append(
                    ft.FilledButton(
                        content=label,
                        height=TOUCH_TARGET,
                        on_click=lambda _e, s=step: start(s),
                    )
                )
        if buttons:
            controls.append(
                ft.Column(buttons, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
            )
        elif view.ruling is None:
            controls.append(muted(env.t("dispute.no_steps")))
    else:
        controls.append(
            step_form(
                env,
                open_step,
                view,
                form,
                reference,
                refresh,
                submit,
                close,
                busy=busy,
                tried=tried,
            )
        )
    return screen_column(controls)


def step_label(env: AppEnv, step: Step, view: DisputeView) -> str:
    if step is Step.ESCALATE and view.escalates_to is not None:
        return env.t(f"dispute.step.escalate.{view.escalates_to.value}")
    if step is Step.SETTLE:
        return env.t(f"dispute.step.settle.{view.stage.value}")
    return env.t(f"dispute.step.{step.value}")


def work_goes_on(env: AppEnv, work: CaseWork) -> ft.Control:
    """Disputes never stop work: the case's status and deadline, as the server has them."""
    status = label_for("status", work.status, env.state.lang)
    return ft.Container(
        padding=12,
        border_radius=12,
        bgcolor=ft.Colors.SECONDARY_CONTAINER,
        content=ft.Text(env.t("dispute.work_goes_on", status=status, due=when(work.due_at))),
    )


def stage_track(env: AppEnv, view: DisputeView) -> ft.Control:
    """The three stages, the current one marked (all done once ruled)."""
    items: list[ft.Control] = []
    for index, stage in enumerate(STAGES):
        done = (view.settled and index <= view.stage_index) or index < view.stage_index
        current = index == view.stage_index and not view.settled
        icon = (
            ft.Icons.CHECK_CIRCLE
            if done
            else ft.Icons.RADIO_BUTTON_CHECKED
            if current
            else ft.Icons.RADIO_BUTTON_UNCHECKED
        )
        color = ft.Colors.PRIMARY if done or current else ft.Colors.OUTLINE
        items.append(
            ft.Row(
                [
                    ft.Icon(icon, color=color, size=20),
                    ft.Text(
                        env.t(f"dispute.stage.{stage.value}"),
                        weight=ft.FontWeight.W_600 if current else None,
                        color=None if done or current else ft.Colors.ON_SURFACE_VARIANT,
                    ),
                ],
                spacing=8,
            )
        )
    return ft.Column(items, spacing=2)


def position_line(env: AppEnv, row: PositionRow) -> list[ft.Control]:
    color = (
        ft.Colors.ERROR
        if row.state == "dispute.position.not_ours"
        else ft.Colors.PRIMARY
        if row.state == "dispute.position.accepts"
        else ft.Colors.ON_SURFACE_VARIANT
    )
    name = row.name + (env.t("dispute.raised_it") if row.raised_it else "")
    out: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(name, weight=ft.FontWeight.W_600, expand=True),
                ft.Text(env.t(row.state), color=color, size=15),
            ]
        )
    ]
    if row.reason:
        out.append(ft.Text(row.reason, size=15))
    if row.legal_basis:
        out.append(muted(env.t("dispute.basis_line", basis=row.legal_basis), 14))
    return out


def dispute_card(env: AppEnv, view: DisputeView) -> ft.Control:
    d = view.dispute
    lines: list[ft.Control] = [
        ft.Text(env.t("dispute.card"), size=20, weight=ft.FontWeight.W_600),
        stage_track(env, view),
    ]
    if not view.settled:
        due = when(view.stage_due_at)
        lines.append(labelled(env.t("dispute.stage_due"), due))
        if view.overdue:
            lines.append(ft.Text(env.t("dispute.overdue"), color=ft.Colors.ERROR))
        if view.suspended:
            lines.append(
                ft.Text(
                    env.t("dispute.suspended", reason=view.suspension_reason),
                    color=ft.Colors.TERTIARY,
                )
            )
    lines.append(labelled(env.t("dispute.raised_by"), f"{view.raised_by} · {when(d.raised_at)}"))
    lines.append(labelled(env.t("dispute.reason"), d.reason))
    lines.append(labelled(env.t("case.legal_basis"), d.legal_basis))
    if view.claimed_responsible:
        lines.append(labelled(env.t("dispute.claimed"), view.claimed_responsible))
    lines.append(muted(env.t("dispute.positions"), 14))
    for row in view.rows:
        lines.extend(position_line(env, row))
    return card(lines, "dispute-card")


def ruling_card(env: AppEnv, ruling: RulingView, download: ft.Control | None) -> ft.Control:
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(ft.Icons.GAVEL, color=ft.Colors.PRIMARY),
                ft.Text(env.t("dispute.ruled"), size=20, weight=ft.FontWeight.W_600, expand=True),
            ]
        ),
        labelled(env.t("dispute.responsible"), ruling.responsible),
        labelled(env.t("dispute.ruling_text"), ruling.ruling_text),
    ]
    if ruling.lost_by:
        lines.append(labelled(env.t("dispute.lost_by"), "、".join(ruling.lost_by)))
    if ruling.new_list_version is not None:
        lines.append(muted(env.t("dispute.new_version", n=ruling.new_list_version)))
    if ruling.minute is not None:
        lines += [
            ft.Row(
                [
                    ft.Icon(ft.Icons.DESCRIPTION, color=ft.Colors.PRIMARY),
                    ft.Text(env.t("dispute.minute_ready"), weight=ft.FontWeight.W_600),
                ]
            ),
            ft.Text(ruling.minute.title),
            muted(env.t("dispute.minute_file", file=ruling.minute.id[:8]), 14),
        ]
        if download is not None:
            lines.append(download)
    return card(lines, "dispute-ruling")


def _text_setter(target: object, attr: str) -> Any:
    def on_change(e: ft.Event[ft.TextField]) -> None:
        setattr(target, attr, e.control.value or "")

    return on_change


def step_form(
    env: AppEnv,
    step: Step,
    view: DisputeView,
    form: Form,
    reference: Reference,
    refresh: Callable[[], None],
    submit: Callable[[], Any],
    close: Callable[[], None],
    *,
    busy: bool,
    tried: bool,
) -> ft.Control:
    errors = form.errors() if tried else {}

    def err(name: str) -> str | None:
        key = errors.get(name)
        return env.t(key) if key else None

    items: list[ft.Control] = [
        ft.Text(step_label(env, step, view), size=20, weight=ft.FontWeight.W_600)
    ]
    if isinstance(form, PositionForm):

        def choose(not_ours: bool) -> None:
            form.not_ours = not_ours
            refresh()

        items.append(
            ft.Row(
                [
                    (ft.FilledButton if form.not_ours is True else ft.OutlinedButton)(
                        content=env.t("dispute.position.not_ours"),
                        height=TOUCH_TARGET,
                        expand=True,
                        on_click=lambda: choose(True),
                    ),
                    (ft.FilledButton if form.not_ours is False else ft.OutlinedButton)(
                        content=env.t("dispute.position.accepts"),
                        height=TOUCH_TARGET,
                        expand=True,
                        on_click=lambda: choose(False),
                    ),
                ],
                spacing=8,
            )
        )
        items.append(message(err("not_ours")))
        items.append(
            field(
                env.t("dispute.reason"),
                value=form.reason,
                error=err("reason"),
                on_change=_text_setter(form, "reason"),
            )
        )
        items.append(
            field(
                env.t("case.legal_basis"),
                value=form.legal_basis,
                error=err("legal_basis"),
                on_change=_text_setter(form, "legal_basis"),
            )
        )
    elif isinstance(form, ConsultForm):
        items.append(muted(env.t("dispute.consult_who")))
        for code in view.dispute.involved:
            if code == view.dispute.raised_by_department and code not in form.departments:
                continue

            def toggle(e: ft.Event[ft.Checkbox], c: str = code) -> None:
                form.toggle(c, bool(e.control.value))
                refresh()

            items.append(
                ft.Checkbox(
                    label=reference.department_name(code),
                    value=code in form.departments,
                    on_change=toggle,
                )
            )
        items.append(message(err("departments")))
        items.append(
            field(
                env.t("dispute.note"),
                value=form.note,
                on_change=_text_setter(form, "note"),
            )
        )
    elif isinstance(form, RulingForm):
        items += ruling_fields(env, form, reference, refresh, err)
    else:
        label = env.t("dispute.suspend_reason" if form.required else "dispute.escalate_reason")
        items.append(
            field(
                label,
                value=form.reason,
                error=err("reason"),
                on_change=_text_setter(form, "reason"),
            )
        )

    items += [
        primary_button(env.t("case.submit"), on_click=submit, icon=ft.Icons.CHECK, disabled=busy),
        ft.TextButton(content=env.t("case.cancel"), on_click=close),
    ]
    return ft.Column(items, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def ruling_fields(
    env: AppEnv,
    form: RulingForm,
    reference: Reference,
    refresh: Callable[[], None],
    err: Callable[[str], str | None],
) -> list[ft.Control]:
    def choose(e: ft.Event[ft.Dropdown]) -> None:
        if e.control.value:
            form.choose(e.control.value)
            refresh()

    items: list[ft.Control] = [
        ft.Dropdown(
            label=env.t("dispute.responsible"),
            value=form.responsible,
            options=[
                ft.DropdownOption(key=code, text=reference.department_name(code))
                for code in form.candidates
            ],
            on_select=choose,
            error_text=err("responsible"),
            menu_height=420,
        ),
        muted(env.t("dispute.assisting")),
    ]
    for code in form.candidates:
        if code == form.responsible:
            continue
        on = code in form.assisting

        def toggle(e: ft.Event[ft.Checkbox], c: str = code) -> None:
            form.toggle_assisting(c, bool(e.control.value))
            refresh()

        items.append(ft.Checkbox(label=reference.department_name(code), value=on, on_change=toggle))
        if on:

            def duty(e: ft.Event[ft.TextField], c: str = code) -> None:
                form.set_duty(c, e.control.value or "")

            items.append(
                field(
                    env.t("dispute.duty_of", department=reference.department_name(code)),
                    value=form.assisting[code],
                    error=err(f"duty:{code}"),
                    on_change=duty,
                )
            )
    for name, label in (
        ("facts", "dispute.facts"),
        ("ruling_text", "dispute.ruling_text"),
        ("legal_basis", "case.legal_basis"),
    ):
        items.append(
            field(
                env.t(label),
                value=str(getattr(form, name)),
                error=err(name),
                on_change=_text_setter(form, name),
            )
        )
    if form.may_publish:

        def publish(e: ft.Event[ft.Checkbox]) -> None:
            form.publish = bool(e.control.value)
            refresh()

        items.append(
            ft.Checkbox(label=env.t("dispute.publish"), value=form.publish, on_change=publish)
        )
        if form.publish:
            items.append(muted(env.t("dispute.publish_hint"), 14))
    return items
