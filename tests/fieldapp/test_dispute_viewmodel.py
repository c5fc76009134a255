"""The dispute screen's logic: who may take which step at each stage, what the card shows,
and the forms' field-named errors; plus decoding the server's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fieldapp.api_client import ServerFault
from fieldapp.dispute_api import CaseWork, Dispute, DisputeApi, decode_case_work
from fieldapp.viewmodels.dispute import (
    ConsultForm,
    PositionForm,
    ReasonForm,
    RulingForm,
    Step,
    build_view,
    permitted_steps,
)
from sync.lifecycle import Actor
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import case_out_json, reference

NOW = datetime(2026, 11, 4, 2, tzinfo=UTC)
LEAD = Actor("u-zhzf", Role.HANDLER, "zhzf")
SW = Actor("u-sw", Role.HANDLER, "sw")
OTHER = Actor("u-jt", Role.HANDLER, "jt")
COORDINATOR = Actor("u-wbb", Role.COORDINATOR, "wbb")
SUPERVISOR = Actor("u-zfb", Role.SUPERVISOR, "zfb")
INSPECTOR = Actor("u-in", Role.INSPECTOR, "shzl")


def dispute_json(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "d1",
        "case_id": "c1",
        "raised_by_department": "zhzf",
        "reason": "应由水务局负责",
        "legal_basis": "《城镇排水与污水处理条例》",
        "claimed_responsible": None,
        "involved": ["sw", "zhzf"],
        "positions": {"zhzf": {"not_ours": True, "reason": "应由水务局负责", "legal_basis": "x"}},
        "stage": "consultation",
        "status": "open",
        "needs_county_leader": False,
        "stage_due_at": "2026-11-06T09:30:00Z",
        "suspended": False,
        "suspensions": [],
        "raised_at": "2026-11-03T02:00:00Z",
        "settled_at": None,
        "responsible_department": None,
        "lost_by": [],
        "new_list_version": None,
        "minute_id": None,
        "ruling_text": None,
    }
    return {**raw, **over}


def work_json(*disputes: dict[str, Any], minutes: list[dict[str, Any]] | None = None) -> dict:
    return {
        "case": case_out_json(
            id="c1",
            number="YX261103-ABC",
            status="accepted",
            category="waterlogging",
            lead_department="zhzf",
            assisting=[{"department_code": "sw", "duty": "泵站强排"}],
            due_at="2026-11-04T02:00:00Z",
            time_amount=24,
            time_unit="working_hours",
        ),
        "assist_tasks": [],
        "disputes": list(disputes),
        "escalations": [],
        "minutes": minutes or [],
    }


def work(**over: Any) -> CaseWork:
    return decode_case_work(work_json(dispute_json(**over)))


def the_dispute(w: CaseWork) -> Dispute:
    return w.disputes[0]


# --- who may do what, stage by stage ----------------------------------------------------------


def test_at_consultation_the_lead_calls_consultation_escalates_and_records_the_agreement() -> None:
    w = work()
    assert permitted_steps(LEAD, w, the_dispute(w)) == [
        Step.POSITION,
        Step.CONSULT,
        Step.ESCALATE,
        Step.SETTLE,
    ]
    # an involved assisting department states its position and may escalate, nothing more
    assert permitted_steps(SW, w, the_dispute(w)) == [Step.POSITION, Step.ESCALATE]
    assert permitted_steps(OTHER, w, the_dispute(w)) == []
    assert permitted_steps(INSPECTOR, w, the_dispute(w)) == []


def test_oversight_escalates_and_suspends_and_only_the_coordinator_rules_later() -> None:
    w = work()
    assert permitted_steps(SUPERVISOR, w, the_dispute(w)) == [Step.ESCALATE, Step.SUSPEND]
    coordination = work(stage="coordination")
    assert permitted_steps(SUPERVISOR, coordination, the_dispute(coordination)) == [Step.SUSPEND]
    assert permitted_steps(COORDINATOR, coordination, the_dispute(coordination)) == [
        Step.ESCALATE,
        Step.SETTLE,
        Step.SUSPEND,
    ]
    # handlers only state positions once the establishment office has it
    assert permitted_steps(LEAD, coordination, the_dispute(coordination)) == [Step.POSITION]
    ruling = work(stage="ruling")
    assert permitted_steps(COORDINATOR, ruling, the_dispute(ruling)) == [Step.SETTLE, Step.SUSPEND]


def test_a_county_leaders_coordination_is_final_and_a_suspended_dispute_offers_resume() -> None:
    once = work(stage="coordination", needs_county_leader=True)
    assert Step.ESCALATE not in permitted_steps(COORDINATOR, once, the_dispute(once))
    held = work(suspended=True)
    assert permitted_steps(COORDINATOR, held, the_dispute(held))[-1] is Step.RESUME
    assert Step.SUSPEND not in permitted_steps(COORDINATOR, held, the_dispute(held))


def test_a_settled_dispute_offers_no_steps() -> None:
    w = work(status="settled", responsible_department="sw", settled_at="2026-11-05T02:00:00Z")
    for who in (LEAD, SW, COORDINATOR, SUPERVISOR):
        assert permitted_steps(who, w, the_dispute(w)) == []


# --- what the card shows ----------------------------------------------------------------------


def test_the_card_shows_stage_deadline_and_each_departments_position() -> None:
    view = build_view(work(), SW, reference(), now=NOW)
    assert view is not None
    assert view.stage.value == "consultation" and view.stage_index == 0
    assert view.stage_due_at == datetime(2026, 11, 6, 9, 30, tzinfo=UTC) and not view.overdue
    assert view.escalates_to is not None and view.escalates_to.value == "coordination"
    assert [(r.name, r.state, r.raised_it) for r in view.rows] == [
        ("水务局", "dispute.position.none", False),
        ("综合执法局", "dispute.position.not_ours", True),
    ]
    late = build_view(work(), SW, reference(), now=NOW + timedelta(days=3))
    assert late is not None and late.overdue
    held = build_view(
        work(suspended=True, suspensions=[{"start": "2026-11-03T03:00:00Z", "reason": "待文件"}]),
        SW,
        reference(),
        now=NOW + timedelta(days=3),
    )
    assert held is not None and not held.overdue and held.suspension_reason == "待文件"


def test_after_the_ruling_the_card_shows_who_is_responsible_and_the_minute() -> None:
    minute = {
        "id": "m1",
        "kind": "ruling",
        "title": "会议纪要：案件 YX261103-ABC 职责异议联合会商认定",
        "case_ids": ["c1"],
        "dispute_id": "d1",
        "session_id": None,
        "created_at": "2026-11-05T02:00:00Z",
        "download": "/minutes/m1/file",
    }
    raw = dispute_json(
        status="settled",
        stage="ruling",
        responsible_department="sw",
        lost_by=["sw"],
        minute_id="m1",
        ruling_text="由水务局主办",
        settled_at="2026-11-05T02:00:00Z",
        new_list_version=2,
    )
    view = build_view(decode_case_work(work_json(raw, minutes=[minute])), SW, reference(), now=NOW)
    assert view is not None and view.ruling is not None and view.settled
    assert view.ruling.responsible == "水务局" and view.ruling.lost_by == ("水务局",)
    assert view.ruling.ruling_text == "由水务局主办" and view.ruling.new_list_version == 2
    assert view.ruling.minute is not None and view.ruling.minute.title.startswith("会议纪要")
    assert view.steps == ()


def test_the_open_dispute_is_shown_before_an_older_settled_one() -> None:
    old = dispute_json(id="d0", status="settled", raised_at="2026-10-01T00:00:00Z")
    w = decode_case_work(work_json(old, dispute_json()))
    view = build_view(w, SW, reference(), now=NOW)
    assert view is not None and view.dispute.id == "d1"
    assert build_view(decode_case_work(work_json()), SW, reference(), now=NOW) is None


# --- forms ------------------------------------------------------------------------------------


def test_a_position_needs_a_choice_a_reason_and_for_not_ours_a_legal_basis() -> None:
    form = PositionForm()
    assert form.errors() == {
        "not_ours": "dispute.error.choose_position",
        "reason": "dispute.error.reason_required",
    }
    form.not_ours, form.reason = True, "非本局职责"
    assert form.errors() == {"legal_basis": "dispute.error.legal_basis_required"}
    form.not_ours = False  # accepting needs no legal basis
    assert form.errors() == {}


def test_suspending_needs_a_reason_escalating_does_not() -> None:
    assert ReasonForm(required=True, reason=" ").errors() == {
        "reason": "dispute.error.reason_required"
    }
    assert ReasonForm(required=False).errors() == {}


def test_a_consultation_invites_the_other_involved_departments() -> None:
    w = work()
    form = ConsultForm.for_dispute(the_dispute(w), LEAD)
    assert form.departments == ["sw"] and form.errors() == {}
    form.toggle("sw", False)
    assert form.errors() == {"departments": "dispute.error.departments_required"}


def test_a_ruling_names_each_missing_field_and_the_lead_never_assists() -> None:
    w = work(stage="ruling")
    form = RulingForm.for_dispute(w, the_dispute(w))
    assert form.candidates == ["sw", "zhzf"] and form.assisting == {"sw": "泵站强排"}
    assert set(form.errors()) == {"responsible", "facts", "ruling_text", "legal_basis"}
    with pytest.raises(ValueError):
        form.ruling(w, reference(), now=NOW)
    form.choose("sw")
    assert form.assisting == {}  # the ruled lead no longer assists
    form.toggle_assisting("zhzf", True)
    form.set_duty("zhzf", " ")
    assert form.errors()["duty:zhzf"] == "dispute.error.duty_required"
    form.set_duty("zhzf", "配合现场处置")
    form.facts, form.ruling_text, form.legal_basis = "管网堵塞", "由水务局主办", "条例第二十条"
    assert form.errors() == {}
    ruling = form.ruling(w, reference(), now=NOW)
    assert ruling.responsible_department == "sw"
    assert ruling.assisting == (("zhzf", "配合现场处置"),) and ruling.new_entry is None


def test_a_ruling_may_publish_the_ruled_entry_only_at_the_ruling_stage() -> None:
    w = work(stage="ruling", claimed_responsible="sw")
    form = RulingForm.for_dispute(w, the_dispute(w))
    assert form.responsible == "sw" and form.may_publish  # the claim is the starting choice
    form.facts, form.ruling_text, form.legal_basis = "管网堵塞", "由水务局主办", "条例第二十条"
    form.publish = True
    entry = form.ruling(w, reference(), now=NOW).new_entry
    assert entry is not None
    assert (entry["category"], entry["matter"], entry["lead_department_code"]) == (
        "waterlogging",
        "城区积水点治理",
        "sw",
    )
    assert entry["legal_basis"] == "条例第二十条" and entry["lead_duty"] == "由水务局主办"
    coordination = work(stage="coordination")
    early = RulingForm.for_dispute(coordination, the_dispute(coordination))
    early.responsible, early.facts, early.ruling_text, early.legal_basis = "sw", "f", "r", "b"
    early.publish = True
    assert not early.may_publish
    assert early.ruling(coordination, reference(), now=NOW).new_entry is None


def test_a_lead_settling_at_consultation_is_offered_only_itself_and_departments_that_agreed() -> (
    None
):
    w = work(claimed_responsible="sw")  # sw has not stated a position yet
    form = RulingForm.for_dispute(w, the_dispute(w), LEAD)
    assert form.candidates == ["zhzf"] and form.responsible is None
    form.choose("sw")  # a crafted choice the form did not offer
    form.facts, form.ruling_text, form.legal_basis = "管网堵塞", "由水务局主办", "条例第二十条"
    assert form.errors() == {"responsible": "dispute.error.not_agreed"}
    agreed = work(
        claimed_responsible="sw",
        positions={
            "zhzf": {"not_ours": True, "reason": "应由水务局负责", "legal_basis": "x"},
            "sw": {"not_ours": False, "reason": "认可", "legal_basis": ""},
        },
    )
    form = RulingForm.for_dispute(agreed, the_dispute(agreed), LEAD)
    assert form.candidates == ["sw", "zhzf"] and form.responsible == "sw"
    form.toggle_assisting("jt", True)  # jt took no part: it cannot be added as assisting
    form.facts, form.ruling_text, form.legal_basis = "管网堵塞", "由水务局主办", "条例第二十条"
    assert form.errors() == {"duty:jt": "dispute.error.not_agreed"}
    form.toggle_assisting("jt", False)
    assert form.errors() == {}
    # 编办 coordinating may name any department
    coordination = work(stage="coordination", claimed_responsible="sw")
    ruled = RulingForm.for_dispute(coordination, the_dispute(coordination), COORDINATOR)
    assert ruled.candidates == ["sw", "zhzf"] and ruled.responsible == "sw"


# --- the calls --------------------------------------------------------------------------------


class FakeApi:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(("GET", path, params))
        return self.answer

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(("POST", path, body))
        return self.answer


def test_the_calls_post_to_the_dispute_endpoints_with_trimmed_text() -> None:
    fake = FakeApi(dispute_json())
    api = DisputeApi(fake)
    api.state_position("d1", not_ours=True, reason=" 非本局 ", legal_basis=" 三定 ")
    api.escalate("d1", "")
    api.suspend("d1", " 等待文件 ")
    assert fake.calls == [
        (
            "POST",
            "/disputes/d1/positions",
            {"not_ours": True, "reason": "非本局", "legal_basis": "三定"},
        ),
        ("POST", "/disputes/d1/escalate", {"reason": ""}),
        ("POST", "/disputes/d1/suspend", {"reason": "等待文件"}),
    ]


def test_an_answer_missing_a_field_is_a_server_fault() -> None:
    broken = dispute_json()
    del broken["stage"]
    with pytest.raises(ServerFault):
        decode_case_work(work_json(broken))
