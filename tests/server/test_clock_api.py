"""Time can't be gamed, and the deadline agreed on the spot is the deadline — over HTTP, on
SQLite and PostgreSQL, through REST and sync push alike (the rules: sync/clock_rules.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from server.demo_data import SITES
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import T0, Server
from tests.server.test_boundary_api import parking_led_by_housing, v1_entries
from tests.server.test_workflow_api import parking_case, post_ok, raise_dispute

WATER = next(s for s in SITES if s.kind == "waterlogging_point")
LOCATION = {"lat": WATER.location.lat, "lon": WATER.location.lon}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Phone:
    """A registered device of ``user`` that pushes numbered commands through the HTTP API."""

    def __init__(self, server: Server, user: str = "inspector") -> None:
        r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": user})
        assert r.status_code == 201, r.text
        self.server = server
        self.user = user
        self.headers = {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}
        self.next_id = 1
        self.outbox: list[dict[str, Any]] = []

    def queue(self, type_: str, device_at: datetime, payload: dict[str, Any]) -> int:
        cmd_id = self.next_id
        self.next_id += 1
        self.outbox.append(
            {"id": cmd_id, "type": type_, "created_at": device_at.isoformat(), "payload": payload}
        )
        return cmd_id

    def record(
        self, device_at: datetime, *, recorded_at: datetime | None = None
    ) -> tuple[str, int]:
        case_id = str(uuid.uuid4())
        payload: dict[str, Any] = {
            "case_id": case_id,
            "category": "waterlogging",
            "description": "路口积水，车辆无法通行",
            "location": LOCATION,
        }
        if recorded_at is not None:
            payload["recorded_at"] = recorded_at.isoformat()
        return case_id, self.queue("CreateCase", device_at, payload)

    def assign(self, case_id: str, device_at: datetime) -> int:
        return self.queue(
            "TransitionCase", device_at, {"case_id": case_id, "action": "assign", "note": ""}
        )

    def push(self, device_time: datetime | None) -> dict[int, dict[str, Any]]:
        body: dict[str, Any] = {"protocol": 1, "commands": self.outbox}
        if device_time is not None:
            body["device_time"] = device_time.isoformat()
        r = self.server.client.post("/sync/push", json=body, headers=self.headers)
        assert r.status_code == 200, r.text
        self.outbox = []
        return {res["id"]: res for res in r.json()["results"]}

    def pull(self, device_time: datetime) -> None:
        body = {"protocol": 1, "cursor": None, "device_time": device_time.isoformat()}
        r = self.server.client.post("/sync/pull", json=body, headers=self.headers)
        assert r.status_code == 200, r.text


def case_of(server: Server, case_id: str) -> dict[str, Any]:
    r = server.get(f"/cases/{case_id}", "supervisor")
    assert r.status_code == 200, r.text
    return dict(r.json())


def event(case: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in case["events"] if e["kind"] == kind)


def record_rest(server: Server, **extra: Any) -> Any:
    body = {
        "id": str(uuid.uuid4()),
        "category": "waterlogging",
        "description": "路口积水，车辆无法通行",
        "location": LOCATION,
        **extra,
    }
    return server.post("/cases", "inspector", body)


def assigned_online_at_t0(server: Server) -> dict[str, Any]:
    """The same matter at the same place, recorded and assigned online at T0."""
    server.clock.now = T0
    r = record_rest(server)
    assert r.status_code == 201, r.text
    return dict(post_ok(server, f"/cases/{r.json()['id']}/assign", "inspector", {}))


# --- the deadline agreed on the spot is the deadline ------------------------------------------


def test_an_offline_assignment_counts_its_deadline_from_the_on_the_spot_time(
    server: Server,
) -> None:
    online = assigned_online_at_t0(server)
    phone = Phone(server)
    case_id, _ = phone.record(T0 - timedelta(minutes=10))  # the phone is offline all morning
    phone.assign(case_id, T0)  # assigned on the spot at 09:00
    synced_at = T0 + timedelta(hours=3)  # back in coverage at 12:00: 3 working hours later
    server.clock.now = synced_at
    results = phone.push(device_time=synced_at + timedelta(seconds=40))  # a clock 40 s fast
    assert all(r["status"] == "applied" for r in results.values()), results

    case = case_of(server, case_id)
    on_the_spot = T0 - timedelta(seconds=40)  # the phone's 09:00, on the server's clock
    assert at(case["assigned_at"]) == on_the_spot
    # the deadline of an online assignment at 09:00, not one three working hours later
    assert (
        at(online["due_at"]) - timedelta(seconds=40) <= at(case["due_at"]) <= at(online["due_at"])
    )
    assert case["assigned_time_note"] is None
    assigned = event(case, "CaseAssigned")
    assert assigned["data"]["assigned_on_site"] is True
    assert at(assigned["data"]["device_assigned_at"]) == T0
    assert at(assigned["at"]) == synced_at  # the event says when the server learned it


def test_a_phone_whose_clock_is_two_days_off_gets_server_time_and_the_case_says_so(
    server: Server,
) -> None:
    server.clock.now = T0 + timedelta(hours=3)
    phone = Phone(server)
    behind = timedelta(days=2)
    case_id, _ = phone.record(T0 - behind)
    phone.assign(case_id, T0 - behind + timedelta(minutes=5))
    results = phone.push(device_time=server.clock.now - behind)
    assert all(r["status"] == "applied" for r in results.values()), results

    case = case_of(server, case_id)
    assert at(case["assigned_at"]) == server.clock.now  # not two days earlier
    assert "2.0 天" in case["assigned_time_note"] and "behind" in case["assigned_time_note"]
    data = event(case, "CaseAssigned")["data"]
    assert data["assigned_on_site"] is False
    assert data["device_clock_offset_s"] == -behind.total_seconds()
    assert data["assigned_time_note"] == case["assigned_time_note"]


def test_an_assignment_dated_in_the_future_or_before_its_case_gets_server_time(
    server: Server,
) -> None:
    server.clock.now = T0 + timedelta(hours=3)
    phone = Phone(server)
    ahead_id, _ = phone.record(T0)
    phone.assign(ahead_id, server.clock.now + timedelta(hours=5))  # a crafted time: later
    early_id, _ = phone.record(T0)
    phone.assign(early_id, T0 - timedelta(hours=2))  # before the case was even recorded
    phone.push(device_time=server.clock.now)  # the clock itself is right

    ahead, early = case_of(server, ahead_id), case_of(server, early_id)
    assert at(ahead["assigned_at"]) == server.clock.now
    assert "future" in ahead["assigned_time_note"]
    assert at(early["assigned_at"]) == server.clock.now
    assert "precedes the recording" in early["assigned_time_note"]


def test_the_latest_clock_estimate_of_a_device_is_used_when_a_push_carries_none(
    server: Server,
) -> None:
    server.clock.now = T0 + timedelta(hours=3)
    phone = Phone(server)
    phone.pull(device_time=server.clock.now + timedelta(days=2))  # seen 2 days fast at a pull
    case_id, _ = phone.record(T0 + timedelta(days=2))
    phone.assign(case_id, T0 + timedelta(days=2, minutes=5))
    phone.push(device_time=None)  # an old app, or a crafted request, sends no clock reading
    case = case_of(server, case_id)
    assert at(case["assigned_at"]) == server.clock.now
    assert "ahead" in case["assigned_time_note"]


def test_an_assignment_made_online_through_rest_has_no_clock_note(server: Server) -> None:
    online = assigned_online_at_t0(server)
    assert at(online["assigned_at"]) == T0 and online["assigned_time_note"] is None
    assert "assigned_on_site" not in event(online, "CaseAssigned")["data"]


# --- a recorded time in the future is refused, on REST as on sync ------------------------------


def test_a_case_recorded_in_the_future_is_refused_through_rest_naming_recorded_at(
    server: Server,
) -> None:
    r = record_rest(server, recorded_at=(T0 + timedelta(hours=1)).isoformat())
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == "recorded_at"
    naive = record_rest(server, recorded_at="2026-11-02T08:00:00")  # no zone: 422, not 500
    assert naive.status_code == 422 and naive.json()["detail"]["field"] == "recorded_at"
    assert record_rest(server, recorded_at=(T0 + timedelta(minutes=1)).isoformat()).status_code == (
        201
    )  # a clock a minute fast is tolerated
    listed = server.get("/cases", "supervisor").json()["items"]
    assert all(at(c["created_at"]) <= T0 for c in listed)


def test_a_case_recorded_in_the_future_is_refused_through_sync_naming_recorded_at(
    server: Server,
) -> None:
    phone = Phone(server)
    crafted, crafted_cmd = phone.record(T0, recorded_at=T0 + timedelta(hours=6))
    fine, fine_cmd = phone.record(T0)
    results = phone.push(device_time=T0)
    assert results[crafted_cmd]["status"] == "rejected"
    assert results[crafted_cmd]["detail"]["field"] == "recorded_at"
    assert results[fine_cmd]["status"] == "applied"
    assert server.get(f"/cases/{crafted}", "supervisor").status_code == 404
    assert server.get(f"/cases/{fine}", "supervisor").status_code == 200


def test_a_phone_clock_running_ahead_is_not_refused_but_never_stored_ahead(
    server: Server,
) -> None:
    phone = Phone(server)
    case_id, cmd = phone.record(T0 + timedelta(days=1))  # the whole clock is a day fast
    results = phone.push(device_time=T0 + timedelta(days=1))
    assert results[cmd]["status"] == "applied"
    case = case_of(server, case_id)
    assert at(case["created_at"]) == T0
    assert event(case, "CaseCreated")["data"]["clock_ahead_by_s"] == 86400


# --- a back-dated case says so in its history ------------------------------------------------


def test_a_case_back_dated_through_rest_says_so_in_its_history(server: Server) -> None:
    late = record_rest(server, recorded_at=(T0 - timedelta(hours=3)).isoformat())
    prompt = record_rest(server, recorded_at=(T0 - timedelta(minutes=10)).isoformat())
    assert late.status_code == prompt.status_code == 201
    late_case, prompt_case = (
        case_of(server, late.json()["id"]),
        case_of(server, prompt.json()["id"]),
    )
    assert event(late_case, "CaseCreated")["data"]["backdated_by_s"] == 3 * 3600
    assert "backdated_by_s" not in event(prompt_case, "CaseCreated")["data"]


def test_a_case_back_dated_through_sync_says_so_but_an_offline_delay_does_not(
    server: Server,
) -> None:
    phone = Phone(server)
    back_dated, _ = phone.record(T0, recorded_at=T0 - timedelta(hours=3))
    offline, _ = phone.record(T0 - timedelta(hours=3))  # recorded then, delivered now
    phone.push(device_time=T0)
    data = event(case_of(server, back_dated), "CaseCreated")["data"]
    assert data["backdated_by_s"] == 3 * 3600
    offline_case = case_of(server, offline)
    assert at(offline_case["created_at"]) == T0 - timedelta(hours=3)
    assert "backdated_by_s" not in event(offline_case, "CaseCreated")["data"]


# --- a list version cannot take effect before it is published without a reason ---------------


def publish(server: Server, effective_from: datetime, **extra: Any) -> Any:
    body = {
        "effective_from": effective_from.isoformat(),
        "reason": "裁决 R-2026-007：住宅小区周边停车场由住建局主办",
        "entries": parking_led_by_housing(v1_entries(server)),
        **extra,
    }
    return server.post("/boundary/versions", "admin", body)


def test_a_version_effective_before_its_publication_needs_a_recorded_reason(
    server: Server,
) -> None:
    last_week = T0 - timedelta(days=7)
    refused = publish(server, last_week)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["field"] == "effective_from"
    blank = publish(server, last_week, backdate_reason="   ")
    assert blank.status_code == 422
    assert [v["number"] for v in server.get("/boundary/versions", "admin").json()] == [1]
    reason = "县编办通知自上周一起执行 / the office's notice applies from last Monday"
    ok = publish(server, last_week, backdate_reason=reason)
    assert ok.status_code == 201, ok.text
    stored = server.get("/boundary/versions", "inspector").json()[-1]
    assert stored["number"] == 2 and stored["backdate_reason"] == reason
    assert at(stored["effective_from"]) == last_week


def test_a_version_effective_from_now_or_later_needs_no_backdating_reason(server: Server) -> None:
    r = publish(server, T0 + timedelta(days=1))
    assert r.status_code == 201, r.text
    assert r.json()["backdate_reason"] is None


def test_a_ruling_cannot_back_date_a_list_version_without_a_reason(server: Server) -> None:
    case = parking_case(server)
    dispute = raise_dispute(server, "zhzf_handler", case["id"])
    for stage in ("coordination", "ruling"):
        post_ok(server, f"/disputes/{dispute['id']}/escalate", "coordinator", {"reason": stage})
    entry = next(e for e in v1_entries(server) if e["category"] == "parking")
    body = {
        "responsible_department": "zj",
        "facts": "停车场位于小区配建范围",
        "ruling_text": "由住建局主办",
        "legal_basis": "三定规定",
        "new_entry": {**entry, "lead_department_code": "zj", "assisting": []},
        "effective_from": (T0 - timedelta(days=30)).isoformat(),
    }
    r = server.post(f"/disputes/{dispute['id']}/settle", "coordinator", body)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "effective_from"
    body["backdate_reason"] = "联合会商认定自受理之日起执行"
    ruled = post_ok(server, f"/disputes/{dispute['id']}/settle", "coordinator", body)
    assert ruled["new_list_version"] == 2
    stored = server.get("/boundary/versions", "admin").json()[-1]
    assert stored["backdate_reason"] == "联合会商认定自受理之日起执行"


def test_a_joint_session_point_cannot_be_recorded_in_the_future_either(server: Server) -> None:
    body = {
        "title": "雨后积水联合办公",
        "purpose": "积水",
        "place": "老城区",
        "departments": ["sw"],
    }
    sid = post_ok(server, "/joint-sessions", "rx_handler", body, 201)["id"]
    post_ok(server, f"/joint-sessions/{sid}/check-in", "sw_handler", {})
    point = {
        "label": "点位1",
        "case": {
            "id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "积水",
            "location": LOCATION,
            "recorded_at": (T0 + timedelta(days=1)).isoformat(),
        },
        "lead_department": "sw",
        "duties": [],
    }
    r = server.post(f"/joint-sessions/{sid}/points", "rx_handler", point)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "recorded_at"
    assert server.get(f"/cases/{point['case']['id']}", "supervisor").status_code == 404
