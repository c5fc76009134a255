"""Every role's work on the phone (issue 14), at 390×844 against the real server: 水务局, an
assisting department, reports its part (说明) from the case screen; 综合执法局, the lead, rates
it offline — a rating of 2 without a comment is refused and the message goes as soon as the
comment is written — and the rating syncs when the server is back; once the lead has reported
back, the supervisor sees the case under 待核查 on Home and a 待核查 notification."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from sync.protocol import CommandType
from tests.browser.conftest import (
    RunningApp,
    app_fixture,
    reveal,
    shot,
    tap,
    type_into,
)
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import WATER, case_card, shown, sign_in, wait_synced
from tests.browser.test_reroute import phone
from tests.support.live_server import LiveServer

__all__ = ["api_server_url", "live"]  # fixtures: the demo server and its URL

pytestmark = pytest.mark.browser
live, api_server_url = demo_server_fixtures("function")
app_server = app_fixture("function")

REPORT = "已开启 3 号泵站强排，积水已退"
COMMENT = "到场较晚，配合一般"
COMMENT_FIELD = "评价意见（2 分及以下必填）"


def handling_case(live: LiveServer, tmp: Path) -> tuple[str, str]:
    """An inspector records and assigns a waterlogging point by the list (综合执法局 leads,
    水务局 assists); the lead accepts it and starts handling. Returns (id, number)."""
    inspector = phone(live, tmp, "inspector")
    case_id = str(uuid.uuid4())
    point = {"lat": WATER.location.lat, "lon": WATER.location.lon}
    at = datetime.now(UTC)
    inspector.store.enqueue(
        CommandType.CREATE_CASE,
        {
            "case_id": case_id,
            "category": "waterlogging",
            "description": "胡同口积水",
            "location": point,
        },
        now=at,
    )
    inspector.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "assign", "photos": [], "where": point},
        now=at,
    )
    assert inspector.sync_once().applied == 2
    snap = inspector.store.case(case_id)
    assert snap is not None and snap["lead_department"] == "zhzf"
    assert "sw" in {a["department_code"] for a in snap["assisting"]}
    lead = phone(live, tmp, "zhzf_handler")
    for action in ("accept", "start_handling"):
        lead.store.enqueue(
            CommandType.TRANSITION_CASE,
            {"case_id": case_id, "action": action, "photos": []},
            now=at,
        )
    assert lead.sync_once().applied == 2
    return case_id, str(snap["number"])


def switch_user(page: Page, app: RunningApp, username: str) -> None:
    """Sign out and sign in as ``username`` on the same phone (no reload: a shared phone)."""
    page.get_by_role("tab", name="设置").click()
    tap(page, page.get_by_role("button", name="退出登录"))
    expect(page).to_have_url(app.url + "/login")
    type_into(page, "用户名", username, replace=True)
    type_into(page, "密码", "yixian-demo", replace=True)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(app.url + "/home", timeout=20_000)


def api(live: LiveServer, user: str, method: str, path: str, **body: object) -> dict:
    r = requests.request(
        method,
        live.base_url + path,
        headers={"Authorization": f"Bearer {live.login(user)}"},
        json=body or None,
        timeout=10,
    )
    assert r.status_code < 300, r.text
    return r.json()


def test_assisting_report_lead_rating_offline_and_the_supervisors_queue(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    case_id, number = handling_case(live, tmp_path)

    # 水务局 reports its part from the case screen
    sw = new_device()
    sign_in(sw, app_server, "sw_handler")
    wait_synced(sw)
    expect(shown(sw, "水务局 · 部门经办人")).to_be_visible()  # the department's name, not "sw"
    tap(sw, case_card(sw, number))
    expect(shown(sw, "协办任务")).to_be_visible()
    tap(sw, sw.get_by_role("button", name="反馈协办情况"))
    type_into(sw, "说明（做了什么）", REPORT)
    tap(sw, sw.get_by_role("button", name="提交"))
    expect(shown(sw, "已保存协办反馈")).to_be_visible()
    expect(shown(sw, REPORT)).to_be_visible()
    reveal(sw, sw.get_by_role("button", name="补充反馈"))  # the task card with its report
    shot(sw, "assist-reported", docs=True)
    sw.get_by_role("tab", name="首页").click()
    wait_synced(sw)

    # the lead rates it, offline
    lead = sw  # the same phone, passed to the lead's handler (one user at a time)
    switch_user(lead, app_server, "zhzf_handler")
    wait_synced(lead)
    live.stop()
    tap(lead, case_card(lead, number))
    expect(shown(lead, REPORT)).to_be_visible()
    tap(lead, lead.get_by_role("button", name="评价 水务局"))
    tap(lead, lead.locator("[flt-semantics-identifier=rating-2]"))
    tap(lead, lead.get_by_role("button", name="提交"))
    expect(shown(lead, "评分 2 分及以下须写明评价意见")).to_be_visible()
    reveal(lead, lead.get_by_role("button", name="提交"))  # the stars, the field, the message
    shot(lead, "assist-rating-needs-comment", docs=True)
    type_into(lead, COMMENT_FIELD, COMMENT)
    expect(shown(lead, "评分 2 分及以下须写明评价意见")).to_have_count(0)  # gone at once
    tap(lead, lead.get_by_role("button", name="提交"))
    expect(shown(lead, "已保存评价")).to_be_visible()
    expect(shown(lead, "主办评价 2 分")).to_be_visible()
    shot(lead, "assist-rated-offline", docs=True)
    live.start()
    lead.get_by_role("tab", name="首页").click()
    wait_synced(lead)
    tasks = {
        t["department"]: t
        for t in api(live, "zhzf_handler", "GET", f"/workflow/cases/{case_id}")["assist_tasks"]
    }
    assert (tasks["sw"]["report_note"], tasks["sw"]["rating"]) == (REPORT, 2)
    assert tasks["sw"]["rating_comment"] == COMMENT

    # the lead reports back; the supervisor finds it under 待核查, and is told
    api(
        live,
        "zhzf_handler",
        "POST",
        f"/cases/{case_id}/report-back",
        photos=["a" * 64],
        where={"lat": WATER.location.lat, "lon": WATER.location.lon},
    )
    supervisor = lead
    switch_user(supervisor, app_server, "supervisor")
    wait_synced(supervisor)
    expect(shown(supervisor, "待核查（1）")).to_be_visible()
    expect(case_card(supervisor, number)).to_be_visible()
    shot(supervisor, "supervisor-to-verify", docs=True)
    tap(supervisor, supervisor.locator("[flt-semantics-identifier=notifications-bell]"))
    expect(shown(supervisor, "待核查")).to_be_visible()
    expect(shown(supervisor, number)).to_be_visible()
    shot(supervisor, "supervisor-to-verify-notice", docs=True)
