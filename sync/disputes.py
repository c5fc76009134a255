"""Disputes (异议): the path, its time limits, who may act at each step, and who lost.

Path: consultation called by the lead (主办协商) → coordination by the establishment office
(编办协调) → ruling by the joint consultation group (联合会商). The case stays active throughout:
nothing here touches the case's deadline clock.

Decisions (the issue is silent on them):

* Stage time limits: consultation 3 working days, coordination 5, ruling 10 — counted from the
  moment the stage began. A stage that runs out is escalated to the next stage by the server's
  scheduled job (a ruling that runs out is escalated to leadership as a notification).
* A dispute may be suspended (中止) only with a stated reason; its stage clock then pauses.
  The case's own clock never pauses for a dispute.
* One open dispute per case at a time.
* Who may take each step at each stage is the one table ``STEPS`` (``check_step``,
  ``allowed_steps``), applied by the server and offered by the phone.
* Settling at each stage: the lead records an agreement reached at consultation; a coordinator
  (编办) records the coordination result and the joint group's ruling.
* 认定谁、谁负责: a lead settling at consultation may name as lead only itself or a department
  that took part in the dispute and stated agreement (认可), and as new assisting departments
  only such departments (``settled_by_agreement``); anything else goes to 编办 coordination.
* 只协调一次: a matter is coordinated once. Once a dispute on a case was settled by coordination
  or ruling (``coordinated``), no further dispute can be raised on that case (the lifecycle's
  ``not_coordinated_yet``) — the settled dispute itself cannot be settled or escalated again.
  A matter that needs a county leader (needs_county_leader) is final at coordination.
* A department a settlement named responsible cannot raise a new dispute on the case (it may
  refuse the ruling, which is reported for accountability).
* ``lost_by``: the departments that said "not ours" and were ruled responsible anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.boundary_types import AssistingDuty, TimeLimit
from sync.errors import DomainError, InvalidInput, NotPermitted, RuleViolation
from sync.events import DISPUTE_RULED
from sync.lifecycle import Actor
from sync.vocabulary import Role, TimeUnit
from sync.workcalendar import Deadline, Suspension, WorkCalendar, compute_deadline


class Stage(StrEnum):
    CONSULTATION = "consultation"  # 主办协商
    COORDINATION = "coordination"  # 编办协调
    RULING = "ruling"  # 联合会商认定


class DisputeStatus(StrEnum):
    OPEN = "open"
    SETTLED = "settled"


STAGE_LIMITS: Mapping[Stage, TimeLimit] = {
    Stage.CONSULTATION: TimeLimit(3, TimeUnit.WORKING_DAYS),
    Stage.COORDINATION: TimeLimit(5, TimeUnit.WORKING_DAYS),
    Stage.RULING: TimeLimit(10, TimeUnit.WORKING_DAYS),
}
_NEXT: Mapping[Stage, Stage] = {
    Stage.CONSULTATION: Stage.COORDINATION,
    Stage.COORDINATION: Stage.RULING,
}


def stage_deadline(
    stage: Stage,
    started_at: datetime,
    suspensions: Sequence[Suspension],
    now: datetime,
    calendar: WorkCalendar,
) -> Deadline:
    return compute_deadline(
        assigned_at=started_at,
        limit=STAGE_LIMITS[stage],
        calendar=calendar,
        suspensions=suspensions,
        now=now,
    )


def next_stage(stage: Stage, *, needs_county_leader: bool) -> Stage:
    if stage == Stage.COORDINATION and needs_county_leader:
        raise RuleViolation(
            "需县领导协调的事项只协调一次 / a matter coordinated by a county leader is "
            "coordinated once: its result is final",
            code="coordinated_once",
        )
    following = _NEXT.get(stage)
    if following is None:
        raise RuleViolation(
            "已在联合会商认定阶段 / the dispute is already before the joint consultation group",
            code="last_stage",
        )
    return following


# --- who may take which step: one declared table ------------------------------------------------


class Step(StrEnum):
    """What someone does to an open (or settled) dispute. Raising one is the case lifecycle's
    ``raise_dispute`` action (sync/lifecycle.py): its rules live in that table."""

    STATE_POSITION = "state_position"  # 陈述意见: 不属于本部门 / 认可
    CALL_CONSULTATION = "call_consultation"  # 主办召集协商
    ESCALATE = "escalate"  # → 编办协调 → 联合会商认定
    SUSPEND = "suspend"  # 中止 (the stage clock pauses), with a stated reason
    RESUME = "resume"  # 恢复
    SETTLE = "settle"  # 协商一致 / 协调结果 / 认定: who is responsible
    REFUSE_RULING = "refuse_ruling"  # the department ruled responsible refuses (reported)


class Side(StrEnum):
    """How the actor's department relates to the dispute."""

    ANY = "any"
    LEAD = "lead"  # the case's lead department
    INVOLVED = "involved"  # a department the dispute involves
    RULED = "ruled"  # the department the settlement named responsible


REASON_MAX = 2000  # the same limits on REST and sync
LEGAL_BASIS_MAX = 1000


@dataclass(frozen=True)
class DisputeFacts:
    """What the dispute rules need to know."""

    status: DisputeStatus
    stage: Stage
    lead_department: str | None
    involved: frozenset[str] = frozenset()
    agreed: frozenset[str] = frozenset()  # involved departments whose position is 认可
    assisting: frozenset[str] = frozenset()  # the case's assisting departments now
    suspended: bool = False
    needs_county_leader: bool = False
    responsible_department: str | None = None


@dataclass(frozen=True)
class StepRequest:
    """What the actor supplies with the step."""

    reason: str = ""
    needs_county_leader: bool | None = None  # escalate: 编办 decides a county leader coordinates
    responsible_department: str | None = None  # settle: the department named lead
    assisting: tuple[str, ...] | None = None  # settle: the departments named assisting


StepValidator = Callable[[DisputeFacts, Actor, StepRequest], None]


def agreed_departments(
    involved: Iterable[str], positions: Mapping[str, Mapping[str, Any]]
) -> frozenset[str]:
    """The departments that took part in the dispute and stated agreement (认可)."""
    taking_part = set(involved)
    return frozenset(
        d for d, p in positions.items() if d in taking_part and p.get("not_ours") is False
    )


def _needs_reason(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    if not req.reason.strip():
        raise InvalidInput("reason", "必须说明理由 / a reason is required")
    if len(req.reason.strip()) > REASON_MAX:
        raise InvalidInput("reason", f"不能超过 {REASON_MAX} 字 / at most {REASON_MAX} characters")


def _suspension_reason(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    if not req.reason.strip():
        raise InvalidInput("reason", "中止须说明理由 / a suspension needs a stated reason")


def _not_suspended(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    if d.suspended:
        raise RuleViolation("异议已中止 / the dispute is already suspended", code="wrong_status")


def _is_suspended(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    if not d.suspended:
        raise RuleViolation("异议未中止 / the dispute is not suspended", code="not_suspended")


def _county_leader_by_coordinator(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    if req.needs_county_leader is not None and actor.role != Role.COORDINATOR:
        raise NotPermitted(
            "由编办认定是否需县领导协调 / the establishment office decides whether a county "
            "leader coordinates",
            code="role_not_allowed",
        )


def _has_next_stage(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    leader = d.needs_county_leader if req.needs_county_leader is None else req.needs_county_leader
    next_stage(d.stage, needs_county_leader=leader)


def settled_by_agreement(d: DisputeFacts, actor: Actor, req: StepRequest) -> None:
    """认定谁、谁负责: a lead settling its own dispute by consultation may hand the case only to
    a department that took part in the dispute and stated agreement (认可) — or keep it itself;
    new assisting departments must have agreed too. Anything else goes to 编办 coordination."""
    if d.stage != Stage.CONSULTATION or actor.role == Role.COORDINATOR:
        return
    may_lead = d.agreed | {actor.department}
    if req.responsible_department not in may_lead:
        raise RuleViolation(
            "协商一致只能由参与异议并表示认可的部门负责，否则请提交编办协调 / a consultation "
            "can hand the case only to a department that took part in the dispute and agreed; "
            "otherwise escalate to the establishment office",
            code="not_agreed",
            field="responsible_department",
        )
    for i, code in enumerate(req.assisting or ()):
        if code not in may_lead | d.assisting:
            raise RuleViolation(
                "协办部门须参与异议并表示认可 / a new assisting department must have taken "
                "part in the dispute and agreed",
                code="not_agreed",
                field=f"assisting[{i}].department_code",
            )


_OPEN = frozenset({DisputeStatus.OPEN})
_SETTLED = frozenset({DisputeStatus.SETTLED})
_ALL_STAGES = tuple(Stage)
_OVERSIGHT_WHO: Mapping[Role, frozenset[Side]] = {
    Role.COORDINATOR: frozenset({Side.ANY}),
    Role.SUPERVISOR: frozenset({Side.ANY}),
}


@dataclass(frozen=True)
class StepRule:
    step: Step
    statuses: frozenset[DisputeStatus]
    who: Mapping[Stage, Mapping[Role, frozenset[Side]]]  # a stage missing: not at that stage
    validators: tuple[StepValidator, ...] = ()


def _every_stage(
    who: Mapping[Role, frozenset[Side]],
) -> Mapping[Stage, Mapping[Role, frozenset[Side]]]:
    return {stage: who for stage in _ALL_STAGES}


STEPS: Mapping[Step, StepRule] = {
    rule.step: rule
    for rule in (
        StepRule(
            Step.STATE_POSITION,
            _OPEN,
            _every_stage({Role.HANDLER: frozenset({Side.INVOLVED})}),
            (_needs_reason,),
        ),
        StepRule(
            Step.CALL_CONSULTATION,
            _OPEN,
            {
                Stage.CONSULTATION: {
                    Role.HANDLER: frozenset({Side.LEAD}),
                    Role.COORDINATOR: frozenset({Side.ANY}),
                }
            },
        ),
        StepRule(
            Step.ESCALATE,
            _OPEN,
            {
                Stage.CONSULTATION: {**_OVERSIGHT_WHO, Role.HANDLER: frozenset({Side.INVOLVED})},
                Stage.COORDINATION: {Role.COORDINATOR: frozenset({Side.ANY})},
                Stage.RULING: {Role.COORDINATOR: frozenset({Side.ANY})},
            },
            (_county_leader_by_coordinator, _has_next_stage),
        ),
        StepRule(
            Step.SUSPEND,
            _OPEN,
            _every_stage(_OVERSIGHT_WHO),
            (_suspension_reason, _not_suspended),
        ),
        StepRule(Step.RESUME, _OPEN, _every_stage(_OVERSIGHT_WHO), (_is_suspended,)),
        StepRule(
            Step.SETTLE,
            _OPEN,
            {
                Stage.CONSULTATION: {
                    Role.HANDLER: frozenset({Side.LEAD}),
                    Role.COORDINATOR: frozenset({Side.ANY}),
                },
                Stage.COORDINATION: {Role.COORDINATOR: frozenset({Side.ANY})},
                Stage.RULING: {Role.COORDINATOR: frozenset({Side.ANY})},
            },
            (settled_by_agreement,),
        ),
        StepRule(
            Step.REFUSE_RULING,
            _SETTLED,
            _every_stage({Role.HANDLER: frozenset({Side.RULED})}),
            (_needs_reason,),
        ),
    )
}

_INPUT_VALIDATORS: frozenset[StepValidator] = frozenset(
    {_needs_reason, _suspension_reason, settled_by_agreement}
)


def sides_of(d: DisputeFacts, actor: Actor) -> frozenset[Side]:
    found = {Side.ANY}
    if d.lead_department is not None and actor.department == d.lead_department:
        found.add(Side.LEAD)
    if actor.department in d.involved:
        found.add(Side.INVOLVED)
    if d.responsible_department is not None and actor.department == d.responsible_department:
        found.add(Side.RULED)
    return frozenset(found)


_SIDE_NAMES = {
    Side.ANY: "任何部门 any department",
    Side.LEAD: "主办部门 the lead department",
    Side.INVOLVED: "异议涉及的部门 a department the dispute involves",
    Side.RULED: "被认定负责的部门 the department ruled responsible",
}


def check_step(
    step: Step, dispute: DisputeFacts, actor: Actor, request: StepRequest | None = None
) -> None:
    """Refuse ``step`` with a typed error, or return. Order: the dispute's status (409), the
    stage (409), the actor's role (403) and department (403), then the step's validators."""
    _check(step, dispute, actor, request or StepRequest(), with_input=True)


def check_may(step: Step, dispute: DisputeFacts, actor: Actor) -> None:
    """``check_step`` without the checks on what the actor supplies: may this actor take the
    step at all now (so an outsider hears 403 before any complaint about its input)."""
    _check(step, dispute, actor, StepRequest(), with_input=False)


def allowed_steps(dispute: DisputeFacts, actor: Actor) -> list[Step]:
    """The steps the actor could take now (ignoring input a form would still ask for)."""
    out: list[Step] = []
    for step in STEPS:
        try:
            _check(step, dispute, actor, StepRequest(), with_input=False)
        except DomainError:
            continue
        out.append(step)
    return out


def _check(
    step: Step, dispute: DisputeFacts, actor: Actor, req: StepRequest, *, with_input: bool
) -> None:
    rule = STEPS[step]
    if dispute.status not in rule.statuses:
        if dispute.status == DisputeStatus.SETTLED:
            raise RuleViolation("异议已办结 / the dispute is settled", code="dispute_settled")
        raise RuleViolation("异议尚未认定 / the dispute is not settled yet", code="dispute_open")
    at_stage = rule.who.get(dispute.stage)
    if at_stage is None:
        raise RuleViolation(
            f"异议处于{dispute.stage.value}阶段，不能执行 {step.value} / cannot {step.value} "
            f"a dispute at the {dispute.stage.value} stage",
            code="wrong_stage",
        )
    allowed = at_stage.get(actor.role)
    if allowed is None:
        raise NotPermitted(
            f"角色 {actor.role.value} 不能执行 {step.value} / a {actor.role.value} may not "
            f"{step.value} this dispute",
            code="role_not_allowed",
        )
    if not allowed & sides_of(dispute, actor):
        who = " / ".join(_SIDE_NAMES[s] for s in sorted(allowed))
        raise NotPermitted(
            f"只有{who}可以执行 {step.value} / only {who} may {step.value} this dispute",
            code="department_not_allowed",
        )
    for validate in rule.validators:
        if with_input or validate not in _INPUT_VALIDATORS:
            validate(dispute, actor, req)


def check_may_call_consultation(actor: Actor, *, lead_department: str | None) -> None:
    """A consultation about the work, with no dispute open: who the table lets call one at a
    dispute's consultation stage (the lead; a coordinator)."""
    check_step(
        Step.CALL_CONSULTATION,
        DisputeFacts(DisputeStatus.OPEN, Stage.CONSULTATION, lead_department),
        actor,
    )


def lost_by(not_ours: Iterable[str], responsible_department: str) -> list[str]:
    """Departments whose "not ours" position the ruling rejected."""
    return sorted({d for d in not_ours if d == responsible_department})


def ruled_responsible(events: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The departments the case's rulings named responsible, from its ``DisputeRuled`` events
    (the phone knows them offline from the case's timeline)."""
    return frozenset(
        str(e["data"]["responsible_department"])
        for e in events
        if e.get("kind") == DISPUTE_RULED and (e.get("data") or {}).get("responsible_department")
    )


def is_coordination(stage: Stage, actor: Actor) -> bool:
    """A settlement the establishment office (编办) or the joint group made: the matter was
    coordinated, once (只协调一次)."""
    return stage != Stage.CONSULTATION or actor.role == Role.COORDINATOR


def coordinated(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a dispute on the case was already settled by coordination or ruling, from its
    ``DisputeRuled`` events (the same on the phone, from the case's timeline, and the server)."""
    for e in events:
        if e.get("kind") != DISPUTE_RULED:
            continue
        data = e.get("data") or {}
        if data.get("coordinated") or data.get("stage") in (Stage.COORDINATION, Stage.RULING):
            return True
    return False


# --- which departments a settlement keeps ------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """The case's departments after a settlement: the lead and each assisting duty."""

    lead: str
    assisting: tuple[AssistingDuty, ...]


def _pairs(duties: Sequence[AssistingDuty]) -> list[tuple[str, str]]:
    return sorted((a.department_code, a.duty.strip()) for a in duties)


def kept_departments(
    *,
    responsible: str,
    assisting: Sequence[AssistingDuty] | None,
    current_assisting: Sequence[AssistingDuty],
    entry_lead: str | None = None,
    entry_assisting: Sequence[AssistingDuty] | None = None,
) -> Kept:
    """Who leads and who assists after a settlement.

    * A ruling that publishes a list entry (一事一议) keeps each department exactly as the entry
      says: its lead leads, its assisting departments assist with the entry's duties (the
      previous lead stays, as assisting, when the entry names it). The ruling's own
      ``responsible`` and ``assisting``, when given, must say the same.
    * Otherwise the named department leads, the named assisting departments assist; with none
      named, the current assisting departments keep their duties.
    Every department not kept is no longer involved (the server withdraws it).
    """
    if entry_lead is not None:
        if responsible != entry_lead:
            raise InvalidInput(
                "responsible_department",
                "须与认定的清单事项的主办部门一致 / must be the lead of the ruled list entry",
            )
        ruled = tuple(entry_assisting or ())
        if assisting is not None and _pairs(assisting) != _pairs(ruled):
            raise InvalidInput(
                "assisting",
                "须与认定的清单事项的协办部门及职责一致 / must be the assisting departments "
                "and duties of the ruled list entry",
            )
        chosen = ruled
    elif assisting is not None:
        chosen = tuple(assisting)
    else:
        chosen = tuple(a for a in current_assisting if a.department_code != responsible)
    if any(a.department_code == responsible for a in chosen):
        raise InvalidInput("assisting", "主办部门不能同时是协办部门 / lead cannot also assist")
    codes = [a.department_code for a in chosen]
    if len(set(codes)) != len(codes):
        raise InvalidInput("assisting", "协办部门重复 / an assisting department is named twice")
    return Kept(responsible, chosen)
