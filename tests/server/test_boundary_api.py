"""The boundary list over HTTP, on both databases: publishing a new version with a reason, which
cases it applies to, refusals that name the field, and the proposal for a place."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta
from typing import Any

from server.demo_data import SITES
from sync.clock import CHINA_TZ
from tests.conftest import Server

P02 = next(s for s in SITES if s.code == "P02")  # public parking lot, 汶上街道 (urban)
V2_FROM = datetime(2026, 11, 3, 0, 0, tzinfo=CHINA_TZ)  # the day after T0
V2_REASON = "裁决 R-2026-007：住宅小区周边停车场由住建局主办"


def v1_entries(server: Server) -> list[dict[str, Any]]:
    r = server.get("/boundary/versions/1", "admin")
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


def parking_led_by_housing(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Version 1 with parking moved from 综合执法局 (zhzf) to 住建局 (zj), zhzf now assisting."""
    out = copy.deepcopy(entries)
    parking = next(e for e in out if e["category"] == "parking")
    parking["lead_department_code"] = "zj"
    parking["assisting"] = [a for a in parking["assisting"] if a["department_code"] != "zj"]
    parking["assisting"].append({"department_code": "zhzf", "duty": "负责查处违法停车经营行为"})
    parking["source"] = "裁决 R-2026-007"
    return out


def publish(server: Server, user: str, **overrides: Any) -> Any:
    body = {
        "effective_from": V2_FROM.isoformat(),
        "reason": V2_REASON,
        "entries": parking_led_by_housing(v1_entries(server)),
        **overrides,
    }
    return server.post("/boundary/versions", user, body)


def record(server: Server, **extra: Any) -> str:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "小区门口停车场车辆乱停",
        "location": {"lat": P02.location.lat, "lon": P02.location.lon},
        **extra,
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def assign(server: Server, case_id: str) -> dict[str, Any]:
    r = server.post(f"/cases/{case_id}/assign", "inspector", {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def version_numbers(server: Server) -> list[int]:
    return [v["number"] for v in server.get("/boundary/versions", "inspector").json()]


def test_an_administrator_publishes_a_new_version_with_its_reason(server: Server) -> None:
    r = publish(server, "admin")
    assert r.status_code == 201, r.text
    published = r.json()
    assert published["number"] == 2
    assert published["reason"] == V2_REASON
    assert datetime.fromisoformat(published["effective_from"]) == V2_FROM
    # the placeholder "the town office where the case is" survives a round trip
    parking = next(e for e in published["entries"] if e["category"] == "parking")
    assert "town:*" in [a["department_code"] for a in parking["assisting"]]

    versions = server.get("/boundary/versions", "zhzf_handler").json()
    assert [(v["number"], v["reason"]) for v in versions][-1] == (2, V2_REASON)
    assert versions[-1]["published_by"] == server.get("/auth/me", "admin").json()["id"]
    entries = server.get("/boundary/versions/2", "zhzf_handler").json()["entries"]
    assert next(e for e in entries if e["category"] == "parking")["lead_department_code"] == "zj"
    # version 1 is kept as it was
    v1 = server.get("/boundary/versions/1", "zhzf_handler").json()["entries"]
    assert next(e for e in v1 if e["category"] == "parking")["lead_department_code"] == "zhzf"
    assert server.get("/boundary/versions/3", "admin").status_code == 404


def test_a_new_version_applies_to_cases_recorded_from_its_effective_date_only(
    server: Server,
) -> None:
    before = record(server)  # recorded Mon 2 Nov 09:00, under version 1
    server.clock.now = V2_FROM - timedelta(hours=1)  # Mon 23:00 (a recorded time is never ahead)
    recorded_offline = record(server, recorded_at=(V2_FROM - timedelta(hours=2)).isoformat())
    assert publish(server, "admin").status_code == 201

    server.clock.now = V2_FROM + timedelta(hours=9)  # Tue 3 Nov 09:00: version 2 in force
    after = record(server)
    uploaded_late = record(server, recorded_at=(V2_FROM - timedelta(minutes=1)).isoformat())

    old = assign(server, before)  # assigned today, but recorded under version 1: keeps it
    assert (old["list_version"], old["lead_department"]) == (1, "zhzf")
    new = assign(server, after)
    assert (new["list_version"], new["lead_department"]) == (2, "zj")
    assert "zhzf" in [a["department_code"] for a in new["assisting"]]
    assert "town:wenshang" in [a["department_code"] for a in new["assisting"]]
    for case_id in (recorded_offline, uploaded_late):  # recorded on a device before the date
        kept = assign(server, case_id)
        assert (kept["list_version"], kept["lead_department"]) == (1, "zhzf")
    # the version is written on the assignment event too, and the new lead sees its case
    assert next(e for e in new["events"] if e["kind"] == "CaseAssigned")["list_version"] == 2
    assert server.get(f"/cases/{after}", "zj_handler").status_code == 200
    assert server.post(f"/cases/{after}/accept", "zj_handler", {}).status_code == 200
    assert server.post(f"/cases/{before}/accept", "zj_handler", {}).status_code == 403


def test_a_version_with_a_bad_entry_is_refused_naming_the_field(server: Server) -> None:
    good = parking_led_by_housing(v1_entries(server))
    bad_lead = copy.deepcopy(good)
    bad_lead[0]["lead_department_code"] = "no_such_department"
    bad_assist = copy.deepcopy(good)
    bad_assist[1]["assisting"][0]["department_code"] = "nobody"
    bad_amount = copy.deepcopy(good)
    bad_amount[2]["time_amount"] = 0
    bad_unit = copy.deepcopy(good)
    bad_unit[0]["time_unit"] = "fortnights"
    placeholder_lead = copy.deepcopy(good)
    placeholder_lead[0]["lead_department_code"] = "town:*"
    missing_matter = copy.deepcopy(good)
    del missing_matter[3]["matter"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"entries": bad_lead}, "entries[0].lead_department_code"),
        ({"entries": bad_assist}, "entries[1].assisting[0].department_code"),
        ({"entries": bad_amount}, "entries[2].time_amount"),
        ({"entries": bad_unit}, "entries[0].time_unit"),
        ({"entries": placeholder_lead}, "entries[0].lead_department_code"),
        ({"entries": missing_matter}, "entries[3].matter"),
        ({"entries": []}, "entries"),
        ({"reason": ""}, "reason"),
        ({"effective_from": "2026-12-01T00:00:00"}, "effective_from"),  # no time zone
        ({"effective_from": "2026-01-01T00:00:00+08:00"}, "effective_from"),  # before v1
    ]
    got = []
    for overrides, _ in cases:
        r = publish(server, "admin", **overrides)
        got.append((r.status_code, r.json()["detail"].get("field")))
    assert got == [(422, field) for _, field in cases]
    assert version_numbers(server) == [1]  # nothing was published


def test_only_administrators_and_coordinators_may_publish(server: Server) -> None:
    for user in ("zhzf_handler", "inspector", "supervisor"):
        r = publish(server, user)
        assert r.status_code == 403, user
        assert r.json()["detail"]["code"] == "role_not_allowed"
    assert version_numbers(server) == [1]
    # a ruling of the joint consultation group becomes a new version (一事一议)
    assert publish(server, "coordinator").status_code == 201
    assert version_numbers(server) == [1, 2]


def test_the_proposal_names_the_lead_assisting_version_and_deadline_for_a_place(
    server: Server,
) -> None:
    lot = P02.location
    r = server.get("/boundary/proposal", "inspector", category="parking", lat=lot.lat, lon=lot.lon)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["lead_department"], p["list_version"]) == ("zhzf", 1)
    assert (p["town_code"], p["site_code"]) == ("wenshang", "P02")
    assert "town:wenshang" in [a["department_code"] for a in p["assisting"]]
    assert (p["time_amount"], p["time_unit"]) == (10, "working_days")
    # asked Mon 2 Nov 09:00: the 10th working day after 2 Nov is Mon 16 Nov, due 17:30
    due = datetime.fromisoformat(p["due_at"]).astimezone(CHINA_TZ)
    assert due == datetime(2026, 11, 16, 17, 30, tzinfo=CHINA_TZ)

    by_town = server.get("/boundary/proposal", "inspector", category="parking", town_code="zhongdu")
    assert by_town.status_code == 200
    assert by_town.json()["town_code"] == "zhongdu"
    assert "town:zhongdu" in [a["department_code"] for a in by_town.json()["assisting"]]

    # once version 2 is in force the proposal follows it
    assert publish(server, "admin").status_code == 201
    server.clock.now = V2_FROM + timedelta(hours=9)
    p2 = server.get(
        "/boundary/proposal", "inspector", category="parking", lat=lot.lat, lon=lot.lon
    ).json()
    assert (p2["lead_department"], p2["list_version"]) == ("zj", 2)


def test_a_proposal_for_an_unknown_category_or_bad_place_names_the_field(server: Server) -> None:
    r = server.get("/boundary/proposal", "inspector", category="dragons")
    assert r.status_code == 422 and r.json()["detail"]["field"] == "category"
    r = server.get("/boundary/proposal", "inspector", category="parking", lat=123, lon=116.4)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "lat"
    assert (
        server.client.get("/boundary/proposal", params={"category": "parking"}).status_code == 401
    )
