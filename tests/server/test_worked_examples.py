"""The three worked examples of docs/domain.md, through the HTTP API on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from server.demo_data import SITES
from sync.clock import CHINA_TZ
from tests.conftest import Server

PARKING_LOT = next(s for s in SITES if s.kind == "parking_lot")
WATERLOGGING_POINT = next(s for s in SITES if s.kind == "waterlogging_point")


def record(
    server: Server, user: str, category: str, lat: float, lon: float, text: str, **extra: object
) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "category": category,
        "description": text,
        "location": {"lat": lat, "lon": lon},
        **extra,
    }
    r = server.post("/cases", user, body)
    assert r.status_code == 201, r.text
    return r.json()


def act(server: Server, user: str, case_id: str, action: str, **body: object) -> dict:
    r = server.post(f"/cases/{case_id}/{action}", user, body)
    assert r.status_code == (201 if action == "raise-dispute" else 200), r.text  # opens a dispute
    return r.json()


def test_parking_lot_problem_is_led_by_law_enforcement_and_closed_after_verification(
    server: Server,
) -> None:
    lot = PARKING_LOT.location
    case = record(
        server, "inspector", "parking", lot.lat + 0.0002, lot.lon, "停车场无人管理，车辆乱停"
    )
    assert case["site_code"] == PARKING_LOT.code
    assert case["town_code"] == PARKING_LOT.town_code
    assert case["owner_department"] == "shzl"  # first contact: the inspector's grid centre

    assigned = act(
        server, "inspector", case["id"], "assign", where={"lat": lot.lat, "lon": lot.lon}
    )
    assert assigned["lead_department"] == "zhzf"
    assert assigned["list_version"] == 1
    assert assigned["owner_department"] == "shzl"  # still first contact until accepted
    town_office = f"town:{PARKING_LOT.town_code}"
    assert town_office in [a["department_code"] for a in assigned["assisting"]]

    server.clock.now += timedelta(hours=1)
    accepted = act(server, "zhzf_handler", case["id"], "accept")
    assert accepted["owner_department"] == "zhzf"
    act(server, "zhzf_handler", case["id"], "start-handling")
    act(
        server,
        "zhzf_handler",
        case["id"],
        "report-back",
        note="约谈开发企业，明确管理主体",
        photos=["a" * 64],
        where={"lat": case["lat"], "lon": case["lon"]},  # the after photo, taken at the lot
    )
    closed = act(server, "supervisor", case["id"], "close", note="现场核查已整改")
    assert closed["status"] == "closed"
    # the closed loop's own steps (assisting tasks, issue 5, add events of their own)
    steps = [e for e in closed["events"] if e["kind"] != "AssistTaskCreated"]
    kinds = [e["kind"] for e in steps]
    assert kinds == [
        "CaseCreated",
        "CaseAssigned",
        "CaseAccepted",
        "HandlingStarted",
        "CaseReportedBack",
        "CaseClosed",
    ]
    who = [e["actor_department"] for e in steps]
    assert who == ["shzl", "shzl", "zhzf", "zhzf", "zhzf", "zfb"]
    assert steps[1]["lat"] == lot.lat
    assert all(e["list_version"] == 1 for e in closed["events"][1:])


def test_unpaid_wages_routed_by_the_hotline_are_led_by_hr_with_industries_and_town_assisting(
    server: Server,
) -> None:
    seat = (35.735, 116.475)  # in 汶上街道
    case = record(
        server, "rx_handler", "unpaid_wages", *seat, "工地拖欠农民工工资", source="hotline"
    )
    assert case["first_contact_department"] == "rx"
    assigned = act(server, "rx_handler", case["id"], "assign")
    assert assigned["lead_department"] == "rs"
    assisting = {a["department_code"]: a["duty"] for a in assigned["assisting"]}
    assert {"zj", "jt", "sw", "town:wenshang"} <= set(assisting)
    assert all(duty for duty in assisting.values())
    # every assisting department, the town office included, sees the case
    for user in ("zj_handler", "jt_handler", "sw_handler", "wenshang_handler"):
        assert server.get(f"/cases/{case['id']}", user).status_code == 200
    # an assisting department cannot accept in the lead's place
    r = server.post(f"/cases/{case['id']}/accept", "zj_handler")
    assert r.status_code == 403
    act(server, "rs_handler", case["id"], "accept")
    assert server.get("/cases", "wenshang_handler").json()["items"][0]["id"] == case["id"]


def test_waterlogging_point_involving_several_departments_gets_an_hours_deadline(
    server: Server,
) -> None:
    w = WATERLOGGING_POINT.location
    server.clock.now = datetime(2026, 11, 6, 16, 0, tzinfo=CHINA_TZ)  # Friday 16:00
    case = record(server, "inspector", "waterlogging", w.lat, w.lon, "雨后胡同积水")
    assigned = act(server, "inspector", case["id"], "assign")
    assert assigned["lead_department"] == "zhzf"
    assert {"sw", "zj", f"town:{WATERLOGGING_POINT.town_code}"} <= {
        a["department_code"] for a in assigned["assisting"]
    }
    assert (assigned["time_amount"], assigned["time_unit"]) == (24, "working_hours")
    # 24 working hours from Fri 16:00: 1.5 h Fri + 7.5 h each Mon, Tue, Wed = 24 h → Wed 17:30
    due = datetime.fromisoformat(assigned["due_at"]).astimezone(CHINA_TZ)
    assert due == datetime(2026, 11, 11, 17, 30, tzinfo=CHINA_TZ)
    for user in ("sw_handler", "zj_handler"):
        assert server.get(f"/cases/{case['id']}", user).status_code == 200
    act(server, "zhzf_handler", case["id"], "accept")
    act(server, "zhzf_handler", case["id"], "start-handling")
    on_site = {"lat": case["lat"], "lon": case["lon"]}  # the after photos, taken at the point
    act(server, "zhzf_handler", case["id"], "report-back", photos=["b" * 64], where=on_site)
    # the verifier sends it back once: rework is counted
    back = act(server, "supervisor", case["id"], "send-back", reason="仍有积水")
    assert back["status"] == "handling" and back["rework_count"] == 1
    act(server, "zhzf_handler", case["id"], "report-back", photos=["c" * 64], where=on_site)
    server.clock.now = datetime(2026, 11, 13, 10, 0, tzinfo=CHINA_TZ)
    overdue = server.get("/cases", "supervisor", overdue=True).json()["items"]
    assert [c["id"] for c in overdue] == [case["id"]]
    closed = act(server, "supervisor", case["id"], "close")
    assert closed["status"] == "closed"
    assert server.get("/cases", "supervisor", overdue=True).json()["items"] == []
