"""Importing a 12345 hotline export: every good row becomes a ticket, kept once per number.

A ticket joins an open case of the same category within ``LINK_RADIUS_M`` metres (the nearest;
cases created earlier in the same file count), or becomes a new first-contact case owned by the
hotline centre (``HOTLINE_DEPARTMENT``), source "hotline", its id derived from the ticket
number. The ticket records the department the boundary list names as lead for its matter and
place. Rows that cannot be imported, and rows whose ticket number is already in the file or in
the database, are listed in the import with their row number and reason. The caller commits.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime

from sqlmodel import Session

from server.data import hotline as hotline_data
from server.evaluation.grid import GridIndex
from server.hotline.reader import read_sheet
from server.hotline.tickets import RowProblem, TicketDraft, parse_rows
from server.models.evaluation import HotlineImport, HotlineTicket
from server.services import cases as case_service
from server.services.boundary_cache import ReferenceSnapshot
from sync.boundary import resolve
from sync.boundary_types import Point
from sync.errors import DomainError, InvalidInput, NotPermitted
from sync.lifecycle import Actor
from sync.vocabulary import Role

HOTLINE_DEPARTMENT = "rx"  # 政务热线服务中心
LINK_RADIUS_M = 50.0
MAX_FILE_BYTES = 50 * 1024 * 1024
_FLUSH_EVERY = 500
_TICKET_NAMESPACE = uuid.UUID("6b1f3c1e-12a4-5e45-9a1b-12345aa12345")


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


def _lead_for(draft: TicketDraft, ref: ReferenceSnapshot) -> str | None:
    try:
        return resolve(
            versions=ref.versions,
            towns=ref.towns,
            sites=ref.sites,
            category=draft.category,
            at=draft.received_at,
            point=draft.point,
            town_code=draft.town_code,
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


def import_file(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    data: bytes,
    ref: ReferenceSnapshot,
    now: datetime,
) -> HotlineImport:
    if not may_import(actor):
        raise NotPermitted(
            "只有督办人员或热线中心可以导入工单 / only supervisors and the hotline centre "
            "may import hotline tickets",
            code="role_not_allowed",
        )
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("file", f"文件超过 {MAX_FILE_BYTES // 2**20} MB / file too large")
    sheet = read_sheet(data)
    drafts, problems = parse_rows(
        sheet.rows, categories=categories_of(ref), towns=ref.towns, now=now
    )
    stored = hotline_data.existing_ticket_imports(session, [d.ticket_no for d in drafts])
    fresh: list[TicketDraft] = []
    for d in drafts:
        if d.ticket_no in stored:
            problems.append(
                RowProblem(
                    d.row,
                    d.ticket_no,
                    "duplicate",
                    f"工单已导入（导入批次 {stored[d.ticket_no]}）/ already imported "
                    f"(import {stored[d.ticket_no]})",
                )
            )
        else:
            fresh.append(d)

    grids: dict[str, GridIndex[str]] = defaultdict(lambda: GridIndex(LINK_RADIUS_M))
    for cid, category, lat, lon, _lead in hotline_data.open_cases_with_place(
        session, {d.category for d in fresh}
    ):
        grids[category].add(Point(lat, lon), cid)

    run = HotlineImport(
        id=str(uuid.uuid4()),
        filename=filename[:200] or "upload",
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=sheet.encoding,
        imported_by=actor.user_id,
        imported_at=now,
        total_rows=len(sheet.rows),
    )
    hotline_data.add_import(session, run)
    session.flush()
    tickets: list[HotlineTicket] = []
    with session.no_autoflush:
        for n, d in enumerate(fresh, start=1):
            if n % _FLUSH_EVERY == 0:
                session.flush()  # a small unit of work per flush keeps big imports linear
            case_id: str | None = None
            if d.point is not None:
                near = grids[d.category].near(d.point, LINK_RADIUS_M)
                case_id = near[0][0] if near else None
            outcome = "linked" if case_id is not None else "created"
            if case_id is None:
                case = case_service.create_case(
                    session,
                    actor=actor,
                    ref=ref,
                    now=now,
                    new=case_service.NewCase(
                        id=case_id_for_ticket(d.ticket_no),
                        category=d.category,
                        description=_description(d),
                        source="hotline",
                        point=d.point,
                        town_code=d.town_code,
                        first_contact_department=HOTLINE_DEPARTMENT,
                        recorded_at=d.received_at,
                    ),
                )
                case_id = case.id
                if d.point is not None:
                    grids[d.category].add(d.point, case_id)
            tickets.append(
                HotlineTicket(
                    ticket_no=d.ticket_no,
                    import_id=run.id,
                    row_number=d.row,
                    received_at=d.received_at,
                    area=d.area,
                    address=d.address,
                    lat=d.point.lat if d.point else None,
                    lon=d.point.lon if d.point else None,
                    town_code=d.town_code,
                    category=d.category,
                    matter=d.matter,
                    content=d.content,
                    department=_lead_for(d, ref),
                    case_id=case_id,
                    outcome=outcome,
                )
            )
    session.flush()  # cases first: tickets point at them
    hotline_data.add_tickets(session, tickets)
    problems.sort(key=lambda p: p.row)
    run.created_cases = sum(1 for t in tickets if t.outcome == "created")
    run.linked = sum(1 for t in tickets if t.outcome == "linked")
    run.duplicates = sum(1 for p in problems if p.kind == "duplicate")
    run.errors = sum(1 for p in problems if p.kind == "error")
    run.problems = [asdict(p) for p in problems]
    session.add(run)
    session.flush()
    return run
