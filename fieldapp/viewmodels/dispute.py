"""Disputes (异议) on the phone, as pure logic: what the 异议 card shows, which steps the
signed-in user may take (the same rules the server applies, from ``sync.disputes``), and the
forms (position, consultation, escalate, suspend, ruling) with errors named by field.

Path: 主办协商 (consultation) → 编办协调 (coordination) → 联合会商认定 (ruling). The case keeps
its status and deadline all along: a dispute never stops the work.

Errors are i18n keys (``dispute.error.*``) keyed by the form field they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fieldapp.dispute_api import CaseWork, Dispute, Minute, Ruling
from sync.boundary_types import AreaKind
from sync.disputes import (
    DisputeFacts,
    DisputeStatus,
    Stage,
    StepRequest,
    agreed_departments,
    allowed_steps,
    next_stage,
    settled_by_agreement,
)
from sync.disputes import Step as DisputeStep
from sync.errors import DomainError
from sync.lifecycle import Actor
from sync.reference_codec import Reference
from sync.vocabulary import Role

STAGES: tuple[Stage, ...] = (Stage.CONSULTATION, Stage.COORDINATION, Stage.RULING)
OVERSIGHT = frozenset({Role.SUPERVISOR, Role.COORDINATOR})
DEFAULT_DUTY = "配合处置"  # an assisting department's duty when the ruling names none


class Step(StrEnum):
    """What a user can do to a dispute from the phone (the order the buttons show)."""

    POSITION = "position"  # 陈述意见: 不属于本部门 / 认可
    CONSULT = "consult"  # 召集协商 (the lead)
    ESCALATE = "escalate"  # → 编办协调 / → 联合会商认定
    SETTLE = "settle"  # 认定 (record the outcome: who is responsible)
    SUSPEND = "suspend"  # 中止, with a reason
    RESUME = "resume"  # 恢复


def current_dispute(work: CaseWork) -> Dispute | None:
    """The open dispute, else the latest one (settled), else None."""
    open_ = [d for d in work.disputes if d.status == DisputeStatus.OPEN]
    if open_:
        return open_[0]
    return max(work.disputes, key=lambda d: d.raised_at) if work.disputes else None


_FROM_RULES: dict[DisputeStep, Step] = {
    DisputeStep.STATE_POSITION: Step.POSITION,
    DisputeStep.CALL_CONSULTATION: Step.CONSULT,
    DisputeStep.ESCALATE: Step.ESCALATE,
    DisputeStep.SETTLE: Step.SETTLE,
    DisputeStep.SUSPEND: Step.SUSPEND,
    DisputeStep.RESUME: Step.RESUME,
}


def facts_of(work: CaseWork, dispute: Dispute) -> DisputeFacts:
    """What the dispute rules need, from the server's answer (the same facts it decides on)."""
    return DisputeFacts(
        status=DisputeStatus(dispute.status),
        stage=Stage(dispute.stage),
        lead_department=work.lead_department,
        involved=frozenset(dispute.involved),
        agreed=agreed_departments(
            dispute.involved, {p.department: {"not_ours": p.not_ours} for p in dispute.positions}
        ),
        assisting=frozenset(d for d, _ in work.assisting),
        suspended=dispute.suspended,
        needs_county_leader=dispute.needs_county_leader,
        responsible_department=dispute.responsible_department,
    )


def permitted_steps(actor: Actor, work: CaseWork, dispute: Dispute) -> list[Step]:
    """The steps the server would accept from ``actor`` now: the one table of
    ``sync.disputes`` (``allowed_steps``), in the order the buttons show."""
    allowed = {
        _FROM_RULES[s] for s in allowed_steps(facts_of(work, dispute), actor) if s in _FROM_RULES
    }
    return [s for s in Step if s in allowed]


def escalates_to(dispute: Dispute) -> Stage | None:
    """The stage an escalation would move the dispute to (None: it cannot move on)."""
    try:
        return next_stage(Stage(dispute.stage), needs_county_leader=dispute.needs_county_leader)
    except DomainError:
        return None


# --- what the card shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class PositionRow:
    department: str  # code
    name: str
    state: str  # i18n key: dispute.position.not_ours | .accepts | .none
    reason: str
    legal_basis: str
    raised_it: bool


@dataclass(frozen=True)
class RulingView:
    responsible: str  # department name
    ruling_text: str
    lost_by: tuple[str, ...]  # department names whose "not ours" was rejected
    new_list_version: int | None
    settled_at: datetime | None
    minute_id: str | None
    minute: Minute | None


@dataclass(frozen=True)
class DisputeView:
    dispute: Dispute
    stage: Stage
    stage_index: int  # 0, 1, 2 along STAGES
    stage_due_at: datetime
    overdue: bool
    suspended: bool
    suspension_reason: str
    raised_by: str  # department name
    claimed_responsible: str | None  # department name
    rows: tuple[PositionRow, ...]
    steps: tuple[Step, ...]
    escalates_to: Stage | None
    ruling: RulingView | None  # once settled

    @property
    def settled(self) -> bool:
        return self.ruling is not None


def position_rows(dispute: Dispute, reference: Reference) -> list[PositionRow]:
    stated = {p.department: p for p in dispute.positions}
    rows: list[PositionRow] = []
    for code in dispute.involved:
        p = stated.get(code)
        if p is None:
            state, reason, basis = "dispute.position.none", "", ""
        else:
            state = "dispute.position.not_ours" if p.not_ours else "dispute.position.accepts"
            reason, basis = p.reason, p.legal_basis
        rows.append(
            PositionRow(
                department=code,
                name=reference.department_name(code),
                state=state,
                reason=reason,
                legal_basis=basis,
                raised_it=code == dispute.raised_by_department,
            )
        )
    return rows


def build_view(
    work: CaseWork, actor: Actor, reference: Reference, *, now: datetime
) -> DisputeView | None:
    dispute = current_dispute(work)
    if dispute is None:
        return None
    stage = Stage(dispute.stage)
    open_suspensions = [s for s in dispute.suspensions if s.end is None]
    ruling: RulingView | None = None
    if dispute.status == DisputeStatus.SETTLED:
        minute = next((m for m in work.minutes if m.id == dispute.minute_id), None)
        ruling = RulingView(
            responsible=reference.department_name(dispute.responsible_department),
            ruling_text=dispute.ruling_text or "",
            lost_by=tuple(reference.department_name(d) for d in dispute.lost_by),
            new_list_version=dispute.new_list_version,
            settled_at=dispute.settled_at,
            minute_id=dispute.minute_id,
            minute=minute,
        )
    return DisputeView(
        dispute=dispute,
        stage=stage,
        stage_index=STAGES.index(stage),
        stage_due_at=dispute.stage_due_at,
        overdue=ruling is None and not dispute.suspended and dispute.stage_due_at < now,
        suspended=dispute.suspended,
        suspension_reason=open_suspensions[-1].reason if open_suspensions else "",
        raised_by=reference.department_name(dispute.raised_by_department),
        claimed_responsible=(
            reference.department_name(dispute.claimed_responsible)
            if dispute.claimed_responsible
            else None
        ),
        rows=tuple(position_rows(dispute, reference)),
        steps=tuple(permitted_steps(actor, work, dispute)),
        escalates_to=escalates_to(dispute),
        ruling=ruling,
    )


# --- forms -------------------------------------------------------------------------------------


def _blank(text: str) -> bool:
    return not text.strip()


@dataclass
class PositionForm:
    """不属于本部门 (not_ours=True) or 认可 (False), with a reason; the legal basis is optional
    when accepting and expected when saying "not ours"."""

    not_ours: bool | None = None
    reason: str = ""
    legal_basis: str = ""

    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.not_ours is None:
            out["not_ours"] = "dispute.error.choose_position"
        if _blank(self.reason):
            out["reason"] = "dispute.error.reason_required"
        if self.not_ours and _blank(self.legal_basis):
            out["legal_basis"] = "dispute.error.legal_basis_required"
        return out


@dataclass
class ReasonForm:
    """Escalate (reason optional) or suspend (reason required: 中止须说明理由)."""

    required: bool
    reason: str = ""

    def errors(self) -> dict[str, str]:
        if self.required and _blank(self.reason):
            return {"reason": "dispute.error.reason_required"}
        return {}


@dataclass
class ConsultForm:
    """The lead calls the other involved departments to consult (主办协商)."""

    departments: list[str] = field(default_factory=list)
    note: str = ""

    @classmethod
    def for_dispute(cls, dispute: Dispute, actor: Actor) -> ConsultForm:
        return cls([d for d in dispute.involved if d != actor.department])

    def toggle(self, code: str, on: bool) -> None:
        if on and code not in self.departments:
            self.departments.append(code)
        elif not on and code in self.departments:
            self.departments.remove(code)

    def errors(self) -> dict[str, str]:
        return {} if self.departments else {"departments": "dispute.error.departments_required"}


@dataclass
class RulingForm:
    """认定: who is responsible (lead), who assists with what, the facts, the ruling and its
    legal basis; at the ruling stage it may also publish the ruled entry as a new list version
    (一事一议)."""

    candidates: list[str]  # departments that may be named (involved, lead, assisting)
    responsible: str | None = None
    dispute_facts: DisputeFacts | None = None  # the dispute, to check who may be named
    actor: Actor | None = None
    assisting: dict[str, str] = field(default_factory=dict)  # department → duty
    facts: str = ""
    ruling_text: str = ""
    legal_basis: str = ""
    publish: bool = False
    may_publish: bool = False

    @classmethod
    def for_dispute(
        cls, work: CaseWork, dispute: Dispute, actor: Actor | None = None
    ) -> RulingForm:
        """With ``actor``: a lead settling at consultation is offered only itself and the
        departments that agreed (认定谁、谁负责); the rest goes to 编办 coordination."""
        candidates: list[str] = []
        for code in (
            dispute.claimed_responsible,
            *dispute.involved,
            work.lead_department,
            *(d for d, _ in work.assisting),
        ):
            if code and code not in candidates:
                candidates.append(code)
        form = cls(
            candidates=candidates,
            may_publish=dispute.stage == Stage.RULING,
            dispute_facts=facts_of(work, dispute),
            actor=actor,
        )
        if actor is not None:
            form.candidates = [c for c in candidates if form._may_lead(c)]
        form.assisting = dict(work.assisting)
        if dispute.claimed_responsible and dispute.claimed_responsible in form.candidates:
            form.choose(dispute.claimed_responsible)
        return form

    def _agreement_error(self, code: str | None, assisting: tuple[str, ...] = ()) -> str | None:
        """The field the shared rule (``settled_by_agreement``) refuses, if any."""
        if self.dispute_facts is None or self.actor is None:
            return None
        try:
            settled_by_agreement(
                self.dispute_facts,
                self.actor,
                StepRequest(responsible_department=code, assisting=assisting),
            )
        except DomainError as e:
            return e.field or "responsible_department"
        return None

    def _may_lead(self, code: str) -> bool:
        return self._agreement_error(code) is None

    def choose(self, code: str) -> None:
        """Name the responsible (lead) department; it no longer assists."""
        self.responsible = code
        self.assisting.pop(code, None)

    def toggle_assisting(self, code: str, on: bool, duty: str = DEFAULT_DUTY) -> None:
        if on and code != self.responsible:
            self.assisting.setdefault(code, duty)
        elif not on:
            self.assisting.pop(code, None)

    def set_duty(self, code: str, duty: str) -> None:
        if code in self.assisting:
            self.assisting[code] = duty

    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if not self.responsible:
            out["responsible"] = "dispute.error.responsible_required"
        else:
            codes = tuple(c for c in self.assisting if c != self.responsible)
            refused = self._agreement_error(self.responsible, codes)
            if refused == "responsible_department":
                out["responsible"] = "dispute.error.not_agreed"
            elif refused is not None:
                index = int(refused.split("[")[1].split("]")[0])
                out[f"duty:{codes[index]}"] = "dispute.error.not_agreed"
        for code, duty in self.assisting.items():
            if _blank(duty):
                out[f"duty:{code}"] = "dispute.error.duty_required"
        if _blank(self.facts):
            out["facts"] = "dispute.error.facts_required"
        if _blank(self.ruling_text):
            out["ruling_text"] = "dispute.error.ruling_required"
        if _blank(self.legal_basis):
            out["legal_basis"] = "dispute.error.legal_basis_required"
        return out

    def ruling(self, work: CaseWork, reference: Reference, *, now: datetime) -> Ruling:
        """The call's body; raises ``ValueError`` while ``errors()`` is not empty."""
        if self.errors() or self.responsible is None:
            raise ValueError("the ruling form is incomplete")
        assisting = tuple(
            (code, duty.strip())
            for code, duty in self.assisting.items()
            if code != self.responsible
        )
        entry = (
            list_entry(work, reference, self, assisting, now=now)
            if self.publish and self.may_publish
            else None
        )
        return Ruling(
            responsible_department=self.responsible,
            facts=self.facts,
            ruling_text=self.ruling_text,
            legal_basis=self.legal_basis,
            assisting=assisting,
            new_entry=entry,
        )


def list_entry(
    work: CaseWork,
    reference: Reference,
    form: RulingForm,
    assisting: Sequence[tuple[str, str]],
    *,
    now: datetime,
) -> dict[str, Any]:
    """The boundary-list entry the ruling publishes for the case's matter: the ruled lead and
    assisting duties, the ruling's legal basis; the area and time limit of the entry in force
    (or, for a matter the list lacks, the whole county and the case's own time limit)."""
    version = reference.version_at(now)
    current = next(
        (e for e in (version.entries if version else ()) if e.category == work.category), None
    )
    if current is not None:
        area_kind, towns = current.area.kind.value, list(current.area.town_codes)
        amount, unit = current.time_limit.amount, current.time_limit.unit.value
    else:
        area_kind, towns = AreaKind.COUNTY.value, []
        amount, unit = work.time_amount or 5, work.time_unit or "working_days"
    return {
        "matter": reference.matter(work.category),
        "category": work.category,
        "lead_department_code": form.responsible,
        "lead_duty": form.ruling_text.strip(),
        "assisting": [{"department_code": d, "duty": duty} for d, duty in assisting],
        "legal_basis": form.legal_basis.strip(),
        "area_kind": area_kind,
        "area_towns": towns,
        "time_amount": amount,
        "time_unit": unit,
        "source": "认定",
    }
