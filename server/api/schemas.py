"""Request and response bodies of the HTTP API, with examples for the OpenAPI page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"username": "inspector", "password": "yixian-demo"}}
    )
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    department_code: str


class LoginOut(BaseModel):
    token: str
    user: UserOut


class PointIn(BaseModel):
    lat: float = Field(ge=-90, le=90, examples=[35.7312])
    lon: float = Field(ge=-180, le=180, examples=[116.4887])


class DepartmentOut(BaseModel):
    code: str
    name: str
    short_name: str
    kind: str


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


class AssistingDutyIO(BaseModel):
    department_code: str = Field(min_length=1, max_length=40)
    duty: str = Field(max_length=500)


class BoundaryEntryIO(BaseModel):
    matter: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=60)
    lead_department_code: str
    lead_duty: str = Field(max_length=500)
    assisting: list[AssistingDutyIO] = []
    legal_basis: str = Field(max_length=1000)
    area_kind: str = Field(examples=["county", "urban", "towns"])
    area_towns: list[str] = []
    time_amount: int = Field(gt=0, le=10000)
    time_unit: str = Field(examples=["working_days", "working_hours"])
    source: str = Field(max_length=200)


class BoundaryVersionOut(BaseModel):
    number: int
    effective_from: datetime
    reason: str
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
    entries: list[BoundaryEntryIO]


class CaseCreateIn(BaseModel):
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
    id: str = Field(min_length=36, max_length=36, description="UUID, may be generated offline")
    category: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=4000)
    source: str = "inspection"
    location: PointIn | None = None
    town_code: str | None = None
    site_code: str | None = None
    first_contact_department: str | None = None
    recorded_at: datetime | None = None


class ActionIn(BaseModel):
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
    reason: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=4000)
    where: PointIn | None = None
    photos: list[str] = Field(default_factory=list, max_length=50)


class AssignIn(ActionIn):
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
    lead_department: str | None = None
    assisting: list[AssistingDutyIO] | None = None
    override_reason: str = Field(default="", max_length=2000)


class MergeIn(ActionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "duplicate_of": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11",
                "reason": "同一积水点重复上报",
            }
        }
    )
    duplicate_of: str = Field(min_length=1, max_length=36)


class DisputeActionIn(ActionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "reason": "涵洞排水设施属水务局管养，非本局职责",
                "legal_basis": "《城镇排水与污水处理条例》第二十条；县水务局“三定”规定",
                "note": "",
                "photos": [],
            }
        }
    )
    legal_basis: str = Field(default="", max_length=1000)  # required: refused when blank


class NoteIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "note": "已调派抽水车，预计两小时排完",
                "photos": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
                "where": {"lat": 35.7312, "lon": 116.4887},
            }
        }
    )
    note: str = Field(default="", max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=50)
    where: PointIn | None = None


class CaseEventOut(BaseModel):
    seq: int
    kind: str
    actor_user_id: str
    actor_department: str
    at: datetime
    lat: float | None
    lon: float | None
    list_version: int | None
    status_after: str
    data: dict[str, Any]


class CaseOut(BaseModel):
    id: str
    number: str
    status: str
    category: str
    matter: str | None
    description: str
    source: str
    lat: float | None
    lon: float | None
    town_code: str | None
    site_code: str | None
    first_contact_department: str
    owner_department: str
    reporter_user_id: str
    lead_department: str | None
    assisting: list[dict[str, Any]]
    legal_basis: str | None
    list_version: int | None
    time_amount: int | None
    time_unit: str | None
    assigned_at: datetime | None
    due_at: datetime | None
    # Set when the deadline counts weekends only: a year's holiday calendar was not entered.
    deadline_note: str | None = None
    overdue: bool
    suspended: bool
    disputed: bool
    rework_count: int
    return_count: int
    duplicate_of: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    allowed_actions: list[str]


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
