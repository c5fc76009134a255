"""No case is stuck with nobody: on the phone, the first-contact department and supervisors
re-route (交办) a returned or record-only case, offline, by the boundary list's proposal or an
override with a reason; the return reason is shown; supervisors may cancel (撤销) with a reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fieldapp.viewmodels.assignment import ADDED_DUTY, AssignmentChoice
from fieldapp.viewmodels.case_detail import CaseDetailViewModel
from fieldapp.viewmodels.records import CaseWriter
from sync.device_store import DeviceStore
from sync.lifecycle import Action, Actor
from sync.protocol import CommandType
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import NOW, POINT, reference, snapshot

FIRST_CONTACT = Actor("u-fc", Role.HANDLER, "shzl")  # 社会治理中心 received it first
SUPERVISOR = Actor("u-sup", Role.SUPERVISOR, "zfb")
COORDINATOR = Actor("u-bb", Role.COORDINATOR, "bb")
RETURNER = Actor("u-zhzf", Role.HANDLER, "zhzf")  # the lead that returned it
UNRELATED = Actor("u-sw", Role.HANDLER, "sw")
REPORTER = Actor("u-inspector", Role.INSPECTOR, "shzl")
RETURNED_CASE_ID = "5d0c1f4e-2b7a-4c9e-8f31-6a2d9b0e7c15"
RETURN_REASON = "该积水点位于小区内部，不属于城区道路，请改派"


def returned(**fields: Any) -> dict[str, Any]:
    """Recorded by 社会治理中心, assigned to 综合执法局, which returned it (a phone's case
    ids are UUIDs: the outbox refuses anything else, as the server would)."""
    fields.setdefault("id", RETURNED_CASE_ID)
    return snapshot(
        created_at="2026-11-03T01:00:00+00:00",
        town_code="wenshang",
        site_code="W01",
        return_count=1,
        events=[
            {
                "kind": "CaseCreated",
                "at": "2026-11-03T01:00:00Z",
                "actor_department": "shzl",
                "lat": POINT[0],
                "lon": POINT[1],
                "data": {"description": "积水"},
            },
            {
                "kind": "CaseAssigned",
                "at": "2026-11-03T01:05:00Z",
                "actor_department": "shzl",
                "data": {"lead_department": "zhzf"},
            },
            {
                "kind": "CaseReturned",
                "at": "2026-11-03T06:00:00Z",
                "actor_department": "zhzf",
                "actor_name": "李四",
                "data": {"reason": RETURN_REASON, "returned_by": "zhzf"},
            },
        ],
        **fields,
    )


def detail(actor: Actor, snap: dict[str, Any]) -> CaseDetailViewModel:
    return CaseDetailViewModel(snap, actor, reference(), now=NOW)


def stored(tmp_path: Path, snap: dict[str, Any]) -> DeviceStore:
    store = DeviceStore(tmp_path / "phone.db")
    with store.transaction() as session:
        store.put_local_case(session, snap, from_server=True)
    return store


def queued_assign(store: DeviceStore) -> dict[str, Any]:
    [command] = store.pending(10)
    assert command.type is CommandType.TRANSITION_CASE
    assert command.payload["action"] == "assign"
    return dict(command.payload)


def test_a_returned_case_offers_assign_to_the_first_contact_department_and_oversight() -> None:
    for actor in (FIRST_CONTACT, SUPERVISOR, COORDINATOR):
        vm = detail(actor, returned())
        assert vm.can_route, actor
        assert Action.ASSIGN in vm.actions(), actor


def test_the_lead_that_returned_it_and_an_unrelated_department_cannot_route_it() -> None:
    for actor in (RETURNER, UNRELATED):
        vm = detail(actor, returned())
        assert not vm.can_route, actor
        assert vm.actions() == [], actor


def test_a_record_only_case_offers_assign_to_its_reporter_and_first_contact_department() -> None:
    record_only = snapshot()  # recorded, never assigned
    assert detail(REPORTER, record_only).can_route
    assert detail(FIRST_CONTACT, record_only).can_route
    assert not detail(UNRELATED, record_only).can_route
    assert detail(FIRST_CONTACT, record_only).return_notice() is None  # nothing came back


def test_the_return_reason_is_shown_until_the_case_is_routed_again() -> None:
    notice = detail(FIRST_CONTACT, returned()).return_notice()
    assert notice is not None
    assert notice.reason == RETURN_REASON
    assert notice.department == "综合执法局" and notice.who == "李四"
    rerouted = returned(status="assigned", lead_department="sw")
    rerouted["events"].append(
        {"kind": "CaseAssigned", "at": "2026-11-04T02:00:00Z", "data": {"lead_department": "sw"}}
    )
    assert detail(FIRST_CONTACT, rerouted).return_notice() is None


def test_the_proposal_is_the_lists_with_lead_assisting_and_deadline_from_now() -> None:
    vm = detail(FIRST_CONTACT, returned())
    choice = AssignmentChoice()
    proposal = vm.propose_route(choice)
    assert proposal is not None and choice.proposal is proposal
    assert proposal.lead_department == "zhzf" and proposal.list_version == 1
    assert [a.department_code for a in proposal.assisting] == ["sw", "town:wenshang"]
    assert proposal.deadline.due_at > NOW  # the clock starts at this assignment, not the first


def test_confirming_the_proposal_queues_an_assign_with_the_proposal(tmp_path: Path) -> None:
    store = stored(tmp_path, returned())
    vm = detail(FIRST_CONTACT, returned())
    choice = AssignmentChoice()
    proposal = vm.propose_route(choice)
    assert proposal is not None
    after = vm.route(CaseWriter(store, FIRST_CONTACT, "王五"), choice, now=NOW)
    assert after is not None
    payload = queued_assign(store)
    assert "lead_department" not in payload and "override_reason" not in payload  # as proposed
    local = store.case(RETURNED_CASE_ID)
    assert local is not None and local["status"] == "assigned"
    assert local["lead_department"] == "zhzf"
    assert [a["department_code"] for a in local["assisting"]] == ["sw", "town:wenshang"]
    assert datetime.fromisoformat(local["due_at"]) == proposal.deadline.due_at
    assert local["events"][-1]["kind"] == "CaseAssigned" and local["events"][-1]["local"]


def test_an_override_without_a_reason_is_refused_naming_the_field(tmp_path: Path) -> None:
    store = stored(tmp_path, returned())
    vm = detail(SUPERVISOR, returned())
    choice = AssignmentChoice()
    vm.propose_route(choice)
    choice.choose_lead("sw")
    writer = CaseWriter(store, SUPERVISOR, "督办员")
    assert vm.route(writer, choice, now=NOW) is None
    assert choice.errors == {"override_reason": "assign.error.reason_required"}
    assert store.pending_count() == 0
    local = store.case(RETURNED_CASE_ID)
    assert local is not None and local["status"] == "discovered"  # nothing applied

    choice.override_reason = "  "
    assert vm.route(writer, choice, now=NOW) is None and "override_reason" in choice.errors

    choice.override_reason = "小区内部排水归水务局"
    assert vm.route(writer, choice, now=NOW) is not None
    assert choice.errors == {}
    payload = queued_assign(store)
    assert payload["lead_department"] == "sw"
    assert payload["override_reason"] == "小区内部排水归水务局"
    assert [a["department_code"] for a in payload["assisting"]] == ["town:wenshang"]


def test_changing_only_the_assisting_departments_is_an_override_too() -> None:
    vm = detail(FIRST_CONTACT, returned())
    choice = AssignmentChoice()
    vm.propose_route(choice)
    choice.remove_assisting("sw")
    choice.add_assisting("zfb")
    assert choice.assignment() is None and "override_reason" in choice.errors
    choice.override_reason = "泵站已修复，需政府办协调物业"
    chosen = choice.assignment()
    assert chosen is not None and chosen.overridden and chosen.lead_department == "zhzf"
    assert [(a.department_code, a.duty) for a in chosen.assisting] == [
        ("town:wenshang", "群众疏导"),  # the list's duty is kept
        ("zfb", ADDED_DUTY),
    ]


def test_choosing_the_proposed_lead_again_needs_no_reason() -> None:
    vm = detail(FIRST_CONTACT, returned())
    choice = AssignmentChoice()
    vm.propose_route(choice)
    choice.choose_lead("zhzf")
    chosen = choice.assignment()
    assert chosen is not None and not chosen.overridden


def test_the_lead_that_returned_it_cannot_route_it_even_by_a_crafted_call(tmp_path: Path) -> None:
    from sync.errors import NotPermitted

    store = stored(tmp_path, returned())
    vm = detail(RETURNER, returned())
    choice = AssignmentChoice()
    vm.propose_route(choice)
    with pytest.raises(NotPermitted):
        vm.route(CaseWriter(store, RETURNER, "李四"), choice, now=NOW)
    assert store.pending_count() == 0


def test_supervisors_may_cancel_with_a_reason_and_the_first_contact_department_may_not() -> None:
    assert Action.CANCEL in detail(SUPERVISOR, returned()).actions()
    assert Action.CANCEL in detail(COORDINATOR, returned()).actions()
    assert Action.CANCEL not in detail(FIRST_CONTACT, returned()).actions()
    vm = detail(SUPERVISOR, returned())
    assert vm.form_error(Action.CANCEL, reason=" ", photo_count=0) == "case.error.reason_required"
    assert vm.form_error(Action.CANCEL, reason="重复上报，已在另一案件处置", photo_count=0) is None
