"""One message, one set of limits: what REST accepts or refuses, the sync push accepts or
refuses the same way, under the same field name, and the phone refuses to queue it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.api.schemas import ActionIn, AssignIn, DisputeActionIn, MergeIn
from server.demo_data import SITES
from sync.commands import TransitionCase, decode_payload
from sync.device_store import DeviceStore
from sync.errors import InvalidInput
from sync.limits import MAX_DESCRIPTION, MAX_LEGAL_BASIS, MAX_NOTE, MAX_PHOTOS, MAX_REASON
from sync.protocol import CommandType
from tests.conftest import T0, Server

P02 = next(s for s in SITES if s.code == "P02").location  # parking lot, 汶上街道


def _photos(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(n)]


def _new_case(**fields: Any) -> dict[str, Any]:
    return {
        "category": "parking",
        "description": "停车场出入口被占用",
        "location": {"lat": P02.lat, "lon": P02.lon},
        **fields,
    }


@dataclass(frozen=True)
class Limit:
    """One limit, sent as a REST body and as a push payload that differ only in the value."""

    name: str
    field: str  # the field both name when refusing
    command: CommandType
    rest_path: str  # {case} is an assigned case's id
    user: str
    under: Any
    over: Any
    action: str | None = None  # a TransitionCase's action
    base: tuple[tuple[str, Any], ...] = ()  # the rest of the body

    def rest_body(self, value: Any) -> dict[str, Any]:
        body = {**dict(self.base), self.field: value}
        if self.command is CommandType.CREATE_CASE:
            return {"id": str(uuid.uuid4()), **_new_case(**body)}
        return body

    def payload(self, value: Any, case_id: str) -> dict[str, Any]:
        body = {**dict(self.base), self.field: value}
        if self.command is CommandType.CREATE_CASE:
            return {"case_id": str(uuid.uuid4()), **_new_case(**body)}
        if self.action is not None:
            body["action"] = self.action
        return {"case_id": case_id, **body}


LIMITS = [
    Limit(
        "description",
        "description",
        CommandType.CREATE_CASE,
        "/cases",
        "inspector",
        "长" * MAX_DESCRIPTION,
        "长" * (MAX_DESCRIPTION + 1),
    ),
    Limit(
        "note",
        "note",
        CommandType.ADD_NOTE,
        "/cases/{case}/notes",
        "zhzf_handler",
        "记" * MAX_NOTE,
        "记" * (MAX_NOTE + 1),
    ),
    Limit(
        "photos per note",
        "photos",
        CommandType.ADD_NOTE,
        "/cases/{case}/notes",
        "zhzf_handler",
        _photos(MAX_PHOTOS),
        _photos(MAX_PHOTOS + 1),
    ),
    Limit(
        "reason",
        "reason",
        CommandType.TRANSITION_CASE,
        "/cases/{case}/suspend",
        "supervisor",
        "因" * MAX_REASON,
        "因" * (MAX_REASON + 1),
        action="suspend",
    ),
    Limit(
        "note on an action",
        "note",
        CommandType.TRANSITION_CASE,
        "/cases/{case}/accept",
        "zhzf_handler",
        "记" * MAX_NOTE,
        "记" * (MAX_NOTE + 1),
        action="accept",
    ),
    Limit(
        "legal basis",
        "legal_basis",
        CommandType.TRANSITION_CASE,
        "/cases/{case}/raise-dispute",
        "zhzf_handler",
        "法" * MAX_LEGAL_BASIS,
        "法" * (MAX_LEGAL_BASIS + 1),
        action="raise_dispute",
        base=(("reason", "不属本局职责"),),
    ),
    Limit(
        "latitude",
        "location",
        CommandType.CREATE_CASE,
        "/cases",
        "inspector",
        {"lat": P02.lat, "lon": P02.lon},
        {"lat": 90.5, "lon": P02.lon},
    ),
    Limit(
        "longitude of where an action was done",
        "where",
        CommandType.TRANSITION_CASE,
        "/cases/{case}/accept",
        "zhzf_handler",
        {"lat": P02.lat, "lon": P02.lon},
        {"lat": P02.lat, "lon": 180.5},
        action="accept",
    ),
]


def _assigned(server: Server) -> str:
    r = server.post("/cases", "inspector", {"id": str(uuid.uuid4()), **_new_case()})
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    r = server.post(f"/cases/{case_id}/assign", "inspector", {})
    assert r.status_code == 200, r.text
    return case_id


class Device:
    def __init__(self, server: Server, user: str) -> None:
        self.server = server
        r = server.post("/devices", user, {"client_id": f"phone-of-{user}", "name": user})
        assert r.status_code == 201, r.text
        self.headers = {
            "Authorization": f"Bearer {r.json()['device_token']}",
            "X-Yixian-Protocol": "1",
        }
        self.next_id = r.json()["last_applied"] + 1

    def push(self, *commands: tuple[CommandType, dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"protocol": 1, "commands": []}
        for type_, payload in commands:
            body["commands"].append(  # type: ignore[attr-defined]
                {
                    "id": self.next_id,
                    "type": type_.value,
                    "created_at": T0.isoformat(),
                    "payload": payload,
                }
            )
            self.next_id += 1
        r = self.server.client.post("/sync/push", json=body, headers=self.headers)
        assert r.status_code == 200, r.text
        return list(r.json()["results"])


def _refused_field(detail: dict[str, Any]) -> str:
    """The field a refusal names, to its first part (``photos[50]`` → ``photos``)."""
    return str(detail["field"]).split(".")[0].split("[")[0]


@pytest.mark.parametrize("limit", LIMITS, ids=[limit.name for limit in LIMITS])
def test_rest_and_sync_push_accept_and_refuse_the_same_values_naming_the_same_field(
    server: Server, limit: Limit
) -> None:
    device = Device(server, limit.user)
    got: dict[str, tuple[bool, bool]] = {}
    for which, value in (("under", limit.under), ("over", limit.over)):
        rest_case, push_case = _assigned(server), _assigned(server)
        r = server.post(limit.rest_path.format(case=rest_case), limit.user, limit.rest_body(value))
        [result] = device.push((limit.command, limit.payload(value, push_case)))
        rest_ok = r.status_code in (200, 201)
        push_ok = result["status"] == "applied"
        got[which] = (rest_ok, push_ok)
        if not rest_ok:
            assert r.status_code == 422, r.text
            assert _refused_field(r.json()["detail"]) == limit.field
        if not push_ok:
            assert result["code"] == "invalid_input", result
            assert _refused_field(result["detail"]) == limit.field
        if not rest_ok and not push_ok:
            assert r.json()["detail"]["field"] == result["detail"]["field"]
            assert r.json()["detail"]["reason"] == result["detail"]["reason"]
    assert got == {"under": (True, True), "over": (False, False)}


def test_a_malformed_command_is_refused_alone_and_the_others_are_applied(server: Server) -> None:
    device = Device(server, "zhzf_handler")
    case_id = _assigned(server)
    results = device.push(
        (CommandType.ADD_NOTE, {"case_id": case_id, "note": "到场查看"}),
        (CommandType.ADD_NOTE, {"case_id": case_id, "note": "附照片", "photos": ["not-a-hash"]}),
        (CommandType.TRANSITION_CASE, {"case_id": case_id, "action": "accept", "note": "签收"}),
        (CommandType.TRANSITION_CASE, {"case_id": case_id, "action": "fly_away"}),
        (CommandType.ADD_NOTE, {"case_id": case_id, "note": "x", "where": "here"}),
        (CommandType.ADD_NOTE, {"case_id": 5, "note": "x"}),
        (CommandType.ADD_NOTE, {"case_id": "长" * 100, "note": "x"}),
        (CommandType.EDIT_CASE, {"case_id": case_id, "fields": {"status": {"value": "closed"}}}),
        (CommandType.EDIT_CASE, {"case_id": case_id, "fields": {"长" * 3000: {"value": 1}}}),
        (CommandType.ADD_NOTE, {"case_id": case_id, "note": "已签收，安排处置"}),
    )
    assert [(r["status"], (r["detail"] or {}).get("field")) for r in results] == [
        ("applied", None),
        ("rejected", "photos[0]"),
        ("applied", None),
        ("rejected", "action"),
        ("rejected", "where"),
        ("rejected", "case_id"),
        ("rejected", "case_id"),
        ("rejected", "fields.status"),
        ("rejected", "fields." + "长" * 93 + "…"),
        ("applied", None),
    ]
    case = server.get(f"/cases/{case_id}", "supervisor").json()
    assert case["status"] == "accepted"
    notes = [e["data"].get("note") for e in case["events"] if e["kind"] == "NoteAdded"]
    assert notes == ["到场查看", "已签收，安排处置"]


def test_the_phone_refuses_to_queue_an_over_limit_note_and_queues_nothing(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "phone.db")
    case_id = str(uuid.uuid4())
    now = datetime(2026, 11, 2, 1, tzinfo=UTC)
    changed: list[str] = []
    with pytest.raises(InvalidInput) as refused:
        store.enqueue(
            CommandType.ADD_NOTE,
            {"case_id": case_id, "note": "记" * (MAX_NOTE + 1), "photos": []},
            now=now,
            local_change=lambda _s: changed.append("local"),
        )
    assert refused.value.field == "note"
    with pytest.raises(InvalidInput) as too_many:
        store.enqueue(
            CommandType.ADD_NOTE,
            {"case_id": case_id, "note": "", "photos": _photos(MAX_PHOTOS + 1)},
            now=now,
        )
    assert too_many.value.field == "photos"
    assert store.pending_count() == 0 and changed == []
    store.enqueue(
        CommandType.ADD_NOTE, {"case_id": case_id, "note": "记" * MAX_NOTE, "photos": []}, now=now
    )
    assert store.pending_count() == 1


def test_every_action_field_of_a_transition_has_the_rest_limit() -> None:
    """The push's TransitionCase carries each REST action body's fields with its limits."""
    for rest in (ActionIn, AssignIn, DisputeActionIn, MergeIn):
        for name, field in rest.model_fields.items():
            assert name in TransitionCase.model_fields, name
            if name != "duplicate_of":  # required for a merge, optional for other actions
                assert TransitionCase.model_fields[name].metadata == field.metadata, name
    with pytest.raises(InvalidInput) as refused:
        decode_payload(CommandType.TRANSITION_CASE, {"case_id": "c1", "action": "accept"})
    assert refused.value.field == "case_id"
