"""The phone reads the server's real answers: its dispute, joint-session, notification, board
and sign-in calls go to a test server and decode through the same models the server answers
with (``sync/bodies.py``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fieldapp.api_client import ApiClient, UserInfo
from fieldapp.dashboard_api import fetch_dashboard, fetch_notifications
from fieldapp.dispute_api import DisputeApi, Ruling
from fieldapp.joint_api import DutyOnSite, JointApi, NewPoint
from server.demo_data import SITES
from sync.boundary_types import Point
from tests.conftest import Server

PARKING_LOT = next(s for s in SITES if s.code == "P02")
WATER = next(s for s in SITES if s.kind == "waterlogging_point")


class Phone:
    """The phone's JSON calls (``JsonApi``), answered by the test server as ``user``."""

    def __init__(self, server: Server, user: str) -> None:
        self.server = server
        self.user = user

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.server.get(path, self.user, **(params or {}))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def get_json_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        r = self.server.get(path, self.user, **(params or {}))
        assert r.status_code == 200, r.text
        return list(r.json())

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.server.post(path, self.user, body or {})
        assert r.status_code in (200, 201), r.text
        return dict(r.json())


def _accepted_parking_case(server: Server) -> str:
    lot = PARKING_LOT.location
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场无人管理",
        "location": {"lat": lot.lat, "lon": lot.lon},
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    for user, action in (("inspector", "assign"), ("zhzf_handler", "accept")):
        assert server.post(f"/cases/{case_id}/{action}", user, {}).status_code == 200
    return case_id


def test_the_phone_reads_a_dispute_through_to_its_ruling(server: Server) -> None:
    case_id = _accepted_parking_case(server)
    raised = server.post(
        f"/workflow/cases/{case_id}/disputes",
        "zhzf_handler",
        {"reason": "非本部门职责", "legal_basis": "三定规定", "claimed_responsible": "zj"},
    )
    assert raised.status_code == 201, raised.text
    lead = DisputeApi(Phone(server, "zhzf_handler"))
    work = lead.case_work(case_id)
    assert (work.case_id, work.status, work.lead_department) == (case_id, "accepted", "zhzf")
    [dispute] = work.disputes
    assert dispute.claimed_responsible == "zj" and dispute.stage == "consultation"
    assert dispute.stage_due_at.tzinfo is not None
    stated = lead.state_position(dispute.id, not_ours=True, reason="非本部门职责", legal_basis="")
    assert [(p.department, p.not_ours) for p in stated.positions if p.department == "zhzf"] == [
        ("zhzf", True)
    ]
    suspended = DisputeApi(Phone(server, "coordinator")).suspend(dispute.id, "等待上级文件")
    assert suspended.suspended and suspended.suspensions[0].reason == "等待上级文件"
    assert suspended.suspensions[0].end is None
    resumed = DisputeApi(Phone(server, "coordinator")).resume(dispute.id)
    assert not resumed.suspended and resumed.suspensions[0].end is not None
    escalated = DisputeApi(Phone(server, "zhzf_handler")).escalate(dispute.id, "协商未果")
    assert escalated.stage == "coordination"
    ruled = DisputeApi(Phone(server, "coordinator")).settle(
        dispute.id,
        Ruling(
            responsible_department="zj",
            facts="停车场属小区配建",
            ruling_text="由住建局主办",
            legal_basis="三定规定",
            assisting=(),
        ),
    )
    assert ruled.status == "settled" and ruled.responsible_department == "zj"
    assert ruled.minute_id is not None
    minute = DisputeApi(Phone(server, "coordinator")).minute(ruled.minute_id)
    assert minute.download == f"/minutes/{ruled.minute_id}/file"
    after = DisputeApi(Phone(server, "zj_handler")).case_work(case_id)
    assert after.lead_department == "zj" and after.minutes[0].id == ruled.minute_id


def test_the_phone_reads_a_joint_session_its_points_and_its_minute(server: Server) -> None:
    convener = JointApi(Phone(server, "rx_handler"))
    here = Point(WATER.location.lat, WATER.location.lon)
    session = convener.convene(
        title="雨后积水联合办公",
        purpose="12345 多次反映",
        place="老城区",
        location=here,
        departments=["zhzf", "sw"],
    )
    assert session.location == here and session.status == "open"
    zhzf = JointApi(Phone(server, "zhzf_handler"))
    checked = zhzf.check_in(session.id, here)
    assert [c.department for c in checked.check_ins] == ["zhzf"]
    JointApi(Phone(server, "sw_handler")).check_in(session.id, None)
    node = server.clock.now + timedelta(days=2)
    point = NewPoint(
        case_id=str(uuid.uuid4()),
        label="点位1",
        category="waterlogging",
        description="胡同口积水",
        location=here,
        site_code=None,
        lead_department="sw",
        lead_due_at=node + timedelta(days=1),
        duties=(DutyOnSite("zhzf", "清理占压排水口", node),),
    )
    with_point = zhzf.add_point(session.id, point)
    [sp] = with_point.points
    assert sp.case.id == point.case_id and sp.case.lead_department == "sw"
    assert [(a.department, a.duty) for a in sp.case.assisting] == [("zhzf", "清理占压排水口")]
    [summary] = JointApi(Phone(server, "sw_handler")).my_sessions()
    assert (summary.id, summary.points) == (session.id, 1)
    concluded = convener.conclude(session.id, facts="查明积水成因", legal_basis="")
    assert concluded.status == "concluded" and concluded.minute_id is not None
    minute = JointApi(Phone(server, "supervisor")).minute(concluded.minute_id)
    assert minute.id == concluded.minute_id


def test_the_phone_reads_its_notifications_and_signs_in(server: Server) -> None:
    JointApi(Phone(server, "rx_handler")).convene(
        title="雨后积水联合办公", purpose="", place="老城区", location=None, departments=["zhzf"]
    )
    notices = fetch_notifications(Phone(server, "zhzf_handler"))
    assert [n["kind"] for n in notices] == ["joint_session"]
    assert isinstance(notices[0]["id"], int) and notices[0]["read_at"] is None
    login = ApiClient("http://test", session=server.client).login(  # type: ignore[arg-type]
        "zhzf_handler", "yixian-demo"
    )
    assert login.token
    assert isinstance(login.user, UserInfo) and login.user.department_code == "zhzf"


def test_the_phone_reads_the_supervisors_dashboard_and_board(server: Server) -> None:
    _accepted_parking_case(server)
    server.clock.now += timedelta(days=30)  # past the case's deadline
    dash = fetch_dashboard(Phone(server, "supervisor"), "month")
    assert [(r["key"], r["overdue"]) for r in dash.board] == [("zhzf", 1)]
