"""The shell in a phone-sized headless Chromium: sign-in, home, navigation, language, storage.

The API server is a stub (``StubAuthApi``, http.server in a thread) answering
``POST /auth/login`` as the real server is specified to; the real server replaces it later.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    RunningApp,
    field,
    free_port,
    open_app,
    read_field,
    shot,
    type_into,
)

pytestmark = pytest.mark.browser

VIEWPORT_W, VIEWPORT_H = 390, 844
FIRST_FRAME_BUDGET_S = 20.0  # measured 1.8–3.2 s here; generous for slow CI machines
USERNAME, PASSWORD = "zhangsan", "xuncha-2024"
USER = {
    "id": "u-7",
    "username": USERNAME,
    "display_name": "张三",
    "role": "inspector",
    "department_code": "zhzf",
}


class StubAuthApi:
    """Answers POST /auth/login like the server's contract; records each request body."""

    def __init__(self) -> None:
        self.logins: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/auth/login":
                    self._answer(404, {"detail": {"code": "not_found", "reason": self.path}})
                    return
                stub.logins.append(body)
                if body.get("username") == USERNAME and body.get("password") == PASSWORD:
                    self._answer(200, {"token": "tok-" + USERNAME, "user": USER})
                else:
                    detail = {"code": "bad_credentials", "reason": "用户名或密码错误"}
                    self._answer(401, {"detail": detail})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubAuthApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def stub_api() -> Iterator[StubAuthApi]:
    with StubAuthApi() as stub:
        yield stub


@pytest.fixture(scope="module")
def api_server_url(stub_api: StubAuthApi) -> str:
    return stub_api.url


def sign_in(page: Page, app: RunningApp, password: str = PASSWORD) -> None:
    open_app(page, app.url + "/login")
    type_into(page, "用户名", USERNAME)
    type_into(page, "密码", password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_screen_is_chinese_with_server_prefilled_and_fits_a_phone(
    page: Page, app_server: RunningApp, stub_api: StubAuthApi
) -> None:
    first_frame_s = open_app(page, app_server.url)
    print(f"\nport open {app_server.started_in_s:.2f} s; first frame {first_frame_s:.2f} s")

    expect(page).to_have_url(app_server.url + "/login")  # a guest is sent to sign in
    expect(field(page, "用户名")).to_be_visible()
    expect(field(page, "密码")).to_have_attribute("type", "password")
    submit = page.get_by_role("button", name="登录")
    expect(submit).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()
    box = submit.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT_W
    assert box["y"] + box["height"] <= VIEWPORT_H, "the sign-in button is below the fold"
    assert box["height"] >= 48, "touch target smaller than the Material minimum"
    assert first_frame_s < FIRST_FRAME_BUDGET_S
    shot(page, "login", docs=True)
    assert read_field(page, "服务器地址") == stub_api.url


def test_empty_form_names_the_missing_fields_without_calling_the_server(
    page: Page, app_server: RunningApp, stub_api: StubAuthApi
) -> None:
    calls_before = len(stub_api.logins)
    open_app(page, app_server.url + "/login")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("请输入用户名")).to_be_visible()
    expect(page.get_by_text("请输入密码")).to_be_visible()
    assert len(stub_api.logins) == calls_before


def test_wrong_password_shows_chinese_error_and_stays_on_sign_in(
    page: Page, app_server: RunningApp, stub_api: StubAuthApi
) -> None:
    sign_in(page, app_server, password="wrong")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    expect(page).to_have_url(app_server.url + "/login")
    assert stub_api.logins[-1] == {"username": USERNAME, "password": "wrong"}
    shot(page, "login-wrong-password")


def test_unreachable_server_says_work_can_continue_offline(
    page: Page, app_server: RunningApp
) -> None:
    open_app(page, app_server.url + "/login")
    type_into(page, "服务器地址", f"http://127.0.0.1:{free_port()}", replace=True)
    type_into(page, "用户名", USERNAME)
    type_into(page, "密码", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("无法连接服务器，可离线继续工作")).to_be_visible()
    shot(page, "login-offline")


def test_sign_in_reaches_home_with_the_users_name_and_a_navigation_bar(
    page: Page, app_server: RunningApp
) -> None:
    sign_in(page, app_server)
    expect(page.get_by_text("你好，张三")).to_be_visible()
    expect(page).to_have_url(app_server.url + "/home")
    expect(page.get_by_text("巡查员", exact=False)).to_be_visible()
    for tab in ("首页", "上报", "设置"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    shot(page, "home", docs=True)

    page.get_by_role("tab", name="上报").click()
    expect(page).to_have_url(app_server.url + "/new")
    expect(page.get_by_text("上报问题")).to_be_visible()

    page.get_by_role("tab", name="设置").click()
    expect(page).to_have_url(app_server.url + "/settings")
    expect(page.get_by_text("退出登录")).to_be_visible()
    shot(page, "settings", docs=True)


def test_session_survives_a_reload_through_secure_storage(
    page: Page, app_server: RunningApp
) -> None:
    sign_in(page, app_server)
    expect(page.get_by_text("你好，张三")).to_be_visible()
    open_app(page, app_server.url + "/settings")  # a fresh load of the same device
    expect(page.get_by_text("退出登录")).to_be_visible()
    expect(page.get_by_text("安全存储")).to_be_visible()  # not "this session only"


def test_sign_out_forgets_the_session(page: Page, app_server: RunningApp) -> None:
    sign_in(page, app_server)
    expect(page.get_by_text("你好，张三")).to_be_visible()
    page.get_by_role("tab", name="设置").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(app_server.url + "/login")
    open_app(page, app_server.url + "/home")
    expect(page).to_have_url(app_server.url + "/login")


def test_each_browser_context_is_a_separate_device(
    new_device: Callable[[], Page], app_server: RunningApp
) -> None:
    signed_in = new_device()
    sign_in(signed_in, app_server)
    expect(signed_in.get_by_text("你好，张三")).to_be_visible()
    other = new_device()
    open_app(other, app_server.url + "/home")
    expect(other).to_have_url(app_server.url + "/login")


def test_language_toggle_on_sign_in_switches_labels_and_is_remembered_by_the_device(
    page: Page, app_server: RunningApp
) -> None:
    open_app(page, app_server.url + "/login")
    page.get_by_role("button", name="English").click()
    expect(field(page, "Username")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(page, "login-en")
    open_app(page, app_server.url + "/login")  # reload: the choice is kept
    expect(field(page, "Username")).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(field(page, "用户名")).to_be_visible()


def test_language_chosen_in_settings_renames_the_navigation_bar(
    page: Page, app_server: RunningApp
) -> None:
    sign_in(page, app_server)
    page.get_by_role("tab", name="设置").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("tab", name="Settings")).to_be_visible()
    expect(page.get_by_role("tab", name="Home")).to_be_visible()
    shot(page, "settings-en")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("tab", name="设置")).to_be_visible()


def test_a_case_not_on_this_phone_says_so_and_leads_back_to_the_list(
    page: Page, app_server: RunningApp
) -> None:
    sign_in(page, app_server)
    expect(page.get_by_text("你好，张三")).to_be_visible()
    open_app(page, app_server.url + "/case/42")
    expect(page.get_by_text("案件已不在本机")).to_be_visible()
    expect(page.get_by_text("案件 42")).to_have_count(0)  # never a raw id as if it were a case
    page.get_by_role("button", name="返回列表").click()
    expect(page.get_by_text("你好，张三")).to_be_visible()
