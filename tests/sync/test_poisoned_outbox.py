"""A bad command never blocks a phone: every command the server cannot apply — a payload that
fails validation, a text no database can keep, an integer beyond 64 bits, a fault inside the
command itself — is answered ``rejected`` with a reason, and the commands after it in the
outbox are applied. Driven through the phone's own engine and store, on SQLite and PostgreSQL.

The phone refuses to queue most of these itself (``DeviceStore.enqueue`` checks the payload);
an outbox written by an older app, or by a phone with a bug, holds them anyway — the test
queues them as such an app would have."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from server.demo_data import SITES
from server.services import cases as case_service
from sync import device_store
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType, ResultStatus
from tests.conftest import Backend
from tests.support.live_server import LiveServer, fresh_live_server

WATER = next(s for s in SITES if s.kind == "waterlogging_point").location
FAULT = "服务器内部故障触发"  # a note whose command fails inside the server, unforeseen


def _case(description: str = "积水", **extra: Any) -> dict[str, Any]:
    return {
        "case_id": str(uuid.uuid4()),
        "category": "waterlogging",
        "description": description,
        "location": {"lat": WATER.lat, "lon": WATER.lon},
        **extra,
    }


# (what is wrong, the command's type, its payload, the field the refusal names)
POISONED: list[tuple[str, CommandType, dict[str, Any], str]] = [
    ("NUL in a text", CommandType.CREATE_CASE, _case("积水\x00"), "description"),
    ("a control character", CommandType.CREATE_CASE, _case("积水\x07"), "description"),
    ("a line break in a code", CommandType.CREATE_CASE, _case(town_code="a\nb"), "town_code"),
    ("a text over its limit", CommandType.CREATE_CASE, _case("长" * 4001), "description"),
    (
        "an int beyond 64 bits",
        CommandType.CREATE_CASE,
        _case(location_accuracy_m=2**70),
        "location_accuracy_m",
    ),
    ("a hostile unknown field", CommandType.CREATE_CASE, _case(**{"x": "\x00"}), "x"),
    ("a malformed id", CommandType.ADD_NOTE, {"case_id": "1 OR 1=1", "note": "x"}, "case_id"),
    ("a source over its column", CommandType.CREATE_CASE, _case(source="s" * 21), "source"),
]


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    yield from fresh_live_server(backend, tmp_path)


def test_a_poisoned_command_is_rejected_and_the_commands_after_it_are_applied(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_add_note = case_service.add_note

    def add_note(session: Any, **kw: Any) -> Any:
        if kw.get("note") == FAULT:
            raise RuntimeError("an unforeseen fault inside one command")
        return real_add_note(session, **kw)

    monkeypatch.setattr(case_service, "add_note", add_note)
    phone = SyncClient(
        DeviceStore(tmp_path / "phone.db"), live.base_url, sleep=lambda _s: None, attempts=2
    )
    phone.register(live.login("inspector"), "phone")
    now = datetime.now(UTC)
    # an outbox queued by an app that did not check payloads: good, bad, good, bad, …, good
    monkeypatch.setattr(device_store, "decode_payload", lambda *_a: None)
    good: list[str] = []
    bad: dict[int, tuple[str, str]] = {}
    first = _case("第一个")
    phone.store.enqueue(CommandType.CREATE_CASE, first, now=now)
    good.append(first["case_id"])
    poisoned = [
        *POISONED,
        (
            "a fault inside the command",
            CommandType.ADD_NOTE,
            {"case_id": first["case_id"], "note": FAULT},
            "payload",
        ),
    ]
    for what, type_, payload, field in poisoned:
        bad[phone.store.enqueue(type_, payload, now=now)] = (what, field)
        after = _case(f"在{what}之后")
        phone.store.enqueue(CommandType.CREATE_CASE, after, now=now)
        good.append(after["case_id"])
    note_id = phone.store.enqueue(
        CommandType.ADD_NOTE, {"case_id": first["case_id"], "note": "最后一条"}, now=now
    )

    report = phone.sync_once()

    assert phone.store.pending_count() == 0  # nothing is stuck in the outbox
    rejected = {r.id: r for r in report.rejected}
    assert set(rejected) == set(bad), {i: bad[i][0] for i in set(bad) - set(rejected)}
    for cid, (what, field) in bad.items():
        result = rejected[cid]
        assert result.status is ResultStatus.REJECTED and result.reason, what
        assert result.detail is not None and result.detail.get("field") == field, (what, result)
    assert report.applied == len(good) + 1
    token = live.login("supervisor")
    for case_id in good:
        r = requests.get(
            f"{live.base_url}/cases/{case_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
    notes = [
        e
        for e in requests.get(
            f"{live.base_url}/cases/{first['case_id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["events"]
        if e["kind"] == "NoteAdded"
    ]
    assert [n["data"].get("note") for n in notes] == ["最后一条"], note_id
