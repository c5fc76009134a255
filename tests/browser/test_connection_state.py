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
    type_into,
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
    failed: list[str] = []
    fonts: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("response", lambda r: fonts.append(r.url) if "/fonts/" in r.url else None)
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

        # -- a rare name (喆, 堃 are not in GB2312) displays once the rest of the hanzi arrive,
        # and no font request fails on the way
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => e.name.includes('NotoSansSC-Rest'))",
            timeout=30_000,
        )
        page.wait_for_timeout(1000)  # registered, then the frame redrawn
        typed_from = len(failed)
        type_into(page, "用户名", "王喆张堃")
        page.wait_for_timeout(1000)
        shot(page, "login-rare-name")
        # our two fonts load; typing a rare name asks for no other font. (Before our font has
        # registered, the engine still asks its own Noto fallback for the first screen's
        # characters: see docs/flet.md "Chinese text".)
        assert any("NotoSansSC-Subset" in u for u in fonts)
        assert not [u for u in failed if "NotoSansSC-" in u]
        assert failed[typed_from:] == []

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
