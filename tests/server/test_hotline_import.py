"""12345 hotline import through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import random
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from server.data import hotline as hotline_data
from server.db import make_engine
from server.demo_data import SITES
from server.evaluation import grid as grid_module
from server.evaluation.grid import GridIndex
from server.hotline.reader import read_sheet
from server.hotline.tickets import match_category
from server.models import Case, CaseEvent, User
from server.models.evaluation import HotlineTicket
from server.services import hotline as hotline_service
from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.events import CASE_CREATED, HOTLINE_TICKET_LINKED
from sync.geo import distance_m
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import T0, Server

PHONE = "13905371234"  # a caller's number: it must not be stored anywhere
LOT = next(s for s in SITES if s.kind == "parking_lot").location
HEADER = "工单编号,受理时间,所属区域,事发地址,纬度,经度,诉求类别,诉求内容,联系电话,备注"


def upload(server: Server, user: str, data: bytes, name: str = "export.csv") -> httpx.Response:
    return server.client.post(
        "/hotline/imports", files={"file": (name, data)}, headers=server.login(user)
    )


def messy_gbk_file() -> bytes:
    rows = [
        HEADER,
        f"RX-001,2026-10-30 09:15,汶上街道,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,车辆乱停,"
        f"{PHONE},",
        # 2 m from RX-001's place: joins the case RX-001 became
        f"RX-002,2026/10/30 10:00,,尚书路停车场,{LOT.lat + 0.00002},{LOT.lon},停车,又有人乱停,,",
        "RX-003,2026-13-45 25:00,,,,,积水,雨后积水,,",  # bad date
        "RX-004,2026-10-30 11:00,,,,,拖欠工资,,,",  # no content
        "RX-005,2026-10-30 11:30,,,,,宠物美容,店铺收费高,,",  # no matter matches
        f"RX-001,2026-10-30 09:15,汶上街道,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,重复行,,",
        "RX-006,2026-10-31,中都街道,,35.73,,路灯,路灯不亮,,",  # lat without lon
        "RX-007,2026年10月31日 8:05,汶上街道,某工地,,,欠薪,工地拖欠农民工工资,,",
        "",
        "RX-008,2026-12-01 08:00,,,,,积水,来自未来,,",  # after now (T0 = 2026-11-02)
    ]
    return "\r\n".join(rows).encode("gbk")


def test_a_messy_gbk_export_keeps_good_rows_and_reports_every_bad_row(server: Server) -> None:
    r = upload(server, "rx_handler", messy_gbk_file())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["encoding"] == "gbk"
    # 9 data rows (the blank line is not a row): 3 created or linked, 1 duplicate, 5 errors
    assert body["total_rows"] == 9
    assert (body["created_cases"], body["linked"], body["duplicates"], body["errors"]) == (
        2,
        1,
        1,
        5,
    )
    assert body["total_rows"] == (
        body["created_cases"] + body["linked"] + body["duplicates"] + body["errors"]
    )
    problems = {p["row"]: p for p in body["problems"]}
    assert sorted(problems) == [4, 5, 6, 7, 8, 11]
    assert "received_at" in problems[4]["reason"]
    assert "content" in problems[5]["reason"]
    assert "宠物美容" in problems[6]["reason"]
    assert problems[7]["kind"] == "duplicate" and "row 2" in problems[7]["reason"]
    assert "lat and lon" in problems[8]["reason"]
    assert "future" in problems[11]["reason"]

    detail = server.get(f"/hotline/imports/{body['id']}", "supervisor").json()
    tickets = {t["ticket_no"]: t for t in detail["tickets"]}
    assert set(tickets) == {"RX-001", "RX-002", "RX-007"}
    assert tickets["RX-001"]["department"] == "zhzf"  # the boundary list's lead for parking
    assert tickets["RX-007"]["category"] == "unpaid_wages"
    assert tickets["RX-007"]["department"] == "rs"
    assert tickets["RX-002"]["outcome"] == "linked"
    assert tickets["RX-002"]["case_id"] == tickets["RX-001"]["case_id"]
    case = server.get(f"/cases/{tickets['RX-001']['case_id']}", "rx_handler").json()
    assert (case["first_contact_department"], case["source"], case["status"]) == (
        "rx",
        "hotline",
        "discovered",
    )
    assert case["owner_department"] == "rx"
    assert "RX-001" in case["description"]
    assert datetime.fromisoformat(case["created_at"]) == datetime(
        2026, 10, 30, 9, 15, tzinfo=CHINA_TZ
    )
    linked = server.get(f"/hotline/cases/{case['id']}/tickets", "rx_handler").json()
    assert [t["ticket_no"] for t in linked] == ["RX-001", "RX-002"]
    assert all(PHONE not in str(t) for t in linked)  # the caller's phone is not stored


def test_importing_the_same_file_again_creates_nothing_and_says_why(server: Server) -> None:
    data = messy_gbk_file()
    first = upload(server, "rx_handler", data).json()
    cases_before = server.get("/cases", "supervisor", limit=200).json()["items"]
    again = upload(server, "rx_handler", data)
    assert again.status_code == 201
    body = again.json()
    assert (body["created_cases"], body["linked"]) == (0, 0)
    assert body["duplicates"] == 4  # RX-001, -002, -007 already stored; RX-001 twice in file
    assert any(first["id"] in p["reason"] for p in body["problems"])
    assert server.get("/cases", "supervisor", limit=200).json()["items"] == cases_before


def test_a_ticket_joins_an_open_case_within_50_m_and_not_one_farther(server: Server) -> None:
    near = {"lat": LOT.lat + 0.0003, "lon": LOT.lon}  # ~33 m north
    r = server.post(
        "/cases",
        "inspector",
        {"id": str(uuid.uuid4()), "category": "parking", "description": "乱停", "location": near},
    )
    existing = r.json()["id"]
    rows = [
        HEADER,
        f"N-1,2026-11-01 08:00,,,{LOT.lat},{LOT.lon},停车场监管,乱停,,",  # matter name, 33 m
        f"N-2,2026-11-01 08:00,,,{LOT.lat + 0.002},{LOT.lon},parking,乱停,,",  # ~220 m
        f"N-3,2026-11-01 08:00,,,{LOT.lat},{LOT.lon},积水,积水,,",  # same place, other matter
    ]
    body = upload(server, "supervisor", "\n".join(rows).encode("utf-8-sig")).json()
    assert body["encoding"] == "utf-8"
    tickets = {
        t["ticket_no"]: t
        for t in server.get(f"/hotline/imports/{body['id']}", "supervisor").json()["tickets"]
    }
    assert tickets["N-1"]["case_id"] == existing and tickets["N-1"]["outcome"] == "linked"
    assert tickets["N-2"]["outcome"] == "created"
    assert tickets["N-3"]["outcome"] == "created"


def test_an_excel_export_with_real_dates_imports(server: Server) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["工单号", "来电时间", "事项", "内容"])
    ws.append([20261101001, datetime(2026, 11, 1, 14, 30), "城区积水点治理", "胡同积水"])
    ws.append([20261101002, "not a date", "积水", "胡同积水"])
    out = io.BytesIO()
    wb.save(out)
    body = upload(server, "rx_handler", out.getvalue(), "export.xlsx").json()
    assert body["encoding"] == "xlsx"
    assert (body["created_cases"], body["errors"]) == (1, 1)
    assert body["problems"][0]["row"] == 3
    ticket = server.get(f"/hotline/imports/{body['id']}", "rx_handler").json()["tickets"][0]
    assert ticket["ticket_no"] == "20261101001"  # not "20261101001.0"
    assert datetime.fromisoformat(ticket["received_at"]) == datetime(
        2026, 11, 1, 14, 30, tzinfo=CHINA_TZ
    )


def test_a_file_missing_a_required_column_is_refused_naming_it(server: Server) -> None:
    data = "工单编号,诉求类别,诉求内容\nX-1,积水,积水\n".encode()
    r = upload(server, "rx_handler", data)
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "file"
    assert "received_at" in r.json()["detail"]["reason"]


def test_an_empty_file_is_refused(server: Server) -> None:
    for data in (b"", b"\r\n  \r\n"):
        r = upload(server, "rx_handler", data)
        assert r.status_code == 422
        assert "empty" in r.json()["detail"]["reason"]


def test_only_supervisors_and_the_hotline_centre_import(server: Server) -> None:
    r = upload(server, "zhzf_handler", messy_gbk_file())
    assert r.status_code == 403
    assert server.get("/hotline/imports", "zhzf_handler").status_code == 404


def test_header_names_are_matched_in_english_too_and_extra_columns_are_ignored() -> None:
    sheet = read_sheet(
        b"ticket_no,received_at,category,content,colour\nA,2026-11-01,parking,x,red\n"
    )
    assert sheet.columns == ("ticket_no", "received_at", "category", "content")
    assert sheet.ignored_columns == ("colour",)
    assert sheet.rows[0].values["category"] == "parking"


def test_category_text_maps_by_key_matter_name_or_the_longest_synonym() -> None:
    categories = {
        "parking": "停车场监管",
        "street_lights": "路灯管理维护",
        "greening": "城区绿化管理",
    }
    assert match_category(["PARKING"], categories) == "parking"
    assert match_category(["路灯管理维护"], categories) == "street_lights"
    assert match_category(["小区路灯不亮"], categories) == "street_lights"
    assert match_category(["", "行道树歪倒"], categories) is None  # "树木" is not in "行道树"
    assert match_category(["城市管理"], categories) is None


# --- large files: chunked, fully evented, resumable --------------------------------------------

BIG_ROWS = 2500  # more than two chunks of CHUNK_ROWS


def big_file(rows: int = BIG_ROWS) -> bytes:
    """Every fifth ticket is a second call about the place of the ticket before it (it joins that
    case); the others are 200+ m apart, each a new case."""
    lines = [HEADER]
    place = 0
    for k in range(rows):
        if k % 5 != 4:
            place += 1
        lat = LOT.lat + (place // 40) * 0.002
        lon = LOT.lon + (place % 40) * 0.0025
        lines.append(
            f"B-{k:05d},2026-10-30 09:15,,某路{place}号,{lat:.6f},{lon:.6f},积水,积水 {k},,"
        )
    return "\n".join(lines).encode()


def engine_of(server: Server) -> Engine:
    return make_engine(server.url)


def user_id(server: Server, username: str) -> str:
    eng = engine_of(server)
    with Session(eng) as s:
        found = s.exec(select(User).where(User.username == username)).one().id
    eng.dispose()
    return found


def hotline_state(server: Server) -> dict[str, Any]:
    """Tickets, hotline cases and the events on the tickets' cases, read from the database."""
    eng = engine_of(server)
    with Session(eng) as s:
        tickets = list(s.exec(select(HotlineTicket)))
        cases = {c.id: c for c in s.exec(select(Case).where(Case.source == "hotline"))}
        events = list(
            s.exec(
                select(CaseEvent).where(
                    col(CaseEvent.kind).in_([CASE_CREATED, HOTLINE_TICKET_LINKED])
                )
            )
        )
    eng.dispose()
    of_tickets = {t.case_id for t in tickets}
    events = [e for e in events if e.case_id in of_tickets]
    return {"tickets": tickets, "cases": cases, "events": events}


def assert_every_ticket_left_its_event(server: Server, state: dict[str, Any], who: str) -> None:
    importer = user_id(server, who)
    created = {t.case_id: t for t in state["tickets"] if t.outcome == "created"}
    linked = [t for t in state["tickets"] if t.outcome == "linked"]
    by_kind: dict[str, list[CaseEvent]] = defaultdict(list)
    for e in state["events"]:
        by_kind[e.kind].append(e)
    assert sorted(e.case_id for e in by_kind[CASE_CREATED]) == sorted(created)
    assert sorted(e.data["ticket_no"] for e in by_kind[HOTLINE_TICKET_LINKED]) == sorted(
        t.ticket_no for t in linked
    )
    for e in state["events"]:
        assert (e.actor_user_id, e.actor_department, e.at) == (importer, "rx", T0)
        assert e.lat is not None and e.lon is not None
    links_per_case = Counter(t.case_id for t in linked)
    for case_id, case in state["cases"].items():
        assert case.version == 1 + links_per_case[case_id]
        seqs = sorted(e.seq for e in state["events"] if e.case_id == case_id)
        assert seqs == list(range(1, len(seqs) + 1))


def test_a_file_of_several_chunks_makes_one_case_per_new_place_each_with_its_events(
    server: Server,
) -> None:
    assert BIG_ROWS > 2 * hotline_service.CHUNK_ROWS
    body = upload(server, "rx_handler", big_file()).json()
    assert (body["created_cases"], body["linked"], body["duplicates"], body["errors"]) == (
        2000,
        500,
        0,
        0,
    )
    state = hotline_state(server)
    assert len(state["tickets"]) == BIG_ROWS
    assert len(state["cases"]) == 2000
    assert {t.case_id for t in state["tickets"]} == set(state["cases"])
    assert_every_ticket_left_its_event(server, state, "rx_handler")
    # one change number per chunk, in file order: a device pulling after chunk 1 sees the rest
    seq_of_row = {t.row_number: state["cases"][t.case_id].change_seq for t in state["tickets"]}
    seqs = [seq_of_row[r] for r in sorted(seq_of_row)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_importing_a_large_file_again_creates_nothing_new(server: Server) -> None:
    data = big_file()
    upload(server, "rx_handler", data)
    before = hotline_state(server)
    body = upload(server, "rx_handler", data).json()
    assert (body["created_cases"], body["linked"], body["duplicates"]) == (0, 0, BIG_ROWS)
    after = hotline_state(server)
    assert len(after["tickets"]) == BIG_ROWS
    assert len(after["events"]) == len(before["events"])
    assert {c.id: c.version for c in after["cases"].values()} == {
        c.id: c.version for c in before["cases"].values()
    }


def test_a_row_refused_by_the_server_rules_is_reported_and_the_others_are_kept(
    server: Server,
) -> None:
    # a case already holds the id ticket B-01500 would get: that row passes parsing, then fails
    far = {"lat": LOT.lat - 0.05, "lon": LOT.lon}
    r = server.post(
        "/cases",
        "inspector",
        {
            "id": hotline_service.case_id_for_ticket("B-01500"),
            "category": "parking",
            "description": "乱停",
            "location": far,
        },
    )
    assert r.status_code == 201, r.text
    body = upload(server, "rx_handler", big_file()).json()
    assert (body["created_cases"], body["linked"], body["errors"]) == (1999, 500, 1)
    [problem] = body["problems"]
    assert problem["row"] == 1502 and problem["ticket_no"] == "B-01500"
    assert "already exists" in problem["reason"]
    state = hotline_state(server)
    assert len(state["tickets"]) == BIG_ROWS - 1
    assert_every_ticket_left_its_event(server, state, "rx_handler")


def test_a_database_failure_mid_file_keeps_the_chunks_before_and_a_reimport_resumes(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = hotline_data.insert_tickets
    calls = {"n": 0}

    def failing_second_chunk(session: Session, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("INSERT INTO hotline_ticket", {}, Exception("disk I/O error"))
        real_insert(session, rows)

    monkeypatch.setattr(hotline_data, "insert_tickets", failing_second_chunk)
    data = big_file()
    first = upload(server, "rx_handler", data)
    assert first.status_code == 201, first.text
    body = first.json()
    chunk = hotline_service.CHUNK_ROWS
    assert body["created_cases"] + body["linked"] == chunk
    assert body["errors"] == BIG_ROWS - chunk
    assert [p["row"] for p in body["problems"]] == list(range(chunk + 2, BIG_ROWS + 2))
    assert all("import the file again to resume" in p["reason"] for p in body["problems"])
    assert len(hotline_state(server)["tickets"]) == chunk  # the first chunk stayed

    monkeypatch.setattr(hotline_data, "insert_tickets", real_insert)
    again = upload(server, "rx_handler", data).json()
    assert again["duplicates"] == chunk
    assert again["created_cases"] + again["linked"] == BIG_ROWS - chunk
    state = hotline_state(server)
    assert len(state["tickets"]) == BIG_ROWS and len(state["cases"]) == 2000
    assert_every_ticket_left_its_event(server, state, "rx_handler")


def test_a_ticket_joining_an_existing_case_shows_on_its_timeline_and_reaches_devices(
    server: Server,
) -> None:
    here = {"lat": LOT.lat + 0.0003, "lon": LOT.lon}  # ~33 m from the ticket
    case_id = str(uuid.uuid4())
    r = server.post(
        "/cases",
        "inspector",
        {"id": case_id, "category": "parking", "description": "乱停", "location": here},
    )
    assert r.status_code == 201, r.text
    phone = server.post("/devices", "inspector", {"client_id": str(uuid.uuid4()), "name": "手机"})
    token = {"Authorization": f"Bearer {phone.json()['device_token']}", PROTOCOL_HEADER: "1"}

    def pull(cursor: str | None) -> dict[str, Any]:
        r = server.client.post(
            "/sync/pull",
            json={"protocol": 1, "cursor": cursor, "results_after": 0, "limit": 200},
            headers=token,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    cursor = pull(None)["cursor"]
    version = server.get(f"/cases/{case_id}", "inspector").json()["version"]
    server.clock.now = T0 + timedelta(hours=1)
    rows = [
        HEADER,
        f"L-1,2026-11-02 08:00,,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,又乱停,{PHONE},",
    ]
    body = upload(server, "rx_handler", "\n".join(rows).encode()).json()
    assert body["linked"] == 1

    case = server.get(f"/cases/{case_id}", "inspector").json()
    event = case["events"][-1]
    assert event["kind"] == "HotlineTicketLinked"
    assert event["seq"] == len(case["events"])
    assert event["actor_user_id"] == user_id(server, "rx_handler")
    assert event["actor_department"] == "rx"
    assert datetime.fromisoformat(event["at"]) == T0 + timedelta(hours=1)
    assert (event["lat"], event["lon"]) == (LOT.lat, LOT.lon)
    assert event["data"]["ticket_no"] == "L-1"
    assert event["data"]["import_id"] == body["id"]
    assert event["status_after"] == case["status"] == "discovered"
    assert PHONE not in str(event)  # the caller's phone is not stored
    assert case["version"] == version + 1

    pulled = pull(cursor)["cases"]
    assert [c["id"] for c in pulled] == [case_id]
    assert pulled[0]["events"][-1]["kind"] == "HotlineTicketLinked"


def test_the_grid_finds_the_same_nearest_case_as_the_full_ranking_with_fewer_geodesics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(7)
    grid: GridIndex[int] = GridIndex(50.0)
    placed = []
    for n in range(3000):  # ~2 km square: most queries have a case within 50 m, some several
        p = Point(LOT.lat + rng.uniform(0, 0.02), LOT.lon + rng.uniform(0, 0.02))
        placed.append(p)
        grid.add(p, n)
    for n in range(100):  # the same place twice: the first one added wins, as in near()
        grid.add(placed[n], 10_000 + n)
    queries = placed[:150] + [
        Point(LOT.lat + rng.uniform(0, 0.02), LOT.lon + rng.uniform(0, 0.02)) for _ in range(2000)
    ]
    measured = Counter[str]()

    def counting(a: Point, b: Point, *, how: list[str]) -> float:
        measured[how[0]] += 1
        return distance_m(a, b)

    how = ["near"]
    monkeypatch.setattr(grid_module, "distance_m", lambda a, b: counting(a, b, how=how))
    ranked = [grid.near(q, 50.0) for q in queries]
    how[0] = "nearest"
    answers = [grid.nearest(q, 50.0) for q in queries]
    assert answers == [hits[0][0] if hits else None for hits in ranked]
    assert sum(a is not None for a in answers) > 1000
    assert measured["nearest"] < measured["near"] / 2


# --- real exports: the platforms' header names, an administrator's mapping -----------------


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_real_12345_export_imports_as_it_is(server: Server) -> None:
    data = xlsx(
        [
            # the header row as a county's 12345 platform exports it
            ["工单编号", "工单来源", "来电时间", "所属乡镇",
             "诉求类型", "诉求内容", "联系电话", "办理时限"],
            ["JN2026110100017", "电话", datetime(2026, 11, 1, 8, 12), "汶上街道", "投诉",
             "尚书路停车场车辆乱停乱放，出入口堵塞", PHONE, "5个工作日"],
            ["JN2026110100018", "微信", "2026-11-01 09:40:00", "南旺镇", "求助",
             "村北路口雨后积水，无法通行", "13800000000", "3个工作日"],
        ]
    )  # fmt: skip
    r = upload(server, "rx_handler", data, "工单导出.xlsx")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created_cases"], body["errors"]) == (2, 0), body["problems"]
    detail = server.get(f"/hotline/imports/{body['id']}", "rx_handler").json()
    tickets = {t["ticket_no"]: t for t in detail["tickets"]}
    assert tickets["JN2026110100017"]["category"] == "parking"  # 诉求类型 says only 投诉
    assert tickets["JN2026110100018"]["category"] == "waterlogging"
    assert tickets["JN2026110100018"]["town_code"] == "nanwang"
    assert PHONE not in str(detail)


def test_a_gbk_csv_with_full_width_and_starred_header_names_imports(server: Server) -> None:
    header = "工单编号*,受理时间*,所属乡镇（街道）,问题分类,问题描述,来电号码"
    rows = [header, "G-1,2026/11/01 10:00,中都街道,路灯,小区路灯不亮,13800000000"]
    r = upload(server, "rx_handler", "\r\n".join(rows).encode("gbk"))
    assert r.status_code == 201, r.text
    assert (r.json()["created_cases"], r.json()["errors"]) == (1, 0)
    [ticket] = server.get(f"/hotline/imports/{r.json()['id']}", "rx_handler").json()["tickets"]
    assert (ticket["category"], ticket["town_code"]) == ("street_lights", "zhongdu")


def test_a_refusal_names_every_missing_column_at_once(server: Server) -> None:
    r = upload(server, "rx_handler", "工单编号,备注\nX-1,无\n".encode())
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert (detail["field"], detail["code"]) == ("file", "missing_columns")
    for column in ("received_at", "content", "category", "matter"):
        assert column in detail["reason"]
    assert "ticket_no" not in detail["reason"]


def test_an_administrator_maps_another_header_name_and_the_import_uses_it(server: Server) -> None:
    data = "热线单号,反映时间,诉求类别,诉求内容\nM-1,2026-11-01 08:00,积水,路口积水\n".encode()
    refused = upload(server, "rx_handler", data)
    assert refused.status_code == 422
    assert "ticket_no" in refused.json()["detail"]["reason"]
    assert "received_at" in refused.json()["detail"]["reason"]

    def put(user: str, header: str, column: str) -> httpx.Response:
        return server.client.put(
            "/hotline/column-aliases",
            json={"header": header, "column": column},
            headers=server.login(user),
        )

    assert put("rx_handler", "热线单号", "ticket_no").status_code == 403
    assert put("admin", "热线单号", "colour").json()["detail"]["field"] == "column"
    assert put("admin", "来电时间", "ticket_no").json()["detail"]["field"] == "header"
    assert put("admin", " 热线单号 ", "ticket_no").status_code == 200
    assert put("admin", "反映时间", "received_at").status_code == 200
    mapped = server.get("/hotline/column-aliases", "rx_handler").json()["mapped"]
    assert {(m["header"], m["column"]) for m in mapped} == {
        ("热线单号", "ticket_no"),
        ("反映时间", "received_at"),
    }

    r = upload(server, "rx_handler", data)
    assert r.status_code == 201, r.text
    assert r.json()["created_cases"] == 1

    gone = server.client.delete("/hotline/column-aliases/热线单号", headers=server.login("admin"))
    assert gone.status_code == 204
    again = upload(server, "rx_handler", data.replace(b"M-1", b"M-2"))
    assert again.status_code == 422 and "ticket_no" in again.json()["detail"]["reason"]
    missing = server.client.delete(
        "/hotline/column-aliases/热线单号", headers=server.login("admin")
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 this is no zip",
        xlsx([["工单编号"]])[:300],  # cut short
    ],
)
def test_a_malformed_excel_file_is_refused_naming_the_file(server: Server, data: bytes) -> None:
    r = upload(server, "rx_handler", data, "export.xlsx")
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["field"] == "file"


def test_an_over_long_place_cell_is_refused_naming_row_and_column_and_the_rest_imports(
    server: Server,
) -> None:
    long_area, long_address = "汶上街道" * 26, "尚书路" * 101  # 104 and 303 characters
    data = xlsx(
        [
            ["工单编号", "来电时间", "所属乡镇", "事发地址", "诉求类型", "诉求内容"],
            ["L-1", "2026-11-01 08:00", long_area, "尚书路", "乱停车", "车辆乱停"],
            ["L-2", "2026-11-01 08:10", "汶上街道", long_address, "积水", "雨后积水"],
            ["L-3", "2026-11-01 08:20", "汶上街道", "尚书路", "路灯", "路灯不亮"],
        ]
    )
    r = upload(server, "rx_handler", data, "export.xlsx")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created_cases"], body["errors"], body["total_rows"]) == (1, 2, 3)
    problems = {p["row"]: p for p in body["problems"]}
    assert set(problems) == {2, 3}  # the rows a person sees, under the header row 1
    assert problems[2]["ticket_no"] == "L-1" and problems[2]["reason"].startswith("area: ")
    assert "100" in problems[2]["reason"] and "104" in problems[2]["reason"]
    assert problems[3]["reason"].startswith("address: ") and "303" in problems[3]["reason"]
    [ticket] = server.get(f"/hotline/imports/{body['id']}", "rx_handler").json()["tickets"]
    assert ticket["ticket_no"] == "L-3"  # nothing was kept cut short
