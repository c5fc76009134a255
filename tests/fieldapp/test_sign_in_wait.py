"""A locked-out sign-in on the phone: the server's 429 Retry-After is shown as a wait in
Chinese (or English) and nothing is sent again before it is over — for sign-in and for the
change of password, against a real server whose clock moves with the phone's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from fieldapp.api_client import ApiClient, Rejected
from fieldapp.i18n import Lang
from fieldapp.viewmodels.login import LoginViewModel
from fieldapp.viewmodels.password import PasswordViewModel
from tests.conftest import T0
from tests.support.live_server import LiveServer

DEMO_PASSWORD = "yixian-demo"


class Clocks:
    """The server's clock and the phone's monotonic clock, moved together."""

    def __init__(self) -> None:
        self.elapsed_s = 0.0

    def server(self) -> Any:
        return T0 + timedelta(seconds=self.elapsed_s)

    def phone(self) -> float:
        return self.elapsed_s


class CountingSession(requests.Session):
    """Every request the phone really sends, by path."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:
        self.sent.append(str(url).rsplit("/", 2)[-2] + "/" + str(url).rsplit("/", 1)[-1])
        return super().request(method, url, *a, **kw)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Clocks]]:
    clocks = Clocks()
    server = LiveServer.with_demo(tmp_path_factory.mktemp("wait"), now=T0, clock=clocks.server)
    server.start()
    yield server, clocks
    server.stop()


def test_a_locked_sign_in_says_how_long_to_wait_and_sends_nothing_before(
    live: tuple[LiveServer, Clocks],
) -> None:
    server, clocks = live
    http = CountingSession()
    vm = LoginViewModel(
        lambda url: ApiClient(url, session=http), server_url=server.base_url, clock=clocks.phone
    )
    vm.username = "zhzf_handler"
    messages: list[str | None] = []
    for _ in range(5):  # the fifth wrong password in a row locks the account for a minute
        vm.password = "wrong-password"
        assert vm.submit() is None
        messages.append(vm.error_message())
    assert messages[:4] == ["用户名或密码错误"] * 4
    assert vm.error_message() == "登录尝试过多，请 1 分钟后再试"
    assert vm.error_message(Lang.EN) == "Too many sign-in attempts; try again in 1 min"
    sent = len(http.sent)

    clocks.elapsed_s += 30  # half-way: even the right password is not sent
    vm.password = DEMO_PASSWORD
    assert vm.submit() is None
    assert len(http.sent) == sent
    assert vm.error_message() == "登录尝试过多，请 30 秒后再试"
    assert not vm.busy

    clocks.elapsed_s += 31  # the server's Retry-After is over: the sign-in goes through
    session = vm.submit()
    assert session is not None and session.user.username == "zhzf_handler"
    assert len(http.sent) == sent + 1


def test_a_locked_change_of_password_says_how_long_to_wait_and_sends_nothing_before(
    live: tuple[LiveServer, Clocks],
) -> None:
    server, clocks = live
    http = CountingSession()
    api = ApiClient(server.base_url, token=server.login("sw_handler"), session=http)
    vm = PasswordViewModel(api, username="sw_handler", clock=clocks.phone)
    vm.new_password = vm.repeat_password = "河道巡查2026春"
    refusals: list[str | None] = []
    for _ in range(5):  # the current password is guessed under the sign-in throttle
        vm.current_password = "not-my-password"
        assert vm.submit() is False
        refusals.append(vm.field_error("current_password"))
    assert refusals[:4] == ["当前密码不正确"] * 4
    assert vm.error_message() == "登录尝试过多，请 1 分钟后再试"
    assert vm.error_message(Lang.EN) == "Too many sign-in attempts; try again in 1 min"
    sent = len(http.sent)

    vm.current_password = DEMO_PASSWORD  # right, but too early: nothing is sent
    assert vm.submit() is False
    assert len(http.sent) == sent and vm.error_message() == "登录尝试过多，请 1 分钟后再试"

    clocks.elapsed_s += 61
    assert vm.submit() is True
    assert len(http.sent) == sent + 1


def test_a_429_without_retry_after_still_makes_the_phone_wait_a_minute() -> None:
    from fieldapp.viewmodels.sign_in_wait import DEFAULT_WAIT_S, SignInWait

    now = [0.0]
    wait = SignInWait(lambda: now[0])
    assert wait.hold(Rejected(429, "sign_in_locked", "…", retry_after_s=None), "k")
    assert wait.remaining_s("k") == DEFAULT_WAIT_S
    assert wait.message("k") == ("login.error.locked_minutes", 1)
    assert wait.remaining_s("another account") == 0
    assert not wait.hold(Rejected(401, "bad_credentials", "…"), "k2")
    assert wait.hold(Rejected(429, "sign_in_busy", "…", retry_after_s=1), "k3")
    assert wait.message("k3") == ("login.error.busy_seconds", 1)
