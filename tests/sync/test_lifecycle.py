"""The case lifecycle, exhaustively: every status × action × role × relation to the case.

The expectations below are written by hand from docs/domain.md's closed loop (发现 → 交办 → 签收 →
处置 → 反馈 → 核查 → 结案, with return, rework, cancel, merge, suspend, dispute); they are not
derived from ``sync.lifecycle.TRANSITIONS``, so a wrong row in the table makes a test fail.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.errors import DomainError, InvalidInput, NotPermitted, TransitionNotAllowed
from sync.lifecycle import (
    Action,
    Actor,
    CaseFacts,
    Request,
    SystemAction,
    allowed_actions,
    decide,
    decide_system,
)
from sync.vocabulary import CaseStatus, Party, Role

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)
S = CaseStatus
A = Action
R = Role
P = Party

_OPEN = (S.DISCOVERED, S.ASSIGNED, S.ACCEPTED, S.HANDLING, S.HANDLED)
_WORKING = (S.ASSIGNED, S.ACCEPTED, S.HANDLING)  # assigned and not yet reported back

# (status before, action) → status after. Anything not listed is refused for the status.
EXPECTED_TARGET: dict[tuple[CaseStatus, Action], CaseStatus] = {
    (S.DISCOVERED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.RETURN): S.DISCOVERED,
    (S.ACCEPTED, A.START_HANDLING): S.HANDLING,
    (S.HANDLING, A.REPORT_BACK): S.HANDLED,
    (S.HANDLED, A.CLOSE): S.CLOSED,
    (S.HANDLED, A.SEND_BACK): S.HANDLING,
    (S.CLOSED, A.REOPEN): S.HANDLING,
    **{(s, A.CANCEL): S.CANCELLED for s in _OPEN},
    **{(s, A.MERGE): S.MERGED for s in _OPEN},
    **{(s, A.SUSPEND): s for s in _WORKING},
    **{(s, A.RESUME): s for s in _WORKING},
    **{(s, A.RAISE_DISPUTE): s for s in _WORKING},
}

# action → {role: the relations to the case of which the actor needs one}
ANYONE = frozenset({P.ANY})
EXPECTED_WHO: dict[Action, dict[Role, frozenset[Party]]] = {
    A.ASSIGN: {
        R.INSPECTOR: frozenset({P.REPORTER}),
        R.HANDLER: frozenset({P.FIRST_CONTACT}),
        R.SUPERVISOR: ANYONE,
        R.COORDINATOR: ANYONE,
    },
    A.ACCEPT: {R.HANDLER: frozenset({P.LEAD})},
    A.RETURN: {R.HANDLER: frozenset({P.LEAD})},
    A.START_HANDLING: {R.HANDLER: frozenset({P.LEAD})},
    A.REPORT_BACK: {R.HANDLER: frozenset({P.LEAD})},
    A.CLOSE: {R.SUPERVISOR: ANYONE, R.INSPECTOR: frozenset({P.REPORTER})},
    A.SEND_BACK: {R.SUPERVISOR: ANYONE, R.INSPECTOR: frozenset({P.REPORTER})},
    A.REOPEN: {R.SUPERVISOR: ANYONE},
    A.CANCEL: {R.SUPERVISOR: ANYONE, R.COORDINATOR: ANYONE},
    A.MERGE: {
        R.SUPERVISOR: ANYONE,
        R.COORDINATOR: ANYONE,
        R.INSPECTOR: frozenset({P.REPORTER}),
    },
    A.SUSPEND: {R.SUPERVISOR: ANYONE, R.COORDINATOR: ANYONE},
    A.RESUME: {R.SUPERVISOR: ANYONE, R.COORDINATOR: ANYONE},
    A.RAISE_DISPUTE: {R.HANDLER: frozenset({P.LEAD, P.ASSISTING})},
}

# actions that need a stated reason
EXPECTED_NEEDS_REASON = {
    A.RETURN,
    A.SEND_BACK,
    A.REOPEN,
    A.CANCEL,
    A.SUSPEND,
    A.RAISE_DISPUTE,
}

FIRST_CONTACT = "rx"
LEAD = "zhzf"
ASSISTING = "sw"
REPORTER = "u-reporter"

# How an actor relates to the case → (user id, department, relations held once a lead is named)
PROFILES: dict[str, tuple[str, str, frozenset[Party]]] = {
    "unrelated": ("u-other", "jyt", frozenset()),
    "first_contact": ("u-fc", FIRST_CONTACT, frozenset({P.FIRST_CONTACT})),
    "lead": ("u-lead", LEAD, frozenset({P.LEAD})),
    "assisting": ("u-assist", ASSISTING, frozenset({P.ASSISTING})),
    "reporter": (REPORTER, "shzl", frozenset({P.REPORTER})),
}


def case_in(
    status: CaseStatus, *, suspended: bool = False, handlers: frozenset[str] = frozenset()
) -> CaseFacts:
    """A case in ``status``; it has a lead and an assisting department once it was assigned."""
    assigned = status is not S.DISCOVERED
    return CaseFacts(
        status=status,
        first_contact_department=FIRST_CONTACT,
        reporter_user_id=REPORTER,
        lead_department=LEAD if assigned else None,
        assisting_departments=frozenset({ASSISTING}) if assigned else frozenset(),
        handler_user_ids=handlers,
        suspended=suspended,
    )


def actor(role: Role, profile: str) -> Actor:
    user_id, department, _ = PROFILES[profile]
    return Actor(user_id=user_id, role=role, department=department)


def held(status: CaseStatus, profile: str) -> frozenset[Party]:
    """The relations the profile holds to a case in ``status`` (always at least ANY)."""
    parties = PROFILES[profile][2]
    if status is S.DISCOVERED:  # no lead nor assisting departments named yet
        parties = parties - {P.LEAD, P.ASSISTING}
    return parties | {P.ANY}


FULL_REQUEST = Request(
    reason="现场核实 / checked on site",
    duplicate_of="other-case",
    legal_basis="《城镇排水与污水处理条例》",
)


def suspended_for(action: Action) -> bool:
    """The suspension state in which the action is meaningful (resume needs a suspended case)."""
    return action is A.RESUME


def expected_outcome(
    status: CaseStatus, action: Action, role: Role, profile: str
) -> CaseStatus | type[DomainError]:
    if (status, action) not in EXPECTED_TARGET:
        return TransitionNotAllowed
    needed = EXPECTED_WHO[action].get(role)
    if needed is None or not needed & held(status, profile):
        return NotPermitted
    return EXPECTED_TARGET[(status, action)]


def outcome(
    case: CaseFacts, action: Action, who: Actor, request: Request = FULL_REQUEST
) -> CaseStatus | DomainError:
    try:
        return decide(case, action, who, now=NOW, request=request)
    except DomainError as exc:
        return exc


# --- the exhaustive grid ----------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
def test_every_status_action_role_and_relation_is_allowed_or_refused_as_the_table_says(
    status: CaseStatus, action: Action, role: Role
) -> None:
    case = case_in(status, suspended=suspended_for(action))
    wrong: dict[str, tuple[object, object]] = {}
    for profile in PROFILES:
        expected = expected_outcome(status, action, role, profile)
        got = outcome(case, action, actor(role, profile))
        if isinstance(expected, CaseStatus):
            if got != expected:
                wrong[profile] = (expected, got)
        elif type(got) is not expected:
            wrong[profile] = (expected.__name__, got)
    assert wrong == {}, f"{status} × {action} × {role}: profile → (expected, got)"


def test_the_expectation_table_covers_every_action() -> None:
    # guards the grid above: an action added to the lifecycle must be added here too
    assert set(EXPECTED_WHO) == set(Action)
    assert {a for _, a in EXPECTED_TARGET} == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_wrong_status_is_checked_before_the_actor(action: Action) -> None:
    # an admin (never allowed anything) asking in a status the action does not start from
    # learns about the status: a 409 that tells why, not a 403
    for status in CaseStatus:
        if (status, action) in EXPECTED_TARGET:
            continue
        err = outcome(case_in(status), action, actor(R.ADMIN, "unrelated"))
        assert isinstance(err, TransitionNotAllowed), (status, err)
        assert err.code == "wrong_status"
        assert status.value in err.reason and action.value in err.reason


def test_a_role_the_action_never_allows_is_told_so_by_role() -> None:
    err = outcome(case_in(S.ASSIGNED), A.ACCEPT, actor(R.SUPERVISOR, "lead"))
    assert isinstance(err, NotPermitted) and err.code == "role_not_allowed"


def test_the_right_role_in_the_wrong_department_is_told_which_department_may() -> None:
    err = outcome(case_in(S.ASSIGNED), A.ACCEPT, actor(R.HANDLER, "assisting"))
    assert isinstance(err, NotPermitted) and err.code == "department_not_allowed"
    assert "lead" in err.reason


# --- validators -------------------------------------------------------------------------------


def _an_allowed_combination(action: Action) -> tuple[CaseFacts, Actor]:
    status = next(s for (s, a) in EXPECTED_TARGET if a is action)
    for role, parties in EXPECTED_WHO[action].items():
        for profile in PROFILES:
            if parties & held(status, profile):
                return case_in(status, suspended=suspended_for(action)), actor(role, profile)
    raise AssertionError(f"nobody may {action}")


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_actions_that_need_a_reason_refuse_a_blank_one_naming_the_field(action: Action) -> None:
    case, who = _an_allowed_combination(action)
    for blank in ("", "   \n\t"):
        got = outcome(
            case,
            action,
            who,
            Request(reason=blank, duplicate_of="other-case", legal_basis="三定规定"),
        )
        if action in EXPECTED_NEEDS_REASON:
            assert isinstance(got, InvalidInput), (blank, got)
            assert got.field == "reason"
        else:
            assert isinstance(got, CaseStatus), got


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_only_a_dispute_needs_a_legal_basis_and_a_blank_one_is_refused_naming_the_field(
    action: Action,
) -> None:
    case, who = _an_allowed_combination(action)
    for blank in ("", "  \n"):
        got = outcome(
            case, action, who, Request(reason="理由", duplicate_of="other-case", legal_basis=blank)
        )
        if action is A.RAISE_DISPUTE:
            assert isinstance(got, InvalidInput), (blank, got)
            assert got.field == "legal_basis" and "法律" in got.why and "legal basis" in got.why
        else:
            assert isinstance(got, CaseStatus), got


def test_merge_must_name_the_case_it_duplicates() -> None:
    case, who = _an_allowed_combination(A.MERGE)
    got = outcome(case, A.MERGE, who, Request(reason="重复", duplicate_of=None))
    assert isinstance(got, InvalidInput) and got.field == "duplicate_of"
    got = outcome(case, A.MERGE, who, Request(reason="", duplicate_of=""))
    assert isinstance(got, InvalidInput) and got.field == "duplicate_of"


def test_a_missing_request_counts_as_no_reason() -> None:
    err = None
    try:
        decide(case_in(S.ASSIGNED), A.RETURN, actor(R.HANDLER, "lead"), now=NOW)
    except InvalidInput as exc:
        err = exc
    assert err is not None and err.field == "reason"


@pytest.mark.parametrize("action", [A.CLOSE, A.SEND_BACK], ids=str)
@pytest.mark.parametrize("role,profile", [(R.SUPERVISOR, "unrelated"), (R.INSPECTOR, "reporter")])
def test_a_verifier_who_handled_the_case_cannot_close_or_send_it_back(
    action: Action, role: Role, profile: str
) -> None:
    who = actor(role, profile)
    case = case_in(S.HANDLED, handlers=frozenset({who.user_id, "u-lead"}))
    got = outcome(case, action, who)
    assert isinstance(got, TransitionNotAllowed) and got.code == "verifier_is_handler"
    # the same verifier on a case someone else handled may
    assert (
        outcome(replace(case, handler_user_ids=frozenset({"u-lead"})), action, who)
        == (EXPECTED_TARGET[(S.HANDLED, action)])
    )


@pytest.mark.parametrize("status", _WORKING, ids=str)
def test_suspending_a_suspended_case_is_refused(status: CaseStatus) -> None:
    got = outcome(case_in(status, suspended=True), A.SUSPEND, actor(R.SUPERVISOR, "unrelated"))
    assert isinstance(got, TransitionNotAllowed) and got.code == "suspended"


@pytest.mark.parametrize("status", _WORKING, ids=str)
def test_resuming_a_case_that_is_not_suspended_is_refused(status: CaseStatus) -> None:
    got = outcome(case_in(status, suspended=False), A.RESUME, actor(R.COORDINATOR, "unrelated"))
    assert isinstance(got, TransitionNotAllowed) and got.code == "not_suspended"


@pytest.mark.parametrize("status", _WORKING, ids=str)
def test_a_suspended_case_keeps_its_status_and_can_still_be_disputed(status: CaseStatus) -> None:
    case = case_in(status, suspended=True)
    assert outcome(case, A.RAISE_DISPUTE, actor(R.HANDLER, "assisting")) == status
    assert outcome(case, A.RESUME, actor(R.SUPERVISOR, "unrelated")) == status


def test_a_department_that_is_first_contact_and_lead_may_do_both_jobs() -> None:
    case = replace(case_in(S.ASSIGNED), lead_department=FIRST_CONTACT)
    assert outcome(case, A.ACCEPT, actor(R.HANDLER, "first_contact")) == S.ACCEPTED
    assert outcome(case_in(S.DISCOVERED), A.ASSIGN, actor(R.HANDLER, "first_contact")) == S.ASSIGNED


def test_an_inspector_who_did_not_record_the_case_cannot_assign_or_verify_it() -> None:
    other_inspector = Actor(user_id="u-inspector-2", role=R.INSPECTOR, department="shzl")
    assert isinstance(outcome(case_in(S.DISCOVERED), A.ASSIGN, other_inspector), NotPermitted)
    assert isinstance(outcome(case_in(S.HANDLED), A.CLOSE, other_inspector), NotPermitted)


# --- allowed_actions agrees with decide ---------------------------------------------------------


def _decide_allows(case: CaseFacts, action: Action, who: Actor) -> bool:
    return isinstance(outcome(case, action, who), CaseStatus)


@pytest.mark.parametrize("suspended", [False, True], ids=["running", "suspended"])
@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
def test_allowed_actions_lists_exactly_what_decide_allows(
    status: CaseStatus, suspended: bool
) -> None:
    for handled_by_verifier in (False, True):
        for role in Role:
            for profile in PROFILES:
                who = actor(role, profile)
                handlers = frozenset({who.user_id}) if handled_by_verifier else frozenset()
                case = case_in(status, suspended=suspended, handlers=handlers)
                listed = set(allowed_actions(case, who, now=NOW))
                allowed = {a for a in Action if _decide_allows(case, a, who)}
                assert listed == allowed, (status, suspended, role, profile, handled_by_verifier)


def test_allowed_actions_for_the_lead_of_an_assigned_case() -> None:
    listed = allowed_actions(case_in(S.ASSIGNED), actor(R.HANDLER, "lead"), now=NOW)
    assert set(listed) == {A.ACCEPT, A.RETURN, A.RAISE_DISPUTE}


def test_nobody_may_do_anything_to_a_cancelled_or_merged_case() -> None:
    for status in (S.CANCELLED, S.MERGED):
        for role in Role:
            for profile in PROFILES:
                assert allowed_actions(case_in(status), actor(role, profile), now=NOW) == []


def test_an_administrator_never_takes_part_in_a_case() -> None:
    for status in CaseStatus:
        for profile in PROFILES:
            for suspended in (False, True):
                case = case_in(status, suspended=suspended)
                assert allowed_actions(case, actor(R.ADMIN, profile), now=NOW) == []


def test_a_lead_a_ruling_named_responsible_cannot_return_the_case_but_may_accept_it() -> None:
    ruled = replace(case_in(S.ASSIGNED), ruled_responsible=frozenset({LEAD}))
    lead = actor(Role.HANDLER, "lead")
    with pytest.raises(TransitionNotAllowed) as refused:
        decide(ruled, Action.RETURN, lead, now=NOW, request=FULL_REQUEST)
    assert refused.value.code == "ruled_responsible"
    assert Action.RETURN not in allowed_actions(ruled, lead, now=NOW)
    assert decide(ruled, Action.ACCEPT, lead, now=NOW) is S.ACCEPTED


# --- system transitions, declared in the same table ---------------------------------------------


def test_no_user_may_ask_for_a_system_transition() -> None:
    # the system transitions are not actions: a device or a route cannot name one
    assert {a.value for a in SystemAction}.isdisjoint({a.value for a in Action})
    for action in SystemAction:
        with pytest.raises(ValueError):
            Action(action.value)


def test_a_repeat_report_reopens_only_a_closed_case_as_handling() -> None:
    for status in CaseStatus:
        case = case_in(status)
        if status is S.CLOSED:
            assert decide_system(case, SystemAction.REOPEN_ON_REPEAT, now=NOW) is S.HANDLING
        else:
            with pytest.raises(TransitionNotAllowed):
                decide_system(case, SystemAction.REOPEN_ON_REPEAT, now=NOW)
    assert decide_system(case_in(S.DISCOVERED), SystemAction.MERGE_INTO_REPEATED, now=NOW) is (
        S.MERGED
    )


@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
def test_a_ruling_naming_a_new_lead_sends_an_accepted_case_back_to_assigned(
    status: CaseStatus,
) -> None:
    case = case_in(status)
    new_lead = Request(responsible_department="sw")
    same_lead = Request(responsible_department=LEAD)
    expected = S.ASSIGNED if status in (S.ACCEPTED, S.HANDLING) else status
    assert decide_system(case, SystemAction.APPLY_RULING, now=NOW, request=new_lead) is expected
    assert decide_system(case, SystemAction.APPLY_RULING, now=NOW, request=same_lead) is status


# --- verification within 50 m -----------------------------------------------------------------

ORIGINAL = Point(35.7215, 116.4877)


def _north(metres: float) -> Point:
    return Point(ORIGINAL.lat + metres / 110_950, ORIGINAL.lon)


def _verifying(after: Point | None) -> CaseFacts:
    return replace(case_in(S.HANDLED), point=ORIGINAL, after_point=after)


def test_closing_needs_the_verifier_or_the_after_photo_within_50_m_or_a_reason() -> None:
    verifier = actor(R.SUPERVISOR, "unrelated")
    near, far = _north(40), _north(60)
    assert outcome(_verifying(None), A.CLOSE, verifier, Request(where=near)) is S.CLOSED
    assert outcome(_verifying(near), A.CLOSE, verifier, Request()) is S.CLOSED
    assert outcome(_verifying(far), A.CLOSE, verifier, Request(where=near)) is S.CLOSED
    for facts, request in (
        (_verifying(far), Request(where=far)),
        (_verifying(far), Request()),
        (_verifying(None), Request(where=far)),
    ):
        got = outcome(facts, A.CLOSE, verifier, request)
        assert isinstance(got, InvalidInput) and got.field == "reason", got
        assert got.code == "verify_far" and "60" in got.why
    unknown = outcome(_verifying(None), A.CLOSE, verifier, Request())
    assert isinstance(unknown, InvalidInput) and unknown.code == "verify_unknown"
    reason = Request(reason="积水点范围大，下游核查", where=far)
    assert outcome(_verifying(far), A.CLOSE, verifier, reason) is S.CLOSED


def test_a_case_recorded_without_a_point_is_verified_without_a_distance() -> None:
    facts = replace(case_in(S.HANDLED), point=None)
    assert outcome(facts, A.CLOSE, actor(R.SUPERVISOR, "unrelated"), Request()) is S.CLOSED


def test_verification_input_does_not_hide_close_from_allowed_actions() -> None:
    # the form asks for the position or a reason: close is still offered to the verifier
    listed = allowed_actions(_verifying(_north(500)), actor(R.SUPERVISOR, "unrelated"), now=NOW)
    assert A.CLOSE in listed


# --- one open dispute at a time ------------------------------------------------------------------


def test_a_case_with_an_open_dispute_cannot_be_disputed_again_nor_is_it_offered() -> None:
    disputed = replace(case_in(S.ASSIGNED), disputed=True)
    lead = actor(R.HANDLER, "lead")
    got = outcome(disputed, A.RAISE_DISPUTE, lead)
    assert isinstance(got, TransitionNotAllowed) and got.code == "dispute_open"
    assert A.RAISE_DISPUTE not in allowed_actions(disputed, lead, now=NOW)
    assert A.ACCEPT in allowed_actions(disputed, lead, now=NOW)  # work goes on
