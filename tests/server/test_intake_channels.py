"""Intake channels (受理渠道) are reference data: stored on the server, sent to phones, and the one
check of a case's source on REST and sync push alike."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sync.errors import InvalidInput
from sync.intake import INTAKE_CHANNELS, check_source
from sync.protocol import PROTOCOL_HEADER
from sync.reference_codec import decode_reference
from tests.conftest import T0, Server
from tests.support.answers import detail_without_request_id

THE_SOURCES_CHANNELS = ("12345", "O2O", "民意“5”来听", "属地管理", "窗口", "现场")


def device_headers(server: Server, user: str) -> dict[str, str]:
    r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": "手机"})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}


def push_create(
    server: Server, headers: dict[str, str], source: str, command_id: int
) -> dict[str, Any]:
    command = {
        "id": command_id,
        "type": "CreateCase",
        "created_at": T0.isoformat(),
        "payload": {
            "case_id": str(uuid.uuid4()),
            "category": "waterlogging",
            "description": "路口积水",
            "source": source,
        },
    }
    r = server.client.post(
        "/sync/push", json={"protocol": 1, "commands": [command]}, headers=headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["results"][0])


def test_the_sources_intake_channels_are_reference_data_in_chinese_and_english(
    server: Server,
) -> None:
    r = server.get("/reference/intake-channels", "inspector")
    assert r.status_code == 200, r.text
    channels = r.json()
    names = " ".join(c["name_zh"] for c in channels)
    for channel in THE_SOURCES_CHANNELS:
        assert channel in names
    assert all(c["name_en"].strip() for c in channels)
    # the codes cases already carry keep working
    codes = {c["code"] for c in channels}
    assert {"inspection", "hotline", "o2o", "counter", "street", "joint_session"} <= codes


def test_a_phone_receives_the_intake_channels_with_the_reference_data(server: Server) -> None:
    headers = device_headers(server, "inspector")
    r = server.client.post(
        "/sync/pull",
        json={"protocol": 1, "cursor": None, "results_after": 0, "limit": 50},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    ref = decode_reference(r.json()["reference"])
    assert [c.code for c in ref.intake_channels] == [c.code for c in INTAKE_CHANNELS]
    assert ref.intake_channel_label("minyi_5") == "民意“5”来听 / Public opinion '5' listening"
    assert ref.intake_channel_label("grid").startswith("属地管理网格")


def test_a_case_source_is_checked_against_the_channels_on_rest_and_on_sync_push_alike(
    server: Server,
) -> None:
    def rest(source: str) -> Any:
        return server.post(
            "/cases",
            "inspector",
            {
                "id": str(uuid.uuid4()),
                "category": "waterlogging",
                "description": "积水",
                "source": source,
            },
        )

    headers = device_headers(server, "inspector")
    for n, source in enumerate(("minyi_5", "grid", "inspection", "hotline"), start=1):
        assert rest(source).status_code == 201, source
        assert push_create(server, headers, source, n)["status"] == "applied", source
    refused = rest("fax")
    assert refused.status_code == 422
    assert refused.json()["detail"]["field"] == "source"
    pushed = push_create(server, headers, "fax", 5)
    assert pushed["status"] == "rejected"
    answer = detail_without_request_id(refused)
    assert pushed["detail"] == answer  # the same check, the same answer


def test_an_unknown_source_is_refused_naming_the_field() -> None:
    known = {c.code for c in INTAKE_CHANNELS}
    assert check_source("o2o", known) == "o2o"
    with pytest.raises(InvalidInput) as caught:
        check_source("12345", known)  # the channel's name is not its code
    assert caught.value.field == "source"
