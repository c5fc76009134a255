"""设置 → 修改密码 on a phone-sized screen, against the real demo server: the new password works,
the old one no longer does."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, app_fixture, shot, type_into
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import shown, sign_in
from tests.support.live_server import LiveServer

__all__ = ["api_server_url", "live"]  # fixtures: the demo server and its URL

pytestmark = pytest.mark.browser
live, api_server_url = demo_server_fixtures("function")
app_server = app_fixture("function")
NEW_PASSWORD = "河道巡查2026春"


def login_status(live: LiveServer, password: str) -> int:
    r = requests.post(
        live.base_url + "/auth/login",
        json={"username": "inspector", "password": password},
        timeout=10,
    )
    return r.status_code


def test_an_inspector_changes_their_password_in_settings(
    page: Page, app_server: RunningApp, live: LiveServer
) -> None:
    sign_in(page, app_server, "inspector")
    page.get_by_role("tab", name="设置").click()
    page.get_by_text("修改密码").first.click()
    expect(shown(page, "当前密码")).to_be_visible()
    type_into(page, "当前密码", "yixian-demo")
    type_into(page, "新密码", NEW_PASSWORD)
    type_into(page, "再次输入新密码", NEW_PASSWORD)
    page.get_by_role("button", name="确认修改").click()
    expect(shown(page, "密码已修改")).to_be_visible(timeout=20_000)
    shot(page, "change-password")
    assert login_status(live, NEW_PASSWORD) == 200
    assert login_status(live, "yixian-demo") == 401
