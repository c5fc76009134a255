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

from fieldapp.json_api import JsonApi, decoded, maybe_moment, moment


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


# --- decoding ----------------------------------------------------------------------------------


def decode_dispute(raw: Mapping[str, Any]) -> Dispute:
    def build() -> Dispute:
        positions = raw["positions"] or {}
        return Dispute(
            id=str(raw["id"]),
            case_id=str(raw["case_id"]),
            raised_by_department=str(raw["raised_by_department"]),
            reason=str(raw.get("reason") or ""),
            legal_basis=str(raw.get("legal_basis") or ""),
            claimed_responsible=raw.get("claimed_responsible"),
            involved=tuple(str(d) for d in raw["involved"]),
            positions=tuple(
                Position(
                    department=str(dept),
                    not_ours=bool(p.get("not_ours")),
                    reason=str(p.get("reason") or ""),
                    legal_basis=str(p.get("legal_basis") or ""),
                )
                for dept, p in positions.items()
            ),
            stage=str(raw["stage"]),
            status=str(raw["status"]),
            needs_county_leader=bool(raw.get("needs_county_leader")),
            stage_due_at=moment(raw["stage_due_at"]),
            suspended=bool(raw.get("suspended")),
            suspensions=tuple(
                Suspension(moment(s["start"]), maybe_moment(s.get("end")), str(s["reason"]))
                for s in raw.get("suspensions") or ()
            ),
            raised_at=moment(raw["raised_at"]),
            settled_at=maybe_moment(raw.get("settled_at")),
            responsible_department=raw.get("responsible_department"),
            lost_by=tuple(str(d) for d in raw.get("lost_by") or ()),
            new_list_version=raw.get("new_list_version"),
            minute_id=raw.get("minute_id"),
            ruling_text=raw.get("ruling_text"),
        )

    return decoded("dispute", build)


def decode_minute(raw: Mapping[str, Any]) -> Minute:
    return decoded(
        "minute",
        lambda: Minute(
            id=str(raw["id"]),
            kind=str(raw["kind"]),
            title=str(raw["title"]),
            created_at=moment(raw["created_at"]),
            download=str(raw["download"]),
        ),
    )


def decode_case_work(raw: Mapping[str, Any]) -> CaseWork:
    def build() -> CaseWork:
        case = raw["case"]
        return CaseWork(
            case_id=str(case["id"]),
            number=str(case["number"]),
            status=str(case["status"]),
            category=str(case["category"]),
            lead_department=case.get("lead_department"),
            assisting=tuple(
                (str(a["department_code"]), str(a.get("duty") or ""))
                for a in case.get("assisting") or ()
            ),
            due_at=maybe_moment(case.get("due_at")),
            time_amount=case.get("time_amount"),
            time_unit=case.get("time_unit"),
            disputes=tuple(decode_dispute(d) for d in raw["disputes"]),
            minutes=tuple(decode_minute(m) for m in raw.get("minutes") or ()),
        )

    return decoded("case workflow", build)


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
