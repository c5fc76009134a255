"""No case is stuck with nobody: the 12345 hotline centre (the first-contact department) records
a waterlogging case and routes it by the list to 综合执法局, which returns it (退回) with a
reason. On the phone, the hotline centre's handler sees why it came back and routes it again:
the list's proposal is shown, an override without a reason is refused, and with a reason the
case goes to 水务局; the server agrees after sync. And an inspector who only recorded a case
(仅登记) assigns it later from the case screen, offline."""

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
from tests.browser.conftest import (
    RunningApp,
    app_fixture,
    field,
    reveal,
    shot,
    tap,
    type_into,
)
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import (
    AT_THE_POINT,
    case_card,
    choose,
    jpeg,
    pick_photos,
    shown,
    sign_in,
    wait_synced,
)
from tests.support.live_server import LiveServer

__all__ = ["api_server_url", "live"]  # fixtures: the demo server and its URL

pytestmark = pytest.mark.browser
# One test in this module: a fresh server and app for each attempt (a rerun starts clean).
live, api_server_url = demo_server_fixtures("function")
app_server = app_fixture("function")

WATER = next(s for s in SITES if s.kind == "waterlogging_point")
RETURN_REASON = "积水在小区内部管网，非城区道路，请改派"
OVERRIDE_REASON = "小区内部排水管网堵塞，由水务局主办"


def phone(live: LiveServer, tmp: Path, username: str) -> SyncClient:
    client = SyncClient(DeviceStore(tmp / f"{username}.db"), live.base_url, sleep=lambda _s: None)
    client.register(live.login(username), "seed")
    client.sync_once()
    return client


def returned_case(live: LiveServer, tmp: Path) -> str:
    """The hotline centre records and assigns a case by the list; the lead returns it."""
    hotline = phone(live, tmp, "rx_handler")
    case_id = str(uuid.uuid4())
    point = {"lat": WATER.location.lat, "lon": WATER.location.lon}
    at = datetime.now(UTC)
    hotline.store.enqueue(
        CommandType.CREATE_CASE,
        {
            "case_id": case_id,
            "category": "waterlogging",
            "description": "12345 市民反映：小区门口积水，老人出行困难",
            "source": "hotline",
            "location": point,
        },
        now=at,
    )
    hotline.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "assign", "photos": [], "where": point},
        now=at,
    )
    report = hotline.sync_once()
    assert report.applied == 2, report
    snap = hotline.store.case(case_id)
    assert snap is not None and snap["lead_department"] == "zhzf"

    lead = phone(live, tmp, "zhzf_handler")
    lead.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "return", "reason": RETURN_REASON, "photos": []},
        now=at,
    )
    report = lead.sync_once()
    assert report.applied == 1, report
    return str(snap["number"])


def to_top(page: Page) -> None:
    """Scroll the screen back to its top with the wheel, as a user would."""
    page.mouse.move(195, 400)
    for _ in range(4):
        page.mouse.wheel(0, -2000)
        page.wait_for_timeout(300)


def test_the_first_contact_department_routes_a_returned_case_again(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    number = returned_case(live, tmp_path)
    hotline = new_device()
    sign_in(hotline, app_server, "rx_handler")
    wait_synced(hotline)
    expect(case_card(hotline, number)).to_be_visible()
    case_card(hotline, number).click()

    # why it came back, and who may route it again
    expect(shown(hotline, "已被退回，请重新交办")).to_be_visible()
    expect(shown(hotline, RETURN_REASON)).to_be_visible()
    shot(hotline, "reroute-returned-case", docs=True)

    # the list's proposal, computed on the phone
    hotline.get_by_role("button", name="重新交办").click()
    expect(shown(hotline, "交办：清单建议")).to_be_visible()
    expect(shown(hotline, "综合执法局")).to_be_visible()
    expect(hotline.get_by_role("button", name="确认交办")).to_be_visible()
    shot(hotline, "reroute-proposal", docs=True)

    # another lead: refused without a reason, the field says so
    hotline.get_by_role("button", name="改派其他部门").click()
    tap(hotline, hotline.locator("[aria-expanded]").first)
    hotline.get_by_role("button", name="水务局", exact=True).last.click()
    tap(hotline, hotline.get_by_role("button", name="确认交办"))
    expect(shown(hotline, "改派须说明理由")).to_be_visible()
    reveal(hotline, field(hotline, "改派理由"))
    shot(hotline, "reroute-override-needs-reason", docs=True)
    type_into(hotline, "改派理由", OVERRIDE_REASON)
    tap(hotline, hotline.get_by_role("button", name="确认交办"))
    expect(shown(hotline, "已交办")).to_be_visible()
    expect(shown(hotline, "水务局")).to_be_visible()
    expect(shown(hotline, "已被退回，请重新交办")).to_have_count(0)
    to_top(hotline)
    shot(hotline, "reroute-routed-again", docs=True)

    hotline.get_by_role("tab", name="首页").click()
    wait_synced(hotline)

    token = live.login("supervisor")
    listed = requests.get(
        live.base_url + "/cases", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()["items"]
    server_case = next(c for c in listed if c["number"] == number)
    assert server_case["status"] == "assigned" and server_case["lead_department"] == "sw"
    detail = requests.get(
        f"{live.base_url}/cases/{server_case['id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    kinds = [e["kind"] for e in detail["events"]]
    last_assigned = max(i for i, kind in enumerate(kinds) if kind == "CaseAssigned")
    assert kinds.index("CaseReturned") < last_assigned  # routed again after the return
    assigned = [e for e in detail["events"] if e["kind"] == "CaseAssigned"]
    assert assigned[-1]["data"]["override_reason"] == OVERRIDE_REASON
    assert assigned[-1]["data"]["proposed_lead"] == "zhzf"  # the list's, kept as evidence


def test_an_inspector_routes_a_case_recorded_without_assignment_while_offline(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    """Record only (仅登记) on the spot, then 交办 from the case screen, all offline."""
    photo = tmp_path / "before.jpg"
    photo.write_bytes(jpeg("#335577", "before"))
    inspector = new_device()
    inspector.context.set_geolocation(AT_THE_POINT)
    sign_in(inspector, app_server, "inspector")
    wait_synced(inspector)

    live.stop()  # offline from here on
    inspector.get_by_role("tab", name="上报").click()
    expect(inspector.get_by_text("±6 米", exact=False)).to_be_visible(timeout=20_000)
    choose(inspector, "城区积水点治理")
    pick_photos(inspector, "拍照 / 选择照片（0/9）", [photo])
    expect(inspector.get_by_role("button", name="拍照 / 选择照片（1/9）")).to_be_visible(
        timeout=20_000
    )
    type_into(inspector, "问题描述", "胡同口积水，暂不清楚归属，先登记")
    inspector.get_by_role("button", name="下一步：现场交办").click()
    expect(shown(inspector, "综合执法局")).to_be_visible()  # the shared proposal block
    inspector.get_by_role("button", name="仅登记，暂不交办").click()

    expect(shown(inspector, "已登记，尚未交办")).to_be_visible()
    expect(shown(inspector, "待交办")).to_be_visible()
    shot(inspector, "reroute-record-only", docs=True)
    inspector.get_by_role("button", name="交办", exact=True).click()
    expect(shown(inspector, "交办：清单建议")).to_be_visible()
    tap(inspector, inspector.get_by_role("button", name="确认交办"))
    expect(shown(inspector, "已交办")).to_be_visible()
    expect(shown(inspector, "综合执法局")).to_be_visible()
    expect(shown(inspector, "待同步")).to_be_visible()  # queued on the phone
    number = shown(inspector, "案件 YX").inner_text().split()[-1]

    live.start()
    inspector.get_by_role("tab", name="首页").click()
    wait_synced(inspector)
    token = live.login("supervisor")
    listed = requests.get(
        live.base_url + "/cases", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()["items"]
    server_case = next(c for c in listed if c["number"] == number)
    assert server_case["status"] == "assigned" and server_case["lead_department"] == "zhzf"
