"""Case detail: facts, assignment, the timeline, and the actions this user may take now.

Actions are the offline rules' ``allowed_actions`` for this user. One action form at a time:
reason / note / photos as the action needs; the supervisor's close shows the after-photo
distance check (≤ 50 m, or a reason). Every action is written locally with its command.
A returned (退回) or record-only case offers 交办 to those who may assign it: the boundary
list's proposal computed offline (the block shared with the new inspection), confirmed or
overridden with a reason; a returned case shows who returned it and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

import flet as ft

from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.device import DeviceSession, use_device, use_sync_status
from fieldapp.i18n import label_for
from fieldapp.photos import PhotoRejected, WatermarkInfo, process_photo
from fieldapp.screens.assignment import AssignmentChoiceView, ObservableAssignmentChoice
from fieldapp.screens.case_map import CasePlace
from fieldapp.screens.common import screen_column
from fieldapp.screens.home import actor_of
from fieldapp.screens.widgets import (
    back_heading,
    labelled,
    message,
    photo_progress,
    photo_strip,
    status_chip,
    toast,
    when,
)
from fieldapp.theme import TOUCH_TARGET, field, primary_button
from fieldapp.viewmodels.assignment import AssignmentChoice
from fieldapp.viewmodels.case_detail import (
    NEEDS_LEGAL_BASIS,
    NEEDS_REASON,
    TAKES_PHOTOS,
    AssistTaskRow,
    CaseDetailViewModel,
    ReturnNotice,
    after_action,
)
from fieldapp.viewmodels.records import CaseWriter, StoredPhoto
from fieldapp.viewmodels.timeline_facts import fact_line
from sync.boundary_types import Point
from sync.errors import DomainError
from sync.lifecycle import Action

GPS_TIMEOUT_S = 6.0
NOTE = "note"  # the progress-note form (not a lifecycle action)
ASSIST_REPORT = "assist_report"  # 协办反馈: this department's part
ASSIST_RATE = "assist_rate"  # 协办评价: the lead rates one assisting department
ONE_TAP = frozenset({Action.ACCEPT, Action.START_HANDLING})  # no form: done on the tap


@component
def CaseScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    case_id = ft.use_route_params().get("case_id", "")
    device = holder.device
    if device is None:
        return screen_column([back_heading(env, env.t("case.gone.title"))])
    return CaseDetail(device, case_id)


def gone_view(env: AppEnv) -> ft.Control:
    """The case is not (or no longer) on this phone: say so in words and lead back."""
    return screen_column(
        [
            back_heading(env, env.t("case.gone.title")),
            ft.Semantics(identifier="case-gone", content=ft.Text(env.t("case.gone"))),
            primary_button(
                env.t("case.back_to_list"),
                icon=ft.Icons.LIST,
                on_click=lambda: ft.context.page.navigate("/home"),
            ),
        ]
    )


@component
def CaseDetail(device: DeviceSession, case_id: str) -> ft.Control:
    env = use_app()
    holder = use_device()
    use_sync_status(device)  # re-read after each sync
    form, set_form = ft.use_state(cast("str | None", None))  # an Action value, NOTE, or None
    reason, set_reason = ft.use_state("")
    legal_basis, set_legal_basis = ft.use_state("")  # a dispute's 法律依据
    claimed, set_claimed = ft.use_state(cast("str | None", None))  # whom a dispute names
    photos, set_photos = ft.use_state(cast("tuple[StoredPhoto, ...]", ()))
    error, set_error = ft.use_state(cast("str | None", None))
    busy, set_busy = ft.use_state(False)
    rating, set_rating = ft.use_state(cast("int | None", None))  # 协办评价: 1–5
    rate_target, set_rate_target = ft.use_state("")  # the department being rated
    duplicate, set_duplicate = ft.use_state(cast("str | None", None))  # 合并: the case it repeats
    processing, set_processing = ft.use_state(cast("tuple[int, int] | None", None))
    choice: AssignmentChoice = ft.use_state(ObservableAssignmentChoice)[0]  # 交办 form state
    picker = holder.file_picker()
    session = env.state.session
    snapshot = device.store.case(case_id)
    actor = actor_of(env)
    if snapshot is None or actor is None or session is None:
        return gone_view(env)
    reference = device.reference()
    vm = CaseDetailViewModel(snapshot, actor, reference, now=datetime.now(UTC))

    async def where_am_i() -> Point | None:
        try:
            pos = await asyncio.wait_for(holder.locator().get_current_position(), GPS_TIMEOUT_S)
        except Exception:
            return None
        if pos.latitude is None or pos.longitude is None:
            return None
        return Point(float(pos.latitude), float(pos.longitude))

    async def on_pick(files: list[ft.FilePickerFile]) -> None:
        set_error(None)
        here = await where_am_i()
        kept: list[StoredPhoto] = list(photos)
        for index, picked in enumerate(files, start=1):
            set_processing((index, len(files)))
            info = WatermarkInfo(
                taken_at=datetime.now(UTC),
                lat=here.lat if here else None,
                lon=here.lon if here else None,
                place=reference.matter(str(snapshot.get("category"))),
                inspector=session.user.display_name,
                case_number=vm.number,
            )
            try:
                processed = await asyncio.to_thread(
                    process_photo, picked.bytes or b"", watermark=info
                )
            except PhotoRejected as exc:
                set_error(f"{picked.name}：{exc.why}")
                continue
            stored = device.shelf.keep(processed)
            if all(p.sha256 != stored.sha256 for p in kept):
                kept.append(stored)
        set_processing(None)
        set_photos(tuple(kept))

    holder.set_on_pick(on_pick)

    def open_form(which: str, target: str = "") -> None:
        set_form(which)
        set_reason("")
        set_legal_basis("")
        set_claimed(None)
        set_photos(())
        set_error(None)
        set_rating(None)
        set_rate_target(target)
        set_duplicate(None)
        if which == Action.ASSIGN.value:
            choice.reset()
            vm.propose_route(choice)

    def finished(action: Action | None, done_key: str | None = None) -> None:
        """Say it went through; back to the list when the case left this user's list."""
        after = device.store.case(case_id)
        leave, key = after_action(after, actor, action, now=datetime.now(UTC))
        lead = reference.department_name((after or {}).get("lead_department"))
        toast(env.t(done_key if done_key and not leave else key, lead=lead))
        if leave:
            ft.context.page.navigate("/home")

    async def one_tap(action: Action) -> None:
        """签收 / 开始处置: done on the tap, nothing to fill in (a progress note adds photos)."""
        if busy:
            return
        writer = CaseWriter(device.store, actor, session.user.display_name)
        set_busy(True)
        here = await where_am_i()
        try:
            writer.transition(case_id, action, now=datetime.now(UTC), where=here)
        except DomainError as exc:
            set_error(exc.reason)
            return
        finally:
            set_busy(False)
        set_error(None)
        device.changed()
        finished(action)

    async def submit_assist() -> None:
        """协办反馈 or 协办评价, queued like any action (the rules checked offline)."""
        if busy:
            return
        problem = (
            vm.report_error(note=reason, photo_count=len(photos))
            if form == ASSIST_REPORT
            else vm.rating_error(rating=rating, comment=reason)
        )
        if problem is not None:
            set_error(env.t(problem))
            return
        writer = CaseWriter(device.store, actor, session.user.display_name)
        set_busy(True)
        try:
            if form == ASSIST_REPORT:
                here = await where_am_i()
                writer.report_assist_task(
                    case_id, note=reason, photos=list(photos), where=here, now=datetime.now(UTC)
                )
            else:
                writer.rate_assist_task(
                    case_id,
                    department=rate_target,
                    rating=int(rating or 0),
                    comment=reason,
                    now=datetime.now(UTC),
                )
        except DomainError as exc:
            set_error(exc.reason)
            return
        finally:
            set_busy(False)
        done = "assist.done.reported" if form == ASSIST_REPORT else "assist.done.rated"
        set_form(None)
        set_reason("")
        set_photos(())
        device.changed()
        finished(None, done)

    async def submit_route() -> None:
        if busy:
            return
        writer = CaseWriter(device.store, actor, session.user.display_name)
        set_busy(True)
        here = await where_am_i()
        try:
            if vm.route(writer, choice, now=datetime.now(UTC), where=here) is None:
                return  # the form names what is missing
        except DomainError as exc:
            set_error(exc.reason)
            return
        finally:
            set_busy(False)
        set_form(None)
        device.changed()
        finished(Action.ASSIGN)

    async def submit() -> None:
        if form is None or busy:
            return
        writer = CaseWriter(device.store, actor, session.user.display_name)
        set_busy(True)
        here = await where_am_i()
        try:
            if form == NOTE:
                if not reason.strip() and not photos:
                    set_error(env.t("case.error.note_empty"))
                    return
                writer.add_note(
                    case_id, note=reason, photos=list(photos), where=here, now=datetime.now(UTC)
                )
            else:
                action = Action(form)
                problem = vm.form_error(
                    action,
                    reason=reason,
                    photo_count=len(photos),
                    legal_basis=legal_basis,
                    here=here,
                    duplicate_of=duplicate,
                )
                if problem is not None:
                    set_error(env.t(problem))
                    return
                in_reason = action in NEEDS_REASON or action is Action.CLOSE
                writer.transition(
                    case_id,
                    action,
                    now=datetime.now(UTC),
                    reason=reason if in_reason else "",
                    note="" if in_reason else reason,
                    photos=list(photos),
                    where=here,
                    legal_basis=legal_basis,
                    claimed_responsible=claimed if action is Action.RAISE_DISPUTE else None,
                    duplicate_of=duplicate if action is Action.MERGE else None,
                )
        except DomainError as exc:
            set_error(exc.reason)
            return
        finally:
            set_busy(False)
        set_form(None)
        set_reason("")
        set_photos(())
        device.changed()
        finished(None if form == NOTE else Action(form))

    def live_problem(new_reason: str, new_basis: str, new_rating: int | None) -> str | None:
        """What the open form still lacks with these values (to clear a message at once)."""
        if form == ASSIST_REPORT:
            return vm.report_error(note=new_reason, photo_count=len(photos))
        if form == ASSIST_RATE:
            return vm.rating_error(rating=new_rating, comment=new_reason)
        if form == NOTE:
            return None if new_reason.strip() or photos else "case.error.note_empty"
        if form is None or form == Action.ASSIGN.value:
            return None
        action = Action(form)
        if action is Action.CLOSE:
            return None  # depends on where the verifier stands: checked on submit
        return vm.form_error(
            action,
            reason=new_reason,
            photo_count=len(photos),
            legal_basis=new_basis,
            duplicate_of=duplicate,
        )

    def edit_reason(value: str) -> None:
        set_reason(value)
        if error and live_problem(value, legal_basis, rating) is None:
            set_error(None)  # the message goes as soon as the field is right

    def edit_basis(value: str) -> None:
        set_legal_basis(value)
        if error and live_problem(reason, value, rating) is None:
            set_error(None)

    def pick_rating(value: int) -> None:
        set_rating(value)
        if error and live_problem(reason, legal_basis, value) is None:
            set_error(None)

    lang = env.state.lang
    controls: list[ft.Control] = [
        back_heading(env, env.t("case.title", id=vm.number)),
        ft.Row(
            [
                status_chip(env, vm.status.value),
                ft.Text(reference.matter(str(snapshot.get("category"))), expand=True),
            ]
        ),
        ft.Text(str(snapshot.get("description") or "")),
    ]
    returned = vm.return_notice()
    if returned is not None:
        controls.append(return_card(env, returned))
    elif vm.can_route:
        controls.append(message(env.t("route.record_only"), error=False))
    if snapshot.get("disputed"):
        controls.append(message(env.t("case.disputed_note"), error=False))
    if vm.has_dispute:  # the dispute's path, online (screens/dispute.py)
        controls.append(
            ft.OutlinedButton(
                content=env.t("case.open_dispute"),
                icon=ft.Icons.GAVEL,
                height=TOUCH_TARGET,
                on_click=lambda: ft.context.page.navigate(f"/case/{case_id}/dispute"),
            )
        )
    if vm.facts.lead_department:
        controls.append(labelled(env.t("assign.lead"), vm.lead_name))
        # the assisting departments and their duties: the 协办任务 card below
        due = snapshot.get("due_at")
        if due:
            controls.append(
                labelled(
                    env.t("assign.deadline"),
                    when(datetime.fromisoformat(str(due).replace("Z", "+00:00"))),
                )
            )
            if vm.deadline_note:
                controls.append(labelled(env.t("assign.deadline_note"), vm.deadline_note))
        clock_note = snapshot.get("assigned_time_note")
        if clock_note:  # the phone's on-the-spot time was not believed: say why
            controls.append(labelled(env.t("assign.time_note"), str(clock_note)))
    state = vm.urgency
    if state is not None:
        controls.append(
            ft.Text(
                env.t(f"bucket.{state.value}"),
                color=ft.Colors.ERROR if state.value == "overdue" else ft.Colors.PRIMARY,
                weight=ft.FontWeight.W_600,
            )
        )
    if vm.acceptance_due_at is not None:  # shown before anything escalates
        controls.append(labelled(env.t("case.acceptance_deadline"), when(vm.acceptance_due_at)))
    if vm.reroute_due_at is not None:
        controls.append(labelled(env.t("case.reroute_deadline"), when(vm.reroute_due_at)))
    # -- 协办任务: each assisting department's part, its report and the lead's rating
    tasks = vm.assist_tasks()
    if tasks:
        controls.append(
            AssistTasksCard(
                tasks,
                device,
                on_report=lambda: open_form(ASSIST_REPORT),
                on_rate=lambda dept: open_form(ASSIST_RATE, dept),
                form_open=form is not None,
            )
        )
    # -- actions
    actions = vm.actions()
    if form is None:
        buttons: list[ft.Control] = []
        for a in actions:
            label = env.t(f"action.{a.value}")
            if a is Action.ASSIGN and returned is not None:
                label = env.t("route.again")
            kind = ft.OutlinedButton if a in (Action.CANCEL, Action.MERGE) else ft.FilledButton

            async def tapped(_e: object, a: Action = a) -> None:
                if a in ONE_TAP:
                    await one_tap(a)
                else:
                    open_form(a.value)

            buttons.append(
                kind(
                    content=label,
                    icon=ft.Icons.ALT_ROUTE if a is Action.ASSIGN else None,
                    height=TOUCH_TARGET,
                    on_click=tapped,
                    disabled=busy and a in ONE_TAP,
                )
            )
        if vm.can_add_note:
            buttons.append(
                ft.OutlinedButton(
                    content=env.t("case.add_note"),
                    icon=ft.Icons.NOTE_ADD_OUTLINED,
                    height=TOUCH_TARGET,
                    on_click=lambda: open_form(NOTE),
                )
            )
        if buttons:
            controls.append(
                ft.Column(buttons, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
            )
        controls.append(message(error))  # a one-tap action's refusal
    elif form in (ASSIST_REPORT, ASSIST_RATE):
        controls.append(
            AssistFormView(
                form,
                target_name=reference.department_name(rate_target),
                note=reason,
                on_note=edit_reason,
                rating=rating,
                on_rating=pick_rating,
                photos=photos,
                picker=picker,
                device=device,
            )
        )
        controls.append(message(error))
        controls.append(
            primary_button(
                env.t("case.submit"), on_click=submit_assist, icon=ft.Icons.CHECK, disabled=busy
            )
        )
        controls.append(
            ft.TextButton(content=env.t("case.cancel"), on_click=lambda: set_form(None))
        )
    elif form == Action.ASSIGN.value:
        controls.append(ft.Text(env.t("route.title"), size=20, weight=ft.FontWeight.W_600))
        controls.append(AssignmentChoiceView(reference, choice))
        controls.append(message(error))
        if choice.proposal is not None:
            controls.append(
                primary_button(
                    env.t("assign.confirm"),
                    on_click=submit_route,
                    icon=ft.Icons.CHECK,
                    disabled=busy,
                )
            )
        controls.append(
            ft.TextButton(content=env.t("case.cancel"), on_click=lambda: set_form(None))
        )
    else:
        controls.append(
            ActionFormView(
                vm,
                form,
                reason,
                edit_reason,
                photos,
                picker,
                device,
                legal_basis=legal_basis,
                set_legal_basis=edit_basis,
                claimed=claimed,
                set_claimed=set_claimed,
            )
        )
        if form == Action.MERGE.value:  # 合并: which open case this one repeats

            def choose_duplicate(e: ft.Event[ft.Dropdown]) -> None:
                set_duplicate(e.control.value or None)
                if e.control.value:
                    set_error(None)

            candidates = vm.merge_candidates(device.cases())
            controls.append(
                ft.Dropdown(
                    label=env.t("case.duplicate_of"),
                    value=duplicate,
                    options=[ft.DropdownOption(key=cid, text=text) for cid, text in candidates],
                    on_select=choose_duplicate,
                    menu_height=420,
                    expand=True,
                )
                if candidates
                else message(env.t("case.no_duplicates"), error=False)
            )
        controls.append(message(error))
        controls.append(
            primary_button(
                env.t("case.submit"), on_click=submit, icon=ft.Icons.CHECK, disabled=busy
            )
        )
        controls.append(
            ft.TextButton(content=env.t("case.cancel"), on_click=lambda: set_form(None))
        )
    if processing is not None:
        controls.extend(photo_progress(env, *processing))
    controls.append(CasePlace(device, snapshot))  # where it is: in words and on a map
    # -- timeline
    controls.append(ft.Text(env.t("case.timeline"), size=20, weight=ft.FontWeight.W_600))
    for row in reversed(vm.timeline()):
        lines: list[ft.Control] = [
            ft.Row(
                [
                    ft.Text(
                        label_for("event", row.kind, lang),
                        weight=ft.FontWeight.W_600,
                        expand=True,
                    ),
                    ft.Text(when(row.at), size=14, color=ft.Colors.ON_SURFACE_VARIANT),
                ]
            ),
            ft.Text(row.who, size=14, color=ft.Colors.ON_SURFACE_VARIANT),
        ]
        if row.where is not None:
            lines.append(
                ft.Text(
                    f"{row.where.lat:.5f}, {row.where.lon:.5f}",
                    size=14,
                    color=ft.Colors.ON_SURFACE_VARIANT,
                )
            )
        if row.facts:
            lines.append(ft.Text(fact_line(row.facts, lang, when)))
        if row.text:
            lines.append(ft.Text(row.text))
        if row.photos:
            lines.append(
                photo_strip(device.shelf, row.photos, missing_label=env.t("case.photo_missing"))
            )
        if row.local:
            lines.append(ft.Text(env.t("case.not_synced"), size=14, color=ft.Colors.TERTIARY))
        controls.append(
            ft.Card(content=ft.Container(padding=12, content=ft.Column(lines, spacing=4)))
        )
    return screen_column(controls)


def return_card(env: AppEnv, notice: ReturnNotice) -> ft.Control:
    """Who returned the case, when, and why: what the first-contact department routes on."""
    by = notice.department + (f"（{notice.who}）" if notice.who else "")
    return ft.Semantics(
        identifier="return-notice",
        content=ft.Container(
            padding=12,
            border_radius=12,
            bgcolor=ft.Colors.ERROR_CONTAINER,
            content=ft.Column(
                [
                    ft.Text(
                        env.t("route.returned"),
                        weight=ft.FontWeight.W_600,
                        color=ft.Colors.ON_ERROR_CONTAINER,
                    ),
                    ft.Text(
                        env.t("route.returned_by", department=by, when=when(notice.at)),
                        size=14,
                        color=ft.Colors.ON_ERROR_CONTAINER,
                    ),
                    ft.Text(
                        env.t("route.return_reason", reason=notice.reason or "—"),
                        color=ft.Colors.ON_ERROR_CONTAINER,
                    ),
                ],
                spacing=4,
            ),
        ),
    )


def ActionFormView(
    vm: CaseDetailViewModel,
    form: str,
    reason: str,
    set_reason: object,
    photos: tuple[StoredPhoto, ...],
    picker: ft.FilePicker,
    device: DeviceSession,
    *,
    legal_basis: str = "",
    set_legal_basis: object = None,
    claimed: str | None = None,
    set_claimed: Callable[[str | None], None] | None = None,
) -> ft.Control:
    env = use_app()
    title = env.t("case.add_note") if form == NOTE else env.t(f"action.{form}")
    items: list[ft.Control] = [ft.Text(title, size=20, weight=ft.FontWeight.W_600)]
    action = None if form == NOTE else Action(form)
    if action is Action.CLOSE:
        check = vm.verify_check()
        if check.distance_m is None:
            items.append(message(env.t("case.verify_unknown"), error=True))
        elif check.within:
            items.append(message(env.t("case.verify_ok", m=round(check.distance_m)), error=False))
        else:
            items.append(message(env.t("case.verify_far", m=round(check.distance_m)), error=True))
    label = (
        env.t("case.reason")
        if action in NEEDS_REASON or action is Action.CLOSE
        else env.t("case.note")
    )

    def on_change(e: ft.Event[ft.TextField]) -> None:
        set_reason(e.control.value or "")  # type: ignore[operator]

    items.append(field(label, value=reason, on_change=on_change, multiline=True))
    if action in NEEDS_LEGAL_BASIS:

        def on_basis(e: ft.Event[ft.TextField]) -> None:
            set_legal_basis(e.control.value or "")  # type: ignore[operator]

        items.append(
            field(env.t("case.legal_basis"), value=legal_basis, on_change=on_basis, multiline=True)
        )
        items.append(
            ft.Text(env.t("case.legal_basis_hint"), size=14, color=ft.Colors.ON_SURFACE_VARIANT)
        )
        if set_claimed is not None:
            items.append(claimed_dropdown(env, vm, device, claimed, set_claimed))
    if form == NOTE or action in TAKES_PHOTOS or action is Action.CLOSE:
        items.append(
            ft.OutlinedButton(
                content=env.t(
                    "case.add_after_photos" if action is Action.REPORT_BACK else "case.add_photos",
                    n=len(photos),
                ),
                icon=ft.Icons.PHOTO_CAMERA,
                height=TOUCH_TARGET,
                action=ft.PickFiles(
                    picker,
                    allow_multiple=True,
                    with_data=True,
                    file_type=ft.FilePickerFileType.IMAGE,
                ),
            )
        )
        if photos:
            items.append(photo_strip(device.shelf, [p.sha256 for p in photos], missing_label=""))
    return ft.Column(items, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def claimed_dropdown(
    env: AppEnv,
    vm: CaseDetailViewModel,
    device: DeviceSession,
    claimed: str | None,
    set_claimed: Callable[[str | None], None],
) -> ft.Control:
    """A dispute may name the department it believes responsible (the ruling decides): the
    case's own lead and assisting departments first, then every other department."""
    reference = device.reference()
    facts = vm.facts
    involved = [facts.lead_department or "", *sorted(facts.assisting_departments)]
    codes = [c for c in involved if c] + [
        d.code for d in reference.departments if d.code not in involved
    ]

    def choose(e: ft.Event[ft.Dropdown]) -> None:
        set_claimed(e.control.value or None)

    return ft.Dropdown(
        label=env.t("case.claimed_responsible"),
        value=claimed,
        options=[
            ft.DropdownOption(key=code, text=reference.department_name(code))
            for code in codes
            if code != vm.actor.department
        ],
        on_select=choose,
        menu_height=420,
    )


def AssistTasksCard(
    tasks: list[AssistTaskRow],
    device: DeviceSession,
    *,
    on_report: Callable[[], None],
    on_rate: Callable[[str], None],
    form_open: bool,
) -> ft.Control:
    """协办任务: per assisting department its duty, time node, report (说明 and photos) and the
    lead's rating; 反馈协办情况 for the department itself, 评价 for the lead."""
    env = use_app()
    items: list[ft.Control] = [ft.Text(env.t("assist.title"), size=20, weight=ft.FontWeight.W_600)]
    for row in tasks:
        task = row.task
        lines: list[ft.Control] = [
            ft.Text(row.department_name, weight=ft.FontWeight.W_600),
            ft.Text(env.t("assist.duty", duty=task.duty or "—"), size=14),
        ]
        if task.due_at is not None:
            lines.append(
                ft.Text(
                    env.t("assist.due", when=when(task.due_at)),
                    size=14,
                    color=ft.Colors.ON_SURFACE_VARIANT,
                )
            )
        if task.reported_at is not None:
            lines.append(
                ft.Text(
                    env.t("assist.reported", when=when(task.reported_at)),
                    color=ft.Colors.PRIMARY,
                )
            )
            if task.report_note:
                lines.append(ft.Text(task.report_note))
            if task.report_photos:
                lines.append(
                    photo_strip(
                        device.shelf, task.report_photos, missing_label=env.t("case.photo_missing")
                    )
                )
        else:
            lines.append(ft.Text(env.t("assist.not_reported"), color=ft.Colors.ON_SURFACE_VARIANT))
        if task.rating is not None:
            stars = "★" * task.rating + "☆" * (5 - task.rating)
            lines.append(ft.Text(f"{stars}  {env.t('assist.rated', n=task.rating)}"))
            if task.rating_comment:
                lines.append(ft.Text(task.rating_comment, size=14))
        if not form_open and row.may_report:
            lines.append(
                ft.FilledButton(
                    content=env.t("assist.report_again" if task.reported else "assist.report"),
                    icon=ft.Icons.ASSIGNMENT_TURNED_IN_OUTLINED,
                    height=TOUCH_TARGET,
                    on_click=lambda: on_report(),
                )
            )
        if not form_open and row.may_rate:
            lines.append(
                ft.FilledButton(
                    content=env.t("assist.rate", department=row.department_name),
                    icon=ft.Icons.STAR_OUTLINE,
                    height=TOUCH_TARGET,
                    on_click=lambda _e, d=row.department: on_rate(d),
                )
            )
        items.append(
            ft.Card(
                content=ft.Container(
                    padding=12,
                    content=ft.Column(
                        lines, spacing=4, horizontal_alignment=ft.CrossAxisAlignment.STRETCH
                    ),
                )
            )
        )
    return ft.Semantics(
        identifier="assist-tasks",
        content=ft.Column(items, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
    )


def AssistFormView(
    form: str,
    *,
    target_name: str,
    note: str,
    on_note: Callable[[str], None],
    rating: int | None,
    on_rating: Callable[[int], None],
    photos: tuple[StoredPhoto, ...],
    picker: ft.FilePicker,
    device: DeviceSession,
) -> ft.Control:
    """The 协办反馈 form (说明 and photos) or the 评价 form (1–5, a comment for 2 or less)."""
    env = use_app()

    def changed(e: ft.Event[ft.TextField]) -> None:
        on_note(e.control.value or "")

    if form == ASSIST_REPORT:
        items: list[ft.Control] = [
            ft.Text(env.t("assist.report"), size=20, weight=ft.FontWeight.W_600),
            field(env.t("assist.note"), value=note, on_change=changed, multiline=True),
            ft.OutlinedButton(
                content=env.t("case.add_photos", n=len(photos)),
                icon=ft.Icons.PHOTO_CAMERA,
                height=TOUCH_TARGET,
                action=ft.PickFiles(
                    picker,
                    allow_multiple=True,
                    with_data=True,
                    file_type=ft.FilePickerFileType.IMAGE,
                ),
            ),
        ]
        if photos:
            items.append(photo_strip(device.shelf, [p.sha256 for p in photos], missing_label=""))
        return ft.Column(items, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    stars: list[ft.Control] = [
        ft.Semantics(
            identifier=f"rating-{n}",
            content=ft.IconButton(
                ft.Icons.STAR if rating is not None and n <= rating else ft.Icons.STAR_BORDER,
                icon_color=ft.Colors.AMBER_800,
                icon_size=36,
                tooltip=env.t("assist.stars", n=n),
                on_click=lambda _e, n=n: on_rating(n),
            ),
        )
        for n in range(1, 6)
    ]
    return ft.Column(
        [
            ft.Text(
                env.t("assist.rate", department=target_name), size=20, weight=ft.FontWeight.W_600
            ),
            ft.Text(env.t("assist.rating"), size=14, color=ft.Colors.ON_SURFACE_VARIANT),
            ft.Semantics(identifier="rating-stars", content=ft.Row(stars, spacing=0)),
            field(env.t("assist.comment"), value=note, on_change=changed, multiline=True),
        ],
        spacing=10,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )
