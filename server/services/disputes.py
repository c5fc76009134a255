"""Disputes (异议): raised by an assigned department, worked through consultation →
coordination → ruling, each stage with its time limit. The case stays active all along and
its deadline clock never stops; the ruling names who is responsible and reassigns the case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.data import boundary as boundary_data
from server.data import reference as reference_data
from server.data import workflow as wf_data
from server.models import Case, CaseEvent, Dispute
from server.services import cases as case_service
from server.services.assisting import sync_assist_tasks
from server.services.boundary import publish_version
from server.services.boundary_cache import ReferenceSnapshot
from server.services.escalation import escalate_once
from server.services.minutes import Attendee, Decision, MinuteContent, create_minute
from server.services.work_calendar import current_calendar
from server.services.workflow_events import (
    SYSTEM,
    department_label,
    notify,
    record_event,
    role_recipient,
)
from server.storage import FileStore
from sync.boundary_types import AssistingDuty, Point
from sync.case_effects import Placement, apply_system, assisting_of
from sync.disputes import (
    LEGAL_BASIS_MAX,
    REASON_MAX,
    DisputeFacts,
    DisputeStatus,
    Stage,
    Step,
    StepRequest,
    agreed_departments,
    check_may,
    check_step,
    is_coordination,
    kept_departments,
    lost_by,
    next_stage,
    stage_deadline,
)
from sync.errors import InvalidInput, NotFound, RuleViolation
from sync.events import DISPUTE_ESCALATED, DISPUTE_RULED, RULING_REFUSED
from sync.lifecycle import Action, Actor, SystemAction
from sync.vocabulary import CaseStatus, Role
from sync.workcalendar import Suspension
from sync.workflow import acceptance_due_at

JOINT_CONSULTATION_GROUP = ("shzl", "jwjw", "wbb", "sf", "rx")  # 联合会商小组
ACCOUNTABILITY = "jwjw"  # 纪委监委: refusals without good reason are reported here
STAGE_NAMES = {
    Stage.CONSULTATION: "主办协商 / consultation",
    Stage.COORDINATION: "编办协调 / coordination",
    Stage.RULING: "联合会商认定 / ruling",
}


def _involved(case: Case, raiser: str) -> list[str]:
    depts = {raiser, *(a["department_code"] for a in case.assisting)}
    if case.lead_department:
        depts.add(case.lead_department)
    return sorted(depts)


def _suspensions(d: Dispute) -> list[Suspension]:
    return [
        Suspension(
            start=datetime.fromisoformat(s["start"]),
            end=datetime.fromisoformat(s["end"]) if s.get("end") else None,
            reason=s["reason"],
        )
        for s in d.suspensions
    ]


def _dispute_or_404(session: Session, dispute_id: str, actor: Actor) -> tuple[Dispute, Case]:
    case_service.reserve_change_seq(session)  # the lock order: counter, dispute, case
    dispute = wf_data.get_dispute(session, dispute_id, for_update=True)
    if dispute is None:
        raise NotFound(f"异议 {dispute_id} 不存在 / dispute {dispute_id} not found")
    case = case_service.get_visible_case(session, dispute.case_id, actor, for_update=True)
    return dispute, case


def facts_of_dispute(dispute: Dispute, case: Case) -> DisputeFacts:
    """What the dispute rules (sync/disputes.py ``STEPS``) need, from the stored dispute."""
    return DisputeFacts(
        status=DisputeStatus(dispute.status),
        stage=Stage(dispute.stage),
        lead_department=case.lead_department,
        involved=frozenset(dispute.involved),
        agreed=agreed_departments(dispute.involved, dispute.positions),
        assisting=frozenset(a["department_code"] for a in case.assisting),
        suspended=dispute.suspended,
        needs_county_leader=dispute.needs_county_leader,
        responsible_department=dispute.responsible_department,
    )


def check_claimed_responsible(claimed: str | None, departments: frozenset[str]) -> None:
    """The department a dispute says is responsible (optional) must be one the county has."""
    if claimed is not None and claimed not in departments:
        raise InvalidInput("claimed_responsible", "未知的部门 / unknown department")


@dataclass(frozen=True)
class RaiseDispute:
    """异议: what an assigned department supplies, the same through either REST endpoint and a
    device's sync push."""

    reason: str
    legal_basis: str
    claimed_responsible: str | None = None
    note: str = ""
    photos: tuple[str, ...] = ()
    where: Point | None = None
    device_at: str | None = None  # sync push: when the device recorded it


def raise_dispute(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    command: RaiseDispute,
    ref: ReferenceSnapshot,
    now: datetime,
) -> Dispute:
    """The one code path that raises a dispute: ``POST /cases/{id}/raise-dispute``,
    ``POST /workflow/cases/{id}/disputes`` and a pushed ``raise_dispute`` transition. The
    lifecycle (sync/lifecycle.py) decides; ``prepare_dispute`` checks the rest before anything
    is written."""
    extra: dict[str, Any] = {"claimed_responsible": command.claimed_responsible}
    if command.device_at is not None:
        extra["device_at"] = command.device_at
    case = case_service.apply_action(
        session,
        actor=actor,
        case_id=case_id,
        action=Action.RAISE_DISPUTE,
        inp=case_service.ActionInput(
            reason=command.reason,
            note=command.note,
            photos=command.photos,
            where=command.where,
            legal_basis=command.legal_basis,
            extra=extra,
        ),
        ref=ref,
        now=now,
    )
    dispute = wf_data.open_dispute_of(session, case.id)
    assert dispute is not None  # created by the hook below
    return dispute


def prepare_dispute(
    session: Session, case: Case, *, actor: Actor, inp: case_service.ActionInput, now: datetime
) -> dict[str, Any]:
    """Before the RAISE_DISPUTE event is written (every path): the limits on its text, the
    department it names responsible; the new dispute's id, stage and stage time limit go into
    the event's data."""
    if len(inp.reason.strip()) > REASON_MAX:
        raise InvalidInput("reason", f"不能超过 {REASON_MAX} 字 / at most {REASON_MAX} characters")
    if len(inp.legal_basis.strip()) > LEGAL_BASIS_MAX:
        raise InvalidInput(
            "legal_basis", f"不能超过 {LEGAL_BASIS_MAX} 字 / at most {LEGAL_BASIS_MAX} characters"
        )
    claimed = inp.extra.get("claimed_responsible")
    if claimed is not None:
        if not isinstance(claimed, str):
            raise InvalidInput("claimed_responsible", "应为部门代码 / must be a department code")
        check_claimed_responsible(claimed, frozenset(reference_data.department_codes(session)))
    return {
        "dispute_id": str(uuid.uuid4()),
        "stage": Stage.CONSULTATION.value,
        "stage_due_at": stage_deadline(
            Stage.CONSULTATION, now, [], now, current_calendar(session)
        ).due_at.isoformat(),
        "involved": _involved(case, actor.department),
    }


def on_dispute_raised(
    session: Session, case: Case, *, actor: Actor, event: CaseEvent, now: datetime
) -> None:
    """Hook after the RAISE_DISPUTE transition (from the API or a device's sync)."""
    data = event.data
    legal_basis = str(data.get("legal_basis") or "")
    dispute = Dispute(
        id=str(data["dispute_id"]),
        case_id=case.id,
        raised_by_department=actor.department,
        raised_by_user=actor.user_id,
        reason=str(data.get("reason") or ""),
        legal_basis=legal_basis,
        claimed_responsible=data.get("claimed_responsible"),
        involved=list(data["involved"]),
        positions={
            actor.department: {
                "not_ours": True,
                "reason": data.get("reason"),
                "legal_basis": legal_basis,
            }
        },
        stage=Stage.CONSULTATION.value,
        stage_started_at=now,
        stage_due_at=datetime.fromisoformat(str(data["stage_due_at"])),
        raised_at=now,
    )
    session.add(dispute)
    notify(
        session,
        [d for d in dispute.involved if d != actor.department] + [role_recipient(Role.COORDINATOR)],
        kind="dispute_raised",
        text=f"{department_label(session, actor.department)} 对案件 {case.number} 提出异议，"
        "各部门继续履职 / a dispute was "
        "raised; every department keeps working",
        now=now,
        case_id=case.id,
        data={"dispute_id": dispute.id},
    )
    session.flush()


def file_position(
    session: Session,
    *,
    actor: Actor,
    dispute_id: str,
    not_ours: bool,
    reason: str,
    legal_basis: str,
    now: datetime,
) -> Dispute:
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    check_step(
        Step.STATE_POSITION, facts_of_dispute(dispute, case), actor, StepRequest(reason=reason)
    )
    dispute.positions = {
        **dispute.positions,
        actor.department: {
            "not_ours": not_ours,
            "reason": reason.strip(),
            "legal_basis": legal_basis.strip(),
        },
    }
    session.add(dispute)
    session.flush()
    return dispute


def _move_to(
    session: Session,
    dispute: Dispute,
    case: Case,
    stage: Stage,
    actor: Actor,
    now: datetime,
    *,
    why: str,
) -> None:
    dispute.stage = stage.value
    dispute.stage_started_at = now
    dispute.suspensions = []
    dispute.suspended = False
    dispute.stage_due_at = stage_deadline(stage, now, [], now, current_calendar(session)).due_at
    session.add(dispute)
    record_event(
        session,
        case,
        kind=DISPUTE_ESCALATED,
        actor=actor,
        now=now,
        data={
            "dispute_id": dispute.id,
            "stage": stage.value,
            "due_at": dispute.stage_due_at.isoformat(),
            "why": why,
            "needs_county_leader": dispute.needs_county_leader,
        },
    )
    recipients = [role_recipient(Role.COORDINATOR), *dispute.involved]
    if stage == Stage.RULING:
        recipients.extend(JOINT_CONSULTATION_GROUP)
    notify(
        session,
        recipients,
        kind="dispute_escalated",
        text=f"异议进入{STAGE_NAMES[stage]} / case {case.number}",
        now=now,
        case_id=case.id,
        data={"dispute_id": dispute.id, "stage": stage.value},
    )


def escalate(
    session: Session,
    *,
    actor: Actor,
    dispute_id: str,
    reason: str,
    needs_county_leader: bool | None,
    now: datetime,
) -> Dispute:
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    check_step(
        Step.ESCALATE,
        facts_of_dispute(dispute, case),
        actor,
        StepRequest(reason=reason, needs_county_leader=needs_county_leader),
    )
    stage = Stage(dispute.stage)
    if needs_county_leader is not None:
        dispute.needs_county_leader = needs_county_leader
    following = next_stage(stage, needs_county_leader=dispute.needs_county_leader)
    _move_to(session, dispute, case, following, actor, now, why=reason.strip() or "requested")
    return dispute


def escalate_overdue_stage(session: Session, dispute_id: str, now: datetime) -> bool:
    """The scheduled job: a stage whose time ran out moves on (once: the dispute row is locked
    and its stage re-checked). A last stage that runs out is reported to the supervisors."""
    case_service.reserve_change_seq(session)  # the lock order: counter, dispute, case
    dispute = wf_data.get_dispute(session, dispute_id, for_update=True)
    if dispute is None or dispute.status != DisputeStatus.OPEN or dispute.suspended:
        return False
    if dispute.stage_due_at >= now:
        return False
    case = case_service.lock_case(session, dispute.case_id)
    if case is None:
        return False
    stage = Stage(dispute.stage)
    try:
        following = next_stage(stage, needs_county_leader=dispute.needs_county_leader)
    except RuleViolation:
        return escalate_once(
            session,
            case,
            level="dispute_overdue",
            due_at=dispute.stage_due_at,
            departments=list(JOINT_CONSULTATION_GROUP),
            now=now,
            record_case_event=False,
            text=f"异议{STAGE_NAMES[stage]}超时 / the dispute's last stage is overdue",
        )
    _move_to(session, dispute, case, following, SYSTEM, now, why="stage time limit passed")
    return True


def suspend(
    session: Session, *, actor: Actor, dispute_id: str, reason: str, now: datetime
) -> Dispute:
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    check_step(Step.SUSPEND, facts_of_dispute(dispute, case), actor, StepRequest(reason=reason))
    dispute.suspensions = [
        *dispute.suspensions,
        {"start": now.isoformat(), "end": None, "reason": reason.strip()},
    ]
    dispute.suspended = True
    session.add(dispute)
    session.flush()
    return dispute


def resume(session: Session, *, actor: Actor, dispute_id: str, now: datetime) -> Dispute:
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    check_step(Step.RESUME, facts_of_dispute(dispute, case), actor)
    dispute.suspensions = [{**s, "end": s["end"] or now.isoformat()} for s in dispute.suspensions]
    dispute.suspended = False
    dispute.stage_due_at = stage_deadline(
        Stage(dispute.stage),
        dispute.stage_started_at,
        _suspensions(dispute),
        now,
        current_calendar(session),
    ).due_at
    session.add(dispute)
    session.flush()
    return dispute


@dataclass(frozen=True)
class RulingInput:
    responsible_department: str
    facts: str
    ruling_text: str
    legal_basis: str
    assisting: tuple[AssistingDuty, ...] | None = None  # None: keep the others assisting
    attendees: tuple[Attendee, ...] = ()
    place: str = ""
    new_entry: dict[str, Any] | None = None  # 一事一议: a boundary entry for a new list version
    effective_from: datetime | None = None
    backdate_reason: str = ""  # why the new version takes effect before the ruling


def _new_version_entries(session: Session, new_entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest version's entries with the ruled entry replacing the one for its
    category and area (or added)."""
    latest = boundary_data.latest_version_number(session)
    rows = boundary_data.entry_rows(session, latest) if latest is not None else []
    key = (new_entry["category"], new_entry["area_kind"], tuple(sorted(new_entry["area_towns"])))
    out: list[dict[str, Any]] = []
    for r in rows:
        if (r.category, r.area_kind, tuple(sorted(r.area_towns))) == key:
            continue
        out.append(
            {
                "matter": r.matter,
                "category": r.category,
                "lead_department_code": r.lead_department_code,
                "lead_duty": r.lead_duty,
                "assisting": r.assisting,
                "legal_basis": r.legal_basis,
                "area_kind": r.area_kind,
                "area_towns": r.area_towns,
                "time_amount": r.time_amount,
                "time_unit": r.time_unit,
                "source": r.source,
            }
        )
    out.append(new_entry)
    return out


def settle(
    session: Session,
    *,
    actor: Actor,
    dispute_id: str,
    ruling: RulingInput,
    ref: ReferenceSnapshot,
    minutes_store: FileStore,
    now: datetime,
) -> Dispute:
    """Record the outcome of the current stage: who is responsible (认定谁、谁负责). The case is
    reassigned (its deadline unchanged: the clock never stopped) and one minute is generated."""
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    facts = facts_of_dispute(dispute, case)
    check_may(Step.SETTLE, facts, actor)
    stage = Stage(dispute.stage)
    responsible = ruling.responsible_department
    if responsible not in ref.departments:
        raise InvalidInput("responsible_department", "未知的部门 / unknown department")
    for i, a in enumerate(ruling.assisting or ()):
        if a.department_code not in ref.departments:
            raise InvalidInput(f"assisting[{i}].department_code", "未知的部门 / unknown department")
    for field_name in ("facts", "ruling_text", "legal_basis"):
        if not str(getattr(ruling, field_name)).strip():
            raise InvalidInput(field_name, "不能为空 / must not be empty")
    if ruling.new_entry is not None and stage != Stage.RULING:
        raise RuleViolation(
            "只有联合会商认定可以调整清单 / only a ruling of the joint group amends the list",
            code="not_a_ruling",
        )
    # who leads and who assists from now on (sync/disputes.py kept_departments), and whether
    # this actor may hand the case to them (a lead only to a department that agreed)
    entry = ruling.new_entry
    kept = kept_departments(
        responsible=responsible,
        assisting=ruling.assisting,
        current_assisting=[AssistingDuty(a["department_code"], a["duty"]) for a in case.assisting],
        entry_lead=str(entry["lead_department_code"]) if entry is not None else None,
        entry_assisting=[
            AssistingDuty(str(a["department_code"]), str(a.get("duty") or ""))
            for a in (entry.get("assisting") or [])
        ]
        if entry is not None
        else None,
    )
    check_step(
        Step.SETTLE,
        facts,
        actor,
        StepRequest(
            responsible_department=kept.lead,
            assisting=tuple(a.department_code for a in kept.assisting),
        ),
    )
    new_version: int | None = None
    if entry is not None:
        version = publish_version(
            session,
            actor=actor,
            effective_from=ruling.effective_from or now,
            reason=f"一事一议：案件 {case.number} 异议认定 / ruling on a new kind of dispute",
            entries=_new_version_entries(session, {**entry, "source": f"认定 {dispute.id[:8]}"}),
            now=now,
            backdate_reason=ruling.backdate_reason,
        )
        new_version = version.number
    old_lead = case.lead_department
    assisting = [{"department_code": a.department_code, "duty": a.duty} for a in kept.assisting]
    involved = case_service.involved_of(case)
    ruled = apply_system(  # the declared system transition: lead, assisting, status, disputed
        case_service.facts_of(case),
        case_service.case_fields(case),
        SystemAction.APPLY_RULING,
        now=now,
        calendar=current_calendar(session),
        placement=Placement(kept.lead, assisting_of(assisting)),
    )
    case_service.store_fields(case, ruled.fields)
    case_service.withdraw_from(session, case, involved)
    if ruled.fields.lead_department != old_lead and ruled.fields.status is CaseStatus.ASSIGNED:
        # the ruled lead accepts (签收) on its own clock, from the ruling; the deadline stands
        case.acceptance_due_at = acceptance_due_at(now, current_calendar(session))
    losers = lost_by([d for d, p in dispute.positions.items() if p.get("not_ours")], responsible)
    names = {d.code: d.short_name for d in reference_data.list_departments(session)}
    attendees = list(ruling.attendees) or [
        Attendee(d)
        for d in sorted({*JOINT_CONSULTATION_GROUP, *dispute.involved})
        if stage == Stage.RULING or d in dispute.involved
    ]
    decisions = [
        Decision(
            responsible,
            "主办 / lead: " + ruling.ruling_text,
            case.due_at.isoformat() if case.due_at else None,
        )
    ]
    decisions += [
        Decision(
            a["department_code"],
            "协办 / assisting: " + a["duty"],
            case.due_at.isoformat() if case.due_at else None,
        )
        for a in assisting
    ]
    time_nodes = [
        ("异议提出 / dispute raised", dispute.raised_at.isoformat()),
        (f"{STAGE_NAMES[stage]} 办结 / settled", now.isoformat()),
    ]
    if case.due_at is not None:
        time_nodes.append(("案件办理时限 / case deadline", case.due_at.isoformat()))
    kind = {
        Stage.CONSULTATION: "consultation",
        Stage.COORDINATION: "coordination",
        Stage.RULING: "ruling",
    }[stage]
    minute = create_minute(
        session,
        kind=kind,
        content=MinuteContent(
            title=f"会议纪要：案件 {case.number} 职责异议{STAGE_NAMES[stage].split(' / ')[0]}",
            held_at=now.isoformat(),
            place=ruling.place,
            attendees=attendees,
            facts=ruling.facts.strip(),
            decisions=decisions,
            time_nodes=time_nodes,
            legal_basis=ruling.legal_basis.strip(),
            extra={"lost_by": losers, "new_list_version": new_version},
        ),
        case_ids=[case.id],
        actor=actor,
        store=minutes_store,
        names=names,
        now=now,
        dispute_id=dispute.id,
    )
    dispute.status = DisputeStatus.SETTLED.value
    dispute.settled_at = now
    dispute.responsible_department = responsible
    dispute.lost_by = losers
    dispute.new_list_version = new_version
    dispute.minute_id = minute.id
    dispute.ruling_text = ruling.ruling_text.strip()
    session.add(dispute)
    record_event(
        session,
        case,
        kind=DISPUTE_RULED,
        actor=actor,
        now=now,
        data={
            "dispute_id": dispute.id,
            "responsible_department": responsible,
            "lost_by": losers,
            "new_list_version": new_version,
            "minute_id": minute.id,
            "stage": stage.value,
            "previous_lead": old_lead,
            "assisting": assisting,
            "coordinated": is_coordination(stage, actor),
        },
    )
    sync_assist_tasks(session, case, actor=actor, now=now)
    notify(
        session,
        sorted({responsible, *dispute.involved, *(a["department_code"] for a in assisting)}),
        kind="dispute_ruled",
        text=f"异议已认定：{department_label(session, responsible)} 负责 / ruled: "
        f"{department_label(session, responsible)} is responsible "
        f"for case {case.number}",
        now=now,
        case_id=case.id,
        data={"dispute_id": dispute.id, "minute_id": minute.id},
    )
    return dispute


def refuse_ruling(
    session: Session, *, actor: Actor, dispute_id: str, reason: str, now: datetime
) -> Dispute:
    """The responsible department refuses the ruling: recorded and reported for accountability.
    The ruling stands (认定谁、谁负责): the case stays with that department."""
    dispute, case = _dispute_or_404(session, dispute_id, actor)
    check_step(
        Step.REFUSE_RULING, facts_of_dispute(dispute, case), actor, StepRequest(reason=reason)
    )
    record_event(
        session,
        case,
        kind=RULING_REFUSED,
        actor=actor,
        now=now,
        data={"department": actor.department, "reason": reason.strip(), "dispute_id": dispute.id},
    )
    notify(
        session,
        [ACCOUNTABILITY, role_recipient(Role.SUPERVISOR), role_recipient(Role.COORDINATOR)],
        kind="ruling_refused",
        text=f"{department_label(session, actor.department)} 拒不执行认定（案件 {case.number}），"
        "报送问责 / refused a ruling: "
        "reported for accountability",
        now=now,
        case_id=case.id,
        data={"dispute_id": dispute.id, "reason": reason.strip()},
    )
    return dispute
