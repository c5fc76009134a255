"""Case detail: the actions each role may take (offline rules), form rules, verify distance."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fieldapp.viewmodels.case_detail import CaseDetailViewModel
from fieldapp.viewmodels.new_inspection import NewInspectionViewModel
from fieldapp.viewmodels.records import CaseWriter
from sync.clock import CHINA_TZ
from sync.device_store import DeviceStore
from sync.lifecycle import Action, Actor
from sync.overdue import Urgency
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import NOW, POINT, reference, snapshot

INSPECTOR = Actor("u-inspector", Role.INSPECTOR, "shzl")
HANDLER = Actor("u-handler", Role.HANDLER, "zhzf")
ASSISTING = Actor("u-sw", Role.HANDLER, "sw")
SUPERVISOR = Actor("u-sup", Role.SUPERVISOR, "zfb")
ASSIGNED = {
    "status": "assigned",
    "lead_department": "zhzf",
    "assisting": [{"department_code": "sw", "duty": "泵站强排"}],
}


def detail(actor: Actor, **fields: object) -> CaseDetailViewModel:
    return CaseDetailViewModel(snapshot(**fields), actor, reference(), now=NOW)


def reported_back_at(lat: float, lon: float) -> dict[str, object]:
    return {
        **ASSIGNED,
        "status": "handled",
        "handler_user_ids": ["u-handler"],
        "events": [
            {
                "kind": "CaseCreated",
                "at": "2026-11-04T01:00:00Z",
                "lat": POINT[0],
                "lon": POINT[1],
                "data": {},
                "actor_department": "shzl",
            },
            {
                "kind": "CaseReportedBack",
                "at": "2026-11-04T03:00:00Z",
                "lat": lat,
                "lon": lon,
                "data": {"photos": ["f" * 64]},
                "actor_department": "zhzf",
            },
        ],
    }


def test_the_reporter_may_assign_a_new_case_and_a_handler_may_not() -> None:
    assert Action.ASSIGN in detail(INSPECTOR).actions()
    assert Action.ASSIGN not in detail(HANDLER).actions()


def test_the_lead_handler_accepts_returns_or_disputes_an_assigned_case() -> None:
    assert detail(HANDLER, **ASSIGNED).actions() == [
        Action.ACCEPT,
        Action.RETURN,
        Action.RAISE_DISPUTE,
    ]


def test_a_ruled_department_is_offered_neither_a_return_nor_a_new_dispute_offline() -> None:
    ruled = {
        **ASSIGNED,
        "events": [
            {
                "kind": "DisputeRuled",
                "at": "2026-11-05T01:00:00Z",
                "data": {"dispute_id": "d-1", "responsible_department": "zhzf", "lost_by": []},
                "actor_department": "bb",
            }
        ],
    }
    assert detail(HANDLER, **ruled).actions() == [Action.ACCEPT]


def test_an_assisting_handler_may_only_dispute() -> None:
    assert detail(ASSISTING, **ASSIGNED).actions() == [Action.RAISE_DISPUTE]


def test_a_supervisor_verifies_a_reported_back_case_the_handler_cannot() -> None:
    fields = reported_back_at(*POINT)
    assert detail(SUPERVISOR, **fields).actions() == [
        Action.CLOSE,
        Action.SEND_BACK,
        Action.CANCEL,  # 撤销: supervisors may cancel any open case, with a reason
        Action.MERGE,  # 合并: or merge it into the case it duplicates
    ]
    assert Action.CLOSE not in detail(HANDLER, **fields).actions()


def test_an_after_photo_within_50_m_closes_without_a_reason() -> None:
    vm = detail(SUPERVISOR, **reported_back_at(POINT[0] + 0.0003, POINT[1]))  # ~33 m
    check = vm.verify_check()
    assert check.within and check.distance_m is not None and 30 < check.distance_m < 40
    assert vm.form_error(Action.CLOSE, reason="", photo_count=0) is None


def test_an_after_photo_beyond_50_m_needs_a_reason_to_close() -> None:
    vm = detail(SUPERVISOR, **reported_back_at(POINT[0] + 0.001, POINT[1]))  # ~111 m
    assert not vm.verify_check().within
    assert vm.form_error(Action.CLOSE, reason="", photo_count=0) == (
        "case.error.verify_reason_required"
    )
    assert vm.form_error(Action.CLOSE, reason="积水点范围大，照片在下游拍摄", photo_count=0) is None


def test_reporting_back_needs_an_after_photo_and_a_dispute_a_reason() -> None:
    vm = detail(HANDLER, **{**ASSIGNED, "status": "handling"})
    assert vm.form_error(Action.REPORT_BACK, reason="", photo_count=0) == (
        "case.error.after_photo_required"
    )
    assert vm.form_error(Action.REPORT_BACK, reason="", photo_count=1) is None
    assert vm.form_error(Action.RAISE_DISPUTE, reason=" ", photo_count=0) == (
        "case.error.reason_required"
    )


def test_a_dispute_form_names_the_missing_legal_basis() -> None:
    vm = detail(HANDLER, **{**ASSIGNED, "status": "handling"})
    for blank in ("", "  "):
        assert vm.form_error(
            Action.RAISE_DISPUTE, reason="非本局职责", photo_count=0, legal_basis=blank
        ) == ("case.error.legal_basis_required")
    assert (
        vm.form_error(
            Action.RAISE_DISPUTE, reason="非本局职责", photo_count=0, legal_basis="三定规定"
        )
        is None
    )
    # the other forms never ask for one
    assert vm.form_error(Action.RETURN, reason="非本局职责", photo_count=0) is None


def test_the_recordings_photos_sent_as_a_note_show_with_the_recording() -> None:
    events = [
        {
            "kind": "CaseCreated",
            "at": "2026-11-04T01:00:00Z",
            "actor_department": "shzl",
            "lat": POINT[0],
            "lon": POINT[1],
            "data": {"description": "积水"},
        },
        {
            "kind": "NoteAdded",
            "at": "2026-11-04T01:00:01Z",
            "actor_department": "shzl",
            "data": {"note": None, "photos": ["a" * 64, "b" * 64]},
        },
        {
            "kind": "NoteAdded",
            "at": "2026-11-04T02:00:00Z",
            "actor_department": "zhzf",
            "data": {"note": "已到场", "photos": []},
        },
    ]
    rows = detail(SUPERVISOR, events=events).timeline()
    assert [r.kind for r in rows] == ["CaseCreated", "NoteAdded"]
    assert rows[0].photos == ("a" * 64, "b" * 64) and rows[0].who == "社会治理中心"
    assert rows[1].text == "已到场"


def test_the_case_screen_shows_the_acceptance_deadline_while_the_case_awaits_acceptance() -> None:
    accept_by = "2026-11-04T07:30:00+00:00"  # Wednesday 15:30 in China
    vm = detail(HANDLER, **ASSIGNED, assigned_at=NOW.isoformat(), acceptance_due_at=accept_by)
    assert vm.acceptance_due_at is not None and vm.acceptance_due_at.isoformat() == accept_by
    assert vm.urgency is None
    accepted = detail(HANDLER, **{**ASSIGNED, "status": "accepted"}, acceptance_due_at=accept_by)
    assert accepted.acceptance_due_at is None


def test_the_case_screen_says_overdue_as_the_server_does_but_not_while_suspended() -> None:
    late = {**ASSIGNED, "status": "handling", "due_at": "2026-11-03T09:30:00+00:00"}
    assert detail(HANDLER, **late).urgency == Urgency.OVERDUE
    assert detail(HANDLER, **late, suspended=True).urgency is None


def test_a_case_assigned_offline_into_a_year_not_entered_says_so_on_its_screen(
    tmp_path: Path,
) -> None:
    eve = datetime(2026, 12, 31, 15, 0, tzinfo=CHINA_TZ)
    store = DeviceStore(tmp_path / "d.db")
    vm = NewInspectionViewModel(reference(), inspector_name="张三", now=eve)
    vm.offer_gps(*POINT, 5.0)
    vm.category, vm.description = "waterlogging", "积水"
    writer = CaseWriter(store, INSPECTOR, "张三")
    writer.create_case(vm.record(eve), [], now=eve)
    assert vm.propose(eve) is not None
    writer.transition(vm.case_id, Action.ASSIGN, now=eve, assignment=vm.assignment())
    stored = store.case(vm.case_id)
    assert stored is not None
    screen = CaseDetailViewModel(stored, INSPECTOR, reference(), now=eve)
    assert screen.deadline_note is not None and "2027年节假日未录入" in screen.deadline_note
    assert detail(INSPECTOR, **ASSIGNED).deadline_note is None  # a deadline within 2026
