"""Joint sessions are seen and worked on only by the departments invited (and oversight): a
department that merely knows a session's id cannot check in, read its points or add points
that hand work to other departments — to it the session does not exist (404)."""

from __future__ import annotations

import uuid
from typing import Any

from server.demo_data import SITES
from tests.conftest import Server
from tests.server.test_workflow_api import post_ok

SITE = SITES[0].location


def _session(server: Server) -> str:
    body = {"title": "积水联合办公", "place": "老城区", "departments": ["zhzf", "sw"]}
    return str(post_ok(server, "/joint-sessions", "rx_handler", body, 201)["id"])


def _point(lead: str) -> dict[str, Any]:
    return {
        "case": {
            "id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "积水",
            "location": {"lat": SITE.lat, "lon": SITE.lon},
        },
        "lead_department": lead,
        "duties": [],
    }


def test_an_uninvited_department_cannot_check_in_read_or_add_points(server: Server) -> None:
    sid = _session(server)
    post_ok(server, f"/joint-sessions/{sid}/check-in", "zhzf_handler", {})
    # jt was not invited: every door answers like a session that does not exist
    for r in (
        server.post(f"/joint-sessions/{sid}/check-in", "jt_handler", {}),
        server.get(f"/joint-sessions/{sid}", "jt_handler"),
        server.post(f"/joint-sessions/{sid}/points", "jt_handler", _point("zhzf")),
        server.post(f"/joint-sessions/{sid}/conclude", "jt_handler", {"facts": "结束"}),
    ):
        assert r.status_code == 404, r.text
        assert r.json()["detail"]["code"] == "not_found"
    missing = server.post(f"/joint-sessions/{uuid.uuid4()}/check-in", "jt_handler", {})
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "not_found"
    assert all(
        s["id"] != sid for s in server.get("/joint-sessions", "jt_handler").json()["sessions"]
    )
    # nothing was recorded by the uninvited department
    view = server.get(f"/joint-sessions/{sid}", "supervisor").json()
    assert [c["department"] for c in view["check_ins"]] == ["zhzf"]
    assert view["points"] == []
    assert server.get("/cases", "jt_handler").json()["items"] == []


def test_invited_departments_and_oversight_work_on_the_session(server: Server) -> None:
    sid = _session(server)
    for user in ("zhzf_handler", "sw_handler", "supervisor"):
        post_ok(server, f"/joint-sessions/{sid}/check-in", user, {})
    view = post_ok(server, f"/joint-sessions/{sid}/points", "sw_handler", _point("zhzf"), 201)
    assert len(view["points"]) == 1
    assert server.get(f"/joint-sessions/{sid}", "coordinator").status_code == 200


def test_a_control_character_is_refused_and_the_session_can_still_be_concluded(
    server: Server,
) -> None:
    sid = _session(server)
    post_ok(server, f"/joint-sessions/{sid}/check-in", "zhzf_handler", {})
    point = _point("zhzf")
    point["label"] = "点位\x0b1"
    r = server.post(f"/joint-sessions/{sid}/points", "zhzf_handler", point)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "label"
    r = server.post(f"/joint-sessions/{sid}/conclude", "rx_handler", {"facts": "查明\x0c积水"})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "facts"
    # multi-line facts are fine, and the minute (.docx) is written
    done = post_ok(
        server, f"/joint-sessions/{sid}/conclude", "rx_handler", {"facts": "查明积水\n\t两处"}
    )
    assert done["status"] == "concluded" and done["minute_id"]
