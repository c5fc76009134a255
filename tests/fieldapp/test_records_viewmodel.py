"""Local writes: each action changes the local case and queues its command, durably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldapp.viewmodels.new_inspection import NewInspectionViewModel
from fieldapp.viewmodels.records import CaseWriter, StoredPhoto
from sync.device_store import DeviceStore
from sync.errors import InvalidInput, NotPermitted
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
