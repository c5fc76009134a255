"""12345 call-backs (回访): recorded per ticket, shown on the case, counted in the evaluation; an
unsatisfied call-back on a closed case counts like a repeat report. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from openpyxl import Workbook

from server.demo_data import SITES
from sync.clock import CHINA_TZ
from tests.conftest import T0, Server

LOT = next(s for s in SITES if s.kind == "parking_lot").location
NORTH_500_M = 500 / 110_950


def import_ticket(server: Server, ticket_no: str, north: float = 0.0) -> str:
    """A parking ticket received an hour before now; the id of the case it became."""
    received = (server.clock.now - timedelta(hours=1)).astimezone(CHINA_TZ)
    rows = [
        "工单编号,来电时间,诉求类型,诉求内容,纬度,经度",
        f"{ticket_no},{received:%Y-%m-%d %H:%M},投诉,停车场车辆乱停,{LOT.lat + north},{LOT.lon}",
    ]
    r = server.client.post(
        "/hotline/imports",
        files={"file": ("export.csv", "\n".join(rows).encode())},
        headers=server.login("rx_handler"),
    )
    assert r.status_code == 201 and r.json()["created_cases"] == 1, r.text
    tickets = server.get(f"/hotline/imports/{r.json()['id']}", "rx_handler").json()["tickets"]
    case_id: str = tickets[0]["case_id"]
    return case_id


def assign_and_close(server: Server, case_id: str, *, first: str = "rx_handler") -> None:
    for user, action, body in (
        (first, "assign", {}),
        ("zhzf_handler", "accept", {}),
        ("zhzf_handler", "start-handling", {}),
        ("zhzf_handler", "report-back", {"photos": ["a" * 64]}),
        # verified by telephone, not on site: the 50 m rule then asks for a reason
        ("supervisor", "close", {"reason": "电话回访核实已整改"}),
    ):
        r = server.post(f"/cases/{case_id}/{action}", user, body)
        assert r.status_code == 200, f"{action}: {r.text}"


def call_back(server: Server, user: str = "rx_handler", **body: Any) -> httpx.Response:
    return server.client.post("/hotline/call-backs", json=body, headers=server.login(user))


def case(server: Server, case_id: str) -> dict[str, Any]:
    r = server.get(f"/cases/{case_id}", "supervisor")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_call_back_shows_on_the_case_timeline_and_in_the_case_api(server: Server) -> None:
    case_id = import_ticket(server, "CB-1")
    assign_and_close(server, case_id)
    server.clock.now = T0 + timedelta(hours=5)
    r = call_back(server, ticket_no="CB-1", result="基本满意", comment="处理了，但还有车乱停")
    assert r.status_code == 201, r.text
    assert (r.json()["result"], r.json()["reopened"]) == ("basically_satisfied", False)
    detail = case(server, case_id)
    event = detail["events"][-1]
    assert event["kind"] == "CallBackRecorded"
    assert (event["actor_department"], event["status_after"]) == ("rx", "closed")
    assert datetime.fromisoformat(event["at"]) == T0 + timedelta(hours=5)
    assert event["data"]["ticket_no"] == "CB-1"
    assert event["data"]["comment"] == "处理了，但还有车乱停"
    assert event["data"]["responsible_department"] == "zhzf"
    assert [(c["ticket_no"], c["result"], c["comment"]) for c in detail["call_backs"]] == [
        ("CB-1", "basically_satisfied", "处理了，但还有车乱停")
    ]
    assert detail["status"] == "closed"  # basically satisfied: nothing reopens


def test_an_unsatisfied_call_back_on_a_closed_case_counts_like_a_repeat_report(
    server: Server,
) -> None:
    # case A: its problem is reported again at its place after closing (the repeat rule)
    a = server.post(
        "/cases",
        "inspector",
        {
            "id": str(uuid.uuid4()),
            "category": "parking",
            "description": "停车场无人管理",
            "location": {"lat": LOT.lat + NORTH_500_M, "lon": LOT.lon},
        },
    ).json()["id"]
    assign_and_close(server, a, first="inspector")
    # case B: a 12345 ticket, closed, then the citizen says 不满意 on the call-back
    b = import_ticket(server, "CB-2")
    assign_and_close(server, b)
    server.clock.now = T0 + timedelta(days=3)
    again = server.post(
        "/cases",
        "inspector",
        {
            "id": str(uuid.uuid4()),
            "category": "parking",
            "description": "又乱停了",
            "location": {"lat": LOT.lat + NORTH_500_M, "lon": LOT.lon},
        },
    )
    assert again.status_code == 201, again.text
    r = call_back(server, ticket_no="CB-2", result="不满意", comment="车还是乱停")
    assert r.status_code == 201, r.text
    assert r.json()["reopened"] is True

    repeat, unsatisfied = case(server, a), case(server, b)
    for reopened in (repeat, unsatisfied):
        assert reopened["status"] == "handling"
        assert reopened["rework_count"] == 1 and reopened["closed_at"] is None
        assert datetime.fromisoformat(reopened["assigned_at"]) == T0 + timedelta(days=3)
        assert reopened["events"][-1]["kind"] == "RepeatReported"
    assert [e["kind"] for e in unsatisfied["events"][-2:]] == ["CallBackRecorded", "RepeatReported"]
    assert unsatisfied["events"][-1]["data"]["call_back"]["ticket_no"] == "CB-2"
    assert unsatisfied["due_at"] == repeat["due_at"]  # the same fresh deadline

    server.clock.now = datetime(2026, 12, 2, 9, tzinfo=CHINA_TZ)
    server._tokens.clear()
    run = server.post(
        "/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11}
    )
    assert run.status_code == 201, run.text
    zhzf = server.get(f"/evaluation/runs/{run.json()['id']}/departments/zhzf", "supervisor").json()
    indicators = {i["name"]: i for i in zhzf["indicators"]}
    repeats = indicators["repeat_reports"]
    assert sorted(link["case_id"] for link in repeats["links"]) == sorted([a, b])
    assert all(link["points"] == -1.0 for link in repeats["links"])
    resolved = indicators["citizen_satisfaction"]
    assert (resolved["sample"], resolved["value"], resolved["points"]) == (1, 0.0, -10.0)
    [link] = resolved["links"]
    assert link["case_id"] == b and link["event_id"] is not None


def test_an_unsatisfied_call_back_reopens_nothing_on_an_open_case_or_long_after_closing(
    server: Server,
) -> None:
    open_case = import_ticket(server, "CB-3")
    closed_long_ago = import_ticket(server, "CB-4", north=NORTH_500_M)
    assign_and_close(server, closed_long_ago)
    assert server.post(f"/cases/{open_case}/assign", "rx_handler").status_code == 200
    server.clock.now = T0 + timedelta(days=31)  # past the repeat window
    server._tokens.clear()
    for ticket, case_id, status in (
        ("CB-3", open_case, "assigned"),
        ("CB-4", closed_long_ago, "closed"),
    ):
        r = call_back(server, ticket_no=ticket, result="不满意")
        assert r.status_code == 201, r.text
        assert r.json()["reopened"] is False
        after = case(server, case_id)
        assert after["status"] == status
        assert after["events"][-1]["kind"] == "CallBackRecorded"


def call_back_file(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["工单编号", "回访结果", "回访意见", "回访时间"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload_call_backs(server: Server, data: bytes, user: str = "rx_handler") -> httpx.Response:
    return server.client.post(
        "/hotline/call-backs/imports",
        files={"file": ("回访.xlsx", data)},
        headers=server.login(user),
    )


def test_a_call_back_file_records_good_rows_and_reports_each_bad_one(server: Server) -> None:
    case_id = import_ticket(server, "CB-5")
    at = server.clock.now
    data = call_back_file(
        [
            ["CB-5", "满意", "及时处理", at.replace(tzinfo=None)],
            ["NO-SUCH", "满意", "", at.replace(tzinfo=None)],
            ["CB-5", "还行吧", "", "2026-11-02 08:30"],
            ["CB-5", "满意", "", "yesterday"],
        ]
    )
    r = upload_call_backs(server, data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total_rows"], body["recorded"], body["errors"]) == (4, 1, 3)
    problems = {p["row"]: p["reason"] for p in body["problems"]}
    assert "ticket_no" in problems[3] and "unknown ticket" in problems[3]
    assert "result" in problems[4] or "call-back result" in problems[4]
    assert "called_back_at" in problems[5]
    assert [c["ticket_no"] for c in case(server, case_id)["call_backs"]] == ["CB-5"]

    again = upload_call_backs(server, data).json()
    assert (again["recorded"], again["duplicates"]) == (0, 1)
    assert len(case(server, case_id)["call_backs"]) == 1


def test_malformed_call_backs_are_refused_with_a_4xx_naming_the_field(server: Server) -> None:
    import_ticket(server, "CB-6")
    future = (server.clock.now + timedelta(days=1)).isoformat()
    before = (server.clock.now - timedelta(days=2)).isoformat()
    for body, field in (
        ({"ticket_no": "NO-SUCH", "result": "满意"}, "ticket_no"),
        ({"ticket_no": "CB-6", "result": "great"}, "result"),
        ({"ticket_no": "CB-6", "result": "满意", "called_back_at": future}, "called_back_at"),
        ({"ticket_no": "CB-6", "result": "满意", "called_back_at": before}, "called_back_at"),
        ({"ticket_no": "CB-6", "result": "满意", "comment": "长" * 1500}, "comment"),
        ({"ticket_no": "CB-6"}, "result"),
    ):
        r = call_back(server, **body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]["field"] == field, r.text
    assert call_back(server, "inspector", ticket_no="CB-6", result="满意").status_code == 403
    at = server.clock.now.isoformat()
    assert call_back(server, ticket_no="CB-6", result="满意", called_back_at=at).status_code == 201
    twice = call_back(server, ticket_no="CB-6", result="满意", called_back_at=at)
    assert twice.status_code == 409

    missing = upload_call_backs(server, "工单编号,备注\nCB-6,x\n".encode())
    assert missing.status_code == 422
    assert missing.json()["detail"]["field"] == "file"
    for column in ("result", "called_back_at"):
        assert column in missing.json()["detail"]["reason"]
    broken = upload_call_backs(server, call_back_file([])[:200])
    assert broken.status_code == 422 and broken.json()["detail"]["field"] == "file"
