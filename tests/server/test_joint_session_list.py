"""GET /joint-sessions: "my sessions" for the phone — open first, then newest; a department sees
the sessions it was invited to, convened or attended; oversight roles see all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Server
from tests.server.test_workflow_api import post_ok


def convene(server: Server, user: str, title: str, departments: list[str]) -> str:
    body = {"title": title, "place": "老城区", "departments": departments}
    return str(post_ok(server, "/joint-sessions", user, body, 201)["id"])


def listed(server: Server, user: str, **params: str) -> list[dict[str, Any]]:
    r = server.get("/joint-sessions", user, **params)
    assert r.status_code == 200, r.text
    sessions: list[dict[str, Any]] = r.json()["sessions"]
    return sessions


def test_my_sessions_lists_open_ones_first_and_only_those_of_my_department(
    server: Server,
) -> None:
    first = convene(server, "supervisor", "积水联合办公", ["zhzf", "sw", "zj"])
    server.clock.now += timedelta(hours=1)
    second = convene(server, "supervisor", "停车场联合办公", ["zhzf", "jt"])
    server.clock.now += timedelta(hours=1)
    third = convene(server, "supervisor", "欠薪联合办公", ["rs", "zj"])
    post_ok(server, f"/joint-sessions/{second}/check-in", "zhzf_handler", {})
    post_ok(server, f"/joint-sessions/{third}/conclude", "supervisor", {"facts": "无点位"})

    assert [s["id"] for s in listed(server, "supervisor")] == [second, first, third]
    assert [s["id"] for s in listed(server, "zhzf_handler")] == [second, first]
    assert [s["id"] for s in listed(server, "zj_handler")] == [first, third]
    assert listed(server, "jt_handler")[0]["id"] == second
    assert listed(server, "rs_handler", status="open") == []
    assert [s["id"] for s in listed(server, "rs_handler", status="concluded")] == [third]
    row = listed(server, "zhzf_handler")[0]
    assert row["checked_in"] == ["zhzf"] and row["points"] == 0 and row["status"] == "open"
    assert row["convened_by_department"] == "zfb"
    assert sorted(row["called_departments"]) == ["jt", "zfb", "zhzf"]


def test_my_sessions_needs_a_signed_in_user(server: Server) -> None:
    assert server.client.get("/joint-sessions").status_code == 401
