"""Disputes (异议) over HTTP: typed calls for the online-only dispute screen.

Every call is blocking (run it with ``asyncio.to_thread``) and raises the ``ApiClient`` errors:
``ServerUnreachable`` (需要网络), ``Rejected`` (a rule said no: show its reason), ``ServerFault``.
An answer that lacks an agreed field is a ``ServerFault`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.json_api import JsonApi, read_body
from sync.bodies import CaseWorkOut, DisputeOut, MinuteOut


@dataclass(frozen=True)
class Position:
    """An involved department's position: ``not_ours`` (不属于本部门) or it accepts (认可)."""

    department: str
    not_ours: bool
    reason: str
    legal_basis: str


@dataclass(frozen=True)
class Suspension:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class Dispute:
    id: str
    case_id: str
    raised_by_department: str
    reason: str
    legal_basis: str
    claimed_responsible: str | None
    involved: tuple[str, ...]
    positions: tuple[Position, ...]
    stage: str  # consultation | coordination | ruling
    status: str  # open | settled
    needs_county_leader: bool
    stage_due_at: datetime
    suspended: bool
    suspensions: tuple[Suspension, ...]
    raised_at: datetime
    settled_at: datetime | None
    responsible_department: str | None
    lost_by: tuple[str, ...]
    new_list_version: int | None
    minute_id: str | None
    ruling_text: str | None


@dataclass(frozen=True)
class Minute:
    id: str
    kind: str
    title: str
    created_at: datetime
    download: str  # path on the server: /minutes/{id}/file (.docx)


@dataclass(frozen=True)
class CaseWork:
    """The case as the server has it now, with its disputes and minutes."""

    case_id: str
    number: str
    status: str
    category: str
    lead_department: str | None
    assisting: tuple[tuple[str, str], ...]  # (department, duty)
    due_at: datetime | None
    time_amount: int | None
    time_unit: str | None
    disputes: tuple[Dispute, ...]
    minutes: tuple[Minute, ...]


@dataclass(frozen=True)
class Ruling:
    """What the settle call sends (认定). ``new_entry``: a boundary-list entry to publish."""

    responsible_department: str
    facts: str
    ruling_text: str
    legal_basis: str
    assisting: tuple[tuple[str, str], ...]  # (department, duty)
    new_entry: Mapping[str, Any] | None = None


# --- decoding: through the server's own answer models (sync/bodies.py) -----------------------


def _dispute(d: DisputeOut) -> Dispute:
    return Dispute(
        id=d.id,
        case_id=d.case_id,
        raised_by_department=d.raised_by_department,
        reason=d.reason,
        legal_basis=d.legal_basis,
        claimed_responsible=d.claimed_responsible,
        involved=tuple(d.involved),
        positions=tuple(
            Position(dept, p.not_ours, p.reason, p.legal_basis) for dept, p in d.positions.items()
        ),
        stage=d.stage,
        status=d.status,
        needs_county_leader=d.needs_county_leader,
        stage_due_at=d.stage_due_at,
        suspended=d.suspended,
        suspensions=tuple(Suspension(s.start, s.end, s.reason) for s in d.suspensions),
        raised_at=d.raised_at,
        settled_at=d.settled_at,
        responsible_department=d.responsible_department,
        lost_by=tuple(d.lost_by),
        new_list_version=d.new_list_version,
        minute_id=d.minute_id,
        ruling_text=d.ruling_text,
    )


def _minute(m: MinuteOut) -> Minute:
    return Minute(id=m.id, kind=m.kind, title=m.title, created_at=m.created_at, download=m.download)


def decode_dispute(raw: Mapping[str, Any]) -> Dispute:
    return _dispute(read_body("dispute", DisputeOut, raw))


def decode_minute(raw: Mapping[str, Any]) -> Minute:
    return _minute(read_body("minute", MinuteOut, raw))


def decode_case_work(raw: Mapping[str, Any]) -> CaseWork:
    work = read_body("case workflow", CaseWorkOut, raw)
    case = work.case
    return CaseWork(
        case_id=case.id,
        number=case.number,
        status=case.status,
        category=case.category,
        lead_department=case.lead_department,
        assisting=tuple((a.department_code, a.duty) for a in case.assisting),
        due_at=case.due_at,
        time_amount=case.time_amount,
        time_unit=case.time_unit,
        disputes=tuple(_dispute(d) for d in work.disputes),
        minutes=tuple(_minute(m) for m in work.minutes),
    )


# --- calls -------------------------------------------------------------------------------------


class DisputeApi:
    """The dispute path of one signed-in user (``api``: an ``ApiClient`` with its token)."""

    def __init__(self, api: JsonApi) -> None:
        self.api = api

    def case_work(self, case_id: str) -> CaseWork:
        return decode_case_work(self.api.get_json(f"/workflow/cases/{case_id}"))

    def state_position(
        self, dispute_id: str, *, not_ours: bool, reason: str, legal_basis: str
    ) -> Dispute:
        body = {"not_ours": not_ours, "reason": reason.strip(), "legal_basis": legal_basis.strip()}
        return decode_dispute(self.api.post_json(f"/disputes/{dispute_id}/positions", body))

    def call_consultation(self, case_id: str, departments: Sequence[str], note: str) -> CaseWork:
        body = {"departments": list(departments), "note": note.strip()}
        return decode_case_work(
            self.api.post_json(f"/workflow/cases/{case_id}/consultations", body)
        )

    def escalate(self, dispute_id: str, reason: str) -> Dispute:
        body = {"reason": reason.strip()}
        return decode_dispute(self.api.post_json(f"/disputes/{dispute_id}/escalate", body))

    def suspend(self, dispute_id: str, reason: str) -> Dispute:
        body = {"reason": reason.strip()}
        return decode_dispute(self.api.post_json(f"/disputes/{dispute_id}/suspend", body))

    def resume(self, dispute_id: str) -> Dispute:
        return decode_dispute(self.api.post_json(f"/disputes/{dispute_id}/resume", {}))

    def settle(self, dispute_id: str, ruling: Ruling) -> Dispute:
        body: dict[str, Any] = {
            "responsible_department": ruling.responsible_department,
            "facts": ruling.facts.strip(),
            "ruling_text": ruling.ruling_text.strip(),
            "legal_basis": ruling.legal_basis.strip(),
            "assisting": [{"department_code": d, "duty": duty} for d, duty in ruling.assisting],
        }
        if ruling.new_entry is not None:
            body["new_entry"] = dict(ruling.new_entry)
        return decode_dispute(self.api.post_json(f"/disputes/{dispute_id}/settle", body))

    def minute(self, minute_id: str) -> Minute:
        return decode_minute(self.api.get_json(f"/minutes/{minute_id}"))
