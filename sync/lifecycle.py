"""The case lifecycle: one declared table of transitions, with named validators that say why not.

    discovered ─assign→ assigned ─accept→ accepted ─start_handling→ handling
         ↑                  │                                        │    ↑
         └──────return──────┘                              report_back    send_back (rework)
                                                                     ↓    │
                                     closed ←─close── handled ───────────┘
    closed ─reopen→ handling (a problem reported again: rework)
    any open state ─cancel→ cancelled, ─merge→ merged (duplicate)
    suspend / resume / raise_dispute keep the status (the clock pauses / work never stops)

System transitions (``SYSTEM_TRANSITIONS``, ``decide_system``) are declared in the same table but
no user may ask for them: the server makes them when something else happened —
    closed ─reopen_on_repeat→ handling (the same problem reported again within 30 days)
    discovered ─merge_into_repeated→ merged (that new report joins the reopened case)
    any status ─apply_ruling→ the same status, or assigned when a ruling names a new lead of an
    accepted or handling case (the ruled lead accepts it again; its deadline stands)

Each transition names the roles that may make it and, per role, how the actor's department must
relate to the case (first contact, lead, assisting, the reporter, or any). ``decide`` applies the
table; it is pure and takes ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sync.boundary_types import Point
from sync.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from sync.geo import distance_m
from sync.vocabulary import ACTIVE_STATUSES, OPEN_STATUSES, CaseStatus, Party, Role


class SystemAction(StrEnum):
    """Transitions no user asks for: the server makes them when something else happened."""

    REOPEN_ON_REPEAT = "reopen_on_repeat"  # 复发: reported again within 30 days of closing
    MERGE_INTO_REPEATED = "merge_into_repeated"  # the repeat report joins the reopened case
    APPLY_RULING = "apply_ruling"  # 认定谁、谁负责: the settled dispute's lead and assisting


class Action(StrEnum):
    ASSIGN = "assign"  # 交办
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 退回 (to the first-contact department)
    START_HANDLING = "start_handling"  # 开始处置
    REPORT_BACK = "report_back"  # 反馈
    CLOSE = "close"  # 核查通过, 结案
    SEND_BACK = "send_back"  # 核查不通过, 返工
    REOPEN = "reopen"  # 结案后问题复发, 返工
    CANCEL = "cancel"  # 撤销
    MERGE = "merge"  # 合并为重复
    SUSPEND = "suspend"  # 中止 (the clock pauses)
    RESUME = "resume"  # 恢复
    RAISE_DISPUTE = "raise_dispute"  # 异议 (work goes on)


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: Role
    department: str


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case."""

    status: CaseStatus
    first_contact_department: str
    reporter_user_id: str
    lead_department: str | None = None
    assisting_departments: frozenset[str] = frozenset()
    handler_user_ids: frozenset[str] = frozenset()  # users who accepted, handled or reported back
    suspended: bool = False
    ruled_responsible: frozenset[str] = frozenset()  # departments a settled dispute named
    disputed: bool = False  # a dispute is open (one at a time)
    point: Point | None = None  # where the problem was recorded (the original point)
    after_point: Point | None = None  # where the latest report back (its after photos) was made
    coordinated: bool = False  # a dispute was settled by coordination or ruling (只协调一次)


@dataclass(frozen=True)
class Request:
    """What the actor supplies with the action."""

    reason: str = ""
    duplicate_of: str | None = None
    legal_basis: str = ""  # a dispute's legal basis (法律法规 / 三定规定)
    where: Point | None = None  # the actor's position when acting
    responsible_department: str | None = None  # apply_ruling: the department ruled to lead


Validator = Callable[[CaseFacts, Actor, Request], None]


def needs_reason(case: CaseFacts, actor: Actor, request: Request) -> None:
    if not request.reason.strip():
        raise InvalidInput("reason", "必须说明理由 / a reason is required")


def needs_legal_basis(case: CaseFacts, actor: Actor, request: Request) -> None:
    if not request.legal_basis.strip():
        raise InvalidInput("legal_basis", "须写明法律法规或三定依据 / state the legal basis")


def verifier_is_not_a_handler(case: CaseFacts, actor: Actor, request: Request) -> None:
    if actor.user_id in case.handler_user_ids:
        raise TransitionNotAllowed(
            "核查人不能是处置人 / the verifier cannot be someone who handled the case",
            code="verifier_is_handler",
        )


def not_suspended(case: CaseFacts, actor: Actor, request: Request) -> None:
    if case.suspended:
        raise TransitionNotAllowed("案件已中止 / the case is already suspended", code="suspended")


def is_suspended(case: CaseFacts, actor: Actor, request: Request) -> None:
    if not case.suspended:
        raise TransitionNotAllowed("案件未中止 / the case is not suspended", code="not_suspended")


def not_ruled_responsible(case: CaseFacts, actor: Actor, request: Request) -> None:
    """认定谁、谁负责: a department a ruling named responsible cannot hand the case back."""
    if actor.department in case.ruled_responsible:
        raise TransitionNotAllowed(
            "已认定由本部门负责，不能退回或再提异议（认定谁、谁负责）/ ruled responsible: the "
            "case cannot be returned or disputed again; refusing the ruling is reported for "
            "accountability",
            code="ruled_responsible",
        )


def no_open_dispute(case: CaseFacts, actor: Actor, request: Request) -> None:
    if case.disputed:
        raise TransitionNotAllowed(
            "该案件已有未办结的异议 / this case already has an open dispute", code="dispute_open"
        )


def not_under_dispute(case: CaseFacts, actor: Actor, request: Request) -> None:
    """A case under dispute is settled through the dispute path (协商 → 编办 → 联合会商), not
    handed back: a return would leave the dispute with no case to settle."""
    if case.disputed:
        raise TransitionNotAllowed(
            "案件异议未办结，须按异议程序处理，不能退回 / the case is under dispute: it is "
            "settled through the dispute path, not returned",
            code="under_dispute",
        )


def not_coordinated_yet(case: CaseFacts, actor: Actor, request: Request) -> None:
    """只协调一次，只出一个会议纪要: a matter already coordinated or ruled is not disputed again."""
    if case.coordinated:
        raise TransitionNotAllowed(
            "该事项已协调认定，只协调一次 / this matter was already coordinated: it is "
            "coordinated once, with one minute",
            code="coordinated_once",
        )


def names_the_duplicate(case: CaseFacts, actor: Actor, request: Request) -> None:
    if not request.duplicate_of:
        raise InvalidInput("duplicate_of", "须指明合并到的案件 / name the case this duplicates")


VERIFY_RADIUS_M = 50.0


def verified_on_site(case: CaseFacts, actor: Actor, request: Request) -> None:
    """核查: the verifier's position or the after photo (where the report back was made) lies
    within ``VERIFY_RADIUS_M`` of the case's original point; otherwise — also when neither
    position is known — the verifier states a reason. A case recorded without a point (a
    hotline call with an address only) has no point to be near: the rule does not apply."""
    if request.reason.strip() or case.point is None:
        return
    near = [distance_m(case.point, p) for p in (request.where, case.after_point) if p is not None]
    if any(d <= VERIFY_RADIUS_M for d in near):
        return
    if near:
        raise InvalidInput(
            "reason",
            f"核查位置和处置后照片距原位置均超过 {VERIFY_RADIUS_M:.0f} 米（最近 {min(near):.0f} "
            f"米），须说明理由 / neither the verifier nor the after photo is within "
            f"{VERIFY_RADIUS_M:.0f} m of the original point (nearest {min(near):.0f} m): "
            "give a reason",
            code="verify_far",
        )
    raise InvalidInput(
        "reason",
        f"未提供核查位置，处置后照片也无位置：须说明理由，或在原位置 {VERIFY_RADIUS_M:.0f} 米内"
        f"核查 / no position for the verification (where) nor the after photo: give a reason, "
        f"or verify within {VERIFY_RADIUS_M:.0f} m of the original point",
        code="verify_unknown",
    )


# Validators that only ask for input a form supplies: ``allowed_actions`` does not run them.
INPUT_VALIDATORS: frozenset[Validator] = frozenset(
    {needs_reason, needs_legal_basis, names_the_duplicate, verified_on_site}
)

Target = CaseStatus | Callable[[CaseFacts, Request], CaseStatus] | None


@dataclass(frozen=True)
class Transition:
    action: Action | SystemAction
    sources: frozenset[CaseStatus]
    target: Target  # None: the status stays; a function: the status it decides
    who: Mapping[Role, frozenset[Party]]
    validators: tuple[Validator, ...] = field(default=())

    def target_of(self, case: CaseFacts, request: Request) -> CaseStatus:
        if self.target is None:
            return case.status
        if isinstance(self.target, CaseStatus):
            return self.target
        return self.target(case, request)


def _parties(*parties: Party) -> frozenset[Party]:
    return frozenset(parties)


_ANY = _parties(Party.ANY)
_LEAD = _parties(Party.LEAD)
_ACTIVE = ACTIVE_STATUSES
_OVERSIGHT: Mapping[Role, frozenset[Party]] = {Role.SUPERVISOR: _ANY, Role.COORDINATOR: _ANY}
_VERIFIERS: Mapping[Role, frozenset[Party]] = {
    Role.SUPERVISOR: _ANY,
    Role.INSPECTOR: _parties(Party.REPORTER),
}

TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t  # type: ignore[misc]  # the user table holds Actions only
    for t in (
        Transition(
            Action.ASSIGN,
            frozenset({CaseStatus.DISCOVERED}),
            CaseStatus.ASSIGNED,
            {
                Role.INSPECTOR: _parties(Party.REPORTER),
                Role.HANDLER: _parties(Party.FIRST_CONTACT),
                **_OVERSIGHT,
            },
        ),
        Transition(
            Action.ACCEPT,
            frozenset({CaseStatus.ASSIGNED}),
            CaseStatus.ACCEPTED,
            {Role.HANDLER: _LEAD},
        ),
        Transition(
            Action.RETURN,
            frozenset({CaseStatus.ASSIGNED}),
            CaseStatus.DISCOVERED,
            {Role.HANDLER: _LEAD},
            (needs_reason, not_ruled_responsible, not_under_dispute),
        ),
        Transition(
            Action.START_HANDLING,
            frozenset({CaseStatus.ACCEPTED}),
            CaseStatus.HANDLING,
            {Role.HANDLER: _LEAD},
        ),
        Transition(
            Action.REPORT_BACK,
            frozenset({CaseStatus.HANDLING}),
            CaseStatus.HANDLED,
            {Role.HANDLER: _LEAD},
        ),
        Transition(
            Action.CLOSE,
            frozenset({CaseStatus.HANDLED}),
            CaseStatus.CLOSED,
            _VERIFIERS,
            (verifier_is_not_a_handler, verified_on_site),
        ),
        Transition(
            Action.SEND_BACK,
            frozenset({CaseStatus.HANDLED}),
            CaseStatus.HANDLING,
            _VERIFIERS,
            (needs_reason, verifier_is_not_a_handler),
        ),
        Transition(
            Action.REOPEN,
            frozenset({CaseStatus.CLOSED}),
            CaseStatus.HANDLING,
            {Role.SUPERVISOR: _ANY},
            (needs_reason,),
        ),
        Transition(
            Action.CANCEL,
            OPEN_STATUSES,
            CaseStatus.CANCELLED,
            _OVERSIGHT,
            (needs_reason,),
        ),
        Transition(
            Action.MERGE,
            OPEN_STATUSES,
            CaseStatus.MERGED,
            {**_OVERSIGHT, Role.INSPECTOR: _parties(Party.REPORTER)},
            (names_the_duplicate,),
        ),
        Transition(
            Action.SUSPEND,
            _ACTIVE,
            None,
            _OVERSIGHT,
            (needs_reason, not_suspended),
        ),
        Transition(
            Action.RESUME,
            _ACTIVE,
            None,
            _OVERSIGHT,
            (is_suspended,),
        ),
        Transition(
            Action.RAISE_DISPUTE,
            _ACTIVE,
            None,
            {Role.HANDLER: _parties(Party.LEAD, Party.ASSISTING)},
            (
                needs_reason,
                needs_legal_basis,
                no_open_dispute,
                not_coordinated_yet,
                not_ruled_responsible,
            ),
        ),
    )
}


def _after_ruling(case: CaseFacts, request: Request) -> CaseStatus:
    """A ruling that names a new lead of an accepted or handling case sends it back to
    assigned: the ruled lead accepts it (its deadline stands: the clock never stopped)."""
    if request.responsible_department != case.lead_department and case.status in (
        CaseStatus.ACCEPTED,
        CaseStatus.HANDLING,
    ):
        return CaseStatus.ASSIGNED
    return case.status


SYSTEM_TRANSITIONS: Mapping[SystemAction, Transition] = {
    t.action: t  # type: ignore[misc]  # the system table holds SystemActions only
    for t in (
        Transition(
            SystemAction.REOPEN_ON_REPEAT, frozenset({CaseStatus.CLOSED}), CaseStatus.HANDLING, {}
        ),
        Transition(
            SystemAction.MERGE_INTO_REPEATED,
            frozenset({CaseStatus.DISCOVERED}),
            CaseStatus.MERGED,
            {},
        ),
        Transition(SystemAction.APPLY_RULING, frozenset(CaseStatus), _after_ruling, {}),
    )
}


def parties_of(case: CaseFacts, actor: Actor) -> frozenset[Party]:
    """How the actor relates to the case (always includes ``Party.ANY``)."""
    found = {Party.ANY}
    if actor.department == case.first_contact_department:
        found.add(Party.FIRST_CONTACT)
    if case.lead_department is not None and actor.department == case.lead_department:
        found.add(Party.LEAD)
    if actor.department in case.assisting_departments:
        found.add(Party.ASSISTING)
    if actor.user_id == case.reporter_user_id:
        found.add(Party.REPORTER)
    return frozenset(found)


def _describe(parties: frozenset[Party]) -> str:
    names = {
        Party.FIRST_CONTACT: "首问部门 first-contact department",
        Party.LEAD: "主办部门 lead department",
        Party.ASSISTING: "协办部门 assisting department",
        Party.REPORTER: "案件登记人 the reporter",
        Party.ANY: "任何部门 any department",
    }
    return " / ".join(names[p] for p in sorted(parties))


def decide(
    case: CaseFacts,
    action: Action,
    actor: Actor,
    *,
    now: datetime,
    request: Request | None = None,
) -> CaseStatus:
    """The status after ``action``, or a typed error saying why the action is refused.

    Order of checks: the lifecycle (409), then the actor's role and relation to the case (403),
    then the action's validators (422 for missing input, 409 for a rule).
    """
    del now  # no rule depends on the time yet; kept so callers always pass it
    transition = TRANSITIONS[action]
    if case.status not in transition.sources:
        raise TransitionNotAllowed(
            f"案件状态为 {case.status.value}，不能执行 {action.value} / "
            f"cannot {action.value} a case that is {case.status.value}",
            code="wrong_status",
        )
    allowed = transition.who.get(actor.role)
    if allowed is None:
        raise NotPermitted(
            f"角色 {actor.role.value} 不能执行 {action.value} / "
            f"a {actor.role.value} may not {action.value} a case",
            code="role_not_allowed",
        )
    if not allowed & parties_of(case, actor):
        raise NotPermitted(
            f"只有{_describe(allowed)}可以执行 {action.value} / "
            f"only the {_describe(allowed)} may {action.value} this case",
            code="department_not_allowed",
        )
    req = request or Request()
    for validate in transition.validators:
        validate(case, actor, req)
    return transition.target_of(case, req)


def decide_system(
    case: CaseFacts, action: SystemAction, *, now: datetime, request: Request | None = None
) -> CaseStatus:
    """The status after a system transition, or ``TransitionNotAllowed`` for a case whose
    status the transition does not start from."""
    del now
    transition = SYSTEM_TRANSITIONS[action]
    if case.status not in transition.sources:
        raise TransitionNotAllowed(
            f"案件状态为 {case.status.value}，不能 {action.value} / "
            f"cannot {action.value} a case that is {case.status.value}",
            code="wrong_status",
        )
    return transition.target_of(case, request or Request())


def allowed_actions(case: CaseFacts, actor: Actor, *, now: datetime) -> list[Action]:
    """The actions the actor could take now (ignoring input a form would still ask for)."""
    out: list[Action] = []
    for action, transition in TRANSITIONS.items():
        if case.status not in transition.sources:
            continue
        allowed = transition.who.get(actor.role)
        if allowed is None or not allowed & parties_of(case, actor):
            continue
        try:
            for validate in transition.validators:
                if validate in INPUT_VALIDATORS:
                    continue
                validate(case, actor, Request())
        except (TransitionNotAllowed, InvalidInput):
            continue
        out.append(action)
    return out
