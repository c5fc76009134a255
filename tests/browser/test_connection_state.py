"""The page around the app, as a person sees it: a loading state painted before the Flutter
engine has loaded, and "重新连接中" while the page's connection to the app process is down —
then the app is back by itself when the process returns (web mode's app runs next to the
server; see README "Which mode works offline")."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SCREENSHOT_DIR,
    enable_semantics,
    shot,
    start_app,
    stop_app,
)

pytestmark = pytest.mark.browser


def first_contentful_paint_ms(page: Page) -> float:
    return float(
        page.evaluate(
            "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
        )
    )


def test_the_page_shows_a_loading_state_before_the_app_and_reconnects_after_a_restart(
    page: Page, tmp_path: Path, api_server_url: str
) -> None:
    app = start_app(tmp_path, api_server_url)
    try:
        page.goto(app.url, wait_until="domcontentloaded")
        loading = page.locator("#loading")
        expect(loading).to_contain_text("一线")
        expect(loading).to_contain_text("正在加载")
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)  # now, not settled: it spins
        page.screenshot(path=str(SCREENSHOT_DIR / "app-loading.png"))
        page.wait_for_selector("#loading", state="detached", timeout=60_000)
        # the loading state was painted before the app's first frame replaced it
        frame_ms = page.evaluate("() => performance.now()")
        assert first_contentful_paint_ms(page) < frame_ms
        enable_semantics(page)
        expect(page.get_by_text("登录").first).to_be_visible(timeout=30_000)
        overlay = page.locator("#yx-reconnecting")
        expect(overlay).to_be_hidden()

        # -- the app process goes away: the page says so instead of ignoring taps
        stop_app(app)
        expect(overlay).to_be_visible(timeout=20_000)
        expect(overlay).to_contain_text("重新连接中")
        shot(page, "app-reconnecting", docs=True)

        # -- it comes back on the same address: the page recovers without the user's help
        loaded_at = page.evaluate("() => performance.timeOrigin")
        app = start_app(tmp_path, api_server_url, port=app.port)
        expect(overlay).to_be_hidden(timeout=40_000)
        page.wait_for_selector("#loading", state="detached", timeout=60_000)
        if page.evaluate("() => performance.timeOrigin") != loaded_at:
            enable_semantics(page)  # the page reloaded: a new engine, a new semantics tree
        expect(page.get_by_text("登录").first).to_be_visible(timeout=30_000)
    finally:
        stop_app(app)
