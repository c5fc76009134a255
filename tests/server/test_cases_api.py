"""The cases API on both databases: input errors, refusals that change nothing, return to first
contact, suspensions and the deadline, list filters, keyset pages, append-only history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.db import make_engine
from server.demo_data import SITES
from sync.case_numbers import case_number
from sync.clock import CHINA_TZ
from tests.conftest import T0, Server

SITE = {s.code: s for s in SITES}
P02 = SITE["P02"].location  # parking lot, 汶上街道
P03 = SITE["P03"].location  # parking lot, 中都街道
W03 = SITE["W03"].location  # waterlogging point, 中都街道


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场出入口被占用",
        "location": {"lat": P02.lat, "lon": P02.lon},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def record(server: Server, user: str = "inspector", **overrides: Any) -> dict[str, Any]:
    r = server.post("/cases", user, case_body(**overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


def act(server: Server, user: str, case_id: str, action: str, **body: Any) -> dict[str, Any]:
    r = server.post(f"/cases/{case_id}/{action}", user, body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def detail(server: Server, case_id: str) -> dict[str, Any]:
    r = server.get(f"/cases/{case_id}", "supervisor")
    assert r.status_code == 200, r.text
    return dict(r.json())


def all_case_ids(server: Server) -> list[str]:
    return [c["id"] for c in server.get("/cases", "supervisor", limit=200).json()["items"]]


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(CHINA_TZ)


# --- bad input names the field, and stores nothing ----------------------------------------------


BAD_CASES: list[tuple[dict[str, Any], str]] = [
    ({"category": None}, "category"),
    ({"category": "no_such_matter"}, "category"),
    ({"location": {"lat": 123, "lon": 116.49}}, "location.lat"),
    ({"location": {"lat": 35.73, "lon": 200}}, "location.lon"),
    ({"description": "长" * 4001}, "description"),
    ({"description": "   "}, "description"),
    ({"town_code": "atlantis"}, "town_code"),
    ({"site_code": "P99"}, "site_code"),
    ({"source": "pigeon"}, "source"),
    ({"first_contact_department": "nope"}, "first_contact_department"),
    ({"id": "short"}, "id"),
]


def test_a_case_with_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    server: Server,
) -> None:
    existing = record(server)["id"]
    got: list[tuple[int, str, str]] = []
    for overrides, _ in BAD_CASES:
        r = server.post("/cases", "inspector", case_body(**overrides))
        got.append((r.status_code, r.json()["detail"].get("field"), r.json()["detail"]["code"]))
    assert got == [(422, field, "invalid_input") for _, field in BAD_CASES]
    assert all_case_ids(server) == [existing]


def test_the_server_stores_the_number_the_phone_printed_with_the_county_date(
    server: Server,
) -> None:
    case_id = str(uuid.uuid4())
    recorded = (T0 - timedelta(hours=2)).astimezone(UTC)  # 07:00 in the county, 23:00 UTC before
    stored = record(server, id=case_id, recorded_at=recorded.isoformat())
    assert stored["number"] == case_number(case_id, recorded)
    assert stored["number"].startswith(f"YX{T0:%y%m%d}-")


def test_a_case_id_can_be_recorded_only_once(server: Server) -> None:
    first = record(server)
    r = server.post("/cases", "inspector", case_body(id=first["id"], description="再次上传"))
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "id"
    assert detail(server, first["id"])["description"] == first["description"]
    assert len(detail(server, first["id"])["events"]) == 1


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"bbox": "35.70,116.45,35.76"}, "bbox"),
    ({"bbox": "north,west,south,east"}, "bbox"),
    ({"due_before": "2026-11-10T10:00:00"}, "due_before"),  # no time zone
    ({"due_before": "next tuesday"}, "due_before"),
    ({"status": "lost"}, "status"),
    ({"limit": 0}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
]


def test_a_bad_list_query_is_refused_naming_the_parameter(server: Server) -> None:
    got = []
    for params, _ in BAD_QUERIES:
        r = server.get("/cases", "supervisor", **params)
        got.append((r.status_code, r.json()["detail"].get("field")))
    assert got == [(422, field) for _, field in BAD_QUERIES]


def _assigned(server: Server) -> dict[str, Any]:
    case = record(server)
    return act(server, "inspector", case["id"], "assign")


def _handled(server: Server) -> dict[str, Any]:
    case = _assigned(server)
    for action in ("accept", "start-handling", "report-back"):
        act(server, "zhzf_handler", case["id"], action)
    return detail(server, case["id"])


NEEDS_REASON = [
    ("assigned", "zhzf_handler", "return"),
    ("handled", "supervisor", "send-back"),
    ("assigned", "supervisor", "suspend"),
    ("assigned", "supervisor", "cancel"),
    ("assigned", "zhzf_handler", "raise-dispute"),
]


def test_an_action_that_needs_a_reason_is_refused_without_one_and_changes_nothing(
    server: Server,
) -> None:
    assigned, handled = _assigned(server), _handled(server)
    got = []
    for state, user, action in NEEDS_REASON:
        case = assigned if state == "assigned" else handled
        before = detail(server, case["id"])
        for reason in ("", "   "):
            body: dict[str, Any] = {"reason": reason, "note": "附言", "photos": []}
            r = server.post(f"/cases/{case['id']}/{action}", user, body)
            got.append((action, reason, r.status_code, r.json()["detail"].get("field")))
        assert detail(server, case["id"]) == before, action
    assert got == [
        (action, reason, 422, "reason") for _, _, action in NEEDS_REASON for reason in ("", "   ")
    ]


def test_a_bad_location_on_an_action_is_refused_and_changes_nothing(server: Server) -> None:
    case = _assigned(server)
    before = detail(server, case["id"])
    r = server.post(
        f"/cases/{case['id']}/accept", "zhzf_handler", {"where": {"lat": 123, "lon": 116.4}}
    )
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "where.lat"
    assert detail(server, case["id"]) == before


def test_an_assignment_override_without_a_reason_is_refused(server: Server) -> None:
    case = record(server)
    before = detail(server, case["id"])
    r = server.post(f"/cases/{case['id']}/assign", "inspector", {"lead_department": "zj"})
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "override_reason"
    assert detail(server, case["id"]) == before
    overridden = act(
        server,
        "inspector",
        case["id"],
        "assign",
        lead_department="zj",
        assisting=[],
        override_reason="小区配建停车场，由住建局主办",
    )
    assert overridden["lead_department"] == "zj"
    assert overridden["events"][-1]["data"]["proposed_lead"] == "zhzf"


# --- 409: the lifecycle forbids it now ----------------------------------------------------------


def test_a_transition_the_lifecycle_forbids_is_a_conflict_that_says_why(server: Server) -> None:
    case = record(server)
    before = detail(server, case["id"])
    r = server.post(f"/cases/{case['id']}/close", "supervisor", {})
    assert r.status_code == 409
    body = r.json()["detail"]
    assert body["code"] == "wrong_status"
    assert "discovered" in body["reason"] and "close" in body["reason"]
    assert detail(server, case["id"]) == before


def test_suspending_twice_or_resuming_a_running_case_is_a_conflict(server: Server) -> None:
    case = _assigned(server)
    r = server.post(f"/cases/{case['id']}/resume", "supervisor", {})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "not_suspended"
    act(server, "supervisor", case["id"], "suspend", reason="等待法院裁定")
    before = detail(server, case["id"])
    r = server.post(f"/cases/{case['id']}/suspend", "coordinator", {"reason": "再次中止"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "suspended"
    assert detail(server, case["id"]) == before


def test_merging_into_a_case_that_does_not_exist_is_refused(server: Server) -> None:
    case = record(server)
    before = detail(server, case["id"])
    for target in (str(uuid.uuid4()), case["id"]):
        r = server.post(f"/cases/{case['id']}/merge", "supervisor", {"duplicate_of": target})
        assert r.status_code == 422
        assert r.json()["detail"]["field"] == "duplicate_of"
    assert detail(server, case["id"]) == before
    other = record(server)
    merged = act(server, "supervisor", case["id"], "merge", duplicate_of=other["id"])
    assert (merged["status"], merged["duplicate_of"]) == ("merged", other["id"])


# --- return to first contact: the lead's clock stops, the first contact's re-routing clock runs


def test_a_returned_case_goes_back_to_the_first_contact_department_with_a_clock_to_reroute_it(
    server: Server,
) -> None:
    case = record(server, "rx_handler", source="hotline")
    assigned = act(server, "rx_handler", case["id"], "assign")
    assert (assigned["lead_department"], assigned["owner_department"]) == ("zhzf", "rx")
    assert assigned["due_at"] is not None
    assert assigned["reroute_due_at"] is None

    server.clock.now += timedelta(hours=2)  # Monday 11:00
    returned = act(server, "zhzf_handler", case["id"], "return", reason="非本部门职责")
    assert returned["status"] == "discovered"
    assert returned["owner_department"] == "rx"  # "not ours" is never an end state
    assert returned["lead_department"] is None
    assert returned["assisting"] == []
    assert returned["return_count"] == 1
    assert returned["assigned_at"] is None and returned["due_at"] is None
    assert returned["acceptance_due_at"] is None
    assert returned["events"][-1]["kind"] == "CaseReturned"
    assert returned["events"][-1]["data"]["reason"] == "非本部门职责"
    assert returned["events"][-1]["data"]["returned_by"] == "zhzf"
    # rules.toml [deadlines]: 1 working day → 17:30 on the next working day (Tuesday)
    reroute_by = datetime(2026, 11, 3, 17, 30, tzinfo=CHINA_TZ)
    assert local(returned["reroute_due_at"]) == reroute_by
    assert returned["events"][-1]["data"]["reroute_due_at"] == reroute_by.isoformat()

    # the former lead no longer sees it; the first contact does and must route it again
    assert server.get(f"/cases/{case['id']}", "zhzf_handler").status_code == 404
    assert "assign" in server.get(f"/cases/{case['id']}", "rx_handler").json()["allowed_actions"]

    # in time it is not overdue; past the re-routing deadline it is, on the case and the list
    server.clock.now = reroute_by
    assert detail(server, case["id"])["overdue"] is False
    assert server.get("/cases", "supervisor", overdue=True).json()["items"] == []
    server.clock.now = datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ)
    assert detail(server, case["id"])["overdue"] is True
    listed = server.get("/cases", "supervisor", overdue=True).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]

    # routed again, a new clock starts from the new assignment; the re-routing clock is done
    again = act(server, "rx_handler", case["id"], "assign")
    assert local(again["assigned_at"]) == server.clock.now
    assert local(again["due_at"]) > server.clock.now
    assert again["return_count"] == 1
    assert again["reroute_due_at"] is None and again["overdue"] is False


# --- suspension moves the deadline -------------------------------------------------------------


def test_suspend_and_resume_move_the_deadline_by_the_working_time_suspended(
    server: Server,
) -> None:
    # parking: 10 working days. Assigned Mon 2 Nov 09:00 → due at 17:30 on the 10th working
    # day after 2 Nov: 3,4,5,6, 9,10,11,12,13, 16 Nov → Mon 16 Nov 17:30.
    case = _assigned(server)
    assert local(case["due_at"]) == datetime(2026, 11, 16, 17, 30, tzinfo=CHINA_TZ)

    server.clock.now = T0 + timedelta(hours=1)  # Mon 10:00
    suspended = act(server, "supervisor", case["id"], "suspend", reason="等待产权资料")
    assert suspended["suspended"] is True and suspended["status"] == "assigned"

    # while suspended, even far past the old due time, the case is not overdue
    server.clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=CHINA_TZ)
    assert detail(server, case["id"])["overdue"] is False
    assert server.get("/cases", "supervisor", overdue=True).json()["items"] == []

    # resumed Fri 20 Nov 10:00. Working time suspended: Mon 2 Nov 10:00–17:30 (6 h), the 13
    # working days 3–19 Nov, Fri 20 Nov 08:30–10:00 (1.5 h) = 14 working days of 7.5 h.
    # 16 Nov 17:30 + 14 working days (17–20, 23–27, 30 Nov, 1–4 Dec) → Fri 4 Dec 17:30.
    resumed = act(server, "supervisor", case["id"], "resume")
    assert resumed["suspended"] is False
    assert local(resumed["due_at"]) == datetime(2026, 12, 4, 17, 30, tzinfo=CHINA_TZ)
    assert resumed["overdue"] is False
    assert [e["kind"] for e in resumed["events"]][-2:] == ["CaseSuspended", "CaseResumed"]


def test_a_suspension_of_one_working_day_moves_the_deadline_by_one_working_day(
    server: Server,
) -> None:
    case = _assigned(server)
    server.clock.now = T0 + timedelta(hours=1)  # Mon 2 Nov 10:00
    act(server, "coordinator", case["id"], "suspend", reason="联合会商")
    server.clock.now = T0 + timedelta(days=1, hours=1)  # Tue 3 Nov 10:00: 7.5 working hours
    resumed = act(server, "coordinator", case["id"], "resume")
    assert local(resumed["due_at"]) == datetime(2026, 11, 17, 17, 30, tzinfo=CHINA_TZ)


def test_a_suspension_over_a_weekend_only_counts_its_working_hours(server: Server) -> None:
    case = _assigned(server)
    server.clock.now = datetime(2026, 11, 6, 17, 0, tzinfo=CHINA_TZ)  # Fri 17:00
    act(server, "supervisor", case["id"], "suspend", reason="等待检测报告")
    server.clock.now = datetime(2026, 11, 9, 9, 0, tzinfo=CHINA_TZ)  # Mon 09:00
    resumed = act(server, "supervisor", case["id"], "resume")
    # Fri 17:00–17:30 and Mon 08:30–09:00 = 1 working hour: 16 Nov 17:30 → 17 Nov 09:30
    assert local(resumed["due_at"]) == datetime(2026, 11, 17, 9, 30, tzinfo=CHINA_TZ)


# --- list filters and pages --------------------------------------------------------------------


def _ids(server: Server, **params: Any) -> set[str]:
    r = server.get("/cases", "supervisor", **params)
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()["items"]}


def test_the_list_filters_by_status_department_category_town_place_and_deadline(
    server: Server,
) -> None:
    wenshang_parking = record(server, location={"lat": P02.lat, "lon": P02.lon})["id"]
    zhongdu_parking = record(server, location={"lat": P03.lat, "lon": P03.lon})["id"]
    zhongdu_water = record(
        server, category="waterlogging", location={"lat": W03.lat, "lon": W03.lon}
    )["id"]
    act(server, "inspector", zhongdu_parking, "assign")  # zhzf, 10 working days
    act(server, "inspector", zhongdu_water, "assign")  # zhzf with sw, 24 working hours
    everything = {wenshang_parking, zhongdu_parking, zhongdu_water}

    assert _ids(server) == everything
    assert _ids(server, status="discovered") == {wenshang_parking}
    assert _ids(server, status="assigned") == {zhongdu_parking, zhongdu_water}
    assert _ids(server, status="closed") == set()
    assert _ids(server, department="zhzf") == {zhongdu_parking, zhongdu_water}
    assert _ids(server, department="sw") == {zhongdu_water}  # assisting counts
    assert _ids(server, department="shzl") == everything  # first contact counts
    assert _ids(server, category="waterlogging") == {zhongdu_water}
    assert _ids(server, town="zhongdu") == {zhongdu_parking, zhongdu_water}
    assert _ids(server, town="wenshang") == {wenshang_parking}
    assert _ids(server, category="parking", town="zhongdu") == {zhongdu_parking}

    # a box around 汶上街道's lot P02 only
    box = f"{P02.lat - 0.002},{P02.lon - 0.002},{P02.lat + 0.002},{P02.lon + 0.002}"
    assert _ids(server, bbox=box) == {wenshang_parking}
    county = "35.60,116.33,35.87,116.66"
    assert _ids(server, bbox=county) == everything

    # 24 working hours from Mon 09:00 → Thu 5 Nov 10:30; 10 working days → Mon 16 Nov 17:30
    assert _ids(server, due_before="2026-11-06T00:00:00+08:00") == {zhongdu_water}
    assert _ids(server, due_before="2026-11-17T00:00:00+08:00") == {zhongdu_parking, zhongdu_water}
    assert _ids(server, due_before="2026-11-05T10:00:00+08:00") == set()

    assert _ids(server, overdue=True) == set()
    server.clock.now = datetime(2026, 11, 6, 9, 0, tzinfo=CHINA_TZ)
    assert _ids(server, overdue=True) == {zhongdu_water}
    assert _ids(server, overdue=True, department="sw") == {zhongdu_water}
    assert _ids(server, overdue=True, category="parking") == set()
    server.clock.now = datetime(2026, 11, 17, 9, 0, tzinfo=CHINA_TZ)
    assert _ids(server, overdue=True) == {zhongdu_parking, zhongdu_water}


def _pages(server: Server, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = server.get("/cases", "supervisor", **params)
        assert r.status_code == 200, r.text
        pages.append([c["id"] for c in r.json()["items"]])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "the cursor never ends"


def test_pages_of_three_walk_seven_cases_newest_first_without_repeats(server: Server) -> None:
    created: list[str] = []
    for i in range(7):
        server.clock.now = T0 + timedelta(minutes=i)
        created.append(record(server, description=f"第{i + 1}件")["id"])
    pages = _pages(server, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [case_id for page in pages for case_id in page]
    assert flat == list(reversed(created))


def test_pages_do_not_skip_or_repeat_cases_recorded_at_the_same_instant(server: Server) -> None:
    created = {record(server, description="同一时刻")["id"] for _ in range(7)}
    pages = _pages(server, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [case_id for page in pages for case_id in page]
    assert len(flat) == len(set(flat)) == 7
    assert set(flat) == created
    assert flat == sorted(created, reverse=True)  # ties are broken by id, descending


def test_pages_follow_the_filters(server: Server) -> None:
    for i in range(5):
        server.clock.now = T0 + timedelta(minutes=i)
        record(server, category="parking" if i % 2 else "waterlogging")
    r = server.get("/cases", "supervisor", category="waterlogging", limit=2)
    first = r.json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    r = server.get(
        "/cases", "supervisor", category="waterlogging", limit=2, cursor=first["next_cursor"]
    )
    second = r.json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert {c["category"] for c in first["items"] + second["items"]} == {"waterlogging"}


# --- the history is append-only, in the database itself -----------------------------------------


def test_events_cannot_be_updated_or_deleted_even_through_the_database_engine(
    server: Server,
) -> None:
    case = _assigned(server)
    before = detail(server, case["id"])["events"]
    assert [e["kind"] for e in before][:2] == ["CaseCreated", "CaseAssigned"]
    engine = make_engine(server.url)
    try:
        for statement in (
            "UPDATE case_event SET kind = 'Tampered' WHERE case_id = :id",
            "DELETE FROM case_event WHERE case_id = :id",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement), {"id": case["id"]})
        # appending is still allowed: the history grows through the API
        act(server, "zhzf_handler", case["id"], "accept")
    finally:
        engine.dispose()
    after = detail(server, case["id"])["events"]
    assert after[: len(before)] == before
    assert after[-1]["kind"] == "CaseAccepted"


def test_every_step_is_an_event_with_who_when_where(server: Server) -> None:
    case = record(server)
    server.clock.now = T0 + timedelta(minutes=5)
    where = {"lat": P02.lat + 0.0001, "lon": P02.lon}
    done = act(server, "inspector", case["id"], "assign", where=where, note="现场交办")
    event = next(e for e in done["events"] if e["kind"] == "CaseAssigned")
    assert event["actor_department"] == "shzl"
    assert local(event["at"]) == T0 + timedelta(minutes=5)
    assert (event["lat"], event["lon"]) == (where["lat"], where["lon"])
    assert event["data"]["note"] == "现场交办"
    assert event["status_after"] == "assigned"
    assert [e["seq"] for e in done["events"]] == list(range(1, len(done["events"]) + 1))
