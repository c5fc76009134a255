"""No case is stuck with nobody: a matter or place no list entry covers is still assigned — by
default to the town/street office of the place (属地管理), or to a department chosen with a
reason — and enters the register of unlisted matters that 编办 reads for the next list
version. Over REST and sync push alike, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from sync.protocol import PROTOCOL_HEADER
from tests.conftest import Server
from tests.server.test_sync_withdrawal import Phone

IN_NANWANG = {"lat": 35.650, "lon": 116.415}  # 南旺镇: 城区绿化管理 does not reach it


def record(server: Server, category: str, where: dict[str, float] | None) -> str:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "category": category,
        "description": "树木倒伏",
    }
    if where is not None:
        body["location"] = where
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    return str(body["id"])


def register(server: Server, user: str = "coordinator") -> list[dict[str, Any]]:
    r = server.get("/unlisted-matters", user)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_a_matter_no_entry_covers_goes_to_the_town_office_and_into_the_register(
    server: Server,
) -> None:
    case_id = record(server, "greening", IN_NANWANG)
    proposal = server.get(
        "/boundary/proposal", "inspector", category="greening", town_code="nanwang"
    ).json()
    assert proposal["unlisted"] is True and proposal["lead_department"] == "town:nanwang"

    r = server.post(f"/cases/{case_id}/assign", "inspector", {})
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["lead_department"] == "town:nanwang" and case["status"] == "assigned"
    assigned = next(e for e in case["events"] if e["kind"] == "CaseAssigned")
    assert assigned["data"]["unlisted"] is True
    [entry] = register(server)
    assert entry["case_id"] == case_id and entry["category"] == "greening"
    assert entry["town_code"] == "nanwang" and entry["lead_department"] == "town:nanwang"
    assert entry["override_reason"] is None and entry["list_version"] == 1
    assert entry["recorded_by"] == server.get("/auth/me", "inspector").json()["id"]


def test_a_matter_the_list_does_not_name_is_recorded_and_assigned_to_the_town_office(
    server: Server,
) -> None:
    case_id = record(server, "unlisted", IN_NANWANG)
    case = server.post(f"/cases/{case_id}/assign", "inspector", {}).json()
    assert case["lead_department"] == "town:nanwang"
    assert [e["case_id"] for e in register(server)] == [case_id]


def test_an_override_with_a_reason_assigns_an_unlisted_matter_to_another_department(
    server: Server,
) -> None:
    case_id = record(server, "greening", IN_NANWANG)
    refused = server.post(f"/cases/{case_id}/assign", "inspector", {"lead_department": "zj"})
    assert refused.status_code == 422
    assert refused.json()["detail"]["field"] == "override_reason"
    assert register(server) == []  # nothing recorded by the refusal

    body = {"lead_department": "zj", "override_reason": "镇区主干道行道树，由住建局园林所养护"}
    r = server.post(f"/cases/{case_id}/assign", "inspector", body)
    assert r.status_code == 200, r.text
    assert r.json()["lead_department"] == "zj"
    [entry] = register(server)
    assert entry["lead_department"] == "zj"
    assert entry["override_reason"] == body["override_reason"]


def test_with_no_place_known_the_lead_must_be_named_with_a_reason(server: Server) -> None:
    case_id = record(server, "unlisted", None)
    r = server.post(f"/cases/{case_id}/assign", "inspector", {})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "lead_department"
    body = {"lead_department": "zhzf", "override_reason": "热线反映，位置待核实"}
    r = server.post(f"/cases/{case_id}/assign", "inspector", body)
    assert r.status_code == 200, r.text
    assert register(server)[0]["town_code"] is None


def test_only_the_establishment_office_and_administrators_read_the_register(
    server: Server,
) -> None:
    for user in ("inspector", "zhzf_handler", "supervisor"):
        assert server.get("/unlisted-matters", user).status_code == 403
    assert server.get("/unlisted-matters", "admin").status_code == 200


def test_a_listed_matter_does_not_enter_the_register(server: Server) -> None:
    case_id = record(server, "parking", IN_NANWANG)
    assert server.post(f"/cases/{case_id}/assign", "inspector", {}).status_code == 200
    assert register(server) == []


def push(server: Server, phone: Phone, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = server.client.post(
        "/sync/push", json={"protocol": 1, "commands": commands}, headers=phone.headers
    )
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_an_unlisted_matter_assigned_offline_is_applied_on_sync_push(server: Server) -> None:
    phone = Phone(server, "inspector")
    assert phone.headers[PROTOCOL_HEADER] == "1"
    at = server.clock.now.isoformat()
    default_id, override_id = str(uuid.uuid4()), str(uuid.uuid4())
    commands: list[dict[str, Any]] = []
    for case_id in (default_id, override_id):
        commands.append(
            {
                "id": len(commands) + 1,
                "type": "CreateCase",
                "created_at": at,
                "payload": {
                    "case_id": case_id,
                    "category": "greening",
                    "description": "树木倒伏",
                    "location": IN_NANWANG,
                },
            }
        )
    commands.append(
        {
            "id": 3,
            "type": "TransitionCase",
            "created_at": at,
            "payload": {"case_id": default_id, "action": "assign"},
        }
    )
    commands.append(
        {
            "id": 4,
            "type": "TransitionCase",
            "created_at": at,
            "payload": {
                "case_id": override_id,
                "action": "assign",
                "lead_department": "zj",
                "assisting": [],
                "override_reason": "镇区主干道行道树，由住建局园林所养护",
            },
        }
    )
    results = push(server, phone, commands)
    assert [r["status"] for r in results] == ["applied"] * 4, results
    by_case = {e["case_id"]: e for e in register(server)}
    assert by_case[default_id]["lead_department"] == "town:nanwang"
    assert by_case[override_id]["lead_department"] == "zj"
    assert by_case[override_id]["override_reason"] == "镇区主干道行道树，由住建局园林所养护"
    case = server.get(f"/cases/{override_id}", "zj_handler").json()
    assert case["lead_department"] == "zj" and case["status"] == "assigned"
