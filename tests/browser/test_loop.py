"""The whole loop in phone-sized headless Chromium against the real server (LiveServer).

An inspector records a waterlogging point with two photos while the server is down, the app
restarts and still shows it, the server comes back and it syncs; the waterlogging lead
department's handler (zhzf_handler) accepts it and reports back with a photo; a supervisor
verifies and closes it.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageDraw
from playwright.sync_api import Geolocation, Locator, Page, expect

from server.demo_data import SITES
from tests.browser.conftest import (
    WENSHANG,
    RunningApp,
    open_app,
    shot,
    start_app,
    stop_app,
    type_into,
)
from tests.browser.demo_server import demo_server_fixtures
from tests.support.live_server import LiveServer

__all__ = ["live"]  # fixture: the demo server

pytestmark = pytest.mark.browser
# One test in this module: a fresh server for each attempt (a rerun starts clean).
live, api_server_url = demo_server_fixtures("function")

WATER = next(s for s in SITES if s.kind == "waterlogging_point")
AT_THE_POINT: Geolocation = {
    "latitude": WATER.location.lat,
    "longitude": WATER.location.lon,
    "accuracy": 6.0,
}
SYNC_TIMEOUT_MS = 90_000  # a first sync after a restart can be slow on a loaded machine


def jpeg(color: str, label: str) -> bytes:
    im = Image.new("RGB", (1200, 900), color)
    ImageDraw.Draw(im).text((40, 40), label, fill="white")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name, color in (("before1", "#335577"), ("before2", "#446688"), ("after", "#228844")):
        path = folder / f"{name}.jpg"
        path.write_bytes(jpeg(color, name))
        out[name] = path
    return out


def sign_in(page: Page, app: RunningApp, username: str) -> None:
    open_app(page, app.url + "/login")
    type_into(page, "用户名", username)
    type_into(page, "密码", "yixian-demo")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(app.url + "/home", timeout=20_000)


def wait_synced(page: Page) -> None:
    """Tap 立即同步 until nothing is pending."""
    deadline = time.monotonic() + SYNC_TIMEOUT_MS / 1000
    detail = page.locator("[flt-semantics-identifier=sync-detail]")
    while time.monotonic() < deadline:
        text = detail.inner_text() if detail.count() else ""
        if "待同步 0 个案件 · 照片 0 张" in text and "上次同步 无" not in text:
            return
        button = page.get_by_role("button", name="立即同步")
        if button.count() and button.is_enabled():
            button.click()
        page.wait_for_timeout(1500)
    raise AssertionError(f"still not synced: {detail.inner_text() if detail.count() else '?'}")


def shown(page: Page, text: str) -> Locator:
    """Text on screen, whether Flutter exposes it as text or merged into a label."""
    return (
        page.get_by_text(text).or_(page.locator(f'[aria-label*="{text}"]')).filter(visible=True)
    ).first


def case_card(page: Page, number: str) -> Locator:
    return page.locator(f'[flt-semantics-identifier^="case-{number}"]').first


def pick_photos(page: Page, button_name: str, files: list[Path]) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=button_name).click()
    chooser.value.set_files([str(f) for f in files])


def choose(page: Page, option: str) -> None:
    """Open the screen's (first) Dropdown and pick ``option``: Flutter names the dropdown's
    button by nothing, its options by their text."""
    page.locator("[aria-expanded]").first.click()
    page.get_by_role("button", name=option, exact=True).last.click()


def open_case(page: Page, number_prefix: str) -> None:
    case_card(page, number_prefix).click()


def test_record_offline_restart_sync_handle_verify_close(
    new_device: Callable[[], Page],
    live: LiveServer,
    photos: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("fieldapp-loop")
    from tests.browser.conftest import free_port

    port = free_port()
    app = start_app(workdir, live.base_url, port=port)
    try:
        # -- the inspector signs in online once: the device registers and pulls the list
        inspector = new_device()
        inspector.context.set_geolocation(AT_THE_POINT)
        sign_in(inspector, app, "inspector")
        wait_synced(inspector)
        shot(inspector, "loop-home-inspector", docs=True)

        # -- the server goes down; the inspector records a waterlogging point, two photos
        live.stop()
        inspector.get_by_role("tab", name="上报").click()
        expect(inspector.get_by_text("±6 米", exact=False)).to_be_visible(timeout=20_000)
        choose(inspector, "城区积水点治理")
        pick_photos(inspector, "拍照 / 选择照片（0/9）", [photos["before1"], photos["before2"]])
        expect(inspector.get_by_role("button", name="拍照 / 选择照片（2/9）")).to_be_visible(
            timeout=20_000
        )
        type_into(inspector, "问题描述", "胡同口积水约二十厘米，行人绕行")
        shot(inspector, "loop-new-inspection", docs=True)
        expect(shown(inspector, WATER.name)).to_be_visible()  # the nearest site
        inspector.get_by_role("button", name="下一步：现场交办").click()
        inspector.wait_for_timeout(1500)
        shot(inspector, "loop-assign-proposal", docs=True)
        expect(shown(inspector, "综合执法局")).to_be_visible()
        inspector.get_by_role("button", name="确认交办").click()
        expect(inspector.get_by_text("处置记录")).to_be_visible()
        number = shown(inspector, "案件 YX").inner_text().split()[-1]
        shot(inspector, "loop-case-recorded-offline", docs=True)

        # -- the app restarts (server still down): the record is still there
        stop_app(app)
        app = start_app(workdir, live.base_url, port=port)
        open_app(inspector, app.url + "/home")
        expect(case_card(inspector, number)).to_be_visible(timeout=20_000)
        expect(shown(inspector, "离线：数据已保存在本机")).to_be_visible(timeout=30_000)
        shot(inspector, "loop-home-offline-after-restart", docs=True)

        # -- the server is back: it syncs (pending -> 0)
        live.start()
        wait_synced(inspector)
        shot(inspector, "loop-home-synced")

        # -- the handler of the lead department sees it, accepts, reports back with a photo
        handler = new_device()
        handler.context.set_geolocation(AT_THE_POINT)
        sign_in(handler, app, "zhzf_handler")
        wait_synced(handler)
        expect(case_card(handler, number)).to_be_visible()
        shot(handler, "loop-home-handler", docs=True)
        open_case(handler, number)
        handler.get_by_role("button", name="签收", exact=True).click()
        handler.get_by_role("button", name="开始处置").click()
        handler.get_by_role("button", name="处置反馈").click()
        type_into(handler, "说明", "已组织抽排，积水已退")
        pick_photos(handler, "拍处置后照片（0）", [photos["after"]])
        expect(handler.get_by_role("button", name="拍处置后照片（1）")).to_be_visible(
            timeout=20_000
        )
        shot(handler, "loop-report-back")
        handler.get_by_role("button", name="提交").click()
        expect(shown(handler, "待核查")).to_be_visible()
        shot(handler, "loop-case-handler", docs=True)
        handler.get_by_role("tab", name="首页").click()
        wait_synced(handler)

        # -- a supervisor verifies (after photo within 50 m) and closes
        supervisor = new_device()
        supervisor.context.set_geolocation(WENSHANG)
        sign_in(supervisor, app, "supervisor")
        wait_synced(supervisor)
        open_case(supervisor, number)
        supervisor.get_by_role("button", name="核查通过，结案").click()
        expect(shown(supervisor, "50 米内")).to_be_visible()
        shot(supervisor, "loop-verify", docs=True)
        supervisor.get_by_role("button", name="提交").click()
        expect(shown(supervisor, "已结案")).to_be_visible()
        supervisor.get_by_role("tab", name="首页").click()
        wait_synced(supervisor)

        # the server agrees
        token = live.login("supervisor")
        cases = requests.get(
            live.base_url + "/cases",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()["items"]
        mine = [c for c in cases if c["number"] == number]
        assert mine and mine[0]["status"] == "closed"
    finally:
        stop_app(app)
