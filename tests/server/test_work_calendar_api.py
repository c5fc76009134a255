"""Holidays are data: an administrator enters a year's holidays and make-up working days; every
deadline is computed on them; a year not entered counts weekends only and says so on the case,
the list, the proposal and the phone's reference data. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from server.demo_data import SITES
from sync.clock import CHINA_TZ
from tests.conftest import Server
from tests.server.test_sync_withdrawal import Phone

LOT = next(s for s in SITES if s.code == "P02").location  # a parking lot in 汶上街道
CHRISTMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=CHINA_TZ)  # Thursday
YEAR_2027: dict[str, Any] = {
    "holidays": [
        {"date": "2027-01-01", "name": "元旦"},
        {"date": "2027-01-02", "name": "元旦"},
        {"date": "2027-01-03", "name": "元旦"},
    ],
    "workdays": [],
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
}


def parking_assigned(server: Server) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场出入口堵塞",
        "location": {"lat": LOT.lat, "lon": LOT.lon},
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    r = server.post(f"/cases/{body['id']}/assign", "inspector", {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def put_2027(server: Server, user: str = "admin", body: dict[str, Any] | None = None) -> Any:
    return server.client.put(
        "/reference/work-calendar/2027", json=body or YEAR_2027, headers=server.login(user)
    )


def listed(server: Server, case_id: str) -> dict[str, Any]:
    items = server.get("/cases", "inspector").json()["items"]
    return next(c for c in items if c["id"] == case_id)


def test_new_year_2027_is_a_holiday_once_the_administrator_enters_2027(server: Server) -> None:
    server.clock.now = CHRISTMAS_EVE
    # 10 working days from Thu 24 Dec: with 元旦 a working day, Thu 7 Jan 2027
    before = parking_assigned(server)
    assert datetime.fromisoformat(before["due_at"]) == datetime(2027, 1, 7, 17, 30, tzinfo=CHINA_TZ)

    r = put_2027(server)
    assert r.status_code == 200, r.text
    assert r.json()["entered_by"] == server.get("/auth/me", "admin").json()["id"]

    after = parking_assigned(server)  # 1 Jan 2027 is a holiday now: Fri 8 Jan
    assert datetime.fromisoformat(after["due_at"]) == datetime(2027, 1, 8, 17, 30, tzinfo=CHINA_TZ)
    assert after["deadline_note"] is None
    assert listed(server, after["id"])["deadline_note"] is None
    proposal = server.get("/boundary/proposal", "inspector", category="parking", site_code="P02")
    assert proposal.json()["deadline_note"] is None


def test_a_year_not_entered_says_so_on_the_case_the_list_and_the_proposal(
    server: Server,
) -> None:
    server.clock.now = CHRISTMAS_EVE
    case = parking_assigned(server)
    for shown in (
        case,
        server.get(f"/cases/{case['id']}", "zhzf_handler").json(),
        listed(server, case["id"]),
        server.get("/boundary/proposal", "inspector", category="parking", site_code="P02").json(),
    ):
        assert shown["deadline_note"] is not None
        assert "2027年节假日未录入" in shown["deadline_note"]
        assert "weekends only" in shown["deadline_note"]


def test_the_phone_receives_the_calendar_and_again_when_a_year_is_entered(
    server: Server,
) -> None:
    phone = Phone(server, "inspector")
    first = phone.pull()
    years = [y["year"] for y in first["reference"]["work_calendar"]]
    assert 2026 in years and 2027 not in years
    assert phone.pull()["reference"] is None  # nothing changed: not sent again
    assert put_2027(server).status_code == 200
    again = phone.pull()["reference"]
    assert again is not None
    entered = next(y for y in again["work_calendar"] if y["year"] == 2027)
    assert entered["holidays"] == ["2027-01-01", "2027-01-02", "2027-01-03"]


def test_administrators_are_warned_from_1_november_that_next_years_calendar_is_missing(
    server: Server,
) -> None:
    server.clock.now = datetime(2026, 10, 31, 12, 0, tzinfo=CHINA_TZ)
    october = server.get("/reference/work-calendar", "admin").json()
    assert october["missing_years"] == [] and october["warning"] is None
    assert 2026 in [y["year"] for y in october["years"]]

    server.clock.now = datetime(2026, 11, 1, 9, 0, tzinfo=CHINA_TZ)
    november = server.get("/reference/work-calendar", "admin").json()
    assert november["missing_years"] == [2027]
    assert "2027" in november["warning"]

    assert put_2027(server).status_code == 200
    entered = server.get("/reference/work-calendar", "admin").json()
    assert entered["missing_years"] == [] and entered["warning"] is None


@pytest.mark.parametrize("user", ["coordinator", "inspector", "zhzf_handler", "supervisor"])
def test_only_an_administrator_enters_or_lists_the_calendar(server: Server, user: str) -> None:
    assert put_2027(server, user).status_code == 403
    assert server.get("/reference/work-calendar", user).status_code == 403
    years = [y["year"] for y in server.get("/reference/work-calendar", "admin").json()["years"]]
    assert 2027 not in years


def _with(**changes: Any) -> dict[str, Any]:
    return {**YEAR_2027, **changes}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(holidays=[{"date": "2027-13-01"}]), "holidays[0].date"),  # not a date
        (_with(holidays=[{"date": "2026-12-31"}]), "holidays[0].date"),  # not in 2027
        (_with(workdays=[{"date": "2027-01-04"}]), "workdays[0].date"),  # a Monday
        (_with(workdays=[{"date": "2027-01-02"}]), "workdays[0].date"),  # also a holiday
        (
            _with(holidays=[{"date": "2027-01-01"}, {"date": "2027-01-01"}]),
            "holidays[1].date",
        ),
        (_with(source="  "), "source"),
    ],
)
def test_a_bad_calendar_is_refused_naming_the_field_and_keeps_what_was_stored(
    server: Server, body: dict[str, Any], field: str
) -> None:
    r = put_2027(server, body=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == field
    years = [y["year"] for y in server.get("/reference/work-calendar", "admin").json()["years"]]
    assert 2027 not in years
    r = server.client.put(
        "/reference/work-calendar/1999", json=YEAR_2027, headers=server.login("admin")
    )
    assert r.status_code == 422 and r.json()["detail"]["field"] == "year"


def test_a_year_entered_again_applies_as_last_entered(
    server: Server,
) -> None:
    server.clock.now = CHRISTMAS_EVE
    assert put_2027(server, body=_with(holidays=[])).status_code == 200
    assert put_2027(server).status_code == 200
    after = parking_assigned(server)
    assert datetime.fromisoformat(after["due_at"]) == datetime(2027, 1, 8, 17, 30, tzinfo=CHINA_TZ)
    years = server.get("/reference/work-calendar", "admin").json()["years"]
    assert [len(y["holidays"]) for y in years if y["year"] == 2027] == [3]
