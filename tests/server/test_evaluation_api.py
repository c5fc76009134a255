"""Scoring runs, drill-down, Excel export, hotspots and the dashboard through the HTTP API."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from openpyxl import load_workbook

from server.demo_data import SITES
from server.evaluation.excel import DEDUCTIONS_SHEET, RANKING_SHEET
from sync.clock import CHINA_TZ
from tests.conftest import Server

LOT = next(s for s in SITES if s.kind == "parking_lot").location


def parking_case(server: Server, north_m: float = 0.0) -> str:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场无人管理",
        "location": {"lat": LOT.lat + north_m / 110_950, "lon": LOT.lon},
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    r = server.post(f"/cases/{case_id}/assign", "inspector")
    assert r.status_code == 200, r.text
    return case_id


def close(server: Server, case_id: str) -> None:
    case = server.get(f"/cases/{case_id}", "supervisor").json()
    on_site = {"lat": case["lat"], "lon": case["lon"]}  # the after photo taken at the case
    for user, action, body in (
        ("zhzf_handler", "accept", {}),
        ("zhzf_handler", "start-handling", {}),
        ("zhzf_handler", "report-back", {"photos": ["a" * 64], "where": on_site}),
        ("supervisor", "close", {}),
    ):
        r = server.post(f"/cases/{case_id}/{action}", user, body)
        assert r.status_code == 200, r.text


def november_with_one_late_case(server: Server) -> tuple[list[str], str]:
    """Three parking cases assigned Mon 2 Nov (10 working days → due 16 Nov): two closed on
    time, one never closed."""
    cases = [parking_case(server, 10.0 * i) for i in range(3)]
    due = server.get(f"/cases/{cases[0]}", "supervisor").json()["due_at"]
    assert datetime.fromisoformat(due).astimezone(CHINA_TZ).date().isoformat() == "2026-11-16"
    server.clock.now += timedelta(days=2)
    close(server, cases[0])
    close(server, cases[2])
    server.clock.now = datetime(2026, 12, 2, 9, tzinfo=CHINA_TZ)
    server._tokens.clear()  # a month later: sign in again
    return cases, cases[1]


def test_a_monthly_run_ranks_and_links_every_lost_point_to_its_case(server: Server) -> None:
    _, late = november_with_one_late_case(server)
    r = server.post("/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["period_label"] == "2026-11" and run["high_water_mark"] > 0
    rows = {d["department"]: d for d in run["departments"]}
    assert len(rows) >= 48  # every department is listed
    zhzf = {i["name"]: i for i in rows["zhzf"]["indicators"]}
    # on time: 2 of 3 → 30 × 1/3 = 10 points; closure: 2 of 3 → 20 × 1/3 ≈ 6.6667
    assert zhzf["on_time_rate"]["value"] == round(2 / 3, 6)
    assert zhzf["on_time_rate"]["points"] == -10.0
    assert zhzf["closure_rate"]["points"] == round(-20 / 3, 4)
    assert rows["zhzf"]["score"] == round(100 - 10 - 20 / 3, 4)
    assert rows["zhzf"]["ranked"] is False  # 3 cases < min_cases 5
    assert rows["zhzf"]["name"] == "汶上县综合行政执法局"

    detail = server.get(f"/evaluation/runs/{run['id']}/departments/zhzf", "supervisor").json()
    links = [link for i in detail["indicators"] for link in i["links"]]
    assert {link["case_id"] for link in links} == {late}
    number = server.get(f"/cases/{late}", "supervisor").json()["number"]
    assert all(link["case_number"] == number for link in links)
    assert round(sum(link["points"] for link in links), 4) == round(detail["score"] - 100, 4)


def test_a_handler_sees_only_its_own_department_and_cannot_start_a_run(server: Server) -> None:
    november_with_one_late_case(server)
    run = server.post(
        "/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11}
    ).json()
    own = server.get(f"/evaluation/runs/{run['id']}", "zhzf_handler").json()
    assert [d["department"] for d in own["departments"]] == ["zhzf"]
    assert (
        server.get(f"/evaluation/runs/{run['id']}/departments/zhzf", "zhzf_handler").status_code
        == 200
    )
    assert (
        server.get(f"/evaluation/runs/{run['id']}/departments/sw", "zhzf_handler").status_code
        == 404
    )
    r = server.post("/evaluation/runs", "zhzf_handler", {"kind": "year", "year": 2026})
    assert r.status_code == 403
    assert (
        server.get(f"/evaluation/runs/{run['id']}/export.xlsx", "zhzf_handler").status_code == 403
    )


def test_a_stored_run_reproduces_its_numbers_after_new_events(server: Server) -> None:
    _, late = november_with_one_late_case(server)
    run = server.post(
        "/evaluation/runs", "supervisor", {"kind": "quarter", "year": 2026, "number": 4}
    ).json()
    close(server, late)  # new events after the run
    again = server.get(f"/evaluation/runs/{run['id']}/reproduce", "supervisor").json()
    assert again == {"same": True, "differs_for": [], "high_water_mark": run["high_water_mark"]}
    fresh = server.post(
        "/evaluation/runs", "supervisor", {"kind": "quarter", "year": 2026, "number": 4}
    ).json()
    assert fresh["high_water_mark"] > run["high_water_mark"]


def test_the_excel_export_reads_back_with_the_ranking_and_each_deduction(server: Server) -> None:
    _, late = november_with_one_late_case(server)
    run = server.post(
        "/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11}
    ).json()
    r = server.get(f"/evaluation/runs/{run['id']}/export.xlsx", "supervisor")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ranking = list(wb[RANKING_SHEET].iter_rows(values_only=True))
    header, body = ranking[0], ranking[1:]
    row = next(x for x in body if x[1] == "zhzf")
    expected = next(d for d in run["departments"] if d["department"] == "zhzf")["score"]
    assert row[header.index("得分 score")] == expected
    assert len(body) == len(run["departments"])
    deductions = list(wb[DEDUCTIONS_SHEET].iter_rows(values_only=True))[1:]
    number = server.get(f"/cases/{late}", "supervisor").json()["number"]
    assert {(d[0], d[3]) for d in deductions} == {("zhzf", number)}
    assert round(sum(d[5] for d in deductions), 4) == round(expected - 100, 4)


def test_dashboard_figures_and_hotspots_for_the_supervisor(server: Server) -> None:
    cases, late = november_with_one_late_case(server)
    on_time = server.get(
        "/evaluation/dashboard/on-time", "supervisor", kind="month", year=2026, number=11
    ).json()
    row = next(d for d in on_time["departments"] if d["department"] == "zhzf")
    assert (row["due"], row["late"], row["rate"]) == (3, 1, 2 / 3)
    own = server.get("/evaluation/dashboard/on-time", "sw_handler", year=2026, number=11).json()
    assert [d["department"] for d in own["departments"]] == ["sw"]

    series = server.get(
        "/evaluation/dashboard/cases-over-time",
        "supervisor",
        start="2026-11-01T00:00:00+08:00",
        end="2026-12-01T00:00:00+08:00",
        bucket="week",
    ).json()
    assert series["buckets"][-1]["counts"] == {"closed": 2, "assigned": 1}

    spots = server.get(
        "/evaluation/hotspots", "supervisor", start="2026-11-01T00:00:00+08:00", min_reports=3
    ).json()
    assert spots["total"] == 1
    assert sorted(spots["hotspots"][0]["case_ids"]) == sorted(cases)
    assert server.get("/evaluation/hotspots", "zhzf_handler").status_code == 403

    # the problem at a closed case's place is reported again: "fast reply, no real fix"
    r = server.post(
        "/cases",
        "inspector",
        {
            "id": str(uuid.uuid4()),
            "category": "parking",
            "description": "又乱停了",
            "location": {"lat": LOT.lat + 5 / 110_950, "lon": LOT.lon},
        },
    )
    assert r.status_code == 201, r.text
    again = r.json()["id"]
    repeats = server.get(
        "/evaluation/repeat-complaints", "supervisor", start="2026-11-01T00:00:00+08:00"
    ).json()["departments"]
    assert [d["department"] for d in repeats] == ["zhzf"]
    later = {x["id"] for c in repeats[0]["cases"] for x in c["later"]}
    assert again in later and late not in later
