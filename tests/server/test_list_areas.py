"""The list's areas are the source's (认定意见): each corrected entry of list version 1 assigns
a case where the source says it applies, through the API, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Server

IN_NANWANG = {"lat": 35.650, "lon": 116.415}  # 南旺镇, a town outside the urban area
IN_NANZHAN = {"lat": 35.650, "lon": 116.520}  # 南站镇


def record_and_assign(server: Server, category: str, where: dict[str, float]) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "category": category,
        "description": "巡查发现的问题",
        "location": where,
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    r = server.post(f"/cases/{body['id']}/assign", "inspector", {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_parking_lot_in_nanwang_is_assigned_to_the_enforcement_bureau(server: Server) -> None:
    case = record_and_assign(server, "parking", IN_NANWANG)
    assert case["lead_department"] == "zhzf"
    assert case["town_code"] == "nanwang"
    assert "town:nanwang" in [a["department_code"] for a in case["assisting"]]


def test_a_drainage_network_in_a_town_is_assigned_to_the_water_bureau(server: Server) -> None:
    case = record_and_assign(server, "drainage", IN_NANZHAN)
    assert case["lead_department"] == "sw"
    assert case["town_code"] == "nanzhan"


def test_the_proposal_for_parking_in_a_town_names_the_enforcement_bureau(server: Server) -> None:
    r = server.get("/boundary/proposal", "inspector", category="parking", town_code="nanwang")
    assert r.status_code == 200, r.text
    assert r.json()["lead_department"] == "zhzf"


def test_urban_greening_is_the_housing_bureaus_in_the_urban_area_only(server: Server) -> None:
    urban = record_and_assign(server, "greening", {"lat": 35.740, "lon": 116.475})  # 汶上街道
    assert urban["lead_department"] == "zj"
    town = record_and_assign(server, "greening", IN_NANWANG)  # not on the list here: 属地管理
    assert town["lead_department"] == "town:nanwang"
