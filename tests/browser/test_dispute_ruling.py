"""A dispute from raising to ruling, on four phones: 综合执法局 (the lead) disputes a waterlogging
case with a reason and its legal basis, saying 水务局 is responsible; 水务局 states its position
and escalates to 编办协调; the coordinator (编办) escalates to 联合会商认定 and rules 水务局 lead.
水务局's phone then has the case as lead with the ruling in its timeline — and the work never
stopped: the case stayed active with its deadline unchanged on the server."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
import requests
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import RunningApp, app_fixture, shot, tap, type_into
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_dispute import assigned_case
from tests.browser.test_loop import case_card, shown, sign_in, wait_synced
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
# One test in this module: a fresh server and app for each attempt (a rerun starts clean).
live, api_server_url = demo_server_fixtures("function")
app_server = app_fixture("function")
__all__ = ["api_server_url", "live"]  # the module's fixtures: the demo server and its URL

ACTIVE = {"assigned", "accepted", "handling"}
UI_MS = 20_000
BASIS = "《城镇排水与污水处理条例》第二十条；县水务局“三定”规定"


def server_get(live: LiveServer, path: str, user: str = "supervisor") -> Any:
    r = requests.get(
        live.base_url + path,
        headers={"Authorization": f"Bearer {live.login(user)}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()


def case_on_server(live: LiveServer, number: str) -> dict[str, Any]:
    items = server_get(live, "/cases", "supervisor")["items"]
    return dict(next(c for c in items if c["number"] == number))


def open_dispute(page: Page, number: str) -> None:
    """From the home list: the case, then its dispute (online)."""
    link = page.get_by_role("button", name="查看异议处理进度")
    retried(
        lambda: tap(page, case_card(page, number)),
        lambda: expect(link).to_be_visible(timeout=5000),
    )
    link.click()
    expect(shown(page, "涉及部门及意见")).to_be_visible(timeout=UI_MS)


def retried(action: Callable[[], None], check: Callable[[], None], tries: int = 3) -> None:
    """``action`` until ``check`` passes: on a loaded machine a tap can land while the screen
    is still re-rendering (after a sync or the previous field's change)."""
    for attempt in range(tries):
        try:
            action()
            check()
            return
        except (AssertionError, PlaywrightTimeout):
            if attempt == tries - 1:
                raise
            time.sleep(1.0)


def submit_form(page: Page, notice: str) -> None:
    """Tap the open form's 提交 through Flutter's tap action and wait for ``notice``. The
    dispute screen is long and scrolled, so a click at the semantics DOM's coordinates can
    land beside the button on a loaded machine (seen in CI: the form stayed open, nothing
    sent). A retry taps only while the form is still open and showed no refusal; the screen
    ignores a second tap while the first is being sent."""
    button = page.get_by_role("button", name="提交", exact=True)

    def sent() -> None:
        expect(shown(page, notice)).to_be_visible(timeout=UI_MS // 3)

    for attempt in range(3):
        if attempt and not button.count():
            break  # the form closed: the first tap went through (or was refused)
        tap(page, button.first)
        try:
            sent()
            return
        except AssertionError:
            continue
    sent()


def open_step(page: Page, name: str) -> None:
    """Open a step's form by its button, tapped through Flutter's tap action."""
    retried(
        lambda: tap(page, page.get_by_role("button", name=name).first),
        lambda: expect(page.get_by_role("button", name="提交", exact=True)).to_be_visible(
            timeout=5000
        ),
    )


def pick(page: Page, option: str) -> None:
    """Open the screen's first Dropdown (Flutter names its button by nothing) and pick
    ``option``, tapping again if the first tap landed during a re-render."""
    menu = page.get_by_role("button", name=option, exact=True)
    dropdown = page.locator("[aria-expanded]").first
    retried(lambda: tap(page, dropdown), lambda: expect(menu.last).to_be_visible(timeout=3000))
    menu.last.click()


def to_top(page: Page) -> None:
    """Scroll the screen back to its top (the stage track) before a screenshot."""
    page.mouse.move(195, 400)
    page.mouse.wheel(0, -5000)
    page.wait_for_timeout(400)


def go_home(page: Page) -> None:
    page.get_by_role("tab", name="首页").click()
    wait_synced(page)


def test_a_dispute_goes_from_raising_to_ruling_while_the_work_goes_on(
    new_device: Callable[[], Page],
    app_server: RunningApp,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    number = assigned_case(live, tmp_path)
    before = case_on_server(live, number)
    case_id = before["id"]

    # 综合执法局 (lead) accepts, then disputes with a reason and the legal basis
    zhzf = new_device()
    sign_in(zhzf, app_server, "zhzf_handler")
    wait_synced(zhzf)
    tap(zhzf, case_card(zhzf, number))
    zhzf.get_by_role("button", name="签收", exact=True).click()
    zhzf.get_by_role("button", name="提出异议").click()
    type_into(zhzf, "理由 / 说明", "涵洞排水管网由水务局管养，应由水务局负责", replace=True)
    type_into(zhzf, "法律依据", BASIS, replace=True)
    pick(zhzf, "水务局")  # 应由哪个部门负责
    zhzf.get_by_role("button", name="提交").click()
    expect(shown(zhzf, "已提出异议")).to_be_visible()
    go_home(zhzf)
    open_dispute(zhzf, number)
    expect(shown(zhzf, "主办协商")).to_be_visible()
    expect(shown(zhzf, "未表态").first).to_be_visible()  # the others have not spoken yet
    expect(zhzf.get_by_role("button", name="召集协商")).to_be_visible()  # the lead may
    to_top(zhzf)
    shot(zhzf, "dispute-stage-consultation", docs=True)

    # 水务局 (assisting) says it is not theirs, and asks the establishment office to coordinate
    sw = new_device()
    sign_in(sw, app_server, "sw_handler")
    wait_synced(sw)
    open_dispute(sw, number)
    expect(sw.get_by_role("button", name="召集协商")).to_have_count(0)  # not the lead
    open_step(sw, "陈述本部门意见")
    sw.get_by_role("button", name="不属于本部门").click()
    type_into(sw, "理由", "涵洞位于铁路桥下，排水设施未移交水务局", replace=True)
    type_into(sw, "法律依据", "县水务局“三定”规定", replace=True)
    shot(sw, "dispute-position-form")
    submit_form(sw, "已提交本部门意见")
    open_step(sw, "提交编办协调")
    submit_form(sw, "已提交下一阶段")
    [dispute] = server_get(live, f"/workflow/cases/{case_id}")["disputes"]
    assert dispute["stage"] == "coordination"
    assert dispute["positions"]["sw"]["not_ours"] is True
    assert dispute["legal_basis"] == BASIS
    assert dispute["claimed_responsible"] == "sw"  # named on the phone when raising it

    # 编办 (coordinator): coordination, then the joint group's ruling: 水务局 leads
    wbb = new_device()
    sign_in(wbb, app_server, "coordinator")
    wait_synced(wbb)
    open_dispute(wbb, number)
    expect(shown(wbb, "编办协调")).to_be_visible()
    to_top(wbb)
    shot(wbb, "dispute-stage-coordination", docs=True)
    open_step(wbb, "提交联合会商认定")
    type_into(wbb, "理由（可选）", "协调未达成一致", replace=True)
    submit_form(wbb, "已提交下一阶段")
    expect(wbb.get_by_role("button", name="提交联合会商认定")).to_have_count(0)  # last stage
    to_top(wbb)
    shot(wbb, "dispute-stage-ruling", docs=True)
    open_step(wbb, "作出认定")
    pick(wbb, "水务局")
    tap(wbb, wbb.get_by_role("checkbox", name="综合执法局"))  # the old lead assists
    type_into(wbb, "基本事实", "涵洞积水系排水管网堵塞，管网属城区排水系统", replace=True)
    type_into(wbb, "认定意见", "由水务局主办，负责管网疏通和泵站强排；综合执法局协办", replace=True)
    type_into(wbb, "法律依据", "《城镇排水与污水处理条例》第二十条", replace=True)
    shot(wbb, "dispute-ruling-form")
    submit_form(wbb, "已认定，案件已改派")
    expect(shown(wbb, "会议纪要已生成")).to_be_visible()
    shot(wbb, "dispute-ruling", docs=True)
    with wbb.expect_download(timeout=UI_MS) as got:  # the minute, saved on the phone
        tap(wbb, wbb.get_by_role("button", name="下载纪要（.docx）"))
    minute = docx.Document(io.BytesIO(Path(got.value.path()).read_bytes()))
    minute_text = "\n".join(p.text for p in minute.paragraphs) + "\n".join(
        c.text for t in minute.tables for row in t.rows for c in row.cells
    )
    assert "由水务局主办，负责管网疏通和泵站强排" in minute_text

    work = server_get(live, f"/workflow/cases/{case_id}")
    [dispute] = work["disputes"]
    assert dispute["status"] == "settled" and dispute["responsible_department"] == "sw"
    assert dispute["lost_by"] == ["sw"]  # said "not ours", ruled responsible
    assert [m["id"] for m in work["minutes"]] == [dispute["minute_id"]]
    after = work["case"]
    assert after["lead_department"] == "sw"
    assert "zhzf" in {a["department_code"] for a in after["assisting"]}
    # the work never stopped: still active, never suspended, the same deadline
    assert after["status"] in ACTIVE and not after["suspended"]
    assert after["due_at"] == before["due_at"]

    # 水务局's phone, after sync: the case is theirs to lead, the ruling in its timeline
    go_home(sw)
    expect(case_card(sw, number)).to_be_visible()
    tap(sw, case_card(sw, number))
    expect(shown(sw, "异议已认定，主办部门")).to_be_visible(timeout=UI_MS)
    expect(
        sw.get_by_role("button", name="签收", exact=True)
    ).to_be_visible()  # the ruled lead accepts
    shot(sw, "dispute-ruled-timeline")
