"""Scores follow responsibility over time (sync/responsibility.py): evaluation charges the
department responsible at the deadline; every point lost links to the event that caused it.
Pure: hand-built event logs, hand-computed figures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from server.db import make_engine
from server.evaluation.scoring import Report
from server.models import CaseEvent
from sync.clock import CHINA_TZ
from sync.workflow import acceptance_due_at
from tests.conftest import Server
from tests.server.test_evaluation_scoring import Log, indicator, nov
from tests.server.test_workflow_api import parking_case, post_ok, raise_dispute
from tests.support.work_calendar import SEEDED


def _events(log: Log, case: str, kind: str) -> list[int]:
    return [e.id for e in log.events if e.case_id == case and e.kind == kind]


def _on_time(report: Report, dept: str) -> tuple[int, list[tuple[str, float, int | None]]]:
    ind = indicator(report, dept, "on_time_rate")
    return ind.sample, [(link.case_id, link.points, link.event_id) for link in ind.links]


@pytest.mark.parametrize("stage", ["ruling", "coordination", "consultation"])
def test_score_lands_on_the_department_ruled_responsible_not_the_one_that_lost_the_case(
    stage: str,
) -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10), assisting=("zj",))
    log.add("A", "DisputeRaised", nov(3), "sw")
    # ruled (or settled by agreement) before the deadline: zj leads from then on
    log.add(
        "A",
        "DisputeRuled",
        nov(5),
        "wbb",
        responsible_department="zj",
        lost_by=["zj"],
        previous_lead="sw",
        assisting=[{"department_code": "sw", "duty": "配合"}],
        stage=stage,
    )
    log.add("A", "CaseClosed", nov(12))  # late
    report = log.score(departments=("sw", "zj"))
    ruling = _events(log, "A", "DisputeRuled")[0]
    assert _on_time(report, "zj") == (1, [("A", pytest.approx(-30.0), ruling)])
    assert _on_time(report, "sw") == (0, [])  # it lost the case: not penalised for lateness
    # the closure rate counts for the department that has the case too
    closure = indicator(report, "zj", "closure_rate")
    assert closure.sample == 1 and closure.points == 0
    assert indicator(report, "sw", "closure_rate").sample == 0


def test_a_ruling_after_the_deadline_leaves_the_late_case_with_the_department_that_had_it() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10))
    log.add("A", "DisputeRaised", nov(11), "sw")
    log.add("A", "DisputeRuled", nov(12), "wbb", responsible_department="zj", lost_by=["zj"])
    report = log.score(departments=("sw", "zj"))
    assign = _events(log, "A", "CaseAssigned")[0]
    assert _on_time(report, "sw") == (1, [("A", pytest.approx(-30.0), assign)])
    assert _on_time(report, "zj") == (0, [])


def test_a_returned_and_reassigned_case_is_scored_against_the_new_lead_and_its_deadline() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10))
    log.add("A", "CaseReturned", nov(3), "sw", returned_by="sw")
    log.assign("A", nov(4), "zj", due=nov(12))
    log.add("A", "CaseClosed", nov(11))  # after sw's old deadline, before zj's
    log.assign("B", nov(2), "sw", due=nov(10))
    log.add("B", "CaseReturned", nov(3), "sw", returned_by="sw")
    log.assign("B", nov(4), "zj", due=nov(12))  # never closed: zj's miss
    report = log.score(departments=("sw", "zj"))
    second_assign = _events(log, "B", "CaseAssigned")[1]
    assert _on_time(report, "zj") == (2, [("B", pytest.approx(-15.0), second_assign)])
    assert _on_time(report, "sw") == (0, [])
    assert indicator(report, "sw", "returns").sample == 2  # its own act, counted as such


def test_a_joint_session_time_node_is_the_deadline_that_counts_for_the_score() -> None:
    log = Log()
    # the list grants until the 20th, the departments agreed on the spot to finish by the 8th
    log.add(
        "A",
        "CaseAssigned",
        nov(2),
        "zfb",
        lead_department="sw",
        assisting=[{"department_code": "zj", "duty": "清淤"}],
        due_at=nov(20).isoformat(),
        lead_due_at=nov(8, 18).isoformat(),
        joint_session_id="js-1",
    )
    log.add("A", "CaseClosed", nov(10))
    report = log.score(departments=("sw",))
    assign = _events(log, "A", "CaseAssigned")[0]
    assert _on_time(report, "sw") == (1, [("A", pytest.approx(-30.0), assign)])


def test_a_dispute_open_at_the_deadline_shares_the_miss_with_the_departments_assisting_then() -> (
    None
):
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10), assisting=("zj",))
    log.add("A", "DisputeRaised", nov(3), "zj")
    # ruled after the deadline, naming a new assisting list: zj shared the miss at the deadline
    log.add(
        "A",
        "DisputeRuled",
        nov(12),
        "wbb",
        responsible_department="sw",
        lost_by=["zj"],
        assisting=[{"department_code": "jt", "duty": "交通疏导"}],
    )
    report = log.score(departments=("sw", "zj", "jt"))
    assert _on_time(report, "sw")[0] == 1
    assert [c for c, _, _ in _on_time(report, "zj")[1]] == ["A"]
    assert _on_time(report, "jt") == (0, [])


def test_after_a_ruling_the_evaluation_charges_the_ruled_lead_through_the_api(
    server: Server,
) -> None:
    case = parking_case(server)  # zhzf leads; due 16 Nov
    cid = case["id"]
    did = raise_dispute(server, "zhzf_handler", cid, claimed_responsible="zj")["id"]
    assert server.post(f"/disputes/{did}/escalate", "zj_handler", {}).status_code == 200
    post_ok(server, f"/disputes/{did}/escalate", "coordinator", {"reason": "协调未果"})
    server.clock.now += timedelta(days=1)  # Tuesday 09:00, before the deadline
    body = {
        "responsible_department": "zj",
        "facts": "停车场位于小区配建范围",
        "ruling_text": "由住建局牵头",
        "legal_basis": "县住建局“三定”规定",
        "assisting": [{"department_code": "zhzf", "duty": "查处违规停车"}],
    }
    post_ok(server, f"/disputes/{did}/settle", "coordinator", body)
    after = server.get(f"/cases/{cid}", "zj_handler").json()
    # the ruled lead gets its own 签收 clock from the ruling: 4 working hours
    assert datetime.fromisoformat(after["acceptance_due_at"]) == acceptance_due_at(
        server.clock.now, SEEDED
    )
    server.clock.now = datetime(2026, 12, 2, 9, tzinfo=CHINA_TZ)  # never closed
    server._tokens.clear()
    run = post_ok(
        server, "/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 11}, 201
    )
    rows = {d["department"]: {i["name"]: i for i in d["indicators"]} for d in run["departments"]}
    assert rows["zj"]["on_time_rate"]["sample"] == 1
    assert rows["zj"]["on_time_rate"]["points"] == -30.0
    assert rows["zhzf"]["on_time_rate"]["sample"] == 0  # it lost the case before the deadline
    detail = server.get(f"/evaluation/runs/{run['id']}/departments/zj", "supervisor").json()
    late = [
        link for i in detail["indicators"] if i["name"] == "on_time_rate" for link in i["links"]
    ]
    assert len(late) == 1 and late[0]["case_id"] == cid
    assert late[0]["event_id"] == _event_id(server, cid, "DisputeRuled")  # the ruling caused it


def _event_id(server: Server, case_id: str, kind: str) -> int | None:
    engine = make_engine(server.url)
    with Session(engine) as session:
        row = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        ).one()
        found = row.id
    engine.dispose()
    return found
