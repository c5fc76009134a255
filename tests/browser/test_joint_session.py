"""Joint on-site session (联合办公) on phones, the waterlogging story of the domain: the supervisor
convenes at a waterlogging site inviting 综合执法局, 水务局 and 住建局; each department's handler
checks in on its own phone; the supervisor records the 4 points with duties divided on the spot
and time nodes; the departments see their new cases after sync and handle them (one in the UI,
the rest through the API) to closure; the supervisor ends the session and its one minute (.docx)
names the attendees, the decision per department and the time nodes."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from server.demo_data import SITES
from sync.clock import to_local
from tests.browser.conftest import RunningApp, app_fixture, field, shot, type_into
from tests.browser.conftest import tap as tap_node
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import (
    case_card,
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

WATER = [s for s in SITES if s.kind == "waterlogging_point"]
HANDLERS = {"zhzf": "zhzf_handler", "sw": "sw_handler", "zj": "zj_handler"}
SLOW_MS = 30_000  # the first sync after signing in


class Api:
    """The server as other devices and desks see it (to keep the story short)."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.tokens: dict[str, str] = {}

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = self.live.login(user)
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str) -> Any:
        r = requests.get(self.live.base_url + path, headers=self.headers(user), timeout=10)
        assert r.status_code == 200, r.text
        return r.json() if "json" in r.headers.get("content-type", "") else r.content

    def post(self, path: str, user: str, body: dict[str, Any] | None = None) -> Any:
        r = requests.post(
            self.live.base_url + path, json=body or {}, headers=self.headers(user), timeout=10
        )
        assert r.status_code in (200, 201), r.text
        return r.json()


def reveal(page: Page, locator: Locator, *, step: int = 250, tries: int = 16) -> Locator:
    """Scroll the screen down until ``locator`` is in Flutter's semantics tree (which leaves
    out what lies far below the fold)."""
    page.mouse.move(195, 420)
    for _ in range(tries):
        if locator.count():
            break
        page.mouse.wheel(0, step)
        page.wait_for_timeout(250)
    expect(locator.first).to_be_attached()
    box = locator.first.bounding_box()
    visible_bottom = 844 - 90  # above the navigation bar
    if box is not None and box["y"] + box["height"] > visible_bottom:
        page.mouse.wheel(0, box["y"] + box["height"] - visible_bottom + 40)
    elif box is not None and box["y"] < 60:  # above the top edge
        page.mouse.wheel(0, box["y"] - 120)
    settle(locator)
    return locator


def settle(locator: Locator) -> None:
    """Wait until the element stops moving (a scroll may still be running)."""
    previous = None
    for _ in range(20):
        box = locator.first.bounding_box()
        if box is not None and box == previous:
            return
        previous = box
        locator.page.wait_for_timeout(150)


def fill(page: Page, label: str, text: str, *, replace: bool = False) -> None:
    reveal(page, field(page, label))
    type_into(page, label, text, replace=replace)


def tap(page: Page, role: str, name: str) -> None:
    """Tap through the node's own tap action: a click at the semantics DOM's coordinates can
    land on another control where the canvas has drifted (a checkbox toggled by mistake)."""
    target = reveal(page, page.get_by_role(role, name=name, exact=True)).first  # type: ignore[arg-type]
    tap_node(page, target)


def ensure_checked(page: Page, name: str) -> None:
    """Look at the box before saving, as a user would, and tick it if a tap went astray."""
    box = page.get_by_role("checkbox", name=name).first
    for _ in range(3):
        if box.get_attribute("aria-checked") == "true":
            return
        tap_node(page, box)
        page.wait_for_timeout(300)
    expect(box).to_be_checked()


def pick(page: Page, identifier: str, option: str) -> None:
    """Open the dropdown wrapped in ``Semantics(identifier=…)`` and choose ``option``."""
    box = reveal(page, page.locator(f'[flt-semantics-identifier="{identifier}"]'))
    inner = box.locator("[aria-expanded]")
    (inner if inner.count() else box).first.click()
    choice = page.get_by_role("button", name=option, exact=True)
    page.wait_for_timeout(300)  # the menu opens; the mouse is over it, so a wheel scrolls it
    try:
        reveal(page, choice).last.click()
    except Exception:
        shot(page, "debug-pick")
        raise


def open_session_from_home(page: Page, session_id: str) -> None:
    entry = page.locator("[flt-semantics-identifier=joint-entry]")
    expect(entry).to_be_visible(timeout=SLOW_MS)
    entry.click()
    page.locator(f'[flt-semantics-identifier="joint-session-{session_id}"]').click()


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def local(iso: str) -> str:
    return f"{to_local(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"


def test_a_joint_session_fixes_four_waterlogging_points_and_ends_with_one_minute(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    api = Api(live)
    # -- the supervisor convenes at the first waterlogging site
    sup = new_device()
    sign_in(sup, app_server, "supervisor")
    entry = sup.locator("[flt-semantics-identifier=joint-entry]")
    expect(entry).to_be_visible(timeout=SLOW_MS)
    shot(sup, "joint-home-entry")
    entry.click()
    sup.get_by_role("button", name="发起联合办公").click()
    pick(sup, "joint-site", WATER[0].name)
    for name in ("综合执法局", "水务局", "住建局"):  # the list's departments for waterlogging
        expect(sup.get_by_role("checkbox", name=name)).to_be_checked()
    type_into(sup, "事由", "12345 多次反映雨后道路积水")
    shot(sup, "joint-convene", docs=True)
    sup.get_by_role("button", name="开始联合办公").click()
    expect(shown(sup, "参加部门")).to_be_visible()
    session_id = sup.url.rsplit("/", 1)[-1]
    tap(sup, "button", "签到")  # the organizer's office attends too
    # exact: a session's card on the list reads "… 签到 1/4 …" too
    expect(sup.get_by_role("button", name="签到", exact=True)).to_have_count(0, timeout=20_000)
    called = api.get(f"/joint-sessions/{session_id}", "supervisor")["called_departments"]
    assert set(called) == {"zfb", "zhzf", "sw", "zj"}

    # -- each department's handler checks in on its own phone
    phones: dict[str, Page] = {}
    for dept, user in HANDLERS.items():
        phone = new_device()
        sign_in(phone, app_server, user)
        open_session_from_home(phone, session_id)
        phone.get_by_role("button", name="签到", exact=True).click()
        expect(phone.get_by_role("button", name="签到", exact=True)).to_have_count(
            0, timeout=20_000
        )
        row = phone.locator(f'[flt-semantics-identifier="attendance-{dept}"]')
        expect(row).to_contain_text("已签到", timeout=20_000)
        phones[dept] = phone
    shot(phones["zj"], "joint-checked-in", docs=True)
    check_ins = api.get(f"/joint-sessions/{session_id}", "supervisor")["check_ins"]
    assert sorted(c["department"] for c in check_ins) == ["sw", "zfb", "zhzf", "zj"]
    assert all(c["lat"] is not None for c in check_ins)  # each phone sent its position

    # -- the supervisor records the 4 points, dividing duties on the spot
    tap(sup, "button", "刷新")
    expect(shown(sup, "住建局经办人")).to_be_visible()
    for i, site in enumerate(WATER):
        tap(sup, "button", "记录点位")
        pick(sup, "point-site", site.name)
        fill(sup, "问题描述", f"{site.name}雨后积水约30厘米")
        pick(sup, "point-lead", "综合执法局")
        tap(sup, "checkbox", "水务局")
        tap(sup, "checkbox", "住建局")
        if i == 0:
            fill(sup, "水务局职责", "疏通胡同排水管网", replace=True)
            fill(sup, "主办时间节点（天）", "5", replace=True)
            fill(sup, "住建局时间节点（天）", "3", replace=True)
            shot(sup, "joint-point-form", docs=True)
        for name in ("水务局", "住建局"):
            ensure_checked(sup, name)
        tap(sup, "button", "保存点位并交办")
        expect(shown(sup, "已记录点位")).to_be_visible()
    view = api.get(f"/joint-sessions/{session_id}", "supervisor")
    assert [p["label"] for p in view["points"]] == [s.name for s in WATER]
    cases = [p["case"] for p in view["points"]]
    assert {c["lead_department"] for c in cases} == {"zhzf"}
    assert [sorted(a["department_code"] for a in c["assisting"]) for c in cases] == [
        ["sw", "zj"]
    ] * len(WATER)
    shot(sup, "joint-session-points", docs=True)

    # -- the departments see their new cases after sync; 综合执法局 handles one on the phone
    numbers = [c["number"] for c in cases]
    zhzf = phones["zhzf"]
    zhzf.get_by_role("tab", name="首页").click()
    wait_synced(zhzf)
    for number in numbers:
        expect(case_card(zhzf, number)).to_be_visible(timeout=20_000)
    sw = phones["sw"]
    sw.get_by_role("tab", name="首页").click()
    wait_synced(sw)
    expect(case_card(sw, numbers[0])).to_be_visible(timeout=20_000)  # assisting: its list too
    case_card(zhzf, numbers[0]).click()
    zhzf.get_by_role("button", name="签收", exact=True).click()
    zhzf.get_by_role("button", name="开始处置").click()
    zhzf.get_by_role("button", name="处置反馈").click()
    type_into(zhzf, "说明", "已拆除占压排水口的违章设施，积水已退")
    after = tmp_path / "after.jpg"
    after.write_bytes(jpeg("#228844", "after"))
    pick_photos(zhzf, "拍处置后照片（0）", [after])
    expect(zhzf.get_by_role("button", name="拍处置后照片（1）")).to_be_visible(timeout=20_000)
    zhzf.get_by_role("button", name="提交").click()
    expect(shown(zhzf, "待核查")).to_be_visible()
    zhzf.get_by_role("tab", name="首页").click()
    wait_synced(zhzf)
    assert api.get(f"/cases/{cases[0]['id']}", "supervisor")["status"] == "handled"

    # -- the rest of the loop through the API: assisting reports, lead handling, verification
    for n, c in enumerate(cases):
        for dept in ("sw", "zj"):
            api.post(
                f"/workflow/cases/{c['id']}/assist-tasks/{dept}/report",
                HANDLERS[dept],
                {"note": "已按分工完成"},
            )
        if n > 0:
            for action in ("accept", "start-handling"):
                api.post(f"/cases/{c['id']}/{action}", "zhzf_handler")
            api.post(f"/cases/{c['id']}/report-back", "zhzf_handler", {"photos": [f"{n}" * 64]})
        on_site = {"lat": c["lat"], "lon": c["lon"]}  # verified at the point (within 50 m)
        api.post(
            f"/cases/{c['id']}/close",
            "supervisor",
            {"note": "现场核查，积水已消除", "where": on_site},
        )

    # -- the supervisor sees every point closed, ends the session, gets the minute
    tap(sup, "button", "刷新")
    expect(shown(sup, "全部点位已整改结案")).to_be_visible()
    tap(sup, "button", "结束并生成纪要")
    fill(sup, "依据（可选）", "《城镇排水与污水处理条例》")
    shot(sup, "joint-conclude")
    tap(sup, "button", "结束并生成纪要")
    expect(shown(sup, "纪要已生成")).to_be_visible()
    expect(sup.get_by_role("button", name="记录点位")).to_have_count(0)
    shot(sup, "joint-minute", docs=True)

    # -- the minute, downloaded on the phone: the very file the server holds
    with sup.expect_download(timeout=SLOW_MS) as got:
        tap(sup, "button", "下载纪要（.docx）")
    on_phone = Path(got.value.path()).read_bytes()
    assert got.value.suggested_filename.endswith(".docx")
    view = api.get(f"/joint-sessions/{session_id}", "supervisor")
    assert view["status"] == "concluded" and view["all_closed"] is True
    assert on_phone == api.get(f"/minutes/{view['minute_id']}/file", "zj_handler")
    text = docx_text(on_phone)
    for name in ("综合执法局", "水务局", "住建局"):  # attendees and decisions
        assert name in text
    for who in ("综合执法局经办人", "水务局经办人", "住建局经办人"):
        assert who in text
    for site in WATER:
        assert site.name in text
    assert "疏通胡同排水管网" in text  # the duty divided on the spot for point 1
    assert "负责市政道路和老旧小区排水设施的建设改造" in text  # the list's duty for 住建局
    for c in cases:
        assert local(c["due_at"]) in text  # each point's time node
        for task in api.get(f"/workflow/cases/{c['id']}", "supervisor")["assist_tasks"]:
            assert local(task["due_at"]) in text  # each department's time node
    assert "现场排查点位4处" in text and "《城镇排水与污水处理条例》" in text
    first = api.get(f"/workflow/cases/{cases[0]['id']}", "supervisor")["assist_tasks"]
    due = {t["department"]: to_local(datetime.fromisoformat(t["due_at"])) for t in first}
    lead_due = to_local(datetime.fromisoformat(cases[0]["due_at"]))
    assert (lead_due - due["zj"]).days == 2 and due["zj"].hour == 18  # 5 days vs 3 days
