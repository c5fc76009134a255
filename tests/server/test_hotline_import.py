"""12345 hotline import through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

from openpyxl import Workbook

from server.demo_data import SITES
from server.hotline.reader import read_sheet
from server.hotline.tickets import match_category
from sync.clock import CHINA_TZ
from tests.conftest import Server

LOT = next(s for s in SITES if s.kind == "parking_lot").location
HEADER = "工单编号,受理时间,所属区域,事发地址,纬度,经度,诉求类别,诉求内容,联系电话,备注"


def upload(server: Server, user: str, data: bytes, name: str = "export.csv") -> object:
    return server.client.post(
        "/hotline/imports", files={"file": (name, data)}, headers=server.login(user)
    )


def messy_gbk_file() -> bytes:
    rows = [
        HEADER,
        f"RX-001,2026-10-30 09:15,汶上街道,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,车辆乱停,139,",
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
    assert all("139" not in str(t) for t in linked)  # the caller's phone is not stored


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
