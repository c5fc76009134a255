"""A phone drops a case its department no longer takes part in: after a return (退回) the lead's
phones (the one that returned it and another) and the assisting department's phone lose it on
their next pull, while the reporter keeps it, back at 发现; the notice is not repeated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from sync.client import SyncClient
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, CommandType
from tests.support.live_server import LiveServer
from tests.sync.test_dispute_sync import assigned_case, device, live

__all__ = ["live"]  # the module's fixture: a demo server


def held(phone: SyncClient, case_id: str) -> bool:
    return phone.store.case(case_id) is not None


def pull_again(live: LiveServer, phone: SyncClient) -> dict[str, object]:
    r = requests.post(
        live.base_url + "/sync/pull",
        json={"protocol": PROTOCOL_VERSION, "cursor": phone.store.get("cursor")},
        headers={
            "Authorization": f"Bearer {phone.store.get('device_token')}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        },
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_returned_case_leaves_the_phones_of_the_departments_no_longer_involved(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id = assigned_case(tmp_path, live)  # by the inspector; zhzf leads, sw and zj assist
    lead_a = device(tmp_path / "a", live, "zhzf_handler")
    lead_b = device(tmp_path / "b", live, "zhzf_handler")
    assisting = device(tmp_path, live, "sw_handler")
    reporter = device(tmp_path / "r", live, "inspector")
    for phone in (lead_a, lead_b, assisting, reporter):
        phone.sync_once()
        assert held(phone, case_id)

    lead_a.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "return", "reason": "非本局职责，退回首问部门"},
        now=datetime.now(UTC),
    )
    assert lead_a.sync_once().applied == 1
    for phone in (lead_b, assisting, reporter):
        phone.sync_once()

    assert not held(lead_a, case_id) and not held(lead_b, case_id)  # zhzf no longer leads
    assert not held(assisting, case_id)  # a return withdraws the assisting departments too
    snapshot = reporter.store.case(case_id)  # the inspector who reported it still follows it
    assert snapshot is not None and snapshot["status"] == "discovered"
    assert pull_again(live, lead_b)["gone"] == []  # said once: the cursor moved past it
