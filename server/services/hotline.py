"""Importing a 12345 hotline export: every good row becomes a ticket, kept once per number.

A ticket joins an open case of the same category within ``LINK_RADIUS_M`` metres (the nearest;
cases created earlier in the same file count) — the case gets a ``HotlineTicketLinked`` event —
or becomes a new first-contact case owned by the hotline centre (``HOTLINE_DEPARTMENT``), source
"hotline", its id derived from the ticket number. The ticket records the department the
boundary list names as lead for its matter and place. Rows that cannot be imported, and rows
whose ticket number is already in the file or in the database, are listed in the import with
their row number and reason.

The whole file is read and parsed first; the good rows are then stored ``CHUNK_ROWS`` at a time,
one transaction per chunk: one query finds the chunk's tickets already stored, every new case is
validated by the rules of the one-by-one path and the cases, their events and the tickets go in
with bulk INSERTs (``batch_create.insert_valid``); only a report that repeats a recently closed
case goes through ``cases.create_case`` (which reopens that case). A database failure in a chunk
rolls back that chunk only: it and the rows after it are reported as not imported, the chunks
before it stay, and importing the file again resumes where it stopped. ``import_file`` commits.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.data import cases as cases_data
from server.data import hotline as hotline_data
from server.evaluation.grid import GridIndex
from server.hotline.reader import (
    CALL_BACK_COLUMNS,
    CALL_BACKS,
    TICKET_COLUMNS,
    RawRow,
    builtin_column_of,
    normalise_header,
    read_sheet,
)
from server.hotline.tickets import (
    RowProblem,
    TicketDraft,
    parse_received_at,
    parse_rows,
    text_of,
)
from server.models import Case
from server.models.evaluation import HotlineCallBack, HotlineColumnAlias, HotlineImport
from server.services import batch_create, workflow_hooks
from server.services import cases as case_service
from server.services.boundary_cache import ReferenceSnapshot
from server.services.workflow_events import record_event
from sync.boundary import resolve
from sync.boundary_types import Point
from sync.call_backs import check_comment, parse_call_back_result
from sync.errors import DomainError, InvalidInput, NotFound, NotPermitted, RuleViolation
from sync.events import CALL_BACK_RECORDED, HOTLINE_TICKET_LINKED
from sync.lifecycle import Actor
from sync.limits import MAX_HEADER
from sync.vocabulary import CaseStatus, Role
from sync.workflow import call_back_counts_as_repeat

HOTLINE_DEPARTMENT = "rx"  # 政务热线服务中心
LINK_RADIUS_M = 50.0
MAX_FILE_BYTES = 50 * 1024 * 1024
CHUNK_ROWS = 1000  # good rows per transaction
_TICKET_NAMESPACE = uuid.UUID("6b1f3c1e-12a4-5e45-9a1b-12345aa12345")
_ID_TAKEN = "案件编号已被占用 / a case with this ticket's id already exists"

log = logging.getLogger(__name__)


def may_import(actor: Actor) -> bool:
    """Supervisors and the hotline centre's own staff import hotline exports."""
    return actor.role == Role.SUPERVISOR or (
        actor.department == HOTLINE_DEPARTMENT and actor.role in (Role.HANDLER, Role.INSPECTOR)
    )


def case_id_for_ticket(ticket_no: str) -> str:
    return str(uuid.uuid5(_TICKET_NAMESPACE, ticket_no))


def categories_of(ref: ReferenceSnapshot) -> dict[str, str]:
    """Category key → matter name, the newest version's name winning."""
    out: dict[str, str] = {}
    for version in sorted(ref.versions, key=lambda v: v.number):
        for entry in version.entries:
            out[entry.category] = entry.matter
    return out


def _lead_for(draft: TicketDraft, ref: ReferenceSnapshot, town_code: str | None) -> str | None:
    """The boundary list's lead for the ticket's matter where it happened. The list's areas are
    towns, so a known town (``town_code``, or the area the row names) decides without geometry."""
    town = town_code or draft.town_code
    try:
        return resolve(
            versions=ref.versions,
            towns=ref.towns,
            sites=ref.sites,
            category=draft.category,
            at=draft.received_at,
            point=None if town is not None else draft.point,
            town_code=town,
        ).entry.lead_department_code
    except DomainError:  # outside the list's areas or before it: the newest entry's lead
        for version in sorted(ref.versions, key=lambda v: -v.number):
            for entry in version.entries:
                if entry.category == draft.category:
                    return entry.lead_department_code
        return None


def _description(draft: TicketDraft) -> str:
    text = f"【12345 工单 {draft.ticket_no}】{draft.content}"
    if draft.address:
        text += f"（地址：{draft.address}）"
    return text[: case_service.MAX_DESCRIPTION]


def _new_case(draft: TicketDraft, case_id: str) -> case_service.NewCase:
    return case_service.NewCase(
        id=case_id,
        category=draft.category,
        description=_description(draft),
        source="hotline",
        point=draft.point,
        town_code=draft.town_code,
        first_contact_department=HOTLINE_DEPARTMENT,
        # the hotline centre received the call; a supervisor importing records on its behalf
        first_contact_reason="12345 工单导入 / imported from the hotline platform",
        recorded_at=draft.received_at,
    )


class _Places:
    """Open cases with a place, by category, for "which case is within 50 m": loaded once, and
    grown by the cases the import creates. A new case the repeat rule merged into a reopened
    case stands for that case."""

    def __init__(self, session: Session, categories: set[str]) -> None:
        self._grids: dict[str, GridIndex[str]] = defaultdict(lambda: GridIndex(LINK_RADIUS_M))
        self._merged_into: dict[str, str] = {}
        for cid, category, lat, lon, _lead in hotline_data.open_cases_with_place(
            session, categories
        ):
            self._grids[category].add(Point(lat, lon), cid)

    def nearest(self, draft: TicketDraft) -> str | None:
        if draft.point is None:
            return None
        return self._grids[draft.category].nearest(draft.point, LINK_RADIUS_M)

    def add(self, draft: TicketDraft, case_id: str) -> None:
        if draft.point is not None:
            self._grids[draft.category].add(draft.point, case_id)

    def merged(self, case_id: str, into: str) -> None:
        self._merged_into[case_id] = into

    def resolve(self, case_id: str) -> str:
        return self._merged_into.get(case_id, case_id)


@dataclass
class _Chunk:
    created: int = 0
    linked: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _error(draft: TicketDraft, reason: str) -> RowProblem:
    return RowProblem(draft.row, draft.ticket_no, "error", reason)


def _ticket_row(
    draft: TicketDraft,
    *,
    import_id: str,
    case_id: str,
    outcome: str,
    ref: ReferenceSnapshot,
    town_code: str | None = None,
) -> dict[str, Any]:
    return {
        "ticket_no": draft.ticket_no,
        "import_id": import_id,
        "row_number": draft.row,
        "received_at": draft.received_at,
        "area": draft.area,
        "address": draft.address,
        "lat": draft.point.lat if draft.point else None,
        "lon": draft.point.lon if draft.point else None,
        "town_code": draft.town_code,
        "category": draft.category,
        "matter": draft.matter,
        "content": draft.content,
        "department": _lead_for(draft, ref, town_code),
        "case_id": case_id,
        "outcome": outcome,
    }


def _import_chunk(
    session: Session,
    chunk: list[TicketDraft],
    *,
    import_id: str,
    places: _Places,
    actor: Actor,
    ref: ReferenceSnapshot,
    now: datetime,
) -> _Chunk:
    """Store one chunk of good rows in the session's transaction (the caller commits)."""
    out = _Chunk()
    change_seq = case_service.reserve_change_seq(session)
    stored = hotline_data.existing_ticket_imports(session, [d.ticket_no for d in chunk])
    case_ids = {d.row: case_id_for_ticket(d.ticket_no) for d in chunk if d.ticket_no not in stored}
    taken = cases_data.existing_ids(session, list(case_ids.values()))
    links: list[tuple[TicketDraft, str]] = []
    creates: list[tuple[TicketDraft, case_service.ValidNewCase]] = []
    for d in chunk:
        if d.ticket_no in stored:
            out.problems.append(
                RowProblem(
                    d.row,
                    d.ticket_no,
                    "duplicate",
                    f"工单已导入（导入批次 {stored[d.ticket_no]}）/ already imported "
                    f"(import {stored[d.ticket_no]})",
                )
            )
            continue
        target = places.nearest(d)
        if target is not None:
            links.append((d, target))
            continue
        if case_ids[d.row] in taken:  # checked before it can take a place in the grid
            out.problems.append(_error(d, _ID_TAKEN))
            continue
        try:
            valid = case_service.validate_new_case(
                actor=actor, new=_new_case(d, case_ids[d.row]), ref=ref, now=now
            )
        except DomainError as error:
            out.problems.append(_error(d, error.reason))
            continue
        creates.append((d, valid))
        places.add(d, valid.case["id"])

    placed = batch_create.insert_valid(session, creates, now=now, change_seq=change_seq)
    town_of = {d.row: v.case["town_code"] for d, v in creates}  # where the rules placed it
    tickets = [
        _ticket_row(
            d,
            import_id=import_id,
            case_id=case_ids[d.row],
            outcome="created",
            ref=ref,
            town_code=town_of[d.row],
        )
        for d in placed.inserted
    ]
    for d in placed.taken:  # stored meanwhile by someone else
        out.problems.append(_error(d, _ID_TAKEN))
    for d in placed.repeats:  # reported again after closing: the one-by-one path reopens
        savepoint = session.begin_nested()
        try:
            case = case_service.create_case(
                session, actor=actor, new=_new_case(d, case_ids[d.row]), ref=ref, now=now
            )
            session.flush()
            savepoint.commit()
        except DomainError as error:
            savepoint.rollback()
            out.problems.append(_error(d, error.reason))
            continue
        if case.duplicate_of is not None:
            places.merged(case.id, case.duplicate_of)
        tickets.append(
            _ticket_row(
                d,
                import_id=import_id,
                case_id=case.id,
                outcome="created",
                ref=ref,
                town_code=case.town_code,
            )
        )
    out.created = len(tickets)

    locked = hotline_data.lock_cases(session, {places.resolve(t) for _, t in links})
    seqs = hotline_data.last_event_seqs(session, locked)
    events: list[dict[str, Any]] = []
    per_case: Counter[str] = Counter()
    for d, target in links:
        case_id = places.resolve(target)
        if case_id not in locked:
            out.problems.append(
                _error(d, "所关联的案件未能建立 / the case this ticket joins was not created")
            )
            continue
        status, list_version = locked[case_id]
        seqs[case_id] = seqs.get(case_id, 0) + 1
        per_case[case_id] += 1
        events.append(
            {
                "case_id": case_id,
                "seq": seqs[case_id],
                "kind": HOTLINE_TICKET_LINKED,
                "actor_user_id": actor.user_id,
                "actor_department": actor.department,
                "at": now,
                "lat": d.point.lat if d.point else None,
                "lon": d.point.lon if d.point else None,
                "list_version": list_version,
                "status_after": status,
                "data": {
                    "ticket_no": d.ticket_no,
                    "import_id": import_id,
                    "received_at": d.received_at.isoformat(),
                    "address": d.address,
                    "content": d.content,
                },
            }
        )
        tickets.append(
            _ticket_row(d, import_id=import_id, case_id=case_id, outcome="linked", ref=ref)
        )
    hotline_data.insert_events(session, events)
    hotline_data.touch_cases(session, per_case, now=now, change_seq=change_seq)
    out.linked = len(events)
    hotline_data.insert_tickets(session, tickets)
    return out


def _stopped(draft: TicketDraft, at_row: int, error: Exception) -> RowProblem:
    return _error(
        draft,
        f"导入在第 {at_row} 行所在批次中断，未导入；再次导入同一文件即可继续 / not imported: the "
        f"import stopped in the chunk starting at row {at_row} ({type(error).__name__}); "
        "import the file again to resume",
    )


def import_file(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    data: bytes,
    ref: ReferenceSnapshot,
    now: datetime,
    chunk_rows: int = CHUNK_ROWS,
) -> HotlineImport:
    if not may_import(actor):
        raise NotPermitted(
            "只有督办人员或热线中心可以导入工单 / only supervisors and the hotline centre "
            "may import hotline tickets",
            code="role_not_allowed",
        )
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("file", f"文件超过 {MAX_FILE_BYTES // 2**20} MB / file too large")
    sheet = read_sheet(data, aliases=hotline_data.column_aliases(session))
    drafts, problems = parse_rows(
        sheet.rows, categories=categories_of(ref), towns=ref.towns, now=now
    )
    run = HotlineImport(
        id=str(uuid.uuid4()),
        filename=filename[:200] or "upload",
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=sheet.encoding,
        imported_by=actor.user_id,
        imported_at=now,
        total_rows=len(sheet.rows),
    )
    counts = Counter(p.kind for p in problems)
    run.duplicates, run.errors = counts["duplicate"], counts["error"]
    hotline_data.add_import(session, run)
    session.commit()  # the import is on record before its first chunk

    places = _Places(session, {d.category for d in drafts})
    hotline_data.widen_page_cache(session)
    for start in range(0, len(drafts), chunk_rows):
        chunk = drafts[start : start + chunk_rows]
        try:
            done = _import_chunk(
                session, chunk, import_id=run.id, places=places, actor=actor, ref=ref, now=now
            )
            after = counts + Counter(p.kind for p in done.problems)
            run.created_cases += done.created
            run.linked += done.linked
            run.duplicates, run.errors = after["duplicate"], after["error"]
            session.add(run)
            session.commit()
        except SQLAlchemyError as error:
            session.rollback()  # this chunk only; the run keeps the committed chunks' counts
            log.exception("hotline import %s stopped at row %d", run.id, chunk[0].row)
            done = _Chunk(problems=[_stopped(d, chunk[0].row, error) for d in drafts[start:]])
            counts.update(p.kind for p in done.problems)
            run.errors = counts["error"]
            problems.extend(done.problems)
            break
        counts = after
        problems.extend(done.problems)
        session.expunge_all()  # the session holds nothing from the chunks before
        session.add(run)
    problems.sort(key=lambda p: p.row)
    run.problems = [asdict(p) for p in problems]
    session.add(run)
    session.commit()
    return run


# --- an administrator's header names -------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise NotPermitted(
            "只有管理员可以设置列名映射 / only administrators map header names",
            code="role_not_allowed",
        )


def set_column_alias(
    session: Session, *, actor: Actor, header: str, column: str, now: datetime
) -> HotlineColumnAlias:
    """Map a header name some export uses to one of the import's columns (replacing the
    mapping that name had). A name the import already knows cannot be redirected."""
    _require_admin(actor)
    key = normalise_header(header)
    if not key:
        raise InvalidInput("header", "不能为空 / must not be empty")
    if len(key) > MAX_HEADER:
        raise InvalidInput("header", f"不能超过 {MAX_HEADER} 字 / at most {MAX_HEADER} characters")
    if column not in TICKET_COLUMNS and column not in CALL_BACK_COLUMNS:
        known = ", ".join(dict.fromkeys([*TICKET_COLUMNS, *CALL_BACK_COLUMNS]))
        raise InvalidInput("column", f"未知的列 {column!r}，应为 {known} 之一 / unknown column")
    builtin = builtin_column_of(header)
    if builtin is not None:
        raise InvalidInput(
            "header",
            f"列名 {header.strip()!r} 已表示 {builtin}，不能改映射 / this name already means "
            f"{builtin} and cannot be mapped to another column",
        )
    alias = hotline_data.get_column_alias(session, key) or HotlineColumnAlias(
        header=key, column=column, set_by=actor.user_id, set_at=now
    )
    alias.column, alias.set_by, alias.set_at = column, actor.user_id, now
    hotline_data.save_column_alias(session, alias)
    return alias


def remove_column_alias(session: Session, *, actor: Actor, header: str) -> None:
    _require_admin(actor)
    alias = hotline_data.get_column_alias(session, normalise_header(header))
    if alias is None:
        raise NotFound(f"没有列名 {header!r} 的映射 / no mapping for header {header!r}")
    hotline_data.delete_column_alias(session, alias)


# --- call-backs (回访) ---------------------------------------------------------------------


@dataclass
class CallBackImport:
    total_rows: int = 0
    recorded: int = 0
    reopened: int = 0
    duplicates: int = 0
    errors: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _case_carrying(session: Session, case_id: str) -> Case:
    """The ticket's case, locked; a case merged into another (a repeat) hands over to it."""
    seen: set[str] = set()
    case = case_service.lock_case(session, case_id)
    while case is not None and case.duplicate_of and case.id not in seen:
        seen.add(case.id)
        target = case_service.lock_case(session, case.duplicate_of)
        if target is None:
            break
        case = target
    if case is None:
        raise NotFound(f"工单的案件 {case_id} 不存在 / the ticket's case {case_id} is missing")
    return case


def record_call_back(
    session: Session,
    *,
    actor: Actor,
    ticket_no: str,
    result: object,
    comment: str,
    called_back_at: datetime | None,
    now: datetime,
) -> HotlineCallBack:
    """Record a citizen's call-back result on the ticket's case (in the caller's transaction):
    a ``CallBackRecorded`` event; an unsatisfied one on a closed case counts like a repeat
    report (``sync.workflow.call_back_counts_as_repeat``) and reopens the case as rework."""
    if not may_import(actor):
        raise NotPermitted(
            "只有督办人员或热线中心可以登记回访 / only supervisors and the hotline centre "
            "may record call-backs",
            code="role_not_allowed",
        )
    ticket_no = ticket_no.strip()
    if not ticket_no:
        raise InvalidInput("ticket_no", "工单编号为空 / ticket number is empty")
    ticket = hotline_data.get_ticket(session, ticket_no)
    if ticket is None:
        raise InvalidInput(
            "ticket_no", f"未知的工单 {ticket_no!r}（须先导入）/ unknown ticket: import it first"
        )
    outcome = parse_call_back_result(result)
    text = check_comment(comment)
    at = called_back_at or now
    if at.tzinfo is None:
        raise InvalidInput("called_back_at", "须带时区 / must include a time zone")
    if at > now:
        raise InvalidInput("called_back_at", "回访时间在未来 / must not be in the future")
    if at < ticket.received_at:
        raise InvalidInput(
            "called_back_at", "回访时间早于来电时间 / before the ticket was received"
        )
    if hotline_data.call_back_exists(session, ticket_no, at):
        raise RuleViolation(
            f"工单 {ticket_no} 在该时间的回访已登记 / this call-back is already recorded",
            code="duplicate_call_back",
        )
    case = _case_carrying(session, ticket.case_id)
    reopens = call_back_counts_as_repeat(
        result=outcome, status=CaseStatus(case.status), closed_at=case.closed_at, called_back_at=at
    )
    call_back = HotlineCallBack(
        ticket_no=ticket_no,
        case_id=case.id,
        result=outcome.value,
        comment=text or None,
        called_back_at=at,
        recorded_by=actor.user_id,
        recorded_at=now,
        reopened=reopens,
    )
    hotline_data.add_call_back(session, call_back)
    about = {
        "call_back_id": call_back.id,
        "ticket_no": ticket_no,
        "result": outcome.value,
        "comment": text or None,
        "called_back_at": at.isoformat(),
    }
    record_event(
        session,
        case,
        kind=CALL_BACK_RECORDED,
        actor=actor,
        now=now,
        data={
            **about,
            # who answers for it: the lead, or the first contact while nobody leads
            "responsible_department": case.lead_department or case.first_contact_department,
            "reopened": reopens,
        },
    )
    if reopens:
        workflow_hooks.reopen_as_repeat(
            session, case, actor=actor, now=now, data={"call_back": about}
        )
    return call_back


def _call_back_row(
    session: Session, raw: RawRow, *, actor: Actor, now: datetime, out: CallBackImport
) -> None:
    values = raw.values
    ticket_no = text_of(values.get("ticket_no"))

    def problem(kind: str, reason: str) -> None:
        out.problems.append(RowProblem(raw.number, ticket_no or None, kind, reason))
        if kind == "duplicate":
            out.duplicates += 1
        else:
            out.errors += 1

    try:
        at = parse_received_at(
            values.get("called_back_at"), now, field="called_back_at", label="回访时间"
        )
    except ValueError as exc:
        problem("error", str(exc))
        return
    savepoint = session.begin_nested()
    try:
        call_back = record_call_back(
            session,
            actor=actor,
            ticket_no=ticket_no,
            result=text_of(values.get("result")),
            comment=text_of(values.get("comment")),
            called_back_at=at,
            now=now,
        )
        session.flush()
        savepoint.commit()
    except DomainError as error:
        savepoint.rollback()
        problem("duplicate" if error.code == "duplicate_call_back" else "error", error.reason)
        return
    out.recorded += 1
    out.reopened += call_back.reopened


def import_call_backs(
    session: Session, *, actor: Actor, data: bytes, now: datetime
) -> CallBackImport:
    """A call-back file: every good row recorded, every other row reported. Commits."""
    if not may_import(actor):
        raise NotPermitted(
            "只有督办人员或热线中心可以导入回访 / only supervisors and the hotline centre "
            "may import call-backs",
            code="role_not_allowed",
        )
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("file", f"文件超过 {MAX_FILE_BYTES // 2**20} MB / file too large")
    sheet = read_sheet(data, layout=CALL_BACKS, aliases=hotline_data.column_aliases(session))
    out = CallBackImport(total_rows=len(sheet.rows))
    for raw in sheet.rows:
        _call_back_row(session, raw, actor=actor, now=now, out=out)
    session.commit()
    return out
