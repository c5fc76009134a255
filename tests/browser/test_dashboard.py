"""督办看板 and 通知 in the browser, on a real server with seeded cases.

Seeded through the server's API on a server clock the test moves: on Mon 2 Nov 2026 three
parking cases (lead 综合执法局, 10 working days → due 16 Nov) and two drainage cases (lead
水务局, 7 working days → due 11 Nov) are assigned; on 4 Nov two parking cases and one
drainage case are closed. On 20 Nov: 综合执法局 closed 2 of 3 on time (66.7%), 水务局 1 of 2
(50%); each has one open case overdue; the three parking reports, 10 m apart, are a hotspot.
Assigning a parking case gives 住建局 an assisting task, hence a notification.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from server.demo_data import SITES
from sync.clock import CHINA_TZ
from tests.browser.conftest import RunningApp, open_app, shot
from tests.browser.test_loop import shown, sign_in, wait_synced
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

LOT = next(s for s in SITES if s.kind == "parking_lot")
DRAIN = next(s for s in SITES if s.kind == "drain")
MONDAY = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
TODAY = datetime(2026, 11, 20, 9, tzinfo=CHINA_TZ)
DESKTOP = (1280, 800)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeded:
    parking: list[str]
    drainage: list[str]


class Api:
    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, user: str, body: Any = None) -> Any:
        if user not in self.tokens:
            self.tokens[user] = self.live.login(user)
        r = requests.request(
            method,
            self.live.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=10,
        )
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def new_case(self, category: str, lat: float, lon: float) -> str:
        body = {
            "id": str(uuid.uuid4()),
            "category": category,
            "description": "看板演示案件",
            "location": {"lat": lat, "lon": lon},
        }
        case_id: str = self.call("POST", "/cases", "inspector", body)["id"]
        self.call("POST", f"/cases/{case_id}/assign", "inspector", {})
        return case_id

    def close(self, case_id: str, lead_user: str) -> None:
        case = self.call("GET", f"/cases/{case_id}", "supervisor")
        on_site = {"lat": case["lat"], "lon": case["lon"]}  # the after photo, at the case
        for user, action, body in (
            (lead_user, "accept", {}),
            (lead_user, "start-handling", {}),
            (lead_user, "report-back", {"photos": ["a" * 64], "where": on_site}),
            ("supervisor", "close", {}),
        ):
            self.call("POST", f"/cases/{case_id}/{action}", user, body)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[LiveServer]:
    server = LiveServer.with_demo(tmp_path_factory.mktemp("server"), now=MONDAY, clock=clock)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_server_url(live: LiveServer) -> str:
    return live.base_url


@pytest.fixture(scope="module")
def seeded(live: LiveServer, clock: Clock) -> Seeded:
    api = Api(live)
    parking = [
        api.new_case("parking", LOT.location.lat + 10 * i / 110_950, LOT.location.lon)
        for i in range(3)
    ]
    drainage = [
        api.new_case("drainage", DRAIN.location.lat, DRAIN.location.lon + 0.001 * i)
        for i in range(2)
    ]
    clock.now = MONDAY + timedelta(days=2)
    api.close(parking[0], "zhzf_handler")
    api.close(parking[1], "zhzf_handler")
    api.close(drainage[0], "sw_handler")
    clock.now = TODAY
    return Seeded(parking, drainage)


def on_time_of(live: LiveServer) -> dict[str, dict[str, Any]]:
    rows = Api(live).call("GET", "/evaluation/dashboard/on-time", "supervisor")["departments"]
    return {r["department"]: r for r in rows}


def open_dashboard(page: Page, app: RunningApp) -> None:
    sign_in(page, app, "supervisor")
    page.get_by_role("tab", name="看板").click()
    expect(page).to_have_url(app.url + "/dashboard")
    expect(shown(page, "督办看板")).to_be_visible()
    expect(shown(page, "各部门按时办结率")).to_be_attached(timeout=20_000)


def test_the_supervisor_sees_cases_rates_overdue_and_hotspots_on_a_phone(
    new_device: Callable[..., Page], app_server: RunningApp, live: LiveServer, seeded: Seeded
) -> None:
    rates = on_time_of(live)  # what the server computes, to compare with what is shown
    assert (rates["zhzf"]["sample"], rates["zhzf"]["late"]) == (3, 1)
    assert (rates["sw"]["sample"], rates["sw"]["late"]) == (2, 1)

    phone = new_device()
    open_dashboard(phone, app_server)
    for title in ("案件状态趋势", "各部门按时办结率", "超期督办（按部门）", "高发点位"):
        expect(shown(phone, title)).to_be_attached()
    expect(shown(phone, "已结案 3")).to_be_attached()  # legend: closed cases at the end
    expect(shown(phone, "66.7%（按时 2/3 件）")).to_be_attached()  # 综合执法局
    expect(shown(phone, "50%（按时 1/2 件）")).to_be_attached()  # 水务局
    board = phone.locator("[flt-semantics-identifier=board-zhzf]")
    expect(board).to_contain_text("综合执法局")
    expect(board).to_contain_text("超期 1")
    expect(shown(phone, "3 次上报")).to_be_attached()
    expect(shown(phone, "停车场监管")).to_be_attached()
    shot(phone, "dashboard-phone", docs=True)
    phone.mouse.move(195, 500)
    phone.mouse.wheel(0, 700)
    shot(phone, "dashboard-phone-rates")

    phone.get_by_role("button", name="本年").click()
    expect(shown(phone, "统计期 2026")).to_be_attached(timeout=20_000)
    expect(shown(phone, "66.7%（按时 2/3 件）")).to_be_attached()


def test_on_a_desktop_browser_two_charts_share_a_row(
    new_device: Callable[..., Page], app_server: RunningApp, live: LiveServer, seeded: Seeded
) -> None:
    desk = new_device(viewport=DESKTOP)
    open_dashboard(desk, app_server)
    expect(shown(desk, "66.7%（按时 2/3 件）")).to_be_attached()
    trend = shown(desk, "案件状态趋势").bounding_box()
    rates = shown(desk, "各部门按时办结率").bounding_box()
    assert trend is not None and rates is not None
    assert abs(trend["y"] - rates["y"]) < 5 and rates["x"] > trend["x"] + 300  # side by side
    desk.wait_for_timeout(5000)  # a wide frame of charts paints slowly without a GPU
    shot(desk, "dashboard-desktop", docs=True)


def test_a_handler_has_no_dashboard_tab_and_the_route_says_why(
    new_device: Callable[..., Page], app_server: RunningApp, seeded: Seeded
) -> None:
    handler = new_device()
    sign_in(handler, app_server, "zj_handler")
    expect(handler.get_by_role("tab", name="首页")).to_be_visible()
    expect(handler.get_by_role("tab", name="看板")).to_have_count(0)
    open_app(handler, app_server.url + "/dashboard")  # typed into the address bar
    expect(shown(handler, "仅督办、编办和管理员可查看督办看板")).to_be_visible(timeout=30_000)


def test_a_handler_is_notified_of_an_assisting_task_and_opens_the_case(
    new_device: Callable[..., Page], app_server: RunningApp, live: LiveServer, seeded: Seeded
) -> None:
    api = Api(live)
    case_id = seeded.parking[2]
    number = api.call("GET", f"/cases/{case_id}", "supervisor")["number"]
    every = api.call("GET", "/notifications", "zj_handler")
    mine = [n for n in every if n["case_id"] == case_id]
    assert [n["kind"] for n in mine] == ["assist_task"] and mine[0]["read_at"] is None
    unread = sum(1 for n in every if n["read_at"] is None)  # 住建局 assists all five cases

    handler = new_device()
    sign_in(handler, app_server, "zj_handler")
    wait_synced(handler)  # the case is on the phone once synced (住建局 assists)
    bell = handler.locator("[flt-semantics-identifier=notifications-bell]")
    expect(bell).to_have_attribute("aria-label", re.compile(f"通知（{unread} 条未读）"))
    bell.click()
    expect(handler).to_have_url(app_server.url + "/notifications")
    expect(shown(handler, "协办任务")).to_be_visible()
    shot(handler, "notifications", docs=True)
    handler.get_by_role("button", name=f"案件 {number}").click()
    expect(handler).to_have_url(app_server.url + f"/case/{case_id}")
    expect(shown(handler, number)).to_be_visible()
    read = api.call("GET", "/notifications", "zj_handler")
    assert next(n for n in read if n["id"] == mine[0]["id"])["read_at"] is not None
