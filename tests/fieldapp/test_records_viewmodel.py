"""Local writes: each action changes the local case and queues its command, durably."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fieldapp.viewmodels.new_inspection import NewInspectionViewModel
from fieldapp.viewmodels.records import Assignment, CaseWriter, StoredPhoto
from sync.boundary_types import Point
from sync.device_store import DeviceStore
from sync.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from sync.lifecycle import Action, Actor
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import NOW, POINT, reference

INSPECTOR = Actor("u-inspector", Role.INSPECTOR, "shzl")
HANDLER = Actor("u-handler", Role.HANDLER, "zhzf")


def recorded(store: DeviceStore) -> str:
    vm = NewInspectionViewModel(reference(), inspector_name="张三", now=NOW)
    vm.offer_gps(*POINT, 5.0)
    vm.category, vm.description = "waterlogging", "积水"
    vm.photos = [
        StoredPhoto("a" * 64, "/p/a.jpg", "/p/a.t.jpg", 100),
        StoredPhoto("b" * 64, "/p/b.jpg", "/p/b.t.jpg", 200),
    ]
    assert vm.validate()
    writer = CaseWriter(store, INSPECTOR, "张三")
    writer.create_case(vm.record(NOW), vm.photos, now=NOW)
    proposal = vm.propose(NOW)
    assert proposal is not None
    assignment = vm.assignment()
    writer.transition(vm.case_id, Action.ASSIGN, now=NOW, assignment=assignment)
    return vm.case_id


def test_a_record_with_two_photos_and_its_assignment_survive_a_restart(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    store.close()
    again = DeviceStore(tmp_path / "d.db")  # the app restarted
    snap = again.case(case_id)
    assert snap is not None and snap["status"] == "assigned" and snap["lead_department"] == "zhzf"
    types = [c.type.value for c in again.pending(100)]
    assert types == ["CreateCase", "AddPhoto", "AddPhoto", "AddNote", "TransitionCase"]
    create = again.pending(1)[0].payload
    assert create["first_contact_department"] == "shzl" and create["site_code"] == "W01"
    assert {p.sha256 for p in again.photos_to_upload()} == {"a" * 64, "b" * 64}


def test_an_action_the_rules_refuse_writes_nothing(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    before = store.pending_count()
    with pytest.raises(NotPermitted):
        CaseWriter(store, Actor("u-x", Role.HANDLER, "sw"), "").transition(
            case_id, Action.ACCEPT, now=NOW
        )
    assert store.pending_count() == before
    assert json.dumps(store.case(case_id)).count("CaseAccepted") == 0


def test_accepting_records_the_handler_and_a_dispute_keeps_the_status(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    writer = CaseWriter(store, HANDLER, "李四")
    writer.transition(case_id, Action.ACCEPT, now=NOW)
    snap = writer.transition(
        case_id,
        Action.RAISE_DISPUTE,
        now=NOW,
        reason="非本局职责",
        legal_basis="《城镇排水与污水处理条例》第二十条",
        claimed_responsible="sw",
    )
    assert snap["status"] == "accepted" and snap["disputed"] is True
    assert "u-handler" in snap["handler_user_ids"]
    last = store.pending(100)[-1].payload
    assert last["action"] == "raise_dispute" and last["reason"] == "非本局职责"
    assert last["legal_basis"] == "《城镇排水与污水处理条例》第二十条"
    assert snap["events"][-1]["data"]["legal_basis"] == "《城镇排水与污水处理条例》第二十条"
    assert last["claimed_responsible"] == "sw"  # whom the dispute names, for the ruling
    assert snap["events"][-1]["data"]["claimed_responsible"] == "sw"


def test_a_dispute_without_a_legal_basis_is_refused_offline_and_writes_nothing(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    writer = CaseWriter(store, HANDLER, "李四")
    before = store.pending_count()
    for blank in ("", "   "):
        with pytest.raises(InvalidInput) as refused:
            writer.transition(
                case_id, Action.RAISE_DISPUTE, now=NOW, reason="非本局职责", legal_basis=blank
            )
        assert refused.value.field == "legal_basis"
    assert store.pending_count() == before
    snap = store.case(case_id)
    assert snap is not None and not snap.get("disputed")


SUPERVISOR = Actor("u-sup", Role.SUPERVISOR, "zfb")


def test_an_offline_suspend_suspends_the_case_and_resume_restarts_its_clock(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    writer = CaseWriter(store, SUPERVISOR, "督办")
    before = store.case(case_id)
    assert before is not None
    due = before["due_at"]
    snap = writer.transition(case_id, Action.SUSPEND, now=NOW, reason="等待审批")
    assert snap["suspended"] is True and snap["status"] == "assigned"
    with pytest.raises(TransitionNotAllowed):  # suspended already: refused offline too
        writer.transition(case_id, Action.SUSPEND, now=NOW, reason="再次中止")
    later = NOW + timedelta(days=1)
    resumed = writer.transition(case_id, Action.RESUME, now=later)
    assert resumed["suspended"] is False
    assert datetime.fromisoformat(resumed["due_at"]) > datetime.fromisoformat(due)


OTHER_CASE = "7b3e9c1a-0d42-4f6e-9a85-2c1f7e4d6b90"  # the case this one duplicates


def test_a_local_merge_names_its_target_and_queues_it(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    writer = CaseWriter(store, INSPECTOR, "张三")
    with pytest.raises(InvalidInput) as refused:
        writer.transition(case_id, Action.MERGE, now=NOW)
    assert refused.value.field == "duplicate_of"
    snap = writer.transition(case_id, Action.MERGE, now=NOW, duplicate_of=OTHER_CASE)
    assert snap["status"] == "merged" and snap["duplicate_of"] == OTHER_CASE
    assert store.pending(100)[-1].payload["duplicate_of"] == OTHER_CASE


def test_return_close_and_send_back_count_on_the_phone_as_on_the_server(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    handler = CaseWriter(store, HANDLER, "李四")
    returned = handler.transition(case_id, Action.RETURN, now=NOW, reason="非本局职责")
    assert returned["return_count"] == 1 and returned["lead_department"] is None
    assert returned["due_at"] is None and returned["status"] == "discovered"
    inspector = CaseWriter(store, INSPECTOR, "张三")
    vm = NewInspectionViewModel(reference(), inspector_name="张三", now=NOW)
    vm.offer_gps(*POINT, 5.0)
    vm.category = "waterlogging"
    inspector.transition(case_id, Action.ASSIGN, now=NOW, assignment=_assignment(vm))
    for action in (Action.ACCEPT, Action.START_HANDLING, Action.REPORT_BACK):
        handler.transition(case_id, action, now=NOW, where=Point(*POINT))
    back = inspector.transition(case_id, Action.SEND_BACK, now=NOW, reason="仍有积水")
    assert back["rework_count"] == 1 and back["closed_at"] is None
    handler.transition(case_id, Action.REPORT_BACK, now=NOW, where=Point(*POINT))
    closed = inspector.transition(case_id, Action.CLOSE, now=NOW)
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["return_count"] == 1 and closed["rework_count"] == 1


def test_a_far_verification_without_a_reason_is_refused_offline(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "d.db")
    case_id = recorded(store)
    handler = CaseWriter(store, HANDLER, "李四")
    far = Point(POINT[0] + 0.002, POINT[1])  # ~220 m
    for action in (Action.ACCEPT, Action.START_HANDLING, Action.REPORT_BACK):
        handler.transition(case_id, action, now=NOW, where=far)
    inspector = CaseWriter(store, INSPECTOR, "张三")
    before = store.pending_count()
    with pytest.raises(InvalidInput) as refused:
        inspector.transition(case_id, Action.CLOSE, now=NOW, where=far)
    assert refused.value.field == "reason" and store.pending_count() == before
    closed = inspector.transition(case_id, Action.CLOSE, now=NOW, where=Point(*POINT))
    assert closed["status"] == "closed"


def _assignment(vm: NewInspectionViewModel) -> Assignment:
    assert vm.propose(NOW) is not None
    return vm.assignment()
