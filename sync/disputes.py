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
* Settling at each stage: the lead records an agreement reached at consultation; a coordinator
  (编办) records the coordination result and the joint group's ruling.
* A matter that needs a county leader (needs_county_leader) is coordinated exactly once: the
  coordination result is final (no further escalation) and it has exactly one minute.
* ``lost_by``: the departments that said "not ours" and were ruled responsible anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.boundary_types import TimeLimit
from sync.errors import InvalidInput, NotPermitted, RuleViolation
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


def check_raise(
    *,
    actor: Actor,
    lead_department: str | None,
    assisting_departments: Iterable[str],
    reason: str,
    legal_basis: str,
    has_open_dispute: bool,
) -> None:
    if actor.role != Role.HANDLER or (
        actor.department != lead_department and actor.department not in assisting_departments
    ):
        raise NotPermitted(
            "只有主办或协办部门可以提出异议 / only an assigned (lead or assisting) "
            "department may raise a dispute",
            code="department_not_allowed",
        )
    if not reason.strip():
        raise InvalidInput("reason", "必须说明理由 / a reason is required")
    if not legal_basis.strip():
        raise InvalidInput("legal_basis", "须写明法律法规或三定依据 / state the legal basis")
    if has_open_dispute:
        raise RuleViolation(
            "该案件已有未办结的异议 / this case already has an open dispute",
            code="dispute_open",
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


def check_may_escalate(stage: Stage, actor: Actor, *, involved_departments: Iterable[str]) -> None:
    """Consultation → coordination: any involved department or a coordinator/supervisor;
    coordination → ruling: a coordinator (编办)."""
    if actor.role in (Role.COORDINATOR, Role.SUPERVISOR) and stage == Stage.CONSULTATION:
        return
    if actor.role == Role.COORDINATOR:
        return
    if (
        stage == Stage.CONSULTATION
        and actor.role == Role.HANDLER
        and (actor.department in set(involved_departments))
    ):
        return
    raise NotPermitted(
        "无权将异议提交下一阶段 / you may not escalate this dispute", code="role_not_allowed"
    )


def check_may_settle(stage: Stage, actor: Actor, *, lead_department: str | None) -> None:
    if stage == Stage.CONSULTATION:
        if actor.role == Role.HANDLER and actor.department == lead_department:
            return
        if actor.role == Role.COORDINATOR:
            return
        raise NotPermitted(
            "协商结果由主办部门记录 / the lead department records the consultation's agreement",
            code="department_not_allowed",
        )
    if actor.role != Role.COORDINATOR:
        raise NotPermitted(
            "协调和认定结果由编办记录 / the establishment office records coordination and rulings",
            code="role_not_allowed",
        )


def check_may_call_consultation(actor: Actor, *, lead_department: str | None) -> None:
    """The lead calls consultations (主办协商); a coordinator may too."""
    if actor.role == Role.COORDINATOR:
        return
    if actor.role == Role.HANDLER and actor.department == lead_department:
        return
    raise NotPermitted(
        "只有主办部门可以召集协商 / only the lead department may call a consultation",
        code="department_not_allowed",
    )


def lost_by(not_ours: Iterable[str], responsible_department: str) -> list[str]:
    """Departments whose "not ours" position the ruling rejected."""
    return sorted({d for d in not_ours if d == responsible_department})


def check_suspension_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput("reason", "中止须说明理由 / a suspension needs a stated reason")


def ruled_responsible(events: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The departments the case's rulings named responsible, from its ``DisputeRuled`` events
    (the phone knows them offline from the case's timeline)."""
    return frozenset(
        str(e["data"]["responsible_department"])
        for e in events
        if e.get("kind") == DISPUTE_RULED and (e.get("data") or {}).get("responsible_department")
    )
