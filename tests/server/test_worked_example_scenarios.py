"""The source's three worked examples as month-long stories through the HTTP API (SQLite and
PostgreSQL), each ending with the evaluation run of November 2026 whose figures are computed by
hand here from server/evaluation/rules.toml.

The rules used in the hand computations (rules.toml, version 2026-1):

- on_time_rate: 30 × late ÷ due, where *due* = cases whose deadline falls in the month; each late
  case costs 30 ÷ due.
- closure_rate: 20 × not closed ÷ cases whose (last) assignment fell in the month.
- rework_rate: 10 × reworked ÷ reported back in the month (while the department led them).
- returns: 1 point per 退回, at most 10.
- assisting_rating: each rating r of the lead below 3 costs (3 − r) × 1; above 3 earns
  (r − 3) × 0.5 (at most 5).

Deadlines (sync/workcalendar.py): working time is 08:30–12:00 and 13:30–17:30; N working days
end at 17:30 on the N-th working day after the assignment day; an assisting department's time
node is N − 1 working days (or ⌈2N/3⌉ working hours). November 2026 has no public holiday;
2026-11-02 is a Monday.

Parallel changes of issue 11 that would alter a figure are marked ``# after <change>: …`` or
kept in a separate test named for them (see the report of the scenarios work package).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.db import make_engine
from server.demo_data import SITES
from server.models import CaseEvent
from sync.clock import CHINA_TZ
from tests.conftest import Server
from tests.server.test_worked_examples import act, record

SITE = {s.code: s for s in SITES}
PHOTO = "e" * 64


def nov(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of November 2026 (December for day > 30), China time."""
    if day > 30:
        return datetime(2026, 12, day - 30, hour, minute, tzinfo=CHINA_TZ)
    return datetime(2026, 11, day, hour, minute, tzinfo=CHINA_TZ)


def when(server: Server, moment: datetime) -> None:
    """Move the clock (forward only) and sign in again: the story spans a month."""
    assert moment >= server.clock.now, (moment, server.clock.now)
    server.clock.now = moment
    server._tokens.clear()


def due(case: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(case["due_at"]).astimezone(CHINA_TZ)


def at_site(server: Server, user: str, code: str, text: str, **extra: object) -> dict[str, Any]:
    site = SITE[code]
    case = record(server, user, site.category, site.location.lat, site.location.lon, text, **extra)
    assert case["site_code"] == code
    return case


def where(case: dict[str, Any]) -> dict[str, float]:
    return {"lat": case["lat"], "lon": case["lon"]}


def handle(server: Server, user: str, case: dict[str, Any], note: str) -> None:
    """Accepted, handled and reported back with an after photo, by the lead."""
    act(server, user, case["id"], "start-handling")
    act(server, user, case["id"], "report-back", note=note, photos=[PHOTO], where=where(case))


def verify(server: Server, case: dict[str, Any], note: str = "现场核查已整改") -> dict[str, Any]:
    """The supervisor verifies on the spot (the after photo is near the point) and closes."""
    return act(server, "supervisor", case["id"], "close", note=note, where=where(case))


def send_back(server: Server, case: dict[str, Any], reason: str) -> None:
    act(server, "supervisor", case["id"], "send-back", reason=reason, where=where(case))


def report_task(server: Server, user: str, case: dict[str, Any], dept: str, note: str) -> None:
    r = server.post(
        f"/workflow/cases/{case['id']}/assist-tasks/{dept}/report",
        user,
        {"note": note, "where": where(case)},
    )
    assert r.status_code == 200, r.text


def rate(
    server: Server, user: str, case: dict[str, Any], dept: str, rating: int, comment: str = ""
) -> None:
    r = server.post(
        f"/workflow/cases/{case['id']}/assist-tasks/{dept}/rate",
        user,
        {"rating": rating, "comment": comment},
    )
    assert r.status_code == 200, r.text


def task_due(server: Server, case: dict[str, Any], dept: str) -> datetime:
    tasks = server.get(f"/workflow/cases/{case['id']}", "supervisor").json()["assist_tasks"]
    task = next(t for t in tasks if t["department"] == dept)
    return datetime.fromisoformat(task["due_at"]).astimezone(CHINA_TZ)


# --- the evaluation run and its drill-down ---------------------------------------------------

Expected = dict[str, list[tuple[str, float, str | None]]]  # indicator → (case, points, event)


def november_run(server: Server) -> int:
    """The supervisor scores November on 2 December."""
    when(server, nov(32))
    r = server.post("/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11})
    assert r.status_code == 201, r.text
    run_id: int = r.json()["id"]
    return run_id


def drill_down(server: Server, run_id: int, code: str) -> dict[str, Any]:
    r = server.get(f"/evaluation/runs/{run_id}/departments/{code}", "supervisor")
    assert r.status_code == 200, r.text
    detail: dict[str, Any] = r.json()
    return detail


def points_by_indicator(detail: dict[str, Any]) -> dict[str, float]:
    """Each indicator that took (or gave) points; indicators at 0 are left out, so a new
    indicator with nothing to score does not change the expectation."""
    return {i["name"]: i["points"] for i in detail["indicators"] if i["points"] != 0}


def event_kinds(server: Server, ids: list[int]) -> dict[int, tuple[str, str]]:
    """case_event id → (case id, kind), read from the database the run scored."""
    engine = make_engine(server.url)
    try:
        with Session(engine) as session:
            out: dict[int, tuple[str, str]] = {}
            for event_id in ids:
                event = session.get(CaseEvent, event_id)
                assert event is not None, event_id
                out[event_id] = (event.case_id, event.kind)
            return out
    finally:
        engine.dispose()


def assert_department(
    server: Server, run_id: int, code: str, *, score: float, expected: Expected
) -> None:
    """The department's score, its points per indicator, and every point lost or won linked to
    the case that caused it — and, for a counted event or a rating, to that very event of that
    case (``expected`` names its kind). A rate's link names the case; if scoring comes to name
    an event for it too, that event must belong to the case."""
    detail = drill_down(server, run_id, code)
    assert detail["score"] == round(score, 4), (code, detail["score"])
    assert points_by_indicator(detail) == {
        name: round(sum(p for _, p, _ in links), 4) for name, links in expected.items()
    }, code
    links = [
        (i["name"], i["kind"], link)
        for i in detail["indicators"]
        for link in i["links"]
        if link["points"] != 0
    ]
    kinds = event_kinds(server, [link["event_id"] for *_, link in links if link["event_id"]])
    got: dict[str, list[tuple[str, float, str]]] = {}
    for name, kind, link in links:
        case_id, event_id = link["case_id"], link["event_id"]
        if event_id is not None:
            assert kinds[event_id][0] == case_id, (code, name, case_id, event_id)
        event_kind = kinds[event_id][1] if event_id is not None and kind != "rate" else ""
        got.setdefault(name, []).append((case_id, link["points"], event_kind))
        number = server.get(f"/cases/{case_id}", "supervisor").json()["number"]
        assert link["case_number"] == number  # the drill-down names the case's number too
    want = {
        name: sorted((case_id, round(p, 4), kind or "") for case_id, p, kind in items)
        for name, items in expected.items()
    }
    assert {name: sorted(items) for name, items in got.items()} == want, code
    total = sum(link["points"] for *_, link in links)
    assert round(total, 4) == round(detail["score"] - 100, 4), code


# --- 1. parking lots: 综合行政执法局 leads ---------------------------------------------------


def test_parking_lots_month_scores_law_enforcement_and_the_department_that_returned(
    server: Server,
) -> None:
    """综合行政执法局 (zhzf) surveys the public lots of the urban area in November: four lots
    with no or unclear manager are recorded by the grid inspector and assigned per the list
    (10 working days); a fifth comes in on 12345, is wrongly routed to 住建局 (zj), which returns
    it, and is routed again to zhzf. One lot is fixed after a rework, one late, one not at all
    (the developer has not been found); 市场监管局 (scjg) never reported on the fees it was asked
    to check and is rated 1; the street office did its patrol well and is rated 5."""
    # Mon 2 Nov: the inspector records four lots and assigns them on the spot
    lots = {}
    for code, text in (
        ("P01", "宝相寺景区停车场无人管理，车辆乱停"),
        ("P02", "县人民医院停车场管理主体不明，收费混乱"),
        ("P03", "县政务服务中心停车场管理责任不清"),
        ("P04", "汽车站停车场无人管理，开发企业未移交"),
    ):
        case = at_site(server, "inspector", code, text)
        lots[code] = act(server, "inspector", case["id"], "assign", where=where(case))
    a, b, c, d = (lots[k] for k in ("P01", "P02", "P03", "P04"))
    for case in (a, b, c, d):
        assert case["lead_department"] == "zhzf" and case["list_version"] == 1
        # 10 working days from Mon 2 Nov → the 10th working day after: Mon 16 Nov, 17:30
        assert due(case) == nov(16, 17, 30)
    assert {x["department_code"] for x in a["assisting"]} >= {"scjg", "town:wenshang"}
    when(server, nov(2, 10))
    for case in (a, b, c, d):
        act(server, "zhzf_handler", case["id"], "accept")

    # Tue 3 Nov: a 12345 call about 文化广场停车场; the hotline centre routes it to 住建局
    # (thinking it is a compound's car park), overriding the list with a reason
    when(server, nov(3, 10))
    e = at_site(server, "rx_handler", "P05", "文化广场停车场乱收费，无人管理", source="hotline")
    routed = act(
        server,
        "rx_handler",
        e["id"],
        "assign",
        lead_department="zj",
        assisting=[],
        override_reason="来电称系小区配建停车场，属住建局物业监管",
    )
    assert routed["lead_department"] == "zj"
    when(server, nov(3, 14))
    returned = act(
        server,
        "zj_handler",
        e["id"],
        "return",
        reason="文化广场停车场为城区公共停车场，按认定意见由综合行政执法局主办",
    )
    assert returned["status"] == "discovered" and returned["owner_department"] == "rx"
    when(server, nov(3, 15))
    e = act(server, "rx_handler", e["id"], "assign")  # again, as the list proposes
    assert e["lead_department"] == "zhzf"
    # 10 working days from Tue 3 Nov → Tue 17 Nov, 17:30
    assert due(e) == nov(17, 17, 30)
    when(server, nov(3, 16))
    act(server, "zhzf_handler", e["id"], "accept")

    # Wed 4 Nov: the street office patrols P01 and reports; Thu 5 Nov zhzf rates it 5
    when(server, nov(4, 11))
    report_task(
        server, "wenshang_handler", a, "town:wenshang", "已巡查，车辆已疏导，设置临时指示牌"
    )
    when(server, nov(5, 9))
    rate(server, "zhzf_handler", a, "town:wenshang", 5, "巡查及时，疏导有序")
    # P02: reported back Fri 6 Nov, sent back Mon 9 Nov (no fee notice), fixed Wed 11 Nov
    when(server, nov(6, 10))
    handle(server, "zhzf_handler", b, "约谈医院后勤，明确停车场管理主体")
    when(server, nov(9, 10))
    send_back(server, b, "收费公示牌仍未设置")
    when(server, nov(11, 10))
    act(server, "zhzf_handler", b["id"], "report-back", photos=[PHOTO], where=where(b))
    when(server, nov(12, 10))
    verify(server, b)
    # scjg's time node on P01: 9 working days from Mon 2 Nov → Fri 13 Nov, 17:30; it never
    # reported on the fees, and the lead rates it 1 once the node has passed
    assert task_due(server, a, "scjg") == nov(13, 17, 30)
    when(server, nov(16, 9))
    rate(server, "zhzf_handler", a, "scjg", 1, "时间节点已过，未反馈收费检查情况")
    handle(server, "zhzf_handler", a, "约谈开发企业，明确管理主体，停车秩序恢复")
    handle(server, "zhzf_handler", e, "责令停止违规收费，移交物业管理")
    when(server, nov(16, 15))
    verify(server, a)
    verify(server, e)
    # P03: fixed after its deadline (Mon 16 Nov 17:30)
    when(server, nov(17, 10))
    handle(server, "zhzf_handler", c, "协调政务服务中心明确管理单位")
    when(server, nov(18, 10))
    verify(server, c)
    # P04: still being handled on 30 Nov: the developer has not been found
    act(server, "zhzf_handler", d["id"], "start-handling")

    run_id = november_run(server)
    # after citizen-satisfaction: unchanged as long as the new indicator scores only call-backs
    # (回访) — none is imported here; E came in on 12345 and was closed on time.
    # zhzf: due in November A, B, C, D (16 Nov) and E (17 Nov) = 5; late C (closed 18 Nov) and
    # D (open) → on_time_rate: 30 × 2 late ÷ 5 due = 12, i.e. 30 ÷ 5 = 6 per late case;
    # closure_rate: assigned in November 5 (E counts once, at its last assignment), D not
    # closed → 20 × 1 ÷ 5 = 4; rework_rate: reported back while zhzf led A, B, C, E = 4 (D never
    # was), sent back B → 10 × 1 ÷ 4 = 2.5; total 100 − 12 − 4 − 2.5 = 81.5
    assert_department(
        server,
        run_id,
        "zhzf",
        score=81.5,
        expected={
            "on_time_rate": [(c["id"], -6.0, None), (d["id"], -6.0, None)],
            "closure_rate": [(d["id"], -4.0, None)],
            "rework_rate": [(b["id"], -2.5, None)],
        },
    )
    # zj: returns: 1 × 1 point = 1 (its short spell as lead of E is not scored otherwise:
    # E is zhzf's at its deadline); total 100 − 1 = 99
    # after responsibility-over-time: unchanged — zj's spell as lead ended with its return,
    # long before any deadline; zhzf led E when it fell due (Tue 17 Nov). E was routed again an
    # hour after the return, so a 退回 clock of the first-contact department, if it comes to be
    # scored, costs rx nothing.
    assert_department(
        server, run_id, "zj", score=99.0, expected={"returns": [(e["id"], -1.0, "CaseReturned")]}
    )
    # scjg: assisting_rating: rated 1 → (3 − 1) × 1 = 2; total 100 − 2 = 98
    assert_department(
        server,
        run_id,
        "scjg",
        score=98.0,
        expected={"assisting_rating": [(a["id"], -2.0, "AssistingRated")]},
    )
    # town:wenshang: assisting_rating: rated 5 → (5 − 3) × 0.5 = +1; total 100 + 1 = 101
    assert_department(
        server,
        run_id,
        "town:wenshang",
        score=101.0,
        expected={"assisting_rating": [(a["id"], 1.0, "AssistingRated")]},
    )
    # the hotline centre routed E wrongly: the rules charge only the department that returned
    assert_department(server, run_id, "rx", score=100.0, expected={})
    zhzf = drill_down(server, run_id, "zhzf")
    assert zhzf["ranked"] is True  # 5 cases: min_cases reached


# --- 2. unpaid migrant wages: 人社局 leads, industries supervise, the town mediates ----------

BUILDING_SITE = (35.735, 116.475)  # a housing project in 汶上街道
ROAD_PROJECT = (35.720, 116.510)  # a road project in 中都街道
WATER_PROJECT = (35.740, 116.420)  # a canal project in 苑庄镇
VILLAGE_WORKSHOP = (35.650, 116.460)  # a contractor in 康驿镇


def wages_call(server: Server, place: tuple[float, float], text: str) -> dict[str, Any]:
    case = record(server, "rx_handler", "unpaid_wages", *place, text, source="hotline")
    assert case["first_contact_department"] == "rx"
    return case


def test_unpaid_wages_month_scores_hr_as_lead_and_each_assisting_party(server: Server) -> None:
    """12345 calls about unpaid migrant wages in November. 人社局 (rs) leads every one (routing
    and supervising, 5 working days); 住建局/交通局/水务局 supervise their industries and the
    town/street office of the place mediates. One call is first routed to 水务局 (sw) because
    the project is a canal; sw returns it. 交通局 (jt) misses its time node and is rated 2; the
    street office mediates and is rated 4. One case is reworked (two workers still unpaid), one
    is late, and one, assigned at the end of the month, is due only in December."""
    when(server, nov(2, 9, 30))
    w1 = act(
        server,
        "rx_handler",
        wages_call(server, BUILDING_SITE, "小区工地拖欠12名农民工工资")["id"],
        "assign",
    )
    assert w1["lead_department"] == "rs"
    assisting = {x["department_code"] for x in w1["assisting"]}
    assert assisting == {"zj", "jt", "sw", "town:wenshang"}  # the town office of the place
    # 5 working days from Mon 2 Nov → Mon 9 Nov, 17:30
    assert due(w1) == nov(9, 17, 30)
    act(server, "rs_handler", w1["id"], "accept")

    when(server, nov(2, 14))
    w2 = act(
        server,
        "rx_handler",
        wages_call(server, ROAD_PROJECT, "道路工程拖欠农民工工资")["id"],
        "assign",
    )
    assert w2["lead_department"] == "rs" and due(w2) == nov(9, 17, 30)
    assert "town:zhongdu" in {x["department_code"] for x in w2["assisting"]}
    act(server, "rs_handler", w2["id"], "accept")

    # a canal project: the hotline centre routes it to 水务局, overriding the list
    when(server, nov(2, 15))
    w3 = wages_call(server, WATER_PROJECT, "水渠工程包工头拖欠工资")
    act(
        server,
        "rx_handler",
        w3["id"],
        "assign",
        lead_department="sw",
        assisting=[],
        override_reason="来电称系水利工程，由水务局处理",
    )
    when(server, nov(3, 9))
    act(
        server,
        "sw_handler",
        w3["id"],
        "return",
        reason="欠薪由人社局牵头推送督办，水务局仅负责水利工程行业监管（认定意见第二批）",
    )
    when(server, nov(3, 9, 30))
    w3 = act(server, "rx_handler", w3["id"], "assign")
    assert w3["lead_department"] == "rs"
    assert "town:yuanzhuang" in {x["department_code"] for x in w3["assisting"]}
    # 5 working days from Tue 3 Nov → Tue 10 Nov, 17:30
    assert due(w3) == nov(10, 17, 30)
    act(server, "rs_handler", w3["id"], "accept")

    # the street office mediates W1 and 住建局 checks the project's wage account
    when(server, nov(4, 10))
    report_task(server, "wenshang_handler", w1, "town:wenshang", "组织劳资双方调解，达成支付协议")
    report_task(server, "zj_handler", w1, "zj", "核查总包单位工资专户，督促按月足额支付")
    when(server, nov(5, 10))
    rate(server, "rs_handler", w1, "town:wenshang", 4)
    rate(server, "rs_handler", w1, "zj", 3)
    handle(server, "rs_handler", w1, "12名农民工工资已全部发放")
    when(server, nov(6, 10))
    verify(server, w1, "回访农民工，工资已到账")
    handle(server, "rs_handler", w3, "责令包工头限期支付")

    # jt's time node on W2: 4 working days from Mon 2 Nov → Fri 6 Nov, 17:30; missed
    assert task_due(server, w2, "jt") == nov(6, 17, 30)
    when(server, nov(9, 9))
    rate(server, "rs_handler", w2, "jt", 2, "未在时间节点前督促施工企业提供工资台账")
    send_back(server, w3, "回访：仍有2名工人工资未结清")
    when(server, nov(10, 9))
    act(server, "rs_handler", w3["id"], "report-back", photos=[PHOTO], where=where(w3))
    when(server, nov(10, 11))
    verify(server, w3, "回访：全部结清")
    handle(server, "rs_handler", w2, "施工企业已支付拖欠工资")  # after its deadline
    when(server, nov(11, 10))
    verify(server, w2)

    # Thu 26 Nov: a call from 康驿镇, due 3 Dec: in the closure rate, not yet in the on-time rate
    when(server, nov(26, 10))
    w4 = act(
        server,
        "rx_handler",
        wages_call(server, VILLAGE_WORKSHOP, "加工厂拖欠工人工资")["id"],
        "assign",
    )
    assert "town:kangyi" in {x["department_code"] for x in w4["assisting"]}
    assert due(w4) == nov(33, 17, 30)
    act(server, "rs_handler", w4["id"], "accept")

    run_id = november_run(server)
    # after citizen-satisfaction: unchanged if the new indicator scores only call-backs (回访),
    # none imported here; if it also counted 12345 requests still open, W4 (open on 30 Nov)
    # would cost rs there too.
    # after responsibility-over-time: unchanged — W3 was returned by sw and routed again to rs
    # within 30 minutes, and rs led it at its deadline (Tue 10 Nov).
    # rs: due in November W1, W2 (9 Nov), W3 (10 Nov) = 3 (W4 is due 3 Dec); late W2 (closed
    # 11 Nov) → on_time_rate: 30 × 1 ÷ 3 = 10; closure_rate: assigned in November W1–W4 = 4,
    # W4 not closed → 20 × 1 ÷ 4 = 5; rework_rate: reported back W1, W2, W3 = 3, W3 sent back
    # → 10 × 1 ÷ 3 = 3.3333; total 100 − 10 − 5 − 10/3 = 81.6667
    assert_department(
        server,
        run_id,
        "rs",
        score=100 - 10 - 5 - 10 / 3,
        expected={
            "on_time_rate": [(w2["id"], -10.0, None)],
            "closure_rate": [(w4["id"], -5.0, None)],
            "rework_rate": [(w3["id"], -10 / 3, None)],
        },
    )
    # sw: returns: 1 × 1 = 1; total 99
    assert_department(
        server, run_id, "sw", score=99.0, expected={"returns": [(w3["id"], -1.0, "CaseReturned")]}
    )
    # jt: assisting_rating: rated 2 → (3 − 2) × 1 = 1; total 99
    assert_department(
        server,
        run_id,
        "jt",
        score=99.0,
        expected={"assisting_rating": [(w2["id"], -1.0, "AssistingRated")]},
    )
    # town:wenshang: assisting_rating: rated 4 → (4 − 3) × 0.5 = +0.5; total 100.5
    assert_department(
        server,
        run_id,
        "town:wenshang",
        score=100.5,
        expected={"assisting_rating": [(w1["id"], 0.5, "AssistingRated")]},
    )
    # zj: assisting_rating: rated 3, the neutral rating → 0; total 100
    assert_department(server, run_id, "zj", score=100.0, expected={})
    zj = {i["name"]: i for i in drill_down(server, run_id, "zj")["indicators"]}
    assert (zj["assisting_rating"]["sample"], zj["assisting_rating"]["value"]) == (1, 3.0)
    # the hotline centre and the other town offices lose nothing
    for code in ("rx", "town:zhongdu", "town:yuanzhuang", "town:kangyi"):
        assert_department(server, run_id, code, score=100.0, expected={})


# --- 3. the joint on-site session about waterlogging -----------------------------------------


HANDLER_OF = {
    "zhzf": "zhzf_handler",
    "sw": "sw_handler",
    "zj": "zj_handler",
    "town:wenshang": "wenshang_handler",
}
WHERE_MET = {"lat": 35.735, "lon": 116.483}


def convene(server: Server, title: str, departments: list[str]) -> str:
    """The hotline centre, after many 12345 calls about flooded streets, convenes a joint
    on-site session; every department called checks in at the sites."""
    body = {
        "title": title,
        "purpose": "12345 多次反映雨后道路积水",
        "place": "老城区",
        "departments": departments,
    }
    r = server.post("/joint-sessions", "rx_handler", body)
    assert r.status_code == 201, r.text
    sid: str = r.json()["id"]
    for dept in departments:
        r = server.post(f"/joint-sessions/{sid}/check-in", HANDLER_OF[dept], {"where": WHERE_MET})
        assert r.status_code == 200, r.text
    return sid


def point(
    server: Server,
    sid: str,
    code: str,
    lead: str,
    lead_node: datetime,
    duties: list[tuple[str, str, datetime]],
) -> dict[str, Any]:
    """A waterlogging point found on the spot: a case, its lead and time node, and each
    assisting department's duty with its own time node."""
    site = SITE[code]
    body = {
        "label": site.name,
        "case": {
            "id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": f"{site.name}雨后积水",
            "location": {"lat": site.location.lat, "lon": site.location.lon},
        },
        "lead_department": lead,
        "lead_due_at": lead_node.isoformat(),
        "duties": [
            {"department": dept, "duty": duty, "due_at": node.isoformat()}
            for dept, duty, node in duties
        ],
    }
    r = server.post(f"/joint-sessions/{sid}/points", "rx_handler", body)
    assert r.status_code == 201, r.text
    case_id = r.json()["points"][-1]["case"]["id"]
    case: dict[str, Any] = server.get(f"/cases/{case_id}", "supervisor").json()
    assert case["lead_department"] == lead and due(case) == lead_node  # the node on the spot
    return case


def listed_deadline(case: dict[str, Any]) -> datetime:
    """The deadline the list gave at assignment (recorded in the CaseAssigned event)."""
    assigned = next(e for e in case["events"] if e["kind"] == "CaseAssigned")
    return datetime.fromisoformat(assigned["data"]["due_at"]).astimezone(CHINA_TZ)


def test_joint_session_fixes_four_waterlogging_points_and_the_month_scores_each_party(
    server: Server,
) -> None:
    """Mon 2 Nov, after the weekend's rain: 综合行政执法局 (zhzf), 水务局 (sw), 住建局 (zj) and
    汶上街道 meet at the sites, find the 4 waterlogging points, divide duties on the spot and
    set time nodes (each point fixed by Wed 4 Nov 17:30; assisting work by Tue 3 Nov). All
    four are fixed: three on time (one after a rework), 中都大街 late (Fri 6 Nov). Every
    assisting department meets its node except zj at 铁路桥涵洞, rated 1 by the lead."""
    when(server, nov(2, 10))
    sid = convene(server, "雨后积水联合办公", ["zhzf", "sw", "zj", "town:wenshang"])
    fixed_by, assist_by = nov(4, 17, 30), nov(3, 17, 30)
    p1 = point(
        server,
        sid,
        "W01",
        "zhzf",
        fixed_by,
        [
            ("sw", "疏通胡同排水管道", assist_by),
            ("town:wenshang", "设置警示、组织群众疏导", nov(2, 17, 30)),
        ],
    )
    p2 = point(
        server,
        sid,
        "W02",
        "sw",
        fixed_by,
        [
            ("zhzf", "清理占压排水口的违章设施", nov(3, 12)),
            ("zj", "督促施工单位恢复雨水管道", assist_by),
        ],
    )
    p3 = point(server, sid, "W03", "zj", fixed_by, [("sw", "提供管网资料并配合改造", assist_by)])
    p4 = point(server, sid, "W04", "sw", fixed_by, [("zj", "督促小区排水设施改造", assist_by)])
    points = (p1, p2, p3, p4)
    # The list's deadline for waterlogging: 24 working hours from Mon 2 Nov 10:00 = 2 + 4 (Mon)
    # + 7.5 (Tue) + 7.5 (Wed) + 3 (Thu 08:30–11:30) → Thu 5 Nov 11:30, later than every point's
    # node. Every point below is closed before both or after both, so its on-time figure is the
    # same whichever of the two deadlines scoring uses.
    # after joint-session-time-node: unchanged (scoring will use the node, Wed 4 Nov 17:30).
    assert {listed_deadline(p) for p in points} == {nov(5, 11, 30)}
    for p in points:
        act(server, HANDLER_OF[p["lead_department"]], p["id"], "accept")
    when(server, nov(2, 12))
    r = server.post(
        f"/joint-sessions/{sid}/conclude",
        "rx_handler",
        {
            "facts": "现场查明4处积水点，系管网淤堵、违章占压和施工损坏所致",
            "legal_basis": "《城镇排水与污水处理条例》",
        },
    )
    assert r.status_code == 200, r.text

    # assisting work: every node met except zj's at 铁路桥涵洞 (p2)
    when(server, nov(2, 16))
    report_task(server, "wenshang_handler", p1, "town:wenshang", "已设置警示牌，疏导群众")
    when(server, nov(3, 10))
    report_task(server, "zhzf_handler", p2, "zhzf", "已拆除占压排水口的违章棚亭")
    report_task(server, "sw_handler", p1, "sw", "胡同排水管道已疏通")
    report_task(server, "sw_handler", p3, "sw", "已提供管网图纸")
    report_task(server, "zj_handler", p4, "zj", "已督促物业更换小区雨水篦子")
    when(server, nov(3, 16))
    handle(server, "sw_handler", p4, "管网已清淤")
    when(server, nov(4, 9))
    send_back(server, p4, "复查：门前仍有积水")
    rate(server, "sw_handler", p2, "zj", 1, "时间节点已过，雨水管道仍未恢复")
    handle(server, "zhzf_handler", p1, "拆除违章设施，积水已排除")
    when(server, nov(4, 10))
    handle(server, "sw_handler", p2, "泵站强排完毕，涵洞通行恢复")
    rate(server, "zhzf_handler", p1, "sw", 4)
    rate(server, "zhzf_handler", p1, "town:wenshang", 4)
    rate(server, "sw_handler", p2, "zhzf", 5, "当天拆除，配合迅速")
    rate(server, "zj_handler", p3, "sw", 4)
    rate(server, "sw_handler", p4, "zj", 4)
    when(server, nov(4, 14))
    act(server, "sw_handler", p4["id"], "report-back", photos=[PHOTO], where=where(p4))
    when(server, nov(4, 15))
    verify(server, p1)
    when(server, nov(4, 16))
    verify(server, p2)
    verify(server, p4)
    when(server, nov(6, 10))  # 中都大街: the road's drain had to be relaid; late
    handle(server, "zj_handler", p3, "雨水管道已重新铺设，路口积水消除")
    when(server, nov(6, 15))
    verify(server, p3)
    view = server.get(f"/joint-sessions/{sid}", "supervisor").json()
    assert (view["closed_points"], view["all_closed"]) == (4, True)  # all fixed

    run_id = november_run(server)
    # zhzf (lead of p1, closed on time, no rework): assisting_rating: rated 5 on p2 →
    # (5 − 3) × 0.5 = +1; total 100 + 1 = 101
    assert_department(
        server,
        run_id,
        "zhzf",
        score=101.0,
        expected={"assisting_rating": [(p2["id"], 1.0, "AssistingRated")]},
    )
    # sw (lead of p2 and p4, both closed on time): rework_rate: reported back p2, p4 = 2, p4
    # sent back → 10 × 1 ÷ 2 = 5; assisting_rating: rated 4 on p1 and on p3 → 2 × (4 − 3) × 0.5
    # = +1; total 100 − 5 + 1 = 96
    assert_department(
        server,
        run_id,
        "sw",
        score=96.0,
        expected={
            "rework_rate": [(p4["id"], -5.0, None)],
            "assisting_rating": [
                (p1["id"], 0.5, "AssistingRated"),
                (p3["id"], 0.5, "AssistingRated"),
            ],
        },
    )
    # zj (lead of p3, fixed Fri 6 Nov after its node Wed 4 Nov 17:30 and after the list's Thu
    # 5 Nov 11:30): on_time_rate: 30 × 1 late ÷ 1 due = 30; assisting_rating: rated 1 on p2 →
    # (3 − 1) × 1 = 2, rated 4 on p4 → +0.5; total 100 − 30 − 2 + 0.5 = 68.5
    # after joint-session-time-node: unchanged, unless an assisting department's own missed
    # node (zj's on p2) also comes to count against it.
    assert_department(
        server,
        run_id,
        "zj",
        score=68.5,
        expected={
            "on_time_rate": [(p3["id"], -30.0, None)],
            "assisting_rating": [
                (p2["id"], -2.0, "AssistingRated"),
                (p4["id"], 0.5, "AssistingRated"),
            ],
        },
    )
    # town:wenshang: assisting_rating: rated 4 → +0.5; total 100.5
    assert_department(
        server,
        run_id,
        "town:wenshang",
        score=100.5,
        expected={"assisting_rating": [(p1["id"], 0.5, "AssistingRated")]},
    )
    assert_department(server, run_id, "rx", score=100.0, expected={})  # it convened


def test_a_joint_session_time_node_and_the_list_deadline_when_they_differ(
    server: Server,
) -> None:
    """Two points whose time nodes, agreed on the spot, differ from the list's 24 working hours
    (Thu 5 Nov 11:30): 中都大街 needs its drain relaid, so zj gets until Mon 9 Nov and fixes it
    Fri 6 Nov (node met); 老城区胡同 must be pumped out before the next rain, so sw gets until
    Tue 3 Nov and fixes it Wed 4 Nov (node missed).

    A joint session's time node is the deadline that counts for scoring, as it is for the case's
    overdue flag, its escalation and the minute: zj is on time by its node, sw is late by its.
    """
    when(server, nov(2, 10))
    sid = convene(server, "积水点整改联合办公", ["sw", "zj"])
    relay = point(
        server, sid, "W03", "zj", nov(9, 17, 30), [("sw", "配合管道改造", nov(6, 17, 30))]
    )
    pump = point(server, sid, "W01", "sw", nov(3, 17, 30), [("zj", "排查施工破损", nov(3, 12))])
    assert listed_deadline(relay) == listed_deadline(pump) == nov(5, 11, 30)
    act(server, "zj_handler", relay["id"], "accept")
    act(server, "sw_handler", pump["id"], "accept")
    when(server, nov(4, 10))
    handle(server, "sw_handler", pump, "积水已排除")
    case = server.get(f"/cases/{pump['id']}", "supervisor").json()
    assert case["overdue"] is True  # shown late: past its node, Tue 3 Nov 17:30
    verify(server, pump)
    when(server, nov(6, 10))
    handle(server, "zj_handler", relay, "雨水管道已重新铺设")
    assert server.get(f"/cases/{relay['id']}", "supervisor").json()["overdue"] is False
    verify(server, relay)

    run_id = november_run(server)
    # zj: closed Fri 6 Nov, before its node Mon 9 Nov 17:30 (though after the list's Thu 5 Nov
    # 11:30): on time, no deduction; total 100.
    assert_department(server, run_id, "zj", score=100.0, expected={})
    # sw: closed Wed 4 Nov, after its node Tue 3 Nov 17:30: on_time_rate 30 × 1 late ÷ 1 due
    # = 30; total 70.
    assert_department(
        server, run_id, "sw", score=70.0, expected={"on_time_rate": [(pump["id"], -30.0, None)]}
    )


# --- 1b. parking lots outside the urban area ------------------------------------------------

SCENIC_LOT_NANWANG = (35.655, 116.415)  # 南旺枢纽景区停车场, 南旺镇 (invented coordinates)
MARKET_LOT_BAISHI = (35.820, 116.600)  # 白石镇集贸市场停车场


def test_parking_lots_in_the_towns_are_law_enforcements_too_county_wide(server: Server) -> None:
    """The 认定意见 makes 综合行政执法局 responsible for parking lots across the county. Two
    town lots in November: 南旺镇's fixed on time, 白石镇's late (list version 1's 停车场监管
    applies county-wide, as the source says)."""
    when(server, nov(2, 9))
    cases = []
    for place, text in (
        (SCENIC_LOT_NANWANG, "景区停车场无人管理，旅游车辆乱停"),
        (MARKET_LOT_BAISHI, "集贸市场停车场管理主体不明"),
    ):
        case = record(server, "inspector", "parking", *place, text)
        r = server.post(f"/cases/{case['id']}/assign", "inspector", {"where": where(case)})
        assert r.status_code == 200, r.text
        assert r.json()["lead_department"] == "zhzf", r.text
        cases.append(r.json())
    nanwang, baishi = cases
    assert f"town:{nanwang['town_code']}" in {x["department_code"] for x in nanwang["assisting"]}
    # 10 working days from Mon 2 Nov → Mon 16 Nov, 17:30
    assert due(nanwang) == due(baishi) == nov(16, 17, 30)
    when(server, nov(2, 10))
    for case in cases:
        act(server, "zhzf_handler", case["id"], "accept")
    when(server, nov(10, 10))
    handle(server, "zhzf_handler", nanwang, "明确景区管委会为管理主体，施划停车位")
    when(server, nov(11, 10))
    verify(server, nanwang)
    when(server, nov(19, 10))
    handle(server, "zhzf_handler", baishi, "约谈市场开办方，明确管理责任")
    when(server, nov(20, 10))
    verify(server, baishi)

    run_id = november_run(server)
    # zhzf: on_time_rate: due 2, late 1 (白石镇, closed 20 Nov) → 30 × 1 ÷ 2 = 15; closure and
    # rework: nothing lost; total 100 − 15 = 85
    assert_department(
        server, run_id, "zhzf", score=85.0, expected={"on_time_rate": [(baishi["id"], -15.0, None)]}
    )
