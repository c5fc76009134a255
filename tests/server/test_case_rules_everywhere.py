"""The county's rules hold on every path into the server, REST and sync push alike, on SQLite and
PostgreSQL: verification within 50 m (or a reason), first contact is who received the problem,
a merge target is a case the user may see, no user may ask for a system transition, and
``allowed_actions`` never offers what the server then refuses."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from server.db import make_engine
from server.models import User
from server.services import cases as case_service
from server.services.auth import actor_of
from server.services.boundary_cache import ReferenceCache
from sync.errors import DomainError, InvalidInput
from sync.lifecycle import Action
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import Server
from tests.support.answers import detail_without_request_id

_SPOTS = itertools.count()


def street_spot() -> dict[str, float]:
    """A new place in 汶上街道 for each case, 80 m from the others and off the registered sites."""
    k = next(_SPOTS)
    return {"lat": 35.713 + 0.003 * (k // 40), "lon": 116.4565 + 0.0009 * (k % 40)}


def record(server: Server, user: str = "inspector", **extra: Any) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场出入口被占用",
        "location": street_spot(),
        **extra,
    }
    r = server.post("/cases", user, body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def act(server: Server, user: str, case_id: str, action: str, **body: Any) -> dict[str, Any]:
    r = server.post(f"/cases/{case_id}/{action}", user, body)
    assert r.status_code == (201 if action == "raise-dispute" else 200), r.text  # opens a dispute
    return dict(r.json())


def north_of(case: dict[str, Any], metres: float) -> dict[str, float]:
    return {"lat": case["lat"] + metres / 110_950, "lon": case["lon"]}


def handled_case(server: Server, *, after_photo_m: float | None) -> dict[str, Any]:
    """A parking case the lead (综合执法局) reported back on, its after photo taken
    ``after_photo_m`` north of the case's point (None: the report back has no position)."""
    case = record(server)
    cid = case["id"]
    act(server, "inspector", cid, "assign")
    act(server, "zhzf_handler", cid, "accept")
    act(server, "zhzf_handler", cid, "start-handling")
    extra = {"where": north_of(case, after_photo_m)} if after_photo_m is not None else {}
    return act(server, "zhzf_handler", cid, "report-back", photos=["a" * 64], **extra)


class Phone:
    """A registered device of ``user`` that pushes numbered commands through the HTTP API."""

    def __init__(self, server: Server, user: str) -> None:
        r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": user})
        assert r.status_code == 201, r.text
        self.server = server
        self.headers = {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}
        self.next_id = 1

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
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
        (result,) = r.json()["results"]
        return dict(result)


# --- verification within 50 m -------------------------------------------------------------------


def test_a_verifier_far_from_the_point_with_a_far_after_photo_cannot_close_without_a_reason(
    server: Server,
) -> None:
    case = handled_case(server, after_photo_m=150)
    cid = case["id"]
    far = north_of(case, 120)
    act_far = server.post(f"/cases/{cid}/close", "supervisor", {"where": far})
    assert act_far.status_code == 422
    detail = act_far.json()["detail"]
    assert detail["field"] == "reason" and detail["code"] == "verify_far"
    assert "50" in detail["reason"]
    assert server.get(f"/cases/{cid}", "supervisor").json()["status"] == "handled"
    closed = act(server, "supervisor", cid, "close", where=far, reason="积水点范围大，下游核查")
    assert closed["status"] == "closed"


def test_a_close_with_no_position_at_all_needs_a_reason(server: Server) -> None:
    case = handled_case(server, after_photo_m=None)  # the after photo has no position
    r = server.post(f"/cases/{case['id']}/close", "supervisor", {})
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "reason"
    assert r.json()["detail"]["code"] == "verify_unknown"


def test_a_verifier_on_site_or_an_after_photo_on_site_closes_without_a_reason(
    server: Server,
) -> None:
    far_photo = handled_case(server, after_photo_m=150)
    here = north_of(far_photo, 30)  # but the verifier stands 30 m from the point
    closed = act(server, "supervisor", far_photo["id"], "close", where=here)
    assert closed["status"] == "closed"
    assert closed["events"][-1]["lat"] == here["lat"]  # where the verification was made
    near_photo = handled_case(server, after_photo_m=20)  # verified from the desk
    assert act(server, "supervisor", near_photo["id"], "close")["status"] == "closed"


def test_a_far_close_pushed_by_a_device_is_refused_naming_the_field(server: Server) -> None:
    case = handled_case(server, after_photo_m=None)
    phone = Phone(server, "supervisor")
    result = phone.push(
        "TransitionCase",
        {"case_id": case["id"], "action": "close", "where": north_of(case, 200)},
    )
    assert result["status"] == "rejected"
    assert result["detail"]["field"] == "reason" and result["code"] == "verify_far"
    assert server.get(f"/cases/{case['id']}", "supervisor").json()["status"] == "handled"
    with_reason = phone.push(
        "TransitionCase",
        {
            "case_id": case["id"],
            "action": "close",
            "where": north_of(case, 200),
            "reason": "整改点位在下游",
        },
    )
    assert with_reason["status"] == "applied"


# --- first contact is who received it -----------------------------------------------------------


def test_first_contact_is_the_recording_users_own_department_on_rest(server: Server) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "乱停车",
        "location": street_spot(),
        "first_contact_department": "rx",
    }
    r = server.post("/cases", "inspector", body)
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "first_contact_department"
    assert server.get(f"/cases/{body['id']}", "supervisor").status_code == 404
    r = server.post("/cases", "zhzf_handler", body)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "first_contact_not_yours"
    # naming one's own department, or nothing, is the user's department
    own = record(server, "inspector", first_contact_department="shzl")
    assert own["first_contact_department"] == "shzl"
    assert record(server, "rx_handler")["first_contact_department"] == "rx"


def test_a_supervisor_may_record_for_another_department_only_with_a_reason(
    server: Server,
) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "群众来电反映乱停车",
        "location": street_spot(),
        "first_contact_department": "rx",
    }
    r = server.post("/cases", "supervisor", body)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "first_contact_reason"
    r = server.post("/cases", "supervisor", {**body, "first_contact_reason": "热线中心电话转来"})
    assert r.status_code == 201, r.text
    case = server.get(f"/cases/{body['id']}", "supervisor").json()
    assert case["first_contact_department"] == "rx"
    assert case["events"][0]["data"]["first_contact_reason"] == "热线中心电话转来"


def test_first_contact_is_the_users_own_department_through_sync_push(server: Server) -> None:
    phone = Phone(server, "inspector")
    case_id = str(uuid.uuid4())
    payload = {
        "case_id": case_id,
        "category": "parking",
        "description": "乱停车",
        "location": street_spot(),
        "first_contact_department": "rx",
    }
    result = phone.push("CreateCase", payload)
    assert result["status"] == "rejected"
    assert result["detail"]["field"] == "first_contact_department"
    assert server.get(f"/cases/{case_id}", "supervisor").status_code == 404
    supervisor = Phone(server, "supervisor")
    assert supervisor.push("CreateCase", payload)["detail"]["field"] == "first_contact_reason"
    done = supervisor.push("CreateCase", {**payload, "first_contact_reason": "热线中心转来"})
    assert done["status"] == "applied"
    assert server.get(f"/cases/{case_id}", "supervisor").json()["first_contact_department"] == "rx"


# --- a merge target is a case the user may see --------------------------------------------------


def test_a_merge_target_must_be_a_case_the_user_may_see_on_rest(server: Server) -> None:
    mine = record(server, "inspector")
    hidden = record(server, "rx_handler")  # the inspector neither recorded nor takes part in it
    assert server.get(f"/cases/{hidden['id']}", "inspector").status_code == 404
    r = server.post(f"/cases/{mine['id']}/merge", "inspector", {"duplicate_of": hidden["id"]})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "duplicate_of"
    missing = server.post(
        f"/cases/{mine['id']}/merge", "inspector", {"duplicate_of": str(uuid.uuid4())}
    )

    answer = detail_without_request_id  # each error body has its own request id
    assert answer(missing) == answer(r)  # the same answer: nothing leaks
    assert server.get(f"/cases/{mine['id']}", "inspector").json()["status"] == "discovered"
    other_of_mine = record(server, "inspector")
    merged = act(server, "inspector", mine["id"], "merge", duplicate_of=other_of_mine["id"])
    assert merged["status"] == "merged" and merged["duplicate_of"] == other_of_mine["id"]


def test_a_merge_target_must_be_a_case_the_user_may_see_through_sync_push(
    server: Server,
) -> None:
    mine = record(server, "inspector")
    hidden = record(server, "rx_handler")
    phone = Phone(server, "inspector")
    result = phone.push(
        "TransitionCase",
        {"case_id": mine["id"], "action": "merge", "duplicate_of": hidden["id"]},
    )
    assert result["status"] == "rejected" and result["detail"]["field"] == "duplicate_of"
    assert server.get(f"/cases/{mine['id']}", "inspector").json()["status"] == "discovered"


# --- system transitions ---------------------------------------------------------------------------


def test_no_device_may_ask_for_a_system_transition(server: Server) -> None:
    case = handled_case(server, after_photo_m=None)
    phone = Phone(server, "supervisor")
    for action in ("apply_ruling", "reopen_on_repeat", "merge_into_repeated"):
        result = phone.push("TransitionCase", {"case_id": case["id"], "action": action})
        assert result["status"] == "rejected" and result["detail"]["field"] == "action", action
    assert server.get(f"/cases/{case['id']}", "supervisor").json()["status"] == "handled"


# --- allowed_actions offers only what the server accepts -----------------------------------------


@dataclass(frozen=True)
class State:
    name: str
    case_id: str


def _walk(server: Server) -> list[State]:
    """Cases in every state the loop reaches, disputes and rulings included."""
    states: list[State] = []

    def keep(name: str, case: dict[str, Any]) -> None:
        states.append(State(name, case["id"]))

    keep("discovered", record(server))
    returned = record(server)
    act(server, "inspector", returned["id"], "assign")
    keep("returned", act(server, "zhzf_handler", returned["id"], "return", reason="非本局"))
    assigned = record(server)
    keep("assigned", act(server, "inspector", assigned["id"], "assign"))
    accepted = record(server)
    act(server, "inspector", accepted["id"], "assign")
    keep("accepted", act(server, "zhzf_handler", accepted["id"], "accept"))
    handling = record(server)
    act(server, "inspector", handling["id"], "assign")
    act(server, "zhzf_handler", handling["id"], "accept")
    keep("handling", act(server, "zhzf_handler", handling["id"], "start-handling"))
    keep("handled (no position)", handled_case(server, after_photo_m=None))
    keep("handled (after photo on site)", handled_case(server, after_photo_m=10))
    keep("handled (after photo far)", handled_case(server, after_photo_m=300))
    closed = handled_case(server, after_photo_m=None)
    keep("closed", act(server, "supervisor", closed["id"], "close", reason="电话回访确认"))
    suspended = record(server)
    act(server, "inspector", suspended["id"], "assign")
    keep("suspended", act(server, "supervisor", suspended["id"], "suspend", reason="等待审批"))
    cancelled = record(server)
    keep("cancelled", act(server, "coordinator", cancelled["id"], "cancel", reason="重复登记"))
    disputed = record(server)
    act(server, "inspector", disputed["id"], "assign")
    keep(
        "disputed",
        act(
            server,
            "zhzf_handler",
            disputed["id"],
            "raise-dispute",
            reason="非本局职责",
            legal_basis="三定规定",
        ),
    )
    ruled = record(server)
    act(server, "inspector", ruled["id"], "assign")
    act(
        server,
        "zhzf_handler",
        ruled["id"],
        "raise-dispute",
        reason="非本局职责",
        legal_basis="三定规定",
    )
    dispute = server.get(f"/workflow/cases/{ruled['id']}", "supervisor").json()["disputes"][0]
    for stage in ("coordination", "ruling"):
        r = server.post(f"/disputes/{dispute['id']}/escalate", "coordinator", {"reason": stage})
        assert r.status_code == 200, r.text
    r = server.post(
        f"/disputes/{dispute['id']}/settle",
        "coordinator",
        {
            "responsible_department": "zhzf",
            "facts": "停车场监管属综合执法局",
            "ruling_text": "由综合行政执法局主办",
            "legal_basis": "认定意见",
        },
    )
    assert r.status_code == 200, r.text
    keep("ruled responsible", server.get(f"/cases/{ruled['id']}", "supervisor").json())
    return states


def test_every_action_the_server_offers_is_accepted_with_its_input(server: Server) -> None:
    states = _walk(server)
    other = record(server, "inspector")["id"]  # a merge target the mergers may all see
    engine = make_engine(server.url)
    refused: list[tuple[str, str, str, str]] = []
    offered_count = 0
    with Session(engine) as session:
        ref = ReferenceCache().get(session)
        users = list(session.exec(select(User)))
    for state in states:
        for user in users:
            r = server.get(f"/cases/{state.case_id}", user.username)
            if r.status_code == 404:
                continue
            case = r.json()
            for name in case["allowed_actions"]:
                offered_count += 1
                inp = case_service.ActionInput(
                    reason="现场核实 / checked on site",
                    legal_basis="三定规定",
                    duplicate_of=other,
                )
                with Session(engine) as session:
                    try:
                        case_service.apply_action(
                            session,
                            actor=actor_of(user),
                            case_id=state.case_id,
                            action=Action(name),
                            inp=inp,
                            ref=ref,
                            now=server.clock.now,
                        )
                    except InvalidInput as exc:  # only missing input may be refused
                        refused.append((state.name, user.username, name, exc.field))
                    except DomainError as exc:
                        refused.append((state.name, user.username, name, exc.code))
                    finally:
                        session.rollback()  # try the next one on the same state
    engine.dispose()
    assert offered_count > 40  # the walk reached states where many actions are offered
    assert refused == []
