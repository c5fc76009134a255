"""Request and response bodies of the HTTP API, with examples for the OpenAPI page.

The request bodies build on the messages of ``sync/commands.py`` (one set of limits with the
sync push); the answers a phone decodes are ``sync/bodies.py``'s."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sync.bodies import CaseEventOut, CaseOut, LoginOut, UserOut
from sync.commands import (
    ActionFields,
    AssignFields,
    AssistingDutyMsg,
    DisputeFields,
    GeoPoint,
    MergeFields,
    NewCaseFields,
    NoteFields,
)
from sync.limits import MAX_ASSISTING, CaseId, Code, Duty, LegalBasis


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"username": "inspector", "password": "yixian-demo"}}
    )
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


PointIn = GeoPoint  # one point type, with one set of ranges (sync/limits.py)


class DepartmentOut(BaseModel):
    code: str
    name: str
    short_name: str
    kind: str


class IntakeChannelOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    position: int


class TownOut(BaseModel):
    code: str
    name: str
    kind: str
    urban: bool
    polygon: list[list[float]]


class SiteOut(BaseModel):
    code: str
    name: str
    kind: str
    category: str | None
    town_code: str
    lat: float
    lon: float
    radius_m: float


AssistingDutyIO = AssistingDutyMsg


class BoundaryEntryIO(BaseModel):
    matter: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=60)
    lead_department_code: str
    lead_duty: Duty
    assisting: list[AssistingDutyIO] = Field(default_factory=list, max_length=MAX_ASSISTING)
    legal_basis: LegalBasis
    area_kind: str = Field(examples=["county", "urban", "towns"])
    area_towns: list[str] = []
    time_amount: int = Field(gt=0, le=10000)
    time_unit: str = Field(examples=["working_days", "working_hours"])
    source: str = Field(max_length=200)


class BoundaryVersionOut(BaseModel):
    number: int
    effective_from: datetime
    reason: str
    backdate_reason: str | None = None  # why it takes effect before it was published
    published_by: str | None = None
    published_at: datetime | None = None
    entries: list[BoundaryEntryIO] | None = None


class PublishVersionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "effective_from": "2026-12-01T00:00:00+08:00",
                "reason": "裁决 R-2026-001：小区内积水点由住建局主办",
                "entries": [
                    {
                        "matter": "城区积水点治理",
                        "category": "waterlogging",
                        "lead_department_code": "zhzf",
                        "lead_duty": "牵头组织积水点排查和现场处置",
                        "assisting": [
                            {"department_code": "sw", "duty": "负责排水管网疏通"},
                            {"department_code": "town:*", "duty": "负责属地巡查和上报"},
                        ],
                        "legal_basis": "《城镇排水与污水处理条例》",
                        "area_kind": "urban",
                        "area_towns": [],
                        "time_amount": 24,
                        "time_unit": "working_hours",
                        "source": "裁决 R-2026-001",
                    }
                ],
            }
        }
    )
    effective_from: datetime
    reason: str = Field(min_length=1, max_length=500)
    # required when effective_from is before the publication (sync/clock_rules.py)
    backdate_reason: str = Field(default="", max_length=500)
    entries: list[BoundaryEntryIO]


class CaseCreateIn(NewCaseFields):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11",
                "category": "waterlogging",
                "description": "雨后路口积水约30厘米，行人无法通行",
                "source": "inspection",
                "location": {"lat": 35.7312, "lon": 116.4887},
            }
        }
    )
    id: CaseId
    # the other fields, and their limits, are the CreateCase command's (sync/commands.py)


class ActionIn(ActionFields):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "reason": "",
                "note": "已安排人员现场处置",
                "where": {"lat": 35.7312, "lon": 116.4887},
                "photos": [],
            }
        }
    )


class AssignIn(AssignFields):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "note": "按清单交办",
                "lead_department": None,
                "assisting": None,
                "override_reason": "",
            }
        }
    )


class MergeIn(MergeFields):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "duplicate_of": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11",
                "reason": "同一积水点重复上报",
            }
        }
    )


class DisputeActionIn(DisputeFields):
    """异议: one body for both dispute endpoints (``/cases/{id}/raise-dispute`` and
    ``/workflow/cases/{id}/disputes``), so the same request gets the same answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "reason": "涵洞排水设施属水务局管养，非本局职责",
                "legal_basis": "《城镇排水与污水处理条例》第二十条；县水务局“三定”规定",
                "claimed_responsible": "sw",
                "note": "",
                "photos": [],
            }
        }
    )
    claimed_responsible: Code | None = None


class NoteIn(NoteFields):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "note": "已调派抽水车，预计两小时排完",
                "photos": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
                "where": {"lat": 35.7312, "lon": 116.4887},
            }
        }
    )


class CallBackOut(BaseModel):
    """A 12345 call-back (回访) result counted on the case."""

    ticket_no: str
    result: str  # satisfied | basically_satisfied | not_satisfied
    comment: str | None
    called_back_at: datetime
    reopened: bool  # it counted like a repeat report and reopened the closed case


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    allowed_actions: list[str]
    call_backs: list[CallBackOut] = Field(default_factory=list)


class CasePageOut(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


class ProposalOut(BaseModel):
    matter: str
    lead_department: str
    lead_duty: str
    assisting: list[AssistingDutyIO]
    legal_basis: str
    list_version: int
    time_amount: int
    time_unit: str
    due_at: datetime
    deadline_note: str | None
    town_code: str | None
    site_code: str | None
    # No list entry covers it: the town/street office of the place is proposed (属地管理), or
    # nobody (lead_department "") when no town/street is known; assigning it enters the register.
    unlisted: bool = False


__all__ = [
    "CaseEventOut",
    "CaseOut",
    "LoginOut",
    "UserOut",
]
