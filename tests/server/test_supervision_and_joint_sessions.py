"""Supervision (escalation levels, run once by concurrent jobs, the overdue board) and joint
on-site sessions, through the API and the job, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from server.db import make_engine
from server.demo_data import SITES
from server.models import CaseEscalation, CaseEvent
from server.services.escalation_job import RunResult, run_escalation
from sync.clock import to_local
from tests.conftest import Server
from tests.server.test_worked_examples import act, record
from tests.server.test_workflow_api import docx_text, post_ok, work

WATERLOGGING = [s for s in SITES if s.kind == "waterlogging_point"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def waterlogging_case(server: Server, n: int = 0, *, accept: bool = True) -> dict[str, Any]:
    w = WATERLOGGING[n % len(WATERLOGGING)].location
    case = record(server, "inspector", "waterlogging", w.lat, w.lon, f"积水 {n}")
    assigned = act(server, "inspector", case["id"], "assign")
    if accept:
        act(server, "zhzf_handler", case["id"], "accept")
    return assigned


def levels(server: Server, case_id: str) -> list[str]:
    return [e["level"] for e in work(server, case_id)["escalations"]]


def escalate(server: Server) -> dict[str, Any]:
    return post_ok(server, "/supervision/escalate", "supervisor", {})  # type: ignore[no-any-return]


def test_overdue_cases_are_escalated_in_levels_each_once(server: Server) -> None:
    case = waterlogging_case(server)
    cid = case["id"]
    due = at(case["due_at"])
    escalate(server)
    assert levels(server, cid) == []  # just assigned: nothing is due soon yet
    server.clock.now = due - timedelta(hours=2)
    escalate(server)
    assert levels(server, cid) == ["due_soon"]
    assert any(
        n["kind"] == "escalation_due_soon"
        for n in server.get("/notifications", "zhzf_handler").json()
    )
    server.clock.now = due + timedelta(minutes=1)
    escalate(server)
    escalate(server)
    assert levels(server, cid) == ["due_soon", "reminder"]
    server.clock.now = due + timedelta(days=1, hours=1)  # a working day later (Thu → Fri)
    escalate(server)
    assert levels(server, cid) == ["due_soon", "reminder", "supervisor"]
    supervisor_notes = [n["kind"] for n in server.get("/notifications", "supervisor").json()]
    assert "escalation_supervisor" in supervisor_notes
    server.clock.now = due + timedelta(days=7)
    server._tokens.clear()
    escalate(server)
    escalate(server)
    assert levels(server, cid) == ["due_soon", "reminder", "supervisor", "leadership"]
    events = server.get(f"/cases/{cid}", "supervisor").json()["events"]
    assert [e["data"]["level"] for e in events if e["kind"] == "CaseEscalated"] == [
        "reminder",
        "supervisor",
        "leadership",
    ]
    # a suspended case is not escalated further; a closed one drops off the board
    assert server.get("/supervision/overdue-board", "supervisor", by="category").json()[0] == {
        "key": "waterlogging",
        "overdue": 1,
        "due_soon": 0,
        "disputed_overdue": 0,
    }


def test_a_case_not_accepted_in_time_is_escalated_for_acceptance(server: Server) -> None:
    case = waterlogging_case(server, accept=False)
    server.clock.now += timedelta(hours=3)
    escalate(server)
    assert "acceptance" not in levels(server, case["id"])
    server.clock.now += timedelta(hours=3)  # Monday 15:00: 4 working hours after 09:00
    escalate(server)
    assert levels(server, case["id"]) == ["acceptance"]
    assert any(
        n["kind"] == "escalation_acceptance"
        for n in server.get("/notifications", "supervisor").json()
    )


def test_a_job_that_did_not_run_for_days_catches_up_every_level_once(server: Server) -> None:
    case = waterlogging_case(server)
    server.clock.now = at(case["due_at"]) + timedelta(days=7)
    server._tokens.clear()
    run = escalate(server)
    got = sorted(level for cid, level in run["escalated"] if cid == case["id"])
    assert got == ["leadership", "reminder", "supervisor"]


def test_the_overdue_board_counts_by_department_town_and_category(server: Server) -> None:
    cases = [waterlogging_case(server, n) for n in range(4)]
    server.clock.now = max(at(c["due_at"]) for c in cases) + timedelta(hours=1)
    by_town = {
        r["key"]: r["overdue"]
        for r in server.get("/supervision/overdue-board", "supervisor", by="town").json()
    }
    expected = Counter(c["town_code"] for c in cases)
    assert by_town == dict(expected)
    by_dept = {
        r["key"]: r["overdue"]
        for r in server.get("/supervision/overdue-board", "supervisor").json()
    }
    assert by_dept == {"zhzf": 4}  # no dispute: only the lead is charged
    assert server.get("/supervision/overdue-board", "zhzf_handler").status_code == 403


def _run_in_threads(url: str, now: datetime, n: int) -> list[RunResult]:
    barrier = threading.Barrier(n)
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def job() -> None:
        engine = make_engine(url)
        try:
            barrier.wait()
            results.append(run_escalation(engine, now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=job) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _recorded(url: str) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = Counter((e.case_id, e.level) for e in session.exec(select(CaseEscalation)))
        events = Counter(
            (e.case_id, e.data["level"])
            for e in session.exec(select(CaseEvent).where(CaseEvent.kind == "CaseEscalated"))
        )
    engine.dispose()
    return rows, events


def test_escalation_runs_exactly_once_when_two_jobs_run_at_the_same_time(server: Server) -> None:
    cases = [waterlogging_case(server, n) for n in range(6)]
    now = max(at(c["due_at"]) for c in cases) + timedelta(days=7)
    results = _run_in_threads(server.url, now, 2)
    done = [x for r in results for x in r.escalated]
    expected = {(c["id"], lvl) for c in cases for lvl in ("reminder", "supervisor", "leadership")}
    assert sorted(done) == sorted(expected)  # each level by exactly one of the two jobs
    rows, events = _recorded(server.url)
    assert rows == Counter(expected)
    assert events == Counter(expected)


def test_escalation_runs_exactly_once_with_two_server_processes(server: Server) -> None:
    cases = [waterlogging_case(server, n) for n in range(4)]
    now = max(at(c["due_at"]) for c in cases) + timedelta(days=7)
    env = {**os.environ, "DATABASE_URL": server.url}
    cmd = [sys.executable, "-m", "server", "escalate", "--now", now.isoformat()]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    rows, events = _recorded(server.url)
    expected = Counter(
        {(c["id"], lvl): 1 for c in cases for lvl in ("reminder", "supervisor", "leadership")}
    )
    assert rows == expected
    assert events == expected
    total = sum(int(out.split()[1]) for out, _ in outs)
    assert total == len(expected)


# --- joint on-site sessions ---------------------------------------------------------------


def test_a_joint_session_with_three_departments_fixes_four_waterlogging_points(
    server: Server,
) -> None:
    body = {
        "title": "雨后积水联合办公",
        "purpose": "12345 多次反映雨后道路积水",
        "place": "老城区",
        "departments": ["zhzf", "sw", "zj"],
    }
    js = post_ok(server, "/joint-sessions", "rx_handler", body, 201)
    sid = js["id"]
    assert set(js["called_departments"]) == {"rx", "zhzf", "sw", "zj"}
    assert server.get(f"/joint-sessions/{sid}", "jt_handler").status_code == 404
    for user in ("zhzf_handler", "sw_handler", "zj_handler"):
        post_ok(
            server,
            f"/joint-sessions/{sid}/check-in",
            user,
            {"where": {"lat": 35.735, "lon": 116.483}},
        )
    post_ok(server, f"/joint-sessions/{sid}/check-in", "zhzf_handler", {})  # twice is harmless
    checked = server.get(f"/joint-sessions/{sid}", "sw_handler").json()["check_ins"]
    assert sorted(c["department"] for c in checked) == ["sw", "zhzf", "zj"]
    # duties go only to departments present
    site = WATERLOGGING[0]
    bad = {
        "case": {
            "id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "积水",
            "location": {"lat": site.location.lat, "lon": site.location.lon},
        },
        "lead_department": "zhzf",
        "duties": [{"department": "jt", "duty": "交通疏导"}],
    }
    r = server.post(f"/joint-sessions/{sid}/points", "zhzf_handler", bad)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "duties[0].department"
    node = server.clock.now + timedelta(days=2)
    ids = []
    for i, site in enumerate(WATERLOGGING):
        point = {
            "label": f"点位{i + 1} {site.name}",
            "case": {
                "id": str(uuid.uuid4()),
                "category": "waterlogging",
                "description": f"{site.name}雨后积水",
                "location": {"lat": site.location.lat, "lon": site.location.lon},
            },
            "lead_department": "sw",
            "lead_due_at": (node + timedelta(days=1)).isoformat(),
            "duties": [
                {
                    "department": "zhzf",
                    "duty": "清理占压排水口的违章设施",
                    "due_at": node.isoformat(),
                },
                {
                    "department": "zj",
                    "duty": "督促施工单位恢复雨水管道",
                    "due_at": node.isoformat(),
                },
            ],
        }
        view = post_ok(server, f"/joint-sessions/{sid}/points", "zhzf_handler", point, 201)
        ids.append(view["points"][-1]["case"]["id"])
    assert len(ids) == 4
    for cid in ids:
        c = server.get(f"/cases/{cid}", "sw_handler").json()
        assert c["source"] == "joint_session" and c["lead_department"] == "sw"
        assert at(c["due_at"]) == node + timedelta(days=1)
        tasks = {
            t["department"]: at(t["due_at"])
            for t in work(server, cid, "sw_handler")["assist_tasks"]
        }
        assert tasks == {"zhzf": node, "zj": node}
    # each point shows whether it is overdue as of now (not as of the session's start)
    on_time = server.get(f"/joint-sessions/{sid}", "supervisor").json()
    assert not any(p["case"]["overdue"] for p in on_time["points"])
    server.clock.now = node + timedelta(days=1, hours=1)  # past every point's deadline
    late = server.get(f"/joint-sessions/{sid}", "supervisor").json()
    assert all(p["case"]["overdue"] for p in late["points"])
    concluded = post_ok(
        server,
        f"/joint-sessions/{sid}/conclude",
        "rx_handler",
        {
            "facts": "现场查明4处积水点，系管网淤堵和施工占压所致",
            "legal_basis": "《城镇排水与污水处理条例》",
        },
    )
    assert concluded["status"] == "concluded" and concluded["minute_id"]
    r = server.post(f"/joint-sessions/{sid}/conclude", "rx_handler", {"facts": "again"})
    assert r.status_code == 409  # one minute per session
    # the minute, read back
    r = server.client.get(
        f"/minutes/{concluded['minute_id']}/file", headers=server.login("zj_handler")
    )
    assert r.status_code == 200
    text = docx_text(r.content)
    for name in ("综合执法局", "水务局", "住建局"):
        assert name in text
    for site in WATERLOGGING:
        assert site.name in text
    assert "清理占压排水口的违章设施" in text and "督促施工单位恢复雨水管道" in text
    lead_node = to_local(node + timedelta(days=1))
    assert f"{to_local(node):%Y-%m-%d %H:%M}" in text  # the assisting time nodes
    assert f"{lead_node:%Y-%m-%d %H:%M}" in text  # each point's deadline
    assert "现场查明4处积水点" in text and "《城镇排水与污水处理条例》" in text
    # every point tracked to closure
    for n, cid in enumerate(ids):
        act(server, "sw_handler", cid, "accept")
        act(server, "sw_handler", cid, "start-handling")
        spot = WATERLOGGING[n].location  # the after photo, taken at the point
        where = {"lat": spot.lat, "lon": spot.lon}
        act(server, "sw_handler", cid, "report-back", photos=[f"{n}" * 64], where=where)
        view = server.get(f"/joint-sessions/{sid}", "supervisor").json()
        assert not view["all_closed"]
        act(server, "supervisor", cid, "close")
    view = server.get(f"/joint-sessions/{sid}", "supervisor").json()
    assert view["closed_points"] == 4 and view["all_closed"] is True
    for cid in ids:
        assert [m["kind"] for m in work(server, cid)["minutes"]] == ["joint_session"]
