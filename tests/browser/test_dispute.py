"""A handler raises a dispute (异议), with a reason and its legal basis, on a case assigned to
their department; the work goes on and the case stays on their list — on the phone and, after
sync, on the server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from server.demo_data import SITES
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType
from tests.browser.conftest import RunningApp, app_fixture, shot, tap, type_into
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import case_card, shown, sign_in, wait_synced
from tests.support.live_server import LiveServer

__all__ = ["api_server_url", "live"]  # fixtures: the demo server and its URL

pytestmark = pytest.mark.browser
# One test in this module: a fresh server and app for each attempt (a rerun starts clean).
live, api_server_url = demo_server_fixtures("function")
app_server = app_fixture("function")

WATER = next(s for s in SITES if s.kind == "waterlogging_point")


def assigned_case(live: LiveServer, tmp: Path) -> str:
    """An inspector's device records and assigns a waterlogging case (the list's lead: zhzf)."""
    phone = SyncClient(DeviceStore(tmp / "inspector.db"), live.base_url, sleep=lambda _s: None)
    phone.register(live.login("inspector"), "seed")
    phone.sync_once()
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    point = {"lat": WATER.location.lat, "lon": WATER.location.lon}
    phone.store.enqueue(
        CommandType.CREATE_CASE,
        {
            "case_id": case_id,
            "category": "waterlogging",
            "description": "涵洞积水，车辆无法通行",
            "location": point,
            "recorded_at": now.isoformat(),
        },
        now=now,
    )
    phone.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "assign", "photos": [], "where": point},
        now=now,
    )
    report = phone.sync_once()
    assert report.applied == 2, report
    snap = phone.store.case(case_id)
    assert snap is not None and snap["lead_department"] == "zhzf"
    return str(snap["number"])


def test_a_dispute_keeps_the_case_on_the_handlers_list(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    number = assigned_case(live, tmp_path)
    handler = new_device()
    sign_in(handler, app_server, "zhzf_handler")
    wait_synced(handler)
    case_card(handler, number).click()
    # the case screen is long (tasks, place, map): tap through Flutter's tap action, as the
    # semantics DOM's boxes drift from the canvas once it scrolls (tests/browser/conftest.py)
    tap(handler, handler.get_by_role("button", name="签收", exact=True))
    expect(shown(handler, "已签收")).to_be_visible()
    tap(handler, handler.get_by_role("button", name="提出异议"))
    tap(handler, handler.get_by_role("button", name="提交"))  # no reason yet: refused on the phone
    expect(shown(handler, "请填写理由")).to_be_visible()
    type_into(handler, "理由 / 说明", "涵洞属铁路部门管养，非本局职责")
    tap(handler, handler.get_by_role("button", name="提交"))  # no legal basis yet: refused too
    expect(shown(handler, "请填写法律依据")).to_be_visible()
    type_into(handler, "法律依据", "《城镇排水与污水处理条例》第二十条")
    shot(handler, "dispute-form", docs=True)
    tap(handler, handler.get_by_role("button", name="提交"))
    expect(shown(handler, "已提出异议")).to_be_visible()
    shot(handler, "dispute-raised", docs=True)

    handler.get_by_role("tab", name="首页").click()
    wait_synced(handler)
    expect(case_card(handler, number)).to_be_visible()  # still on the handler's list
    expect(shown(handler, "有异议")).to_be_visible()
    shot(handler, "dispute-home-handler", docs=True)

    token = live.login("zhzf_handler")
    listed = requests.get(
        live.base_url + "/cases", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()["items"]
    server_case = next(c for c in listed if c["number"] == number)
    assert server_case["disputed"] is True and server_case["status"] == "accepted"
    work = requests.get(
        f"{live.base_url}/workflow/cases/{server_case['id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert [d["legal_basis"] for d in work["disputes"]] == ["《城镇排水与污水处理条例》第二十条"]
