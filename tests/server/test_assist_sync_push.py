"""An assisting department's report and the lead's rating arrive from phones through sync push
(issue 14) and meet the same rules as the REST endpoints, on SQLite and PostgreSQL: only that
department reports, only the lead rates, a low rating needs a comment, a department is rated
once; a case reported back tells the supervisors it waits for them (待核查)."""

from __future__ import annotations

from tests.conftest import Server
from tests.server.test_case_rules_everywhere import Phone
from tests.server.test_worked_examples import act
from tests.server.test_workflow_api import on_site, parking_case, wages_case, work


def test_an_assisting_report_and_the_leads_rating_sync_from_phones(server: Server) -> None:
    case = wages_case(server)  # 人社局 leads; 住建局 and 交通局 assist
    cid = case["id"]
    act(server, "rs_handler", cid, "accept")
    zj, jt, rs = (
        Phone(server, "zj_handler"),
        Phone(server, "jt_handler"),
        Phone(server, "rs_handler"),
    )
    # another department cannot report in 住建局's place, over sync as over REST
    stolen = jt.push("ReportAssistTask", {"case_id": cid, "department": "zj", "note": "代报"})
    assert (stolen["status"], stolen["code"]) == ("rejected", "department_not_allowed")
    empty = zj.push("ReportAssistTask", {"case_id": cid, "department": "zj", "note": " "})
    assert (empty["status"], empty["detail"]["field"]) == ("rejected", "note")
    done = zj.push(
        "ReportAssistTask",
        {"case_id": cid, "department": "zj", "note": "已责令总包补发", "where": on_site(case)},
    )
    assert done["status"] == "applied", done
    tasks = {t["department"]: t for t in work(server, cid, "rs_handler")["assist_tasks"]}
    assert tasks["zj"]["status"] == "reported"
    assert tasks["zj"]["report_note"] == "已责令总包补发"
    assert any(
        n["kind"] == "assist_reported" for n in server.get("/notifications", "rs_handler").json()
    )
    # only the lead rates; a low rating needs a comment; a department is rated once
    by_zj = zj.push("RateAssistTask", {"case_id": cid, "department": "zj", "rating": 5})
    assert (by_zj["status"], by_zj["code"]) == ("rejected", "department_not_allowed")
    silent = rs.push("RateAssistTask", {"case_id": cid, "department": "zj", "rating": 2})
    assert (silent["status"], silent["detail"]["field"]) == ("rejected", "comment")
    crafted = rs.push("RateAssistTask", {"case_id": cid, "department": "zj", "rating": 9})
    assert (crafted["status"], crafted["detail"]["field"]) == ("rejected", "rating")
    early = rs.push("RateAssistTask", {"case_id": cid, "department": "jt", "rating": 4})
    assert (early["status"], early["code"]) == ("rejected", "too_early_to_rate")
    rated = rs.push(
        "RateAssistTask", {"case_id": cid, "department": "zj", "rating": 2, "comment": "补发不及时"}
    )
    assert rated["status"] == "applied", rated
    twice = rs.push("RateAssistTask", {"case_id": cid, "department": "zj", "rating": 5})
    assert (twice["status"], twice["code"]) == ("rejected", "rated")
    tasks = {t["department"]: t for t in work(server, cid, "rs_handler")["assist_tasks"]}
    assert (tasks["zj"]["rating"], tasks["zj"]["rating_comment"]) == (2, "补发不及时")
    events = server.get(f"/cases/{cid}", "zj_handler").json()["events"]
    assert [e["kind"] for e in events].count("AssistingRated") == 1


def test_a_case_reported_back_tells_the_supervisors_it_waits_for_verification(
    server: Server,
) -> None:
    case = parking_case(server)
    cid = case["id"]
    act(server, "zhzf_handler", cid, "start-handling")
    act(server, "zhzf_handler", cid, "report-back", photos=["a" * 64], where=on_site(case))
    waiting = [
        n for n in server.get("/notifications", "supervisor").json() if n["kind"] == "to_verify"
    ]
    assert [n["case_id"] for n in waiting] == [cid]
    assert case["number"] in waiting[0]["text"]
    # for the supervisors' role, not for the departments that handled it
    assert all(
        n["kind"] != "to_verify" for n in server.get("/notifications", "zhzf_handler").json()
    )
