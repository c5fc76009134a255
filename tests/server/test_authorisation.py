"""Who may do what, over HTTP, on both databases: each role × each action, visibility, sign-in.

The representative case: a parking problem in a street of 汶上街道 (urban), recorded by the
inspector, whose department (社会治理中心, the grid) is its first contact: the hotline centre
(``rx``) did not receive it and has no part in it (首问责任制). The boundary list makes 综合执法局
(zhzf) the lead and the street office (town:wenshang) one of the assisting departments; 水务局
(sw) has nothing to do with it. Expected answers are written by hand from docs/domain.md, not read
from the code.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

from tests.conftest import Server

_SPOTS = itertools.count()


def street_spot() -> dict[str, float]:
    """A new place in 汶上街道 for each case, 80 m from the others and off the registered sites,
    so no case counts as a problem reported again at the place of a closed one."""
    k = next(_SPOTS)
    return {"lat": 35.707 + 0.003 * (k // 40), "lon": 116.4565 + 0.0009 * (k % 40)}


USERS = (
    "inspector",  # recorded the case (reporter)
    "rx_handler",  # first-contact department
    "zhzf_handler",  # lead department
    "wenshang_handler",  # assisting department (the street office where the lot is)
    "sw_handler",  # a department with nothing to do with the case
    "supervisor",
    "coordinator",
    "admin",
)


def record(server: Server, user: str = "inspector", **extra: Any) -> str:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场出入口被占用",
        "location": street_spot(),
        **extra,
    }
    r = server.post("/cases", user, body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def act(server: Server, user: str, case_id: str, action: str, **body: Any) -> dict[str, Any]:
    r = server.post(f"/cases/{case_id}/{action}", user, body)
    assert r.status_code == 200, r.text
    return dict(r.json())


# How to bring a new case to the state each action starts from, by users who may.
def _discovered(server: Server) -> str:
    return record(server)


def _assigned(server: Server) -> str:
    case_id = record(server)
    act(server, "inspector", case_id, "assign")
    return case_id


def _suspended(server: Server) -> str:
    case_id = _assigned(server)
    act(server, "supervisor", case_id, "suspend", reason="等待产权资料")
    return case_id


def _accepted(server: Server) -> str:
    case_id = _assigned(server)
    act(server, "zhzf_handler", case_id, "accept")
    return case_id


def _handling(server: Server) -> str:
    case_id = _accepted(server)
    act(server, "zhzf_handler", case_id, "start-handling")
    return case_id


def _handled(server: Server) -> str:
    case_id = _handling(server)
    case = server.get(f"/cases/{case_id}", "supervisor").json()
    on_site = {"lat": case["lat"], "lon": case["lon"]}  # the after photo taken at the case
    act(server, "zhzf_handler", case_id, "report-back", photos=["e" * 64], where=on_site)
    return case_id


def _closed(server: Server) -> str:
    case_id = _handled(server)
    act(server, "supervisor", case_id, "close")
    return case_id


Setup = Callable[[Server], str]

# action → (state it starts from, {user: HTTP status}); 404: the case is not visible to the user
OK, CREATED, REFUSED, HIDDEN = 200, 201, 403, 404
LEAD_ONLY = {
    "inspector": REFUSED,
    "rx_handler": HIDDEN,  # not the first contact: the case is none of its business
    "zhzf_handler": OK,
    "wenshang_handler": REFUSED,
    "sw_handler": HIDDEN,
    "supervisor": REFUSED,
    "coordinator": REFUSED,
    "admin": REFUSED,
}
VERIFIERS = {
    **LEAD_ONLY,
    "zhzf_handler": REFUSED,
    "inspector": OK,
    "supervisor": OK,
}
OVERSIGHT = {**LEAD_ONLY, "zhzf_handler": REFUSED, "supervisor": OK, "coordinator": OK}
EXPECTED: dict[str, tuple[Setup, dict[str, int]]] = {
    "assign": (
        _discovered,
        {
            "inspector": OK,
            "rx_handler": HIDDEN,
            "zhzf_handler": HIDDEN,  # not yet assigned: the lead-to-be does not see it
            "wenshang_handler": HIDDEN,
            "sw_handler": HIDDEN,
            "supervisor": OK,
            "coordinator": OK,
            "admin": REFUSED,
        },
    ),
    "accept": (_assigned, LEAD_ONLY),
    "return": (_assigned, LEAD_ONLY),
    "start-handling": (_accepted, LEAD_ONLY),
    "report-back": (_handling, LEAD_ONLY),
    "close": (_handled, VERIFIERS),
    "send-back": (_handled, VERIFIERS),
    "reopen": (_closed, {**OVERSIGHT, "coordinator": REFUSED}),
    "cancel": (_assigned, OVERSIGHT),
    "merge": (_assigned, {**OVERSIGHT, "inspector": OK}),
    "suspend": (_assigned, OVERSIGHT),
    "resume": (_suspended, OVERSIGHT),
    # raising a dispute creates one: 201, as through POST /workflow/cases/{id}/disputes
    "raise-dispute": (
        _assigned,
        {u: CREATED if c == OK else c for u, c in {**LEAD_ONLY, "wenshang_handler": OK}.items()},
    ),
}

EVERY_ACTION = tuple(EXPECTED)


def test_each_role_may_take_each_action_only_as_the_closed_loop_says(server: Server) -> None:
    # one test per database for the whole grid: signing in (argon2) is the slow part
    user_ids = {
        u: server.client.get("/auth/me", headers=server.login(u)).json()["id"] for u in USERS
    }
    got: dict[str, dict[str, int]] = {}
    for action, (setup, _) in EXPECTED.items():
        other = record(server)  # a case to merge into
        body = {"reason": "理由：现场核实", "duplicate_of": other, "legal_basis": "三定规定"}
        got[action] = {}
        case_id = setup(server)
        for user in USERS:
            before = server.get(f"/cases/{case_id}", "supervisor").json()
            r = server.post(f"/cases/{case_id}/{action}", user, body)
            got[action][user] = r.status_code
            if r.status_code in (OK, CREATED):
                appended = r.json()["events"][len(before["events"]) :]
                assert appended and {e["actor_user_id"] for e in appended} == {user_ids[user]}
                case_id = setup(server)  # the case moved on: the next user gets a fresh one
                continue
            assert r.json()["detail"]["code"] in (
                "role_not_allowed",
                "department_not_allowed",
                "not_found",
            ), r.text
            # a refused request leaves no trace
            assert server.get(f"/cases/{case_id}", "supervisor").json() == before
    assert got == {action: users for action, (_, users) in EXPECTED.items()}


def test_the_table_names_every_transition_endpoint_of_the_api(server: Server) -> None:
    paths = server.client.get("/openapi.json").json()["paths"]
    transitions = {
        p.rsplit("/", 1)[1]
        for p in paths
        if p.startswith("/cases/{case_id}/") and not p.endswith("/notes")
    }
    assert transitions == set(EVERY_ACTION)


def test_another_departments_case_is_not_found_on_read_and_on_every_action(
    server: Server,
) -> None:
    case_id = _assigned(server)
    before = server.get(f"/cases/{case_id}", "supervisor").json()
    r = server.get(f"/cases/{case_id}", "sw_handler")
    assert r.status_code == 404
    assert r.json()["detail"]["code"] == "not_found"
    for action in (*EVERY_ACTION, "notes"):
        r = server.post(
            f"/cases/{case_id}/{action}",
            "sw_handler",
            {"reason": "x", "note": "x", "duplicate_of": case_id},
        )
        assert r.status_code == 404, (action, r.text)
    # the same answer as for a case that does not exist: nothing leaks
    missing = server.get(f"/cases/{uuid.uuid4()}", "sw_handler")
    assert missing.status_code == 404
    assert server.get(f"/cases/{case_id}", "supervisor").json() == before


def test_a_handler_lists_only_cases_their_department_takes_part_in(server: Server) -> None:
    parking = _assigned(server)  # zhzf leads, town:wenshang assists
    wages = record(
        server,
        "rx_handler",
        category="unpaid_wages",
        first_contact_department="rx",
        description="拖欠工资",
    )
    act(server, "rx_handler", wages, "assign")  # 人社局 leads; 水务局 assists (its industry)
    unassigned = record(server)  # only the reporter (and its department, shzl) sees it

    def listed(user: str) -> set[str]:
        r = server.get("/cases", user)
        assert r.status_code == 200
        return {c["id"] for c in r.json()["items"]}

    assert listed("zhzf_handler") == {parking}
    assert listed("sw_handler") == {wages}
    assert listed("rs_handler") == {wages}
    assert listed("wenshang_handler") == {parking, wages}  # both are in 汶上街道
    assert listed("rx_handler") == {wages}  # the first contact of the wages case only
    assert listed("inspector") == {parking, unassigned}  # what the inspector recorded
    assert listed("jt_handler") == {wages}  # 交通局 supervises its own industry's wages
    assert listed("supervisor") == {parking, wages, unassigned}
    assert listed("coordinator") == {parking, wages, unassigned}


def test_requests_without_a_valid_token_are_unauthenticated(server: Server) -> None:
    case_id = _discovered(server)
    for path in ("/cases", f"/cases/{case_id}", "/auth/me", "/boundary/versions"):
        assert server.client.get(path).status_code == 401, path
        bad = server.client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401, path
        assert bad.json()["detail"]["code"] == "unauthenticated"
    r = server.client.post(f"/cases/{case_id}/assign", json={})
    assert r.status_code == 401
    body = {"id": str(uuid.uuid4()), "category": "parking", "description": "无令牌"}
    assert server.client.post("/cases", json=body).status_code == 401
    assert [c["id"] for c in server.get("/cases", "supervisor").json()["items"]] == [case_id]


def test_a_wrong_password_or_unknown_user_cannot_sign_in(server: Server) -> None:
    for username, password in (("inspector", "wrong"), ("nobody", "yixian-demo")):
        r = server.client.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 401
        assert r.json()["detail"]["code"] == "bad_credentials"
        assert "token" not in r.json()


def test_an_expired_session_must_sign_in_again(server: Server) -> None:
    headers = server.login("inspector")
    assert server.client.get("/auth/me", headers=headers).status_code == 200
    server.clock.now = server.clock.now.replace(year=server.clock.now.year + 1)
    assert server.client.get("/auth/me", headers=headers).status_code == 401


def test_an_administrator_cannot_record_cases(server: Server) -> None:
    r = server.post(
        "/cases",
        "admin",
        {"id": str(uuid.uuid4()), "category": "parking", "description": "管理员试图登记"},
    )
    assert r.status_code == 403
    assert server.get("/cases", "supervisor").json()["items"] == []
