"""Joint on-site sessions on the phone, without a browser: who may do what, each point's progress,
who checked in, and the forms' field-named errors; the HTTP answers decoded into typed values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fieldapp.api_client import ServerFault
from fieldapp.joint_api import (
    CheckIn,
    JointApi,
    JointSession,
    PointCase,
    SessionPoint,
    SessionSummary,
)
from fieldapp.viewmodels.joint_session import (
    ConcludeForm,
    ConveneForm,
    PointForm,
    attendance,
    due_after,
    may_add_point,
    may_check_in,
    may_conclude,
    may_convene,
    open_first,
    point_progress,
    present_departments,
    shows_home_entry,
    suggested_facts,
)
from sync.boundary_types import Point
from sync.clock import to_local
from sync.lifecycle import Actor
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import NOW, case_out_json, reference

SUPERVISOR = Actor("u-sup", Role.SUPERVISOR, "zfb")
ZHZF = Actor("u-zhzf", Role.HANDLER, "zhzf")
SW = Actor("u-sw", Role.HANDLER, "sw")
JT = Actor("u-jt", Role.HANDLER, "jt")
ADMIN = Actor("u-admin", Role.ADMIN, "shzl")
HERE = Point(35.735, 116.483)


def session_json(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "s1",
        "title": "老城区胡同积水点联合办公",
        "purpose": "",
        "place": "老城区胡同积水点",
        "lat": HERE.lat,
        "lon": HERE.lon,
        "called_departments": ["sw", "zfb", "zhzf", "zj"],
        "status": "open",
        "started_at": "2026-11-04T02:00:00Z",
        "concluded_at": None,
        "minute_id": None,
        "check_ins": [
            {
                "department": "zhzf",
                "display_name": "综合执法局经办人",
                "at": "2026-11-04T02:05:00Z",
                "lat": HERE.lat,
                "lon": HERE.lon,
            },
            {
                "department": "sw",
                "display_name": "水务局经办人",
                "at": "2026-11-04T02:06:00Z",
                "lat": None,
                "lon": None,
            },
        ],
        "points": [],
        "closed_points": 0,
        "all_closed": False,
    }
    body.update(over)
    return body


def case_json(status: str, due: str | None = "2026-11-06T10:00:00Z") -> dict[str, Any]:
    return case_out_json(
        id="c1",
        number="YX-1",
        status=status,
        category="waterlogging",
        matter="城区积水点治理",
        description="胡同口积水",
        lead_department="zhzf",
        assisting=[{"department_code": "sw", "duty": "疏通管网"}],
        due_at=due,
        disputed=False,
    )


class FakeClient:
    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, dict[str, Any] | None]] = []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.sent.append((path, params))
        return self.answers[path]

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        self.sent.append((path, body))
        return self.answers[path]


def a_session(**over: Any) -> JointSession:
    return JointApi(FakeClient({"/joint-sessions/s1": session_json(**over)})).session("s1")


# --- decoding ----------------------------------------------------------------------------------


def test_a_session_answer_becomes_typed_values() -> None:
    s = a_session(points=[{"label": "点位1", "case": case_json("accepted")}])
    assert s.check_ins[0] == CheckIn(
        "zhzf", "综合执法局经办人", datetime(2026, 11, 4, 2, 5, tzinfo=UTC), HERE
    )
    assert s.check_ins[1].where is None
    point = s.points[0]
    assert point.label == "点位1" and point.case.assisting[0].department == "sw"
    assert point.case.due_at == datetime(2026, 11, 6, 10, tzinfo=UTC)


def test_an_answer_missing_a_field_is_a_server_fault() -> None:
    broken = session_json()
    del broken["check_ins"]
    with pytest.raises(ServerFault, match="check_ins"):
        JointApi(FakeClient({"/joint-sessions/s1": broken})).session("s1")


def test_my_sessions_asks_for_a_status_only_when_given() -> None:
    client = FakeClient({"/joint-sessions": {"sessions": []}})
    api = JointApi(client)
    api.my_sessions()
    api.my_sessions("open")
    assert client.sent == [("/joint-sessions", None), ("/joint-sessions", {"status": "open"})]


# --- who may do what ---------------------------------------------------------------------------


def test_a_department_checks_in_once_and_only_while_the_session_is_open() -> None:
    s = a_session()
    assert not may_check_in(ZHZF, s)  # already checked in
    assert may_check_in(Actor("u-zj", Role.HANDLER, "zj"), s)
    assert may_check_in(SUPERVISOR, s)  # the organizer's office attends too
    assert not may_check_in(ADMIN, s)
    assert not may_check_in(Actor("u-zj", Role.HANDLER, "zj"), replace(s, status="concluded"))


def test_points_are_recorded_by_those_present_or_the_organizer() -> None:
    s = a_session()
    assert may_add_point(ZHZF, s) and may_add_point(SUPERVISOR, s)
    assert not may_add_point(JT, s)  # not checked in
    assert not may_add_point(ZHZF, replace(s, status="concluded"))


def test_only_the_organizer_concludes_and_only_once() -> None:
    s = a_session()
    assert may_conclude(SUPERVISOR, s)
    assert not may_conclude(ZHZF, s)
    assert not may_conclude(SUPERVISOR, replace(s, status="concluded"))
    assert may_convene(SUPERVISOR) and not may_convene(ZHZF)


def test_attendance_lists_every_invited_department_and_who_came() -> None:
    rows = {a.department: a.present for a in attendance(a_session())}
    assert rows == {"sw": True, "zfb": False, "zhzf": True, "zj": False}
    assert present_departments(a_session()) == ["zhzf", "sw"]


def test_the_home_entry_shows_for_organizers_and_for_invited_departments_of_open_sessions() -> None:
    api = JointApi(
        FakeClient(
            {
                "/joint-sessions": {
                    "sessions": [
                        {
                            "id": "s1",
                            "title": "积水",
                            "place": "",
                            "status": "open",
                            "started_at": "2026-11-04T02:00:00Z",
                            "concluded_at": None,
                            "called_departments": ["zfb", "zhzf", "sw"],
                            "convened_by_department": "zfb",
                            "checked_in": [],
                            "points": 0,
                            "closed_points": 0,
                            "minute_id": None,
                        }
                    ]
                }
            }
        )
    )
    listed = api.my_sessions()
    assert shows_home_entry(SW, listed)
    assert not shows_home_entry(JT, listed)
    assert shows_home_entry(SUPERVISOR, [])
    assert not shows_home_entry(SW, [replace(listed[0], status="concluded")])


def test_open_sessions_come_first_then_newest() -> None:
    def row(sid: str, status: str, hour: int) -> SessionSummary:
        return SessionSummary(
            sid, sid, "", status, datetime(2026, 11, 4, hour, tzinfo=UTC), (), "zfb", (), 0, 0, None
        )

    rows = [row("old-open", "open", 1), row("new-done", "concluded", 5), row("new-open", "open", 3)]
    assert [r.id for r in open_first(rows)] == ["new-open", "old-open", "new-done"]


# --- progress ----------------------------------------------------------------------------------


def _case(status: str, due: datetime | None = NOW + timedelta(days=1)) -> PointCase:
    return PointCase("c1", "YX-1", status, "waterlogging", "积水", "", "zhzf", (), due, False)


def test_each_point_shows_how_far_it_is_along_the_closed_loop() -> None:
    assert point_progress(_case("assigned"), NOW).step == 1
    handled = point_progress(_case("handled"), NOW)
    assert (handled.step, handled.of, handled.closed) == (4, 5, False)
    closed = point_progress(_case("closed", NOW - timedelta(days=3)), NOW)
    assert closed.closed and closed.fraction == 1.0 and not closed.overdue


def test_a_point_past_its_time_node_and_not_closed_is_overdue() -> None:
    assert point_progress(_case("handling", NOW - timedelta(hours=1)), NOW).overdue
    assert not point_progress(_case("handling", None), NOW).overdue


# --- forms -------------------------------------------------------------------------------------


def test_time_nodes_fall_at_six_in_the_evening_local_time() -> None:
    node = due_after(NOW, 2)  # NOW is Wednesday 10:00 in China
    assert to_local(node).isoformat() == "2026-11-06T18:00:00+08:00"


def test_convening_at_a_site_invites_the_departments_the_list_names() -> None:
    form = ConveneForm(own_department="zfb")
    site = reference().site("W01")
    assert site is not None
    form.choose_site(site, reference(), NOW)
    assert form.place == "老城区胡同积水点" and form.location == site.location
    assert form.title == "老城区胡同积水点联合办公"
    assert form.departments == ["zhzf", "sw"]  # the list's lead and assisting, known codes only
    form.toggle("sw", False)
    form.toggle("zhzf", False)
    form.title = " "
    assert not form.validate()
    assert form.errors == {
        "title": "joint.error.title_required",
        "departments": "joint.error.departments_required",
    }


def test_a_point_form_names_each_missing_field() -> None:
    form = PointForm(lead_days="0")
    assert form.new_point("c1", ["zhzf", "sw"], NOW) is None
    assert form.errors == {
        "category": "joint.error.category_required",
        "description": "joint.error.description_required",
        "location": "joint.error.location_required",
        "lead_department": "joint.error.lead_required",
        "lead_days": "joint.error.days",
    }


def test_duties_go_only_to_departments_present_and_no_later_than_the_lead() -> None:
    form = PointForm(category="waterlogging", description="积水", location=HERE)
    form.choose_lead("jt")
    form.toggle_assisting("sw", True, reference(), NOW)
    assert form.duties["sw"].duty == "泵站强排"  # the list's wording to start from
    form.duties["sw"].days = "5"
    form.toggle_assisting("zj", True, reference(), NOW)
    assert not form.validate(["zhzf", "sw"])
    assert form.errors == {
        "lead_department": "joint.error.not_present",
        "duties.sw.days": "joint.error.after_lead",
        "duties.zj.department": "joint.error.not_present",
        "duties.zj.duty": "joint.error.duty_required",
    }


def test_a_complete_point_becomes_the_request_with_time_nodes() -> None:
    form = PointForm()
    site = reference().site("W01")
    assert site is not None
    form.choose_site(site)
    form.description = " 胡同口积水30厘米 "
    form.choose_lead("zhzf")
    form.toggle_assisting("sw", True, reference(), NOW)
    form.toggle_assisting("zhzf", True, reference(), NOW)  # the lead itself: ignored
    point = form.new_point("c1", ["zhzf", "sw"], NOW)
    assert point is not None
    body = point.body()
    assert body["label"] == "老城区胡同积水点"
    assert body["case"] == {
        "id": "c1",
        "category": "waterlogging",
        "description": "胡同口积水30厘米",
        "location": {"lat": site.location.lat, "lon": site.location.lon},
        "site_code": "W01",
    }
    assert body["lead_department"] == "zhzf"
    assert body["lead_due_at"] == due_after(NOW, 3).isoformat()
    assert body["duties"] == [
        {"department": "sw", "duty": "泵站强排", "due_at": due_after(NOW, 2).isoformat()}
    ]


def test_choosing_a_lead_unselects_it_as_assisting() -> None:
    form = PointForm()
    form.toggle_assisting("sw", True, reference(), NOW)
    form.choose_lead("sw")
    assert form.assisting() == []


def test_concluding_needs_facts_and_suggests_them_from_the_points() -> None:
    form = ConcludeForm(facts="  ")
    assert not form.validate() and form.errors == {"facts": "joint.error.facts_required"}
    s = a_session()
    s = replace(
        s,
        points=(
            SessionPoint("老城区胡同积水点", _case("closed")),
            SessionPoint("铁路桥涵洞积水点", _case("handling")),
        ),
    )
    assert suggested_facts(s).startswith("现场排查点位2处（老城区胡同积水点、铁路桥涵洞积水点）")
