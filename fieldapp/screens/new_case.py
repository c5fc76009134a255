"""New inspection (巡查记录) and on-the-spot assignment (现场交办).

Step 1, the record: category (the boundary list), photos (camera or files), GPS with its
accuracy (else the photo's EXIF point, else typed by hand), description, the nearest site, and
possible duplicates within 50 m (link to one instead: a note with the photos on that case).
Step 2, the proposal computed offline: lead, assisting and duties, legal basis, list version,
deadline; confirm, or override with a reason. Everything is written locally with its outbox
command; the sync loop sends it when the server can be reached.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import flet as ft

from fieldapp.app_context import AppEnv, use_app
from fieldapp.component import component
from fieldapp.device import DeviceSession, use_device
from fieldapp.photos import PhotoRejected, process_photo, read_exif_gps
from fieldapp.screens.assignment import AssignmentChoiceView, new_choice
from fieldapp.screens.case_map import InspectionMap
from fieldapp.screens.common import heading, screen_column
from fieldapp.screens.home import actor_of
from fieldapp.screens.widgets import message, photo_progress, photo_strip
from fieldapp.theme import TOUCH_TARGET, field, primary_button
from fieldapp.viewmodels.new_inspection import (
    MAX_PHOTOS,
    NewInspectionViewModel,
)
from fieldapp.viewmodels.records import CaseWriter
from sync.errors import DomainError
from sync.lifecycle import Action

ObservableNewInspection = ft.observable(NewInspectionViewModel)
GPS_ATTEMPTS = 3
GPS_TIMEOUT_S = 6.0


@component
def NewCaseScreen() -> ft.Control:
    env = use_app()
    holder = use_device()
    device = holder.device
    if device is None or env.state.session is None:
        return screen_column([heading(env.t("new.title")), ft.ProgressRing()])
    return NewInspection(device)


@component
def NewInspection(device: DeviceSession) -> ft.Control:
    env = use_app()
    holder = use_device()
    session = env.state.session
    assert session is not None
    reference = device.reference()
    vm, _ = ft.use_state(
        lambda: ObservableNewInspection(
            reference,
            inspector_name=session.user.display_name,
            now=datetime.now(UTC),
            routing=new_choice(),
        )
    )
    step, set_step = ft.use_state("form")
    picker = holder.file_picker()

    async def acquire_gps() -> None:
        vm.waiting_for_gps = True
        locator = holder.locator()
        for _ in range(GPS_ATTEMPTS):
            try:
                pos = await asyncio.wait_for(locator.get_current_position(), GPS_TIMEOUT_S)
            except Exception:
                continue
            if pos.latitude is None or pos.longitude is None:
                continue
            accuracy = float(pos.accuracy) if pos.accuracy is not None else None
            if vm.offer_gps(float(pos.latitude), float(pos.longitude), accuracy):
                break
        vm.take_best()

    ft.use_effect(acquire_gps, [])

    async def on_pick(files: list[ft.FilePickerFile]) -> None:
        vm.photo_error = None
        batch = files[: MAX_PHOTOS - len(vm.photos)]
        for index, picked in enumerate(batch, start=1):
            vm.processing = (index, len(batch))  # shown with a progress bar
            data = picked.bytes or b""
            try:
                exif = await asyncio.to_thread(read_exif_gps, data)
                info = vm.watermark(datetime.now(UTC), exif)
                processed = await asyncio.to_thread(process_photo, data, watermark=info)
            except PhotoRejected as exc:  # this photo only: everything else is kept
                vm.photo_error = f"{picked.name}：{exc.why}"
                continue
            stored = device.shelf.keep(processed)
            if all(p.sha256 != stored.sha256 for p in vm.photos):
                vm.photos = [*vm.photos, stored]
        vm.processing = None
        if vm.fix is None:
            vm.fall_back_to_exif()

    holder.set_on_pick(on_pick)

    def setter(name: str) -> ft.ControlEventHandler[ft.TextField]:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(vm, name, e.control.value or "")

        return on_change

    def choose_category(e: ft.Event[ft.Dropdown]) -> None:
        vm.category = e.control.value or None
        vm.routing.reset()

    def err(key: str) -> str | None:
        found = vm.errors.get(key)
        return env.t(found) if found else None

    def to_proposal() -> None:
        if not vm.validate():
            return
        vm.propose(datetime.now(UTC))
        set_step("assign")

    def save(assign: bool) -> None:
        actor = actor_of(env)
        if actor is None or vm.saving:
            return
        assignment = None
        if assign:
            assignment = vm.assignment()
            if assignment is None:
                return
        vm.saving = True
        now = datetime.now(UTC)
        writer = CaseWriter(device.store, actor, session.user.display_name)
        try:
            writer.create_case(vm.record(vm.started_at), vm.photos, now=now)
            if assignment is not None:
                writer.transition(
                    vm.case_id,
                    Action.ASSIGN,
                    now=now,
                    where=vm.fix.point if vm.fix else None,
                    assignment=assignment,
                )
        except DomainError as exc:
            vm.saving = False
            vm.routing.proposal_error = exc.reason
            return
        device.changed()
        ft.context.page.navigate(f"/case/{vm.case_id}")

    def link_to(case_id: str) -> None:
        actor = actor_of(env)
        if actor is None:
            return
        writer = CaseWriter(device.store, actor, session.user.display_name)
        writer.add_note(
            case_id,
            note=vm.description,
            photos=vm.photos,
            where=vm.fix.point if vm.fix else None,
            now=datetime.now(UTC),
        )
        device.changed()
        ft.context.page.navigate(f"/case/{case_id}")

    if step == "assign":
        return AssignStep(device, vm, save, lambda: set_step("form"))

    now = datetime.now(UTC)
    categories = reference.categories(now)
    controls: list[ft.Control] = [
        heading(env.t("new.title")),
        ft.Text(env.t("new.number", number=vm.number), color=ft.Colors.ON_SURFACE_VARIANT),
    ]
    if not categories:
        controls.append(message(env.t("new.no_reference"), error=True))
    controls.append(
        ft.Dropdown(
            label=env.t("new.category"),
            value=vm.category,
            options=[ft.DropdownOption(key=code, text=matter) for code, matter in categories],
            on_select=choose_category,
            error_text=err("category"),
            menu_height=420,
        )
    )
    # -- photos
    controls.append(
        ft.OutlinedButton(
            content=env.t("new.add_photos", n=len(vm.photos), max=MAX_PHOTOS),
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
    if vm.photos:
        controls.append(photo_strip(device.shelf, [p.sha256 for p in vm.photos], missing_label=""))
    if vm.processing is not None:
        controls.extend(photo_progress(env, *vm.processing))
    controls.append(message(vm.photo_error))
    controls.append(message(err("photos")))
    # -- location
    controls.extend(location_block(env, vm))
    # -- description
    controls.append(
        field(
            env.t("new.description"),
            value=vm.description,
            on_change=setter("description"),
            error=err("description"),
        )
    )
    # -- site and duplicates
    site = vm.site()
    controls.append(
        InspectionMap(device, vm.fix.point if vm.fix else None, site[0] if site else None)
    )
    if site is not None:
        controls.append(
            ft.ListTile(
                leading=ft.Icon(ft.Icons.PLACE_OUTLINED),
                title=ft.Text(site[0].name),
                subtitle=ft.Text(env.t("new.site_suggested", m=round(site[1]))),
                trailing=ft.IconButton(
                    ft.Icons.CLOSE,
                    tooltip=env.t("new.site_decline"),
                    on_click=lambda: setattr(vm, "site_declined", True),
                ),
            )
        )
    dups = vm.duplicates(device.cases())
    if dups:
        controls.append(ft.Text(env.t("new.duplicates", n=len(dups)), weight=ft.FontWeight.W_600))
        for dup in dups:
            controls.append(
                ft.Card(
                    content=ft.Container(
                        padding=12,
                        content=ft.Column(
                            [
                                ft.Text(
                                    dup.number
                                    + " · "
                                    + env.t("home.distance", m=round(dup.distance_m))
                                ),
                                ft.Text(dup.description, max_lines=2),
                                ft.OutlinedButton(
                                    content=env.t("new.link_duplicate"),
                                    icon=ft.Icons.LINK,
                                    on_click=lambda _e, cid=dup.case_id: link_to(cid),
                                    disabled=not vm.photos and not vm.description.strip(),
                                ),
                            ],
                            spacing=6,
                        ),
                    )
                )
            )
    controls.append(
        primary_button(env.t("new.next"), on_click=to_proposal, icon=ft.Icons.ARROW_FORWARD)
    )
    return screen_column(controls)


def location_block(env: AppEnv, vm: NewInspectionViewModel) -> list[ft.Control]:
    out: list[ft.Control] = []
    fix = vm.fix
    if fix is None and vm.waiting_for_gps:
        out.append(
            ft.Row([ft.ProgressRing(width=20, height=20), ft.Text(env.t("new.gps_waiting"))])
        )
    elif fix is not None:
        accuracy = (
            env.t("new.accuracy", m=round(fix.accuracy_m)) if fix.accuracy_m is not None else ""
        )
        out.append(
            ft.Semantics(
                identifier="location",
                content=ft.Row(
                    [
                        ft.Icon(ft.Icons.MY_LOCATION, color=ft.Colors.PRIMARY),
                        ft.Text(
                            f"{env.t('new.source.' + fix.source)} "
                            f"{fix.point.lat:.5f}, {fix.point.lon:.5f} {accuracy}",
                            expand=True,
                        ),
                    ]
                ),
            )
        )
        if vm.warn_accuracy:
            out.append(message(env.t("new.accuracy_warning"), error=True))
        if vm.needs_location_reason:

            def on_reason(e: ft.Event[ft.TextField]) -> None:
                vm.location_reason = e.control.value or ""

            out.append(
                field(
                    env.t("new.location_reason"),
                    value=vm.location_reason,
                    on_change=on_reason,
                    error=env.t(vm.errors["location_reason"])
                    if "location_reason" in vm.errors
                    else None,
                )
            )
    if fix is None and not vm.waiting_for_gps:
        out.append(message(env.t("new.no_gps"), error=True))

        def on_lat(e: ft.Event[ft.TextField]) -> None:
            vm.manual_lat = e.control.value or ""

        def on_lon(e: ft.Event[ft.TextField]) -> None:
            vm.manual_lon = e.control.value or ""

        out.append(
            ft.Row(
                [
                    ft.Container(field(env.t("new.lat"), on_change=on_lat), expand=True),
                    ft.Container(field(env.t("new.lon"), on_change=on_lon), expand=True),
                ]
            )
        )
        out.append(
            ft.OutlinedButton(
                content=env.t("new.use_manual"),
                on_click=lambda: vm.set_manual(),
                height=TOUCH_TARGET,
            )
        )
        if "manual" in vm.errors:
            out.append(message(env.t(vm.errors["manual"])))
    if "location" in vm.errors:
        out.append(message(env.t(vm.errors["location"])))
    return out


@component
def AssignStep(
    device: DeviceSession,
    vm: NewInspectionViewModel,
    save: object,
    back: object,
) -> ft.Control:
    env = use_app()
    proposal = vm.routing.proposal
    controls: list[ft.Control] = [
        heading(env.t("assign.title")),
        AssignmentChoiceView(device.reference(), vm.routing),
    ]
    if proposal is not None:
        controls.append(message(vm.routing.proposal_error))
        controls.append(
            primary_button(
                env.t("assign.confirm"),
                on_click=lambda: save(True),  # type: ignore[operator]
                icon=ft.Icons.CHECK,
                disabled=vm.saving,
            )
        )
    controls.append(
        ft.OutlinedButton(
            content=env.t("assign.save_only"),
            on_click=lambda: save(False),  # type: ignore[operator]
            height=TOUCH_TARGET,
            disabled=vm.saving,
        )
    )
    controls.append(ft.TextButton(content=env.t("nav.back"), on_click=back))  # type: ignore[arg-type]
    return screen_column(controls)
