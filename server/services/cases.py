"""Case use cases: each one validates with the shared rules and appends its event in the
caller's transaction. The caller (a route or the sync handler) commits once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.data import cases as cases_data
from server.data import sync as sync_data
from server.data import unlisted as unlisted_data
from server.models import Case, CaseEvent, CaseSuspension, UnlistedMatter
from server.services import case_hooks
from server.services.boundary_cache import ReferenceSnapshot
from sync import overdue
from sync.assignment import UNLISTED_CATEGORY, choose_assignment, propose_assignment
from sync.boundary import locate
from sync.boundary_types import AssistingDuty, Point, TimeLimit
from sync.case_effects import CaseFields, Outcome, Placement, assisting_dicts, assisting_of
from sync.case_effects import apply_action as effects_of_action
from sync.case_numbers import case_number
from sync.clock_rules import assignment_time, recorded_time
from sync.disputes import coordinated, ruled_responsible
from sync.errors import InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from sync.events import (
    ACTION_REJECTED_EVIDENCE_KEPT,
    CASE_CREATED,
    DISPUTE_RULED,
    EDIT_CONFLICTED,
    EVENT_FOR_ACTION,
    FIELDS_EDITED,
    NOTE_ADDED,
)
from sync.first_contact import first_contact_of
from sync.geo import validate_point
from sync.intake import check_source
from sync.lifecycle import Action, Actor, CaseFacts, Request, decide
from sync.overdue import CaseClock
from sync.visibility import can_see_case, involved_departments
from sync.vocabulary import TERMINAL_STATUSES, CaseStatus, Role, TimeUnit
from sync.workcalendar import Suspension, WorkCalendar

MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class NewCase:
    id: str
    category: str
    description: str
    source: str = "inspection"
    point: Point | None = None
    town_code: str | None = None
    site_code: str | None = None
    first_contact_department: str | None = None  # default: the actor's department
    first_contact_reason: str = ""  # a supervisor recording on behalf of another department
    recorded_at: datetime | None = None  # when the device recorded it (default: now)
    entered_at: datetime | None = None  # when it was entered (sync: queued on the phone)


@dataclass(frozen=True)
class ActionInput:
    reason: str = ""
    note: str = ""
    duplicate_of: str | None = None
    legal_basis: str = ""  # raise_dispute: the law or mandate (三定) the dispute rests on
    where: Point | None = None
    photos: tuple[str, ...] = ()
    # assign only: an override of the proposal (needs override_reason)
    lead_department: str | None = None
    assisting: tuple[AssistingDuty, ...] | None = None
    override_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # assign made on a phone: its clock then, and the device's clock offset (sync/clock_rules)
    device_at: datetime | None = None
    device_clock_offset_s: float | None = None


def _point_of(case: Case) -> Point | None:
    return Point(case.lat, case.lon) if case.lat is not None and case.lon is not None else None


def facts_of(
    case: Case,
    rulings: Iterable[Mapping[str, Any]] = (),
    *,
    after_point: Point | None = None,
) -> CaseFacts:
    """What the lifecycle rules see. ``rulings``: the case's ``DisputeRuled`` events as
    ``{"kind", "data"}`` (``rulings_of``), read by the same functions the phone uses;
    ``case_facts`` adds them and where the latest report back was made."""
    settled = list(rulings)
    return CaseFacts(
        status=CaseStatus(case.status),
        first_contact_department=case.first_contact_department,
        reporter_user_id=case.reporter_user_id,
        lead_department=case.lead_department,
        assisting_departments=frozenset(a["department_code"] for a in case.assisting),
        handler_user_ids=frozenset(case.handler_user_ids),
        suspended=case.suspended,
        ruled_responsible=ruled_responsible(settled),
        coordinated=coordinated(settled),
        disputed=case.disputed,
        point=_point_of(case),
        after_point=after_point,
    )


def case_facts(session: Session, case: Case) -> CaseFacts:
    """Everything the rules see about the case, as complete as the phone's (which reads the same
    facts from the case's timeline): the departments its settled disputes ruled responsible and
    where its latest report back was made."""
    reported = cases_data.last_event_of_kind(session, case.id, EVENT_FOR_ACTION[Action.REPORT_BACK])
    after = (
        Point(reported.lat, reported.lon)
        if reported is not None and reported.lat is not None and reported.lon is not None
        else None
    )
    return facts_of(case, rulings_of(session, case), after_point=after)


def case_fields(case: Case) -> CaseFields:
    """The fields the lifecycle changes (``sync.case_effects``), from the row."""
    return CaseFields(
        status=CaseStatus(case.status),
        lead_department=case.lead_department,
        assisting=assisting_of(case.assisting),
        handler_user_ids=tuple(case.handler_user_ids),
        return_count=case.return_count,
        rework_count=case.rework_count,
        closed_at=case.closed_at,
        suspended=case.suspended,
        disputed=case.disputed,
        duplicate_of=case.duplicate_of,
        assigned_at=case.assigned_at,
        due_at=case.due_at,
        time_limit=TimeLimit(case.time_amount, TimeUnit(case.time_unit))
        if case.time_amount is not None and case.time_unit is not None
        else None,
    )


def store_fields(case: Case, fields: CaseFields) -> None:
    """Write the lifecycle's fields back to the row (the only place the server sets them)."""
    case.status = fields.status.value
    case.lead_department = fields.lead_department
    case.assisting = assisting_dicts(fields.assisting)
    case.assisting_codes = cases_data.assisting_codes_key(
        [a.department_code for a in fields.assisting]
    )
    case.handler_user_ids = list(fields.handler_user_ids)
    case.return_count = fields.return_count
    case.rework_count = fields.rework_count
    case.closed_at = fields.closed_at
    case.suspended = fields.suspended
    case.disputed = fields.disputed
    case.duplicate_of = fields.duplicate_of
    case.assigned_at = fields.assigned_at
    case.due_at = fields.due_at
    case.time_amount = fields.time_limit.amount if fields.time_limit is not None else None
    case.time_unit = fields.time_limit.unit.value if fields.time_limit is not None else None


def rulings_of(session: Session, case: Case) -> list[dict[str, Any]]:
    """The case's ``DisputeRuled`` events, as the phone sees them in the case's timeline."""
    return [
        {"kind": e.kind, "data": e.data}
        for e in cases_data.events_of(session, case.id)
        if e.kind == DISPUTE_RULED
    ]


def visible(case: Case, actor: Actor) -> bool:
    return can_see_case(
        role=actor.role,
        department=actor.department,
        user_id=actor.user_id,
        first_contact_department=case.first_contact_department,
        lead_department=case.lead_department,
        assisting_departments=[a["department_code"] for a in case.assisting],
        reporter_user_id=case.reporter_user_id,
    )


def get_visible_case(
    session: Session, case_id: str, actor: Actor, *, for_update: bool = False
) -> Case:
    case = lock_case(session, case_id) if for_update else cases_data.get_case(session, case_id)
    if case is None or not visible(case, actor):
        raise NotFound(f"案件 {case_id} 不存在或无权查看 / case {case_id} not found")
    return case


def _append_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor: Actor,
    now: datetime,
    where: Point | None,
    data: dict[str, Any],
    seq: int | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        seq=seq if seq is not None else cases_data.next_event_seq(session, case.id),
        kind=kind,
        actor_user_id=actor.user_id,
        actor_department=actor.department,
        at=now,
        lat=where.lat if where else None,
        lon=where.lon if where else None,
        list_version=case.list_version,
        status_after=case.status,
        data=data,
    )
    cases_data.add_event(session, event)
    return event


def reserve_change_seq(session: Session) -> int:
    """This transaction's change number, taken once per transaction (call it before any
    savepoint, so a rolled-back savepoint cannot leave two transactions with one number)."""
    transaction = session.get_transaction()
    held = session.info.get("change_seq")
    # Compared by identity with the transaction object itself (an id() of a finished
    # transaction can be reused by the next one). Before the first statement there is no
    # transaction yet: taking the number begins it, and that transaction is the one kept.
    if transaction is None or held is None or held[0] is not transaction:
        value = sync_data.next_change_seq(session)
        held = (session.get_transaction(), value)
        session.info["change_seq"] = held
    return int(held[1])


def lock_case(session: Session, case_id: str) -> Case | None:
    """The case, locked for a change. One lock order on every path (REST, sync, the jobs), so
    none can deadlock another on PostgreSQL: a sync push's device row, then the change counter
    (``reserve_change_seq``), then cases, then what hangs off them. Taking a case first and
    the counter at its first change would wait for a push that holds the counter and waits
    for that case."""
    reserve_change_seq(session)
    return cases_data.get_case(session, case_id, for_update=True)


def stamp_change(session: Session, case: Case) -> None:
    case.change_seq = reserve_change_seq(session)


def involved_of(case: Case) -> frozenset[str]:
    return involved_departments(
        case.first_contact_department,
        case.lead_department,
        [a["department_code"] for a in case.assisting],
    )


def withdraw_from(session: Session, case: Case, before: frozenset[str]) -> None:
    """After the case's departments changed: the ones no longer involved are recorded, so
    their devices drop the case on their next pull (``PullResponse.gone``)."""
    lost = before - involved_of(case)
    if lost:
        cases_data.add_withdrawals(session, case.id, sorted(lost), reserve_change_seq(session))


def _check_text(field_name: str, value: str, *, required: bool, limit: int) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(field_name, "不能为空 / must not be empty")
    if len(value) > limit:
        raise InvalidInput(field_name, f"不能超过 {limit} 字 / at most {limit} characters")
    return value


@dataclass(frozen=True)
class ValidNewCase:
    """A new case that passed every rule that needs no database: ready to store."""

    case: dict[str, Any]  # the case_record row
    event: dict[str, Any]  # its CaseCreated event row
    point: Point | None


def validate_new_case(
    *, actor: Actor, new: NewCase, ref: ReferenceSnapshot, now: datetime
) -> ValidNewCase:
    """Every rule for recording a case except the uniqueness of its id (which needs the
    database). Shared by the one-by-one and the batch paths."""
    if actor.role == Role.ADMIN:
        raise NotPermitted("管理员不登记案件 / administrators do not record cases")
    description = _check_text("description", new.description, required=True, limit=MAX_DESCRIPTION)
    if new.category not in ref.categories and new.category != UNLISTED_CATEGORY:
        raise InvalidInput("category", f"未知的事项类别 {new.category!r} / unknown category")
    check_source(new.source, ref.source_codes)  # the intake channels of the reference data
    if new.point is not None:
        validate_point(new.point, "location")
    if new.town_code is not None and new.town_code not in ref.town_codes:
        raise InvalidInput("town_code", f"未知的乡镇/街道 {new.town_code!r} / unknown town")
    if new.site_code is not None and new.site_code not in ref.site_codes:
        raise InvalidInput("site_code", f"未知的点位 {new.site_code!r} / unknown site")
    if (
        new.first_contact_department is not None
        and new.first_contact_department not in ref.departments
    ):
        raise InvalidInput("first_contact_department", "未知的部门 / unknown department")
    first_contact = first_contact_of(
        actor_role=actor.role,
        actor_department=actor.department,
        named=new.first_contact_department,
        reason=new.first_contact_reason,
    )
    try:
        uuid.UUID(new.id)
    except ValueError:
        raise InvalidInput("id", "应为 UUID / must be a UUID") from None
    town_code = new.town_code
    site_code = new.site_code
    if new.point is not None and (town_code is None or site_code is None):
        place = locate(
            point=new.point,
            town_code=town_code,
            site_code=site_code,
            towns=ref.towns,
            sites=ref.sites,
        )
        town_code = town_code or place.town_code
        site_code = site_code or (place.site.code if place.site else None)
    recorded = recorded_time(new.recorded_at, entered_at=new.entered_at or now, now=now)
    recorded_at = recorded.at
    case: dict[str, Any] = {
        "id": new.id,
        "number": case_number(new.id, recorded_at),
        "status": CaseStatus.DISCOVERED.value,
        "category": new.category,
        "matter": None,
        "description": description,
        "source": new.source,
        "lat": new.point.lat if new.point else None,
        "lon": new.point.lon if new.point else None,
        "town_code": town_code,
        "site_code": site_code,
        "first_contact_department": first_contact,
        "reporter_user_id": actor.user_id,
        "lead_department": None,
        "assisting": [],
        "assisting_codes": ",",
        "legal_basis": None,
        "list_version": None,
        "time_amount": None,
        "time_unit": None,
        "assigned_at": None,
        "due_at": None,
        "suspended": False,
        "disputed": False,
        "handler_user_ids": [],
        "rework_count": 0,
        "return_count": 0,
        "duplicate_of": None,
        "closed_at": None,
        "created_at": recorded_at,
        "updated_at": now,
        "version": 1,
    }
    event = {
        "case_id": new.id,
        "seq": 1,
        "kind": CASE_CREATED,
        "actor_user_id": actor.user_id,
        "actor_department": actor.department,
        "at": now,
        "lat": new.point.lat if new.point else None,
        "lon": new.point.lon if new.point else None,
        "list_version": None,
        "status_after": CaseStatus.DISCOVERED.value,
        "data": {
            "category": new.category,
            "description": description,
            "source": new.source,
            "first_contact_department": first_contact,
            "first_contact_reason": new.first_contact_reason.strip() or None
            if first_contact != actor.department
            else None,
            "recorded_at": recorded_at.isoformat(),
            **recorded.event_data(),
        },
    }
    return ValidNewCase(case=case, event=event, point=new.point)


def create_case(
    session: Session, *, actor: Actor, new: NewCase, ref: ReferenceSnapshot, now: datetime
) -> Case:
    valid = validate_new_case(actor=actor, new=new, ref=ref, now=now)
    if cases_data.get_case(session, new.id) is not None:
        raise InvalidInput(
            "id", "案件编号已存在 / a case with this id already exists", code="duplicate_id"
        )
    case = Case(**valid.case)
    stamp_change(session, case)
    cases_data.add_case(session, case)
    cases_data.add_event(session, CaseEvent(**valid.event))
    case_hooks.current().after_create(session, case, actor=actor, now=now)
    return case


def _suspensions(session: Session, case: Case) -> list[Suspension]:
    return [
        Suspension(start=s.start, end=s.end, reason=s.reason)
        for s in cases_data.suspensions_of(session, case.id)
    ]


def _placement(
    session: Session,
    case: Case,
    inp: ActionInput,
    ref: ReferenceSnapshot,
    now: datetime,
    actor: Actor,
) -> tuple[Placement, dict[str, Any]]:
    """Who the assignment names (the list's proposal, or an override with a reason —
    ``sync.assignment.choose_assignment``) and from when the deadline counts (the phone's
    on-the-spot time when plausible, ``sync.clock_rules.assignment_time``), and what its event
    records besides the effects. Sets the row's list fields (matter, legal basis, list version,
    notes) and enters an unlisted matter in 编办's register."""
    point = _point_of(case)
    timing = assignment_time(
        device_at=inp.device_at,
        offset_s=inp.device_clock_offset_s,
        not_before=case.created_at,
        now=now,
    )
    proposal = propose_assignment(
        versions=ref.versions,
        towns=ref.towns,
        sites=ref.sites,
        category=case.category,
        recorded_at=case.created_at,
        assigned_at=timing.at,
        calendar=ref.calendar,
        point=point,
        town_code=case.town_code,
        site_code=case.site_code,
    )
    chosen = choose_assignment(
        proposal,
        departments=ref.departments,
        lead_department=inp.lead_department,
        assisting=inp.assisting,
        override_reason=inp.override_reason,
    )
    lead, assisting = chosen.lead_department, chosen.assisting
    if proposal.unlisted:
        unlisted_data.add(
            session,
            UnlistedMatter(
                case_id=case.id,
                category=case.category,
                town_code=proposal.place.town_code,
                list_version=proposal.list_version,
                lead_department=lead,
                override_reason=chosen.override_reason or None,
                recorded_by=actor.user_id,
                recorded_at=now,
            ),
        )
    case.matter = proposal.matter
    case.legal_basis = proposal.legal_basis
    case.list_version = proposal.list_version
    case.assigned_time_note = timing.note
    case.deadline_note = proposal.deadline.note
    placement = Placement(
        lead_department=lead,
        assisting=assisting,
        due_at=proposal.deadline.due_at,
        time_limit=proposal.time_limit,
        assigned_at=timing.at,
    )
    return placement, {
        "lead_duty": proposal.lead_duty,
        "list_version": proposal.list_version,
        "legal_basis": proposal.legal_basis,
        "deadline_note": proposal.deadline.note,
        "proposed_lead": proposal.lead_department or None,
        "override_reason": chosen.override_reason or None,
        "unlisted": proposal.unlisted,
        **timing.event_data(),
    }


def _merge_target(session: Session, case: Case, actor: Actor, duplicate_of: str | None) -> None:
    """A merge target is another case the actor may see (an unseen case is as good as none)."""
    if not duplicate_of:
        return  # the lifecycle names the missing field
    target = cases_data.get_case(session, duplicate_of)
    if target is None or target.id == case.id or not visible(target, actor):
        raise InvalidInput(
            "duplicate_of",
            "合并目标案件不存在或无权查看 / the target case does not exist or you may not see it",
        )


def apply_action(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    action: Action,
    inp: ActionInput,
    ref: ReferenceSnapshot,
    now: datetime,
) -> Case:
    case = get_visible_case(session, case_id, actor, for_update=True)
    if inp.where is not None:
        validate_point(inp.where, "where")
    note = _check_text("note", inp.note, required=False, limit=MAX_DESCRIPTION)
    facts = case_facts(session, case)
    request = Request(
        reason=inp.reason,
        duplicate_of=inp.duplicate_of,
        legal_basis=inp.legal_basis,
        where=inp.where,
    )
    decide(facts, action, actor, now=now, request=request)  # the lifecycle answers first
    placement: Placement | None = None
    assigned: dict[str, Any] = {}
    if action == Action.ASSIGN:
        placement, assigned = _placement(session, case, inp, ref, now, actor)
    elif action == Action.MERGE:
        _merge_target(session, case, actor, inp.duplicate_of)
    suspensions = _suspensions(session, case) if action == Action.RESUME else []
    outcome: Outcome = effects_of_action(
        facts,
        case_fields(case),
        action,
        actor,
        request=request,
        now=now,
        calendar=ref.calendar,
        placement=placement,
        suspensions=suspensions,
    )
    hooks = case_hooks.current()
    hooks.before_transition(session, case, action, actor, inp, now)
    data: dict[str, Any] = {
        "from": case.status,
        "reason": inp.reason.strip() or None,
        "note": note or None,
        "photos": list(inp.photos),
        **outcome.data,
        **assigned,
        **inp.extra,
    }
    involved = involved_of(case)
    if action == Action.SUSPEND:
        cases_data.add_suspension(
            session, CaseSuspension(case_id=case.id, start=now, reason=inp.reason.strip())
        )
    elif action == Action.RESUME:
        open_s = cases_data.open_suspension(session, case.id)
        if open_s is not None:
            open_s.end = now
            session.add(open_s)
            session.flush()
    store_fields(case, outcome.fields)
    withdraw_from(session, case, involved)
    case.updated_at = now
    case.version += 1
    stamp_change(session, case)
    session.add(case)
    event = _append_event(
        session,
        case,
        kind=outcome.event,
        actor=actor,
        now=now,
        where=inp.where,
        data=data,
    )
    hooks.after_transition(session, case, action=action, actor=actor, inp=inp, event=event, now=now)
    return case


def add_note(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    note: str,
    photos: Sequence[str],
    where: Point | None,
    now: datetime,
) -> Case:
    """A progress note (with photos) by anyone who can see the case. Not a transition."""
    case = get_visible_case(session, case_id, actor, for_update=True)
    text = _check_text("note", note, required=not photos, limit=MAX_DESCRIPTION)
    if where is not None:
        validate_point(where, "where")
    case.updated_at = now
    case.version += 1
    stamp_change(session, case)
    session.add(case)
    _append_event(
        session,
        case,
        kind=NOTE_ADDED,
        actor=actor,
        now=now,
        where=where,
        data={"note": text or None, "photos": list(photos)},
    )
    return case


def clock_of(case: Case) -> CaseClock:
    return CaseClock(
        status=CaseStatus(case.status),
        due_at=case.due_at,
        assigned_at=case.assigned_at,
        suspended=case.suspended,
        reroute_due_at=case.reroute_due_at,
    )


def is_overdue(case: Case, now: datetime) -> bool:
    return overdue.is_overdue(clock_of(case), now)


def is_due_soon(case: Case, now: datetime, calendar: WorkCalendar) -> bool:
    return overdue.is_due_soon(clock_of(case), now, calendar)


EDITABLE_FIELDS = ("description", "category")


@dataclass(frozen=True)
class FieldConflict:
    field: str
    yours: Any
    server: Any


def edit_case(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    edits: dict[str, tuple[Any, Any]],
    ref: ReferenceSnapshot,
    now: datetime,
) -> tuple[Case, list[FieldConflict]]:
    """Apply field edits made against ``base`` values. A field someone else changed meanwhile
    keeps the server's value; the conflict is recorded as an event with both values."""
    case = get_visible_case(session, case_id, actor, for_update=True)
    facts = facts_of(case)
    may_edit = actor.role in (Role.SUPERVISOR, Role.COORDINATOR) or (
        actor.user_id == case.reporter_user_id
        or actor.department in (case.first_contact_department, case.lead_department)
    )
    if not may_edit:
        raise NotPermitted(
            "只有登记人、首问或主办部门可以修改 / only the reporter, first-contact "
            "or lead department may edit"
        )
    if facts.status in TERMINAL_STATUSES:
        raise TransitionNotAllowed(
            "案件已办结，不能修改 / a finished case cannot be edited", code="wrong_status"
        )
    applied: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for name, (base, value) in edits.items():
        if name not in EDITABLE_FIELDS:
            raise InvalidInput(f"fields.{name}", "该字段不可修改 / this field cannot be edited")
        if name == "description":
            value = _check_text(
                "fields.description", str(value or ""), required=True, limit=MAX_DESCRIPTION
            )
        if name == "category":
            if facts.status != CaseStatus.DISCOVERED:
                raise TransitionNotAllowed(
                    "交办后不能改事项类别 / category is fixed once assigned", code="wrong_status"
                )
            if not any(e.category == value for v in ref.versions for e in v.entries):
                raise InvalidInput("fields.category", "未知的事项类别 / unknown category")
        current = getattr(case, name)
        if current == value:
            continue
        if current != base:
            conflicts.append(FieldConflict(name, value, current))
            continue
        setattr(case, name, value)
        applied[name] = {"from": current, "to": value}
    if applied or conflicts:
        case.updated_at = now
        case.version += 1
        stamp_change(session, case)
        session.add(case)
    if applied:
        _append_event(
            session,
            case,
            kind=FIELDS_EDITED,
            actor=actor,
            now=now,
            where=None,
            data={"fields": applied},
        )
    if conflicts:
        _append_event(
            session,
            case,
            kind=EDIT_CONFLICTED,
            actor=actor,
            now=now,
            where=None,
            data={
                "conflicts": [
                    {"field": c.field, "yours": c.yours, "server": c.server} for c in conflicts
                ]
            },
        )
    return case, conflicts


def keep_rejected_evidence(
    session: Session,
    *,
    actor: Actor,
    case_id: str,
    action: str,
    rejection: str,
    note: str,
    photos: Sequence[str],
    where: Point | None,
    now: datetime,
) -> bool:
    """A transition refused on arrival still leaves its notes and photos on the case."""
    if not note.strip() and not photos:
        return False
    case = lock_case(session, case_id)
    if case is None or not visible(case, actor):
        return False
    case.updated_at = now
    case.version += 1
    stamp_change(session, case)
    session.add(case)
    _append_event(
        session,
        case,
        kind=ACTION_REJECTED_EVIDENCE_KEPT,
        actor=actor,
        now=now,
        where=where,
        data={
            "action": action,
            "rejected_because": rejection,
            "note": note.strip() or None,
            "photos": list(photos),
        },
    )
    return True
