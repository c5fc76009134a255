"""The assignment (交办) block shared by the new inspection and the case screen's re-routing.

The boundary list's proposal as computed offline (matter, lead and its duty, assisting
departments and their duties, legal basis, list version, deadline), then either nothing more
(the user confirms it) or the override: another lead, assisting departments removed or added,
and the reason the override needs.
"""

from __future__ import annotations

import flet as ft

from fieldapp.app_context import use_app
from fieldapp.component import component
from fieldapp.screens.widgets import labelled, message, when
from fieldapp.theme import TOUCH_TARGET, field
from fieldapp.viewmodels.assignment import AssignmentChoice
from sync.reference_codec import Reference

ObservableAssignmentChoice = ft.observable(AssignmentChoice)


def new_choice() -> AssignmentChoice:
    """A choice whose changes re-render the components it is passed to."""
    choice: AssignmentChoice = ObservableAssignmentChoice()
    return choice


@component
def AssignmentChoiceView(reference: Reference, choice: AssignmentChoice) -> ft.Control:
    env = use_app()
    proposal = choice.proposal
    if proposal is None:
        return ft.Column([message(choice.proposal_error or env.t("assign.no_proposal"))])
    name = reference.department_name
    proposed_duty = {a.department_code: a.duty for a in proposal.assisting}
    items: list[ft.Control] = [
        # no list entry covers it: the town/street office (属地管理), entered in the register
        message(env.t("assign.unlisted") if proposal.unlisted else None, error=False),
        labelled(env.t("assign.matter"), proposal.matter),
        labelled(env.t("assign.lead"), f"{name(proposal.lead_department)}：{proposal.lead_duty}"),
        labelled(
            env.t("assign.assisting"),
            "\n".join(f"{name(a.department_code)}：{a.duty}" for a in proposal.assisting),
        ),
        labelled(env.t("assign.legal_basis"), proposal.legal_basis),
        labelled(
            env.t("assign.version"),
            env.t("assign.version_value", n=proposal.list_version, source=proposal.source),
        ),
        labelled(
            env.t("assign.deadline"),
            # the calendar's note, e.g. a year with no holidays entered counts weekends only
            "\n".join(t for t in (when(proposal.deadline.due_at), proposal.deadline.note) if t),
        ),
    ]
    if not choice.override:
        items.append(
            ft.TextButton(
                content=env.t("assign.override"),
                icon=ft.Icons.EDIT_OUTLINED,
                on_click=lambda: choice.start_override(),
            )
        )
        return ft.Column(items, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def choose_lead(e: ft.Event[ft.Dropdown]) -> None:
        choice.choose_lead(e.control.value or None)

    def add_assisting(e: ft.Event[ft.Dropdown]) -> None:
        if e.control.value:
            choice.add_assisting(e.control.value)

    def on_reason(e: ft.Event[ft.TextField]) -> None:
        choice.override_reason = e.control.value or ""

    lead = choice.lead
    assisting = choice.assisting_codes()
    items.append(
        full_width(
            label=env.t("assign.override_lead"),
            value=choice.override_lead,
            options=[
                ft.DropdownOption(key=d.code, text=d.short_name or d.name)
                for d in reference.departments
            ],
            on_select=choose_lead,
            menu_height=420,
            error_text=env.t(choice.errors["override_lead"])
            if "override_lead" in choice.errors
            else None,
        )
    )
    items.append(ft.Text(env.t("assign.override_assisting"), size=14))
    for code in assisting:
        duty = proposed_duty.get(code)
        items.append(
            ft.Row(
                [
                    ft.Text(f"{name(code)}：{duty}" if duty else name(code), expand=True),
                    ft.IconButton(
                        ft.Icons.REMOVE_CIRCLE_OUTLINE,
                        tooltip=env.t("assign.remove_assisting", name=name(code)),
                        on_click=lambda _e, c=code: choice.remove_assisting(c),
                        height=TOUCH_TARGET,
                        width=TOUCH_TARGET,
                    ),
                ]
            )
        )
    if not assisting:
        items.append(ft.Text(env.t("assign.no_assisting"), color=ft.Colors.ON_SURFACE_VARIANT))
    items.append(
        full_width(
            label=env.t("assign.add_assisting"),
            value=None,
            options=[
                ft.DropdownOption(key=d.code, text=d.short_name or d.name)
                for d in reference.departments
                if d.code != lead and d.code not in assisting
            ],
            on_select=add_assisting,
            menu_height=420,
        )
    )
    items.append(
        field(
            env.t("assign.override_reason"),
            value=choice.override_reason,
            on_change=on_reason,
            error=env.t(choice.errors["override_reason"])
            if "override_reason" in choice.errors
            else None,
        )
    )
    return ft.Column(items, spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def full_width(**dropdown: object) -> ft.Control:
    """A Dropdown as wide as the screen (alone, Flutter's menu is as wide as its longest item)."""
    return ft.Row([ft.Dropdown(expand=True, **dropdown)])  # type: ignore[arg-type]
