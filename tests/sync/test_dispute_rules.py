"""The dispute rules as pure functions (sync/disputes.py): the one table of who may take which
step at which stage, 认定谁、谁负责 at consultation, which departments a settlement keeps, and
the facts read from a case's rulings — the functions the phone and the server both call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.boundary_types import AssistingDuty
from sync.disputes import (
    DisputeFacts,
    DisputeStatus,
    Stage,
    Step,
    StepRequest,
    allowed_steps,
    check_step,
    coordinated,
    kept_departments,
    ruled_responsible,
)
from sync.errors import InvalidInput, NotPermitted, RuleViolation
from sync.lifecycle import Action, Actor, CaseFacts, allowed_actions, decide
from sync.lifecycle import Request as CaseRequest
from sync.vocabulary import CaseStatus, Role

NOW = datetime(2026, 11, 4, 2, tzinfo=UTC)
LEAD = Actor("u-zhzf", Role.HANDLER, "zhzf")
ZJ = Actor("u-zj", Role.HANDLER, "zj")
SW = Actor("u-sw", Role.HANDLER, "sw")
JT = Actor("u-jt", Role.HANDLER, "jt")
COORDINATOR = Actor("u-wbb", Role.COORDINATOR, "wbb")
SUPERVISOR = Actor("u-zfb", Role.SUPERVISOR, "zfb")


def dispute(stage: Stage = Stage.CONSULTATION, **over: object) -> DisputeFacts:
    base: dict[str, object] = {
        "status": DisputeStatus.OPEN,
        "stage": stage,
        "lead_department": "zhzf",
        "involved": frozenset({"zhzf", "zj", "sw"}),
        "assisting": frozenset({"zj", "sw"}),
    }
    return DisputeFacts(**{**base, **over})  # type: ignore[arg-type]


def test_the_step_table_says_who_may_act_at_each_stage() -> None:
    at = {stage: dispute(stage) for stage in Stage}
    assert allowed_steps(at[Stage.CONSULTATION], LEAD) == [
        Step.STATE_POSITION,
        Step.CALL_CONSULTATION,
        Step.ESCALATE,
        Step.SETTLE,
    ]
    assert allowed_steps(at[Stage.CONSULTATION], ZJ) == [Step.STATE_POSITION, Step.ESCALATE]
    assert allowed_steps(at[Stage.CONSULTATION], JT) == []
    assert allowed_steps(at[Stage.COORDINATION], LEAD) == [Step.STATE_POSITION]
    assert allowed_steps(at[Stage.COORDINATION], SUPERVISOR) == [Step.SUSPEND]
    assert allowed_steps(at[Stage.COORDINATION], COORDINATOR) == [
        Step.ESCALATE,
        Step.SUSPEND,
        Step.SETTLE,
    ]
    # the ruling is the last stage; a county leader's coordination is final
    assert Step.ESCALATE not in allowed_steps(at[Stage.RULING], COORDINATOR)
    final = dispute(Stage.COORDINATION, needs_county_leader=True)
    assert Step.ESCALATE not in allowed_steps(final, COORDINATOR)
    with pytest.raises(RuleViolation) as refused:
        check_step(Step.ESCALATE, final, COORDINATOR)
    assert refused.value.code == "coordinated_once"
    assert allowed_steps(dispute(suspended=True), SUPERVISOR) == [Step.ESCALATE, Step.RESUME]


def test_each_refusal_is_typed_and_says_why() -> None:
    with pytest.raises(NotPermitted) as who:
        check_step(Step.SETTLE, dispute(Stage.COORDINATION), LEAD, StepRequest())
    assert who.value.code == "role_not_allowed"
    with pytest.raises(NotPermitted) as dept:
        check_step(Step.SETTLE, dispute(), ZJ, StepRequest(responsible_department="zj"))
    assert dept.value.code == "department_not_allowed"
    with pytest.raises(InvalidInput) as reason:
        check_step(Step.SUSPEND, dispute(), SUPERVISOR, StepRequest(reason="  "))
    assert reason.value.field == "reason"
    with pytest.raises(NotPermitted):
        check_step(Step.ESCALATE, dispute(), ZJ, StepRequest(needs_county_leader=True))
    settled = dispute(status=DisputeStatus.SETTLED, responsible_department="zj")
    with pytest.raises(RuleViolation) as again:
        check_step(Step.SETTLE, settled, COORDINATOR, StepRequest(responsible_department="sw"))
    assert again.value.code == "dispute_settled"
    assert allowed_steps(settled, ZJ) == [Step.REFUSE_RULING]
    assert allowed_steps(settled, SW) == []


def test_a_lead_settling_at_consultation_names_only_itself_or_a_department_that_agreed() -> None:
    silent = dispute()
    for named in ("zj", "jt"):
        with pytest.raises(RuleViolation) as refused:
            check_step(Step.SETTLE, silent, LEAD, StepRequest(responsible_department=named))
        assert (refused.value.code, refused.value.field) == ("not_agreed", "responsible_department")
        assert refused.value.as_dict()["field"] == "responsible_department"
    check_step(Step.SETTLE, silent, LEAD, StepRequest(responsible_department="zhzf"))
    agreed = dispute(agreed=frozenset({"sw"}))
    check_step(Step.SETTLE, agreed, LEAD, StepRequest(responsible_department="sw"))
    # keeping the current assisting departments is fine, adding one that did not agree is not
    check_step(
        Step.SETTLE, agreed, LEAD, StepRequest(responsible_department="sw", assisting=("zj",))
    )
    with pytest.raises(RuleViolation) as added:
        check_step(
            Step.SETTLE,
            agreed,
            LEAD,
            StepRequest(responsible_department="sw", assisting=("zj", "jt")),
        )
    assert added.value.field == "assisting[1].department_code"
    # 编办 coordinating (at any stage) may name any department
    check_step(Step.SETTLE, silent, COORDINATOR, StepRequest(responsible_department="jt"))


def test_a_ruled_entry_decides_who_leads_and_who_assists_with_which_duty() -> None:
    current = [AssistingDuty("zj", "配建停车场"), AssistingDuty("sw", "排水")]
    entry = [AssistingDuty("zhzf", "查处违规经营")]
    kept = kept_departments(
        responsible="zj",
        assisting=None,
        current_assisting=current,
        entry_lead="zj",
        entry_assisting=entry,
    )
    assert (kept.lead, kept.assisting) == ("zj", (AssistingDuty("zhzf", "查处违规经营"),))
    with pytest.raises(InvalidInput) as lead:
        kept_departments(
            responsible="sw",
            assisting=None,
            current_assisting=current,
            entry_lead="zj",
            entry_assisting=entry,
        )
    assert lead.value.field == "responsible_department"
    with pytest.raises(InvalidInput) as duties:
        kept_departments(
            responsible="zj",
            assisting=[AssistingDuty("zhzf", "别的职责")],
            current_assisting=current,
            entry_lead="zj",
            entry_assisting=entry,
        )
    assert duties.value.field == "assisting"
    # without an entry: the named assisting, else the others keep their duties
    assert kept_departments(
        responsible="zj", assisting=None, current_assisting=current
    ).assisting == (AssistingDuty("sw", "排水"),)
    with pytest.raises(InvalidInput):
        kept_departments(
            responsible="zj", assisting=[AssistingDuty("zj", "x")], current_assisting=current
        )


RULED_BY_CONSULTATION = {
    "kind": "DisputeRuled",
    "data": {"responsible_department": "sw", "stage": "consultation", "coordinated": False},
}
RULED_BY_COORDINATION = {
    "kind": "DisputeRuled",
    "data": {"responsible_department": "zj", "stage": "coordination", "coordinated": True},
}
COORDINATOR_AT_CONSULTATION = {
    "kind": "DisputeRuled",
    "data": {"responsible_department": "zj", "stage": "consultation", "coordinated": True},
}


def test_rulings_are_read_from_the_case_events_the_same_way_everywhere() -> None:
    other = {"kind": "DisputeEscalated", "data": {"stage": "ruling"}}
    assert ruled_responsible([RULED_BY_CONSULTATION, other]) == {"sw"}
    assert not coordinated([RULED_BY_CONSULTATION, other])
    assert coordinated([RULED_BY_CONSULTATION, RULED_BY_COORDINATION])
    assert coordinated([COORDINATOR_AT_CONSULTATION])
    # an event recorded before "coordinated" was written still counts by its stage
    assert coordinated([{"kind": "DisputeRuled", "data": {"stage": "ruling"}}])


def case(**over: object) -> CaseFacts:
    base: dict[str, object] = {
        "status": CaseStatus.ACCEPTED,
        "first_contact_department": "shzl",
        "reporter_user_id": "u-in",
        "lead_department": "zhzf",
        "assisting_departments": frozenset({"zj", "sw"}),
    }
    return CaseFacts(**{**base, **over})  # type: ignore[arg-type]


def test_no_second_dispute_while_one_is_open_once_coordinated_or_by_the_ruled_nor_a_return() -> (
    None
):
    request = CaseRequest(reason="不属本部门", legal_basis="三定")
    for facts, actor, code in (
        (case(disputed=True), ZJ, "dispute_open"),
        (case(coordinated=True), ZJ, "coordinated_once"),
        (case(ruled_responsible=frozenset({"zhzf"})), LEAD, "ruled_responsible"),
    ):
        with pytest.raises(RuleViolation) as refused:
            decide(facts, Action.RAISE_DISPUTE, actor, now=NOW, request=request)
        assert refused.value.code == code
        assert Action.RAISE_DISPUTE not in allowed_actions(facts, actor, now=NOW)
    # nor is a case under dispute handed back: it is settled through the dispute path
    assigned = case(status=CaseStatus.ASSIGNED, disputed=True)
    with pytest.raises(RuleViolation) as returned:
        decide(assigned, Action.RETURN, LEAD, now=NOW, request=request)
    assert returned.value.code == "under_dispute"
    assert allowed_actions(assigned, LEAD, now=NOW) == [Action.ACCEPT]
    # an agreement at consultation leaves the others free to dispute
    agreed = case(ruled_responsible=frozenset({"zhzf"}))
    decide(agreed, Action.RAISE_DISPUTE, ZJ, now=NOW, request=request)
