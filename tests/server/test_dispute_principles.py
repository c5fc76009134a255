"""The county's dispute principles (issue 11 §2), through the API and sync push, on SQLite and
PostgreSQL: 认定谁、谁负责 (a department receives a case only if it agreed or was ruled
responsible; a ruling keeps each department as its list entry says), 只协调一次 (one
coordination, one minute), and one answer to one request whichever way a dispute is raised."""

from __future__ import annotations

from typing import Any

from fieldapp.viewmodels.records import facts_of as phone_facts_of
from sync.lifecycle import Actor, allowed_actions
from sync.vocabulary import Role
from tests.conftest import Server
from tests.server.test_sync_withdrawal import Phone
from tests.server.test_workflow_api import parking_case, post_ok, raise_dispute, work

BASIS = "县住建局“三定”规定"
# the parking case: 综合执法局 (zhzf) leads and has accepted; these assist
TOWN = "town:wenshang"  # 汶上街道 (wenshang_handler)
ASSISTING = {"ga", "zj", "zrzy", "scjg", TOWN}


class Device(Phone):
    """A registered device that also pushes numbered commands."""

    def __init__(self, server: Server, user: str) -> None:
        super().__init__(server, user)
        self.next_id = 1

    def push(self, payload: dict[str, Any], kind: str = "TransitionCase") -> dict[str, Any]:
        command = {
            "id": self.next_id,
            "type": kind,
            "created_at": self.server.clock.now.isoformat(),
            "payload": payload,
        }
        self.next_id += 1
        r = self.server.client.post(
            "/sync/push", json={"protocol": 1, "commands": [command]}, headers=self.headers
        )
        assert r.status_code == 200, r.text
        [result] = r.json()["results"]
        return dict(result)


def case_detail(server: Server, case_id: str, user: str = "supervisor") -> dict[str, Any]:
    r = server.get(f"/cases/{case_id}", user)
    assert r.status_code == 200, r.text
    return dict(r.json())


Answer = tuple[int | str, str | None, str | None]  # (status, code, field)


def answer_of_rest(r: Any) -> Answer:
    if r.status_code < 400:
        return ("ok", None, None)
    detail = r.json()["detail"]
    return (r.status_code, detail["code"], detail.get("field"))


HTTP_FOR = {"invalid_input": 422, "not_found": 404}


def answer_of_push(result: dict[str, Any]) -> Answer:
    if result["status"] == "applied":
        return ("ok", None, None)
    detail = result["detail"]
    code = detail["code"]
    status = HTTP_FOR.get(
        code, 403 if code in ("role_not_allowed", "department_not_allowed") else 409
    )
    return (status, code, detail.get("field"))


def settle_body(responsible: str, **extra: Any) -> dict[str, Any]:
    return {
        "responsible_department": responsible,
        "facts": "停车场管理主体经协商明确",
        "ruling_text": f"由{responsible}主办",
        "legal_basis": "三定规定",
        **extra,
    }


def state(server: Server, user: str, did: str, *, not_ours: bool) -> None:
    post_ok(
        server,
        f"/disputes/{did}/positions",
        user,
        {"not_ours": not_ours, "reason": "本部门意见", "legal_basis": "三定"},
    )


# --- one request, one answer -------------------------------------------------------------------

REQUESTS: list[tuple[str, str, dict[str, Any], Answer]] = [
    ("no reason", "zj_handler", {"legal_basis": BASIS}, (422, "invalid_input", "reason")),
    (
        "blank legal basis",
        "zj_handler",
        {"reason": "不属本部门", "legal_basis": "  "},
        (422, "invalid_input", "legal_basis"),
    ),
    (
        "reason too long",
        "zj_handler",
        {"reason": "长" * 2001, "legal_basis": BASIS},
        (422, "invalid_input", "reason"),
    ),
    (
        "unknown department named",
        "zj_handler",
        {"reason": "不属本部门", "legal_basis": BASIS, "claimed_responsible": "nope"},
        (422, "invalid_input", "claimed_responsible"),
    ),
    (
        "a supervisor",
        "supervisor",
        {"reason": "x", "legal_basis": BASIS},
        (403, "role_not_allowed", None),
    ),
    (
        "a department not on the case",
        "jt_handler",
        {"reason": "x", "legal_basis": BASIS},
        (404, "not_found", None),
    ),
    ("good", "zj_handler", {"reason": "不属本部门", "legal_basis": BASIS}, ("ok", None, None)),
    (
        "a second one while open",
        "zhzf_handler",
        {"reason": "再次异议", "legal_basis": BASIS},
        (409, "dispute_open", None),
    ),
]


def test_both_dispute_endpoints_and_sync_push_answer_the_same_request_the_same_way(
    server: Server,
) -> None:
    by_case = parking_case(server)["id"]
    by_workflow = parking_case(server)["id"]
    by_push = parking_case(server)["id"]
    devices: dict[str, Device] = {}
    for what, user, body, expected in REQUESTS:
        rest = answer_of_rest(server.post(f"/cases/{by_case}/raise-dispute", user, body))
        wf = answer_of_rest(server.post(f"/workflow/cases/{by_workflow}/disputes", user, body))
        device = devices.setdefault(user, Device(server, user))
        pushed = answer_of_push(
            device.push({"case_id": by_push, "action": "raise_dispute", **body})
        )
        assert rest == wf == pushed == expected, what
    # the good request opened exactly one dispute each way, the bad ones nothing
    for cid in (by_case, by_workflow, by_push):
        assert [d["status"] for d in work(server, cid)["disputes"]] == ["open"]
    # and the two REST successes both say 201 Created
    fresh = parking_case(server)["id"]
    good = {"reason": "不属本部门", "legal_basis": BASIS}
    assert server.post(f"/cases/{fresh}/raise-dispute", "zj_handler", good).status_code == 201
    other = parking_case(server)["id"]
    assert server.post(f"/workflow/cases/{other}/disputes", "zj_handler", good).status_code == 201


# --- 认定谁、谁负责 ------------------------------------------------------------------------------


def test_a_lead_cannot_settle_its_dispute_onto_a_department_that_did_not_agree(
    server: Server,
) -> None:
    case = parking_case(server)
    cid = case["id"]
    did = raise_dispute(server, "zhzf_handler", cid, claimed_responsible="zj")["id"]
    state(server, "zj_handler", did, not_ours=True)  # zj took part and said "not ours"
    before = case_detail(server, cid)
    for responsible in ("zj", TOWN, "jt"):  # refused / silent / not in the dispute at all
        r = server.post(f"/disputes/{did}/settle", "zhzf_handler", settle_body(responsible))
        assert r.status_code == 409, r.text
        assert r.json()["detail"]["code"] == "not_agreed"
        assert r.json()["detail"]["field"] == "responsible_department"
    assert case_detail(server, cid) == before  # nothing changed, nothing recorded
    assert work(server, cid)["disputes"][0]["status"] == "open"
    # the way on is 编办 coordination
    post_ok(server, f"/disputes/{did}/escalate", "zhzf_handler", {"reason": "协商未果"})
    assert server.get(f"/disputes/{did}", "zhzf_handler").json()["stage"] == "coordination"


def test_a_lead_may_settle_its_dispute_onto_a_department_that_agreed_but_adds_no_one_else(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zhzf_handler", cid, claimed_responsible=TOWN)["id"]
    state(server, "wenshang_handler", did, not_ours=False)  # 汶上街道 认可
    # an assisting department it adds must have agreed too
    body = settle_body(TOWN, assisting=[{"department_code": "jt", "duty": "配合"}])
    r = server.post(f"/disputes/{did}/settle", "zhzf_handler", body)
    assert r.status_code == 409
    assert r.json()["detail"]["field"] == "assisting[0].department_code"
    settled = post_ok(server, f"/disputes/{did}/settle", "zhzf_handler", settle_body(TOWN))
    assert settled["responsible_department"] == TOWN
    after = case_detail(server, cid, "wenshang_handler")
    assert after["lead_department"] == TOWN
    # the others keep their duties; the former lead is withdrawn
    assert {a["department_code"] for a in after["assisting"]} == ASSISTING - {TOWN}


def test_a_department_that_agreed_cannot_hand_the_case_back_by_return_dispute_or_sync(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zhzf_handler", cid)["id"]
    state(server, "wenshang_handler", did, not_ours=False)
    post_ok(server, f"/disputes/{did}/settle", "zhzf_handler", settle_body(TOWN))
    after = case_detail(server, cid, "wenshang_handler")
    assert after["status"] == "assigned"
    # the server never offers what it would refuse
    assert after["allowed_actions"] == ["accept"]
    for path, body in (
        ("return", {"reason": "不归我们"}),
        ("raise-dispute", {"reason": "不归我们", "legal_basis": BASIS}),
    ):
        r = server.post(f"/cases/{cid}/{path}", "wenshang_handler", body)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "ruled_responsible"
    phone = Device(server, "wenshang_handler")
    for action in ("return", "raise_dispute"):
        result = phone.push(
            {"case_id": cid, "action": action, "reason": "不归我们", "legal_basis": BASIS}
        )
        assert (result["status"], result["code"]) == ("rejected", "ruled_responsible")
    assert case_detail(server, cid)["lead_department"] == TOWN


def test_after_a_ruling_no_path_hands_the_case_to_a_department_that_was_not_ruled(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zhzf_handler", cid)["id"]
    for _ in ("coordination", "ruling"):
        post_ok(server, f"/disputes/{did}/escalate", "coordinator", {})
    post_ok(server, f"/disputes/{did}/settle", "coordinator", settle_body("zj"))
    assert case_detail(server, cid)["lead_department"] == "zj"
    reassign = {"lead_department": "jt", "override_reason": "改派交通运输局", "reason": "改派"}
    # REST: the ruled lead cannot return it; nobody can assign it elsewhere
    r = server.post(f"/cases/{cid}/return", "zj_handler", {"reason": "不服"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "ruled_responsible"
    for user in ("supervisor", "coordinator", "inspector"):
        assert server.post(f"/cases/{cid}/assign", user, reassign).status_code in (403, 409)
    # sync push: the same
    result = Device(server, "zj_handler").push(
        {"case_id": cid, "action": "return", "reason": "不服"}
    )
    assert result["code"] == "ruled_responsible"
    result = Device(server, "supervisor").push({"case_id": cid, "action": "assign", **reassign})
    assert result["status"] == "rejected"
    assert case_detail(server, cid)["lead_department"] == "zj"


def test_a_lead_cannot_return_a_case_under_dispute_to_have_it_assigned_elsewhere(
    server: Server,
) -> None:
    cid = parking_case(server, accept=False)["id"]  # assigned, not yet accepted
    raise_dispute(server, "zhzf_handler", cid, claimed_responsible="zj")
    offered = case_detail(server, cid, "zhzf_handler")["allowed_actions"]
    assert "return" not in offered and "accept" in offered
    r = server.post(f"/cases/{cid}/return", "zhzf_handler", {"reason": "应由住建局负责"})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "under_dispute"
    result = Device(server, "zhzf_handler").push(
        {"case_id": cid, "action": "return", "reason": "应由住建局负责"}
    )
    assert (result["status"], result["code"]) == ("rejected", "under_dispute")
    after = case_detail(server, cid)
    assert (after["status"], after["lead_department"]) == ("assigned", "zhzf")


def test_a_ruling_keeps_each_department_exactly_as_the_ruled_list_entry_says(
    server: Server,
) -> None:
    case = parking_case(server)
    cid = case["id"]
    phones = {d: Phone(server, f"{d}_handler") for d in ("zhzf", "zj", "wenshang")}
    for phone in phones.values():
        phone.pull()
    did = raise_dispute(server, "zhzf_handler", cid, claimed_responsible="zj")["id"]
    for _ in ("coordination", "ruling"):
        post_ok(server, f"/disputes/{did}/escalate", "coordinator", {})
    entry = {
        "matter": "小区周边共享停车场监管",
        "category": "parking",
        "lead_department_code": "zj",
        "lead_duty": "负责住宅小区及周边共享停车场的监管",
        "assisting": [
            {"department_code": "zhzf", "duty": "负责违规经营的查处"},
            {"department_code": "ga", "duty": "负责周边道路违法停车查处"},
        ],  # 汶上街道, 自然资源局 and 市场监管局 are no longer named
        "legal_basis": "《物业管理条例》",
        "area_kind": "urban",
        "area_towns": [],
        "time_amount": 8,
        "time_unit": "working_days",
        "source": "ruling",
    }
    # the ruling must say what its entry says
    r = server.post(f"/disputes/{did}/settle", "coordinator", settle_body("ga", new_entry=entry))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "responsible_department"
    other = [{"department_code": "zhzf", "duty": "其他职责"}]
    r = server.post(
        f"/disputes/{did}/settle",
        "coordinator",
        settle_body("zj", new_entry=entry, assisting=other),
    )
    assert r.status_code == 422 and r.json()["detail"]["field"] == "assisting"
    post_ok(server, f"/disputes/{did}/settle", "coordinator", settle_body("zj", new_entry=entry))
    after = case_detail(server, cid)
    assert after["lead_department"] == "zj"
    assert sorted((a["department_code"], a["duty"]) for a in after["assisting"]) == sorted(
        (a["department_code"], a["duty"]) for a in entry["assisting"]
    )
    # the former lead stays (as assisting) and so does ga; the others are withdrawn, once
    assert {t["department"] for t in work(server, cid)["assist_tasks"]} == {"zhzf", "ga"}
    assert phones["zhzf"].pull()["gone"] == [] and cid in phones["zhzf"].cases
    assert phones["zj"].pull()["gone"] == [] and cid in phones["zj"].cases
    assert phones["wenshang"].pull()["gone"] == [cid]
    ruled = next(e for e in after["events"] if e["kind"] == "DisputeRuled")
    assert ruled["data"]["previous_lead"] == "zhzf"


# --- 只协调一次，只出一个会议纪要 -----------------------------------------------------------------


def test_a_coordinated_matter_is_not_coordinated_again_by_any_endpoint_or_sync(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zj_handler", cid)["id"]
    post_ok(server, f"/disputes/{did}/escalate", "coordinator", {"needs_county_leader": True})
    body = settle_body("zhzf")
    settled = post_ok(server, f"/disputes/{did}/settle", "coordinator", body)
    # the same dispute: no second settlement, no further escalation
    r = server.post(f"/disputes/{did}/settle", "coordinator", body)
    assert r.status_code == 409 and r.json()["detail"]["code"] == "dispute_settled"
    r = server.post(f"/disputes/{did}/escalate", "coordinator", {})
    assert r.status_code == 409 and r.json()["detail"]["code"] == "dispute_settled"
    # a new dispute on the same matter, by an assisting department, any way it is raised
    again = {"reason": "仍有异议", "legal_basis": BASIS}
    for path in (f"/cases/{cid}/raise-dispute", f"/workflow/cases/{cid}/disputes"):
        r = server.post(path, "wenshang_handler", again)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "coordinated_once"
    result = Device(server, "wenshang_handler").push(
        {"case_id": cid, "action": "raise_dispute", **again}
    )
    assert (result["status"], result["code"]) == ("rejected", "coordinated_once")
    offered = case_detail(server, cid, "wenshang_handler")["allowed_actions"]
    assert "raise_dispute" not in offered
    assert [d["id"] for d in work(server, cid)["disputes"]] == [did]
    assert [m["id"] for m in work(server, cid)["minutes"]] == [settled["minute_id"]]


def test_a_matter_agreed_at_consultation_may_still_be_disputed_by_another_department(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zhzf_handler", cid)["id"]
    post_ok(server, f"/disputes/{did}/settle", "zhzf_handler", settle_body("zhzf"))
    # an agreement among the departments is no coordination: 编办 has not coordinated it yet
    second = raise_dispute(server, "zj_handler", cid)
    assert second["stage"] == "consultation" and second["id"] != did


# --- the same facts on phone and server --------------------------------------------------------


def test_ruled_responsible_and_coordinated_read_the_same_on_phone_and_server(
    server: Server,
) -> None:
    cid = parking_case(server)["id"]
    did = raise_dispute(server, "zhzf_handler", cid)["id"]
    post_ok(server, f"/disputes/{did}/escalate", "coordinator", {})
    post_ok(server, f"/disputes/{did}/settle", "coordinator", settle_body("zj"))
    users = {
        "zj_handler": Actor("u-zj", Role.HANDLER, "zj"),
        "wenshang_handler": Actor("u-ws", Role.HANDLER, TOWN),
        "supervisor": Actor("u-sup", Role.SUPERVISOR, "dcb"),
    }
    for user, actor in users.items():
        server_view = case_detail(server, cid, user)
        facts = phone_facts_of(server_view)  # the phone's copy is the server's snapshot
        assert facts.ruled_responsible == frozenset({"zj"})
        assert facts.coordinated is True
        phone = [a.value for a in allowed_actions(facts, actor, now=server.clock.now)]
        assert phone == server_view["allowed_actions"], user
