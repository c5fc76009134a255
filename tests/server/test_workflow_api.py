"""Working together (issue 5) through the HTTP API, on SQLite and PostgreSQL: lead and
assisting work, returns, verification, repeat reports, disputes and rulings, minutes."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import docx

from server.demo_data import SITES
from tests.conftest import BOTH_STORES, Server
from tests.server.test_worked_examples import act, record

PARKING_LOT = next(s for s in SITES if s.kind == "parking_lot")
WAGES_SEAT = (35.735, 116.475)  # in 汶上街道


def work(server: Server, case_id: str, user: str = "supervisor") -> dict[str, Any]:
    r = server.get(f"/workflow/cases/{case_id}", user)
    assert r.status_code == 200, r.text
    return r.json()


def post_ok(server: Server, path: str, user: str, body: dict[str, Any], code: int = 200) -> Any:
    r = server.post(path, user, body)
    assert r.status_code == code, r.text
    return r.json()


def wages_case(server: Server) -> dict[str, Any]:
    case = record(server, "rx_handler", "unpaid_wages", *WAGES_SEAT, "拖欠工资", source="hotline")
    return act(server, "rx_handler", case["id"], "assign")


def parking_case(server: Server, *, accept: bool = True) -> dict[str, Any]:
    lot = PARKING_LOT.location
    case = record(server, "inspector", "parking", lot.lat, lot.lon, "停车场无人管理")
    assigned = act(server, "inspector", case["id"], "assign")
    if accept:
        act(server, "zhzf_handler", case["id"], "accept")
    return assigned


def on_site(case: dict[str, Any]) -> dict[str, float]:
    """The case's own point: a report back (its after photos) made there."""
    return {"lat": case["lat"], "lon": case["lon"]}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def kinds(case: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in case["events"]]


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


# --- lead and assisting ------------------------------------------------------------------------


def test_assigning_creates_a_task_per_assisting_department_due_before_the_lead(
    server: Server,
) -> None:
    case = wages_case(server)
    tasks = work(server, case["id"], "rs_handler")["assist_tasks"]
    assisting = {a["department_code"]: a["duty"] for a in case["assisting"]}
    assert {t["department"]: t["duty"] for t in tasks} == assisting
    case_due = datetime.fromisoformat(case["due_at"])
    assert all(datetime.fromisoformat(t["due_at"]) < case_due for t in tasks)
    assert all(t["status"] == "open" for t in tasks)
    events = server.get(f"/cases/{case['id']}", "rs_handler").json()["events"]
    created = [e["data"] for e in events if e["kind"] == "AssistTaskCreated"]
    assert sorted(d["department"] for d in created) == sorted(assisting)
    # the assisting department is told about its task
    notes = server.get("/notifications", "zj_handler").json()
    assert any(n["kind"] == "assist_task" and n["case_id"] == case["id"] for n in notes)


def test_the_lead_sees_progress_and_rates_each_assisting_department(server: Server) -> None:
    case = wages_case(server)
    cid = case["id"]
    act(server, "rs_handler", cid, "accept")
    base = f"/workflow/cases/{cid}/assist-tasks"
    # another department cannot report in zj's place
    assert server.post(f"{base}/zj/report", "jt_handler", {"note": "x"}).status_code == 403
    post_ok(server, f"{base}/zj/report", "zj_handler", {"note": "已责令总包补发", "photos": []})
    progress = {t["department"]: t for t in work(server, cid, "rs_handler")["assist_tasks"]}
    assert progress["zj"]["status"] == "reported"
    assert progress["jt"]["status"] == "open"
    # only the lead rates; jt has neither reported nor passed its time node yet
    assert server.post(f"{base}/zj/rate", "zj_handler", {"rating": 5}).status_code == 403
    r = server.post(f"{base}/jt/rate", "rs_handler", {"rating": 3})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "too_early_to_rate"
    r = server.post(f"{base}/zj/rate", "rs_handler", {"rating": 2})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "comment"
    post_ok(server, f"{base}/zj/rate", "rs_handler", {"rating": 4, "comment": "及时"})
    assert server.post(f"{base}/zj/rate", "rs_handler", {"rating": 5}).status_code == 409
    # past its time node, a silent department can be rated for not performing
    server.clock.now = datetime.fromisoformat(progress["jt"]["due_at"]) + timedelta(minutes=1)
    post_ok(server, f"{base}/jt/rate", "rs_handler", {"rating": 1, "comment": "未履职"})
    events = server.get(f"/cases/{cid}", "rs_handler").json()["events"]
    ratings = {
        e["data"]["department"]: e["data"]["rating"]
        for e in events
        if e["kind"] == "AssistingRated"
    }
    assert ratings == {"zj": 4, "jt": 1}


def test_the_lead_calls_a_consultation_and_the_invited_departments_are_told(
    server: Server,
) -> None:
    case = wages_case(server)
    body = {"departments": ["zj", "jt"], "note": "明日上午现场会商"}
    r = server.post(f"/workflow/cases/{case['id']}/consultations", "zj_handler", body)
    assert r.status_code == 403  # an assisting department does not call consultations
    post_ok(server, f"/workflow/cases/{case['id']}/consultations", "rs_handler", body)
    events = server.get(f"/cases/{case['id']}", "rs_handler").json()["events"]
    assert events[-1]["kind"] == "ConsultationCalled"
    assert events[-1]["data"]["departments"] == ["jt", "zj"]
    assert any(
        n["kind"] == "consultation" for n in server.get("/notifications", "jt_handler").json()
    )


def test_a_case_closes_only_after_the_lead_reports_back(server: Server) -> None:
    case = wages_case(server)
    cid = case["id"]
    act(server, "rs_handler", cid, "accept")
    act(server, "rs_handler", cid, "start-handling")
    post_ok(server, f"/workflow/cases/{cid}/assist-tasks/zj/report", "zj_handler", {"note": "完成"})
    r = server.post(f"/cases/{cid}/close", "supervisor")
    assert r.status_code == 409 and r.json()["detail"]["code"] == "wrong_status"
    assert server.post(f"/cases/{cid}/report-back", "zj_handler").status_code == 403
    act(
        server,
        "rs_handler",
        cid,
        "report-back",
        note="工资已结清",
        photos=["d" * 64],
        where=on_site(case),
    )
    assert act(server, "supervisor", cid, "close")["status"] == "closed"


# --- acceptance, returns, verification, repeats ------------------------------------------------


def test_a_refused_handover_returns_the_case_to_the_first_contact_department(
    server: Server,
) -> None:
    case = wages_case(server)
    cid = case["id"]
    r = server.post(f"/cases/{cid}/return", "rs_handler", {"reason": ""})
    assert r.status_code == 422
    returned = act(server, "rs_handler", cid, "return", reason="系劳务合同纠纷，非欠薪")
    assert returned["status"] == "discovered"
    assert returned["owner_department"] == "rx"
    assert returned["lead_department"] is None
    assert returned["return_count"] == 1
    assert returned["events"][-1]["kind"] == "CaseReturned"
    assert returned["events"][-1]["data"]["reason"] == "系劳务合同纠纷，非欠薪"
    assert returned["events"][-1]["data"]["returned_by"] == "rs"
    assert work(server, cid, "rx_handler")["assist_tasks"] == []
    assert any(
        n["kind"] == "case_returned" for n in server.get("/notifications", "rx_handler").json()
    )
    # the first-contact department routes it again; the returns stay counted
    again = act(server, "rx_handler", cid, "assign")
    assert again["lead_department"] == "rs" and again["return_count"] == 1
    assert {t["status"] for t in work(server, cid)["assist_tasks"]} == {"open"}


def test_the_verifier_cannot_be_the_handler(server: Server) -> None:
    case = parking_case(server)
    cid = case["id"]
    act(server, "zhzf_handler", cid, "start-handling")
    handled = act(
        server, "zhzf_handler", cid, "report-back", photos=["e" * 64], where=on_site(case)
    )
    assert "close" not in handled["allowed_actions"]
    for action in ("close", "send-back"):
        r = server.post(f"/cases/{cid}/{action}", "zhzf_handler", {"reason": "自查合格"})
        assert r.status_code == 403
    back = act(server, "inspector", cid, "send-back", reason="仍有车辆乱停")
    assert back["status"] == "handling" and back["rework_count"] == 1
    act(server, "zhzf_handler", cid, "report-back", photos=["f" * 64], where=on_site(case))
    assert act(server, "supervisor", cid, "close")["status"] == "closed"


def _closed_parking_case(server: Server) -> dict[str, Any]:
    case = parking_case(server)
    act(server, "zhzf_handler", case["id"], "start-handling")
    act(server, "zhzf_handler", case["id"], "report-back", photos=["a" * 64], where=on_site(case))
    return act(server, "supervisor", case["id"], "close")


def test_a_repeat_report_within_30_days_reopens_the_case_as_rework(server: Server) -> None:
    closed = _closed_parking_case(server)
    server.clock.now += timedelta(days=20)
    lot = PARKING_LOT.location
    again = record(server, "inspector", "parking", lot.lat + 0.0001, lot.lon, "又有车辆乱停")
    assert again["status"] == "merged"
    assert again["duplicate_of"] == closed["id"]
    reopened = server.get(f"/cases/{closed['id']}", "supervisor").json()
    assert reopened["status"] == "handling"
    assert reopened["rework_count"] == 1
    assert reopened["closed_at"] is None
    assert reopened["events"][-1]["kind"] == "RepeatReported"
    assert reopened["events"][-1]["data"]["new_report"]["case_id"] == again["id"]
    assert datetime.fromisoformat(reopened["due_at"]) > server.clock.now  # a fresh rework deadline
    # the lead works it again and the verifier closes it again
    act(
        server,
        "zhzf_handler",
        closed["id"],
        "report-back",
        photos=["b" * 64],
        where=on_site(closed),
    )
    assert act(server, "supervisor", closed["id"], "close")["status"] == "closed"


def test_a_report_after_30_days_or_elsewhere_is_a_new_case(server: Server) -> None:
    closed = _closed_parking_case(server)
    lot = PARKING_LOT.location
    server.clock.now += timedelta(days=2)
    elsewhere = record(server, "inspector", "parking", lot.lat + 0.01, lot.lon, "别处乱停")
    assert elsewhere["status"] == "discovered"
    server.clock.now += timedelta(days=29)
    server._tokens.clear()  # sign in again: a token lasts 30 days
    late = record(server, "inspector", "parking", lot.lat, lot.lon, "一个多月后又乱停")
    assert late["status"] == "discovered"
    assert server.get(f"/cases/{closed['id']}", "supervisor").json()["status"] == "closed"


# --- disputes ----------------------------------------------------------------------------------


def raise_dispute(server: Server, user: str, case_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "reason": "非本部门职责",
        "legal_basis": "《城镇排水与污水处理条例》；三定规定",
        **extra,
    }
    return post_ok(server, f"/workflow/cases/{case_id}/disputes", user, body, 201)


def test_a_dispute_does_not_stop_the_deadline_clock(server: Server) -> None:
    case = parking_case(server)
    cid = case["id"]
    r = server.post(
        f"/workflow/cases/{cid}/disputes", "zj_handler", {"reason": "不归我们", "legal_basis": ""}
    )
    assert r.status_code == 422 and r.json()["detail"]["field"] == "legal_basis"
    assert (
        server.post(
            f"/workflow/cases/{cid}/disputes", "sw_handler", {"reason": "x", "legal_basis": "y"}
        ).status_code
        == 404
    )
    dispute = raise_dispute(server, "zj_handler", cid)
    assert dispute["stage"] == "consultation" and dispute["status"] == "open"
    after = server.get(f"/cases/{cid}", "supervisor").json()
    assert at(after["due_at"]) == at(case["due_at"])
    assert after["status"] == "accepted" and after["disputed"] is True
    assert not after["suspended"]
    # everyone keeps working: the lead goes on handling, the assisting department reports
    act(server, "zhzf_handler", cid, "start-handling")
    post_ok(
        server, f"/workflow/cases/{cid}/assist-tasks/zj/report", "zj_handler", {"note": "已配合"}
    )
    # one open dispute at a time
    r = server.post(
        f"/workflow/cases/{cid}/disputes", "zhzf_handler", {"reason": "x", "legal_basis": "y"}
    )
    assert r.status_code == 409
    server.clock.now = datetime.fromisoformat(case["due_at"]) + timedelta(hours=1)
    overdue = server.get("/cases", "supervisor", overdue=True).json()["items"]
    assert [c["id"] for c in overdue] == [cid]
    # until it is settled the overdue counts against every department involved
    board = {r["key"]: r for r in server.get("/supervision/overdue-board", "supervisor").json()}
    involved = {"zhzf", *(a["department_code"] for a in case["assisting"])}
    assert set(board) == involved
    assert all(board[d]["overdue"] == 1 and board[d]["disputed_overdue"] == 1 for d in involved)
    run = post_ok(server, "/supervision/escalate", "supervisor", {})
    assert [cid, "reminder"] in run["escalated"]
    esc = [e for e in work(server, cid)["escalations"] if e["level"] == "reminder"]
    assert set(esc[0]["departments"]) == involved


def test_a_dispute_goes_from_consultation_to_ruling_which_reassigns_and_amends_the_list(
    server: Server,
) -> None:
    lot = PARKING_LOT.location
    older = record(server, "inspector", "parking", lot.lat, lot.lon + 0.003, "早先登记的停车问题")
    server.clock.now += timedelta(hours=2)
    case = parking_case(server)
    cid = case["id"]
    act(server, "zhzf_handler", cid, "start-handling")
    dispute = raise_dispute(server, "zhzf_handler", cid, claimed_responsible="zj")
    did = dispute["id"]
    assert set(dispute["involved"]) == {"zhzf", *(a["department_code"] for a in case["assisting"])}
    post_ok(
        server,
        f"/workflow/cases/{cid}/consultations",
        "zhzf_handler",
        {"departments": ["zj"], "note": "协商停车场管理主体"},
    )
    called = server.get(f"/cases/{cid}", "zhzf_handler").json()["events"][-1]
    assert called["kind"] == "ConsultationCalled" and called["data"]["dispute_id"] == did
    post_ok(
        server,
        f"/disputes/{did}/positions",
        "zj_handler",
        {"not_ours": True, "reason": "小区配建停车场以外不归住建", "legal_basis": "三定"},
    )
    # consultation fails: the lead takes it to the establishment office, then to the group
    assert server.post(f"/disputes/{did}/escalate", "zj_handler", {}).status_code == 200
    assert server.get(f"/disputes/{did}", "zhzf_handler").json()["stage"] == "coordination"
    assert server.post(f"/disputes/{did}/escalate", "zhzf_handler", {}).status_code == 403
    ruling_stage = post_ok(
        server, f"/disputes/{did}/escalate", "coordinator", {"reason": "协调未果"}
    )
    assert ruling_stage["stage"] == "ruling"
    new_entry = {
        "matter": "小区周边共享停车场监管",
        "category": "parking",
        "lead_department_code": "zj",
        "lead_duty": "负责住宅小区及周边共享停车场的监管",
        "assisting": [{"department_code": "zhzf", "duty": "负责违规经营的查处"}],
        "legal_basis": "《物业管理条例》；县住建局“三定”规定",
        "area_kind": "urban",
        "area_towns": [],
        "time_amount": 8,
        "time_unit": "working_days",
        "source": "ruling",
    }
    body = {
        "responsible_department": "zj",
        "facts": "停车场位于小区配建范围，管理主体为物业企业",
        "ruling_text": "由住建局牵头督促物业企业规范管理",
        "legal_basis": "《物业管理条例》第三十五条；县住建局“三定”规定",
        "assisting": [{"department_code": "zhzf", "duty": "负责违规经营的查处"}],
        "new_entry": new_entry,
        "place": "县委编办会议室",
    }
    assert server.post(f"/disputes/{did}/settle", "zhzf_handler", body).status_code == 403
    ruled = post_ok(server, f"/disputes/{did}/settle", "coordinator", body)
    assert ruled["status"] == "settled" and ruled["responsible_department"] == "zj"
    assert ruled["lost_by"] == ["zj"]
    assert ruled["new_list_version"] == 2
    after = server.get(f"/cases/{cid}", "zj_handler").json()
    assert after["lead_department"] == "zj"
    assert after["status"] == "assigned"  # the ruled lead accepts; the clock never restarted
    assert at(after["due_at"]) == at(case["due_at"])
    assert after["list_version"] == 1  # the case keeps the version it was assigned under
    assert after["disputed"] is False
    ruled_event = next(e for e in after["events"] if e["kind"] == "DisputeRuled")
    assert ruled_event["data"]["responsible_department"] == "zj"
    assert ruled_event["data"]["lost_by"] == ["zj"]
    assert ruled_event["data"]["new_list_version"] == 2
    assert ruled_event["data"]["minute_id"] == ruled["minute_id"]
    assert {t["department"] for t in work(server, cid)["assist_tasks"]} == {"zhzf"}
    # 认定谁、谁负责: the ruled department cannot hand it back; refusing is reported
    r = server.post(f"/cases/{cid}/return", "zj_handler", {"reason": "不服"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "ruled_responsible"
    post_ok(server, f"/disputes/{did}/refuse", "zj_handler", {"reason": "不服认定"})
    refused = server.get(f"/cases/{cid}", "zj_handler").json()
    assert refused["events"][-1]["kind"] == "RulingRefused"
    assert refused["lead_department"] == "zj"
    # the new version applies to the next case, not to one recorded before the ruling
    newer = record(server, "inspector", "parking", lot.lat, lot.lon - 0.003, "裁决后的停车问题")
    assert act(server, "inspector", newer["id"], "assign")["list_version"] == 2
    assert server.get(f"/cases/{newer['id']}", "zj_handler").json()["lead_department"] == "zj"
    old = act(server, "inspector", older["id"], "assign")
    assert (old["list_version"], old["lead_department"]) == (1, "zhzf")


@BOTH_STORES  # the .docx kept in a directory, or in PostgreSQL (docs/storage.md)
def test_the_ruling_minute_reads_back_with_attendees_decisions_time_nodes_and_basis(
    server: Server,
) -> None:
    case = parking_case(server)
    cid = case["id"]
    did = raise_dispute(server, "zj_handler", cid)["id"]
    post_ok(server, f"/disputes/{did}/escalate", "coordinator", {})
    post_ok(server, f"/disputes/{did}/escalate", "coordinator", {})
    ruled = post_ok(
        server,
        f"/disputes/{did}/settle",
        "coordinator",
        {
            "responsible_department": "zhzf",
            "facts": "公共停车场无人管理",
            "ruling_text": "综合执法局牵头整治",
            "legal_basis": "县综合行政执法局三定规定第三条",
        },
    )
    assert ruled["lost_by"] == []  # zhzf never said "not ours"; zj's position prevailed
    mid = ruled["minute_id"]
    assert server.get(f"/minutes/{mid}", "jt_handler").status_code == 404  # not its case
    r = server.client.get(f"/minutes/{mid}/file", headers=server.login("zj_handler"))
    assert r.status_code == 200
    text = docx_text(r.content)
    for dept in ("县纪委监委", "县委编办", "司法局", "热线中心", "社会治理中心", "住建局"):
        assert dept in text
    assert "综合执法局（zhzf）" in text and "综合执法局牵头整治" in text
    for duty in (a["duty"] for a in case["assisting"]):
        assert duty in text
    assert "县综合行政执法局三定规定第三条" in text
    assert "公共停车场无人管理" in text
    assert "案件办理时限" in text
    assert minutes_link(server, cid) == [mid]


def minutes_link(server: Server, case_id: str) -> list[str]:
    return [m["id"] for m in work(server, case_id)["minutes"]]


def test_a_matter_for_a_county_leader_is_coordinated_once_with_one_minute(
    server: Server,
) -> None:
    case = parking_case(server)
    did = raise_dispute(server, "zj_handler", case["id"])["id"]
    r = server.post(f"/disputes/{did}/escalate", "zj_handler", {"needs_county_leader": True})
    assert r.status_code == 403
    d = post_ok(server, f"/disputes/{did}/escalate", "coordinator", {"needs_county_leader": True})
    assert d["stage"] == "coordination" and d["needs_county_leader"] is True
    r = server.post(f"/disputes/{did}/escalate", "coordinator", {})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "coordinated_once"
    body = {
        "responsible_department": "zhzf",
        "facts": "县领导协调",
        "ruling_text": "执法局牵头",
        "legal_basis": "三定",
    }
    settled = post_ok(server, f"/disputes/{did}/settle", "coordinator", body)
    assert settled["minute_id"]
    assert server.post(f"/disputes/{did}/settle", "coordinator", body).status_code == 409
    assert minutes_link(server, case["id"]) == [settled["minute_id"]]


def test_a_dispute_is_suspended_only_with_a_reason_and_its_stage_clock_moves_on_otherwise(
    server: Server,
) -> None:
    case = parking_case(server)
    d = raise_dispute(server, "zj_handler", case["id"])
    did = d["id"]
    r = server.post(f"/disputes/{did}/suspend", "coordinator", {"reason": " "})
    assert r.status_code == 422
    assert server.post(f"/disputes/{did}/suspend", "zj_handler", {"reason": "x"}).status_code == 403
    post_ok(
        server, f"/disputes/{did}/suspend", "coordinator", {"reason": "等待规划部门出具认定意见"}
    )
    server.clock.now += timedelta(days=14)
    post_ok(server, "/supervision/escalate", "supervisor", {})
    held = server.get(f"/disputes/{did}", "supervisor").json()
    assert held["stage"] == "consultation"  # suspended: the stage did not time out
    resumed = post_ok(server, f"/disputes/{did}/resume", "coordinator", {})
    assert at(resumed["stage_due_at"]) > at(d["stage_due_at"])
    # the case's own deadline was never paused by the dispute
    now_case = server.get(f"/cases/{case['id']}", "supervisor").json()
    assert at(now_case["due_at"]) == at(case["due_at"])
    server.clock.now = datetime.fromisoformat(resumed["stage_due_at"]) + timedelta(minutes=5)
    run = post_ok(server, "/supervision/escalate", "supervisor", {})
    assert run["disputes_moved"] == 1
    moved = server.get(f"/disputes/{did}", "supervisor").json()
    assert moved["stage"] == "coordination"
    events = server.get(f"/cases/{case['id']}", "supervisor").json()["events"]
    assert events[-1]["kind"] == "DisputeEscalated"
    assert events[-1]["data"]["stage"] == "coordination"
    # run again: nothing moves twice
    assert post_ok(server, "/supervision/escalate", "supervisor", {})["disputes_moved"] == 0


def test_the_generic_raise_dispute_transition_also_opens_a_dispute(server: Server) -> None:
    case = parking_case(server)
    after = act(
        server,
        "zj_handler",
        case["id"],
        "raise-dispute",
        reason="不属本部门",
        legal_basis="县住建局“三定”规定",
    )
    assert after["events"][-1]["data"]["dispute_id"]
    assert after["events"][-1]["data"]["legal_basis"] == "县住建局“三定”规定"
    disputes = work(server, case["id"])["disputes"]
    assert [(d["status"], d["legal_basis"]) for d in disputes] == [("open", "县住建局“三定”规定")]


def test_the_generic_raise_dispute_transition_without_a_legal_basis_is_refused_naming_it(
    server: Server,
) -> None:
    case = parking_case(server)
    before = server.get(f"/cases/{case['id']}", "supervisor").json()
    for body in ({"reason": "不属本部门"}, {"reason": "不属本部门", "legal_basis": "  "}):
        r = server.post(f"/cases/{case['id']}/raise-dispute", "zj_handler", body)
        assert r.status_code == 422
        assert r.json()["detail"]["field"] == "legal_basis"
        assert "legal basis" in r.json()["detail"]["reason"]
    assert server.get(f"/cases/{case['id']}", "supervisor").json() == before
    assert work(server, case["id"])["disputes"] == []


def test_notifications_are_read_by_department_or_role(server: Server) -> None:
    case = parking_case(server)
    raise_dispute(server, "zj_handler", case["id"])
    mine = server.get("/notifications", "coordinator").json()
    assert [n["kind"] for n in mine] == ["dispute_raised"]
    assert mine[0]["text"].startswith("住建局 对案件")  # named as people name it, not "zj"
    nid = mine[0]["id"]
    assert server.post(f"/notifications/{nid}/read", "jt_handler").status_code == 404
    assert post_ok(server, f"/notifications/{nid}/read", "coordinator", {})["read_at"]
    assert server.get("/notifications", "coordinator", unread=True).json() == []
