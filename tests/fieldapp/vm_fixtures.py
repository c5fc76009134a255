"""Shared fakes for the view-model tests: a small reference list and case snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sync.reference_codec import Reference, decode_reference, encode_calendar
from tests.support.work_calendar import SEEDED

POINT = (35.7350, 116.4830)  # a registered waterlogging point in the urban street office

REFERENCE_JSON: dict[str, Any] = {
    "departments": [
        {"code": "zhzf", "name": "综合行政执法局", "short_name": "综合执法局", "kind": "bureau"},
        {"code": "sw", "name": "水务局", "short_name": "水务局", "kind": "bureau"},
        {"code": "shzl", "name": "社会治理中心", "short_name": "社会治理中心", "kind": "office"},
        {"code": "zfb", "name": "政府办", "short_name": "政府办", "kind": "office"},
    ],
    "towns": [
        {
            "code": "wenshang",
            "name": "汶上街道",
            "kind": "street",
            "urban": True,
            "polygon": [
                [35.70, 116.45],
                [35.70, 116.50],
                [35.76, 116.50],
                [35.76, 116.45],
                [35.70, 116.45],
            ],
        }
    ],
    "sites": [
        {
            "code": "W01",
            "name": "老城区胡同积水点",
            "kind": "waterlogging_point",
            "category": "waterlogging",
            "town_code": "wenshang",
            "lat": POINT[0],
            "lon": POINT[1],
            "radius_m": 60.0,
        }
    ],
    "boundary_versions": [
        {
            "number": 1,
            "effective_from": "2026-08-14T16:00:00Z",
            "reason": "认定意见",
            "entries": [
                {
                    "category": "waterlogging",
                    "matter": "城区积水点治理",
                    "lead_department_code": "zhzf",
                    "lead_duty": "牵头处置",
                    "assisting": [
                        {"department_code": "sw", "duty": "泵站强排"},
                        {"department_code": "town:*", "duty": "群众疏导"},
                    ],
                    "legal_basis": "《城镇排水与污水处理条例》",
                    "area_kind": "urban",
                    "area_towns": [],
                    "time_amount": 24,
                    "time_unit": "working_hours",
                    "source": "第二批",
                }
            ],
        }
    ],
}


REFERENCE_JSON["work_calendar"] = encode_calendar(SEEDED)  # as the server seeds it: to 2026


def reference() -> Reference:
    return decode_reference(REFERENCE_JSON)


NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in China


def snapshot(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "case-1",
        "number": "YX261104-CASE01",
        "status": "discovered",
        "category": "waterlogging",
        "description": "积水",
        "lat": POINT[0],
        "lon": POINT[1],
        "first_contact_department": "shzl",
        "reporter_user_id": "u-inspector",
        "lead_department": None,
        "assisting": [],
        "handler_user_ids": [],
        "suspended": False,
        "disputed": False,
        "due_at": None,
        "events": [],
    }
    base.update(fields)
    return base


def case_out_json(**fields: Any) -> dict[str, Any]:
    """A case as the server answers it (``sync.bodies.CaseOut``, every field), with ``fields``."""
    body: dict[str, Any] = {
        "id": "c1",
        "number": "YX261103-ABC",
        "status": "accepted",
        "category": "waterlogging",
        "matter": "城区积水点治理",
        "description": "胡同口积水",
        "source": "inspection",
        "lat": POINT[0],
        "lon": POINT[1],
        "town_code": "wenshang",
        "site_code": None,
        "first_contact_department": "shzl",
        "owner_department": "zhzf",
        "reporter_user_id": "u-in",
        "lead_department": "zhzf",
        "assisting": [],
        "legal_basis": "《城镇排水与污水处理条例》",
        "list_version": 1,
        "time_amount": 24,
        "time_unit": "working_hours",
        "assigned_at": "2026-11-03T02:00:00Z",
        "due_at": "2026-11-04T02:00:00Z",
        "overdue": False,
        "suspended": False,
        "disputed": False,
        "rework_count": 0,
        "return_count": 0,
        "duplicate_of": None,
        "closed_at": None,
        "created_at": "2026-11-03T01:00:00Z",
        "updated_at": "2026-11-03T02:00:00Z",
        "version": 1,
    }
    return {**body, **fields}
