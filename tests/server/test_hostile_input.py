"""Every malformed input answers 4xx naming the field, never 500, and stores nothing — on SQLite
and PostgreSQL alike (PostgreSQL refuses NUL and over-long texts where SQLite would accept them).

Each hostile value is sent to each text field of the main write endpoints; query and path
parameters get times without a zone, integers beyond 64 bits and control characters; sync push
gets them inside one command of a batch (the others are applied)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from server.demo_data import SITES
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.conftest import Server
from tests.server.test_worked_examples import record

WATER = next(s for s in SITES if s.kind == "waterlogging_point").location

HOSTILE: dict[str, str] = {
    "NUL": "积水\x00",
    "a control character": "积水\x1b[2J",
    "a lone surrogate": "积水\ud800",
    "a text longer than any column": "长" * 4001,
}
ONE_LINE = {"a line break": "第一行\n第二行"}


def _new_case() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "category": "waterlogging",
        "description": "积水",
        "location": {"lat": WATER.lat, "lon": WATER.lon},
    }


# (method, path ("{case}": a case of the inspector's), user, body, text fields, one-line fields)
WRITES: list[tuple[str, str, str, dict[str, Any], list[str], list[str]]] = [
    (
        "POST",
        "/cases",
        "inspector",
        _new_case(),
        ["description", "category", "town_code", "site_code", "source", "first_contact_reason"],
        ["category", "town_code", "site_code", "source"],
    ),
    ("POST", "/cases/{case}/notes", "inspector", {"note": "备注"}, ["note"], []),
    ("POST", "/cases/{case}/cancel", "inspector", {"reason": "重复"}, ["reason", "note"], []),
    (
        "POST",
        "/joint-sessions",
        "rx_handler",
        {"title": "联合办公", "departments": ["sw"]},
        ["title", "purpose", "place", "departments[0]"],
        ["title", "place", "departments[0]"],
    ),
    (
        "POST",
        "/hotline/call-backs",
        "rx_handler",
        {"ticket_no": "JN1", "result": "满意"},
        ["comment", "ticket_no", "result"],
        [],
    ),
    (
        "PUT",
        "/hotline/column-aliases",
        "admin",
        {"header": "单号", "column": "ticket_no"},
        ["header", "column"],
        ["header"],
    ),
    ("POST", "/devices", "inspector", {"client_id": "phone-0001", "name": "手机"}, ["name"], []),
    (
        "POST",
        "/auth/login",
        "inspector",
        {"username": "inspector", "password": "x"},
        ["username"],
        [],
    ),
]


def _put(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(body))
    if field.endswith("[0]"):
        out[field[:-3]] = [value]
    else:
        out[field] = value
    if "id" in out and "description" in out:
        out["id"] = str(uuid.uuid4())  # a new case each time: nothing of it may be stored
    return out


def _send(server: Server, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    """The body as JSON with every non-ASCII character escaped, as a phone's library sends it
    (a lone surrogate travels as ``\\ud800``)."""
    return server.client.request(
        method,
        url,
        content=json.dumps(body),
        headers={**headers, "Content-Type": "application/json"},
    )


def _stored(server: Server, case_id: str) -> tuple[int, ...]:
    """What the hostile requests could have written, as counts."""
    cases = server.get("/cases", "supervisor", limit=200).json()["items"]
    events = server.get(f"/cases/{case_id}", "supervisor").json()["events"]
    sessions = server.get("/joint-sessions", "supervisor").json()["sessions"]
    aliases = server.get("/hotline/column-aliases", "admin").json()["mapped"]
    return len(cases), len(events), len(sessions), len(aliases)


def test_each_hostile_text_in_each_field_is_refused_naming_it_and_nothing_is_stored(
    server: Server,
) -> None:
    case_id = record(server, "inspector", "waterlogging", WATER.lat, WATER.lon, "积水")["id"]
    before = _stored(server, case_id)
    wrong: list[str] = []
    for method, path, user, body, fields, one_line in WRITES:
        url = path.replace("{case}", case_id)
        headers = {} if path == "/auth/login" else server.login(user)
        for field in fields:
            values = {**HOSTILE, **(ONE_LINE if field in one_line else {})}
            for what, value in values.items():
                r = _send(server, method, url, _put(body, field, value), headers)
                detail = r.json().get("detail", {}) if r.status_code < 500 else {}
                named = isinstance(detail, dict) and detail.get("field") == field
                if not (400 <= r.status_code < 500 and named):
                    wrong.append(
                        f"{method} {path} {field} ← {what}: {r.status_code} {r.text[:160]}"
                    )
    assert wrong == []
    assert _stored(server, case_id) == before


def test_hostile_query_and_path_values_are_refused_naming_the_parameter(server: Server) -> None:
    naive = "2026-11-02T09:00:00"
    naive_cursor = base64.urlsafe_b64encode(json.dumps([naive, str(uuid.uuid4())]).encode())
    huge = str(2**70)
    cases: list[tuple[str, dict[str, str], str, int]] = [
        ("/cases", {"due_before": naive}, "due_before", 422),
        ("/cases", {"cursor": naive_cursor.decode()}, "cursor", 422),
        ("/cases", {"category": "积水\x00"}, "category", 422),
        ("/cases", {"town": "老城\x1b"}, "town", 422),
        ("/cases/%00", {}, "case_id", 422),
        ("/evaluation/hotspots", {"start": naive}, "start", 422),
        (f"/evaluation/runs/{huge}", {}, "run_id", 422),
        ("/notifications", {"after_id": huge}, "after_id", 422),
    ]
    wrong = []
    for path, params, field, status in cases:
        r = server.get(path, "supervisor", **params)
        detail = r.json().get("detail", {}) if r.status_code < 500 else {}
        if r.status_code != status or not isinstance(detail, dict) or detail.get("field") != field:
            wrong.append(f"{path} {params}: {r.status_code} {r.text[:160]}")
    r = server.post(f"/notifications/{huge}/read", "supervisor")
    if r.status_code != 422 or r.json()["detail"]["field"] != "notification_id":
        wrong.append(f"/notifications/{{huge}}/read: {r.status_code} {r.text[:160]}")
    assert wrong == []


def test_a_push_refuses_only_the_commands_holding_hostile_values(server: Server) -> None:
    token = server.client.post(
        "/devices",
        json={"client_id": "phone-hostile", "name": "手机"},
        headers=server.login("inspector"),
    ).json()["device_token"]
    now = datetime.now(UTC).isoformat()

    def create(description: str, created_at: str = now) -> dict[str, Any]:
        p = _new_case()
        p["case_id"] = p.pop("id")
        p["description"] = description
        return {"type": "CreateCase", "created_at": created_at, "payload": p}

    commands = [
        create("好的一"),
        create("积水\ud800"),  # a lone surrogate: only a hand-made request can carry it
        create("好的二"),
        create("积水", created_at="2026-11-02T09:00:00"),  # a queue time without a zone
        create("好的三"),
        {
            "type": "AddNote",
            "created_at": now,
            "payload": {"case_id": str(uuid.uuid4()), "note": {"n": 2**80}},
        },
        create("好的四"),
    ]
    body = {
        "protocol": PROTOCOL_VERSION,
        "commands": [{"id": i, **c} for i, c in enumerate(commands, 1)],
        "device_time": now,
    }
    r = _send(
        server,
        "POST",
        "/sync/push",
        body,
        {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert r.status_code == 200, r.text
    results = {x["id"]: x for x in r.json()["results"]}
    assert r.json()["last_applied"] == len(commands)
    assert [i for i, x in results.items() if x["status"] == "applied"] == [1, 3, 5, 7]
    assert results[2]["detail"]["field"] == "description"
    assert results[4]["detail"]["field"] == "created_at"
    assert results[6]["detail"]["field"] == "note.n"


def test_a_case_from_a_phone_reading_1970_is_stored_now_with_a_note_and_can_be_assigned(
    server: Server,
) -> None:
    phone = {"client_id": "phone-1970", "name": "时钟归零的手机"}
    token = server.client.post("/devices", json=phone, headers=server.login("inspector")).json()[
        "device_token"
    ]
    epoch = "1970-01-01T08:00:00+08:00"
    payload = _new_case()
    payload["case_id"] = payload.pop("id")
    body = {
        "protocol": PROTOCOL_VERSION,
        "commands": [{"id": 1, "type": "CreateCase", "created_at": epoch, "payload": payload}],
        "device_time": epoch,
    }
    auth = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    r = _send(server, "POST", "/sync/push", body, auth)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    case = server.get(f"/cases/{payload['case_id']}", "inspector").json()
    created = next(e for e in case["events"] if e["kind"] == "CaseCreated")
    assert created["data"]["claimed_recorded_at"].startswith("1970-01-01")
    assert "in the past" in created["data"]["recorded_time_note"]
    assigned = server.post(f"/cases/{payload['case_id']}/assign", "inspector", {})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "assigned" and assigned.json()["due_at"]


def test_hostile_cells_in_a_hotline_export_are_reported_rows_never_a_500(server: Server) -> None:
    header = "工单编号,受理时间,所属区域,事发地址,纬度,经度,诉求类别,诉求内容,联系电话,备注"
    good = "RX-GOOD,2026-10-30 09:15,汶上街道,尚书路,,,乱停车,车辆乱停,,"
    rows = [
        header,
        good,
        "RX-NUL\x00,2026-10-30 09:15,,,,,乱停车,车辆乱停,,",
        "RX-CTL,2026-10-30 09:15,,,,,乱停车,车辆\x07乱停,,",
        "RX-LONG,2026-10-30 09:15,,,,,乱停车," + "长" * 4001 + ",,",
        "RX-ADDR,2026-10-30 09:15,," + "址" * 301 + ",,,乱停车,车辆乱停,,",
        "RX-AREA,2026-10-30 09:15," + "区" * 101 + ",,,,乱停车,车辆乱停,,",
        "R" * 61 + ",2026-10-30 09:15,,,,,乱停车,车辆乱停,,",
    ]
    r = server.client.post(
        "/hotline/imports",
        files={"file": ("export.csv", "\r\n".join(rows).encode("utf-8"))},
        headers=server.login("rx_handler"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    # every one refused on its row, naming the column (an over-long place or area too: never
    # stored cut short); the good row imports
    assert body["created_cases"] == 1, body
    problems = {p["row"]: p["reason"] for p in body["problems"]}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8], problems
    assert "ticket_no" in problems[3] and "content" in problems[4]
    assert problems[6].startswith("address: ") and problems[7].startswith("area: ")
    assert problems[8].startswith("ticket_no: ")
