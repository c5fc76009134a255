from __future__ import annotations

from dataclasses import dataclass, field

from fieldapp.api_client import (
    ApiError,
    LoginResult,
    Rejected,
    ServerFault,
    ServerTimeout,
    ServerUnreachable,
    UserInfo,
)
from fieldapp.i18n import Lang
from fieldapp.viewmodels.login import LoginViewModel

USER = UserInfo(
    id="u-1", username="zhangsan", display_name="张三", role="inspector", department_code="zhzf"
)
SERVER = "http://10.0.0.5:8000"


@dataclass
class FakeAuth:
    """Answers like the server would; records which server and credentials it was given."""

    outcome: LoginResult | ApiError = field(default_factory=lambda: LoginResult("tok", USER))
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    server_url: str = ""

    def for_server(self, server_url: str) -> FakeAuth:
        self.server_url = server_url
        return self

    def login(self, username: str, password: str) -> LoginResult:
        self.calls.append((self.server_url, username, password))
        if isinstance(self.outcome, ApiError):
            raise self.outcome
        return self.outcome


def filled(fake: FakeAuth, **overrides: str) -> LoginViewModel:
    vm = LoginViewModel(fake.for_server, server_url=SERVER)
    vm.username = overrides.get("username", "zhangsan")
    vm.password = overrides.get("password", "s3cret")
    if "server_url" in overrides:
        vm.server_url = overrides["server_url"]
    return vm


def test_success_returns_a_session_for_the_server_used_and_forgets_the_password() -> None:
    fake = FakeAuth()
    vm = filled(fake)
    session = vm.submit()
    assert session is not None
    assert (session.server_url, session.token, session.user) == (SERVER, "tok", USER)
    assert fake.calls == [(SERVER, "zhangsan", "s3cret")]
    assert vm.password == ""
    assert vm.error_message() is None
    assert not vm.busy


def test_username_is_trimmed_and_server_address_loses_trailing_slash() -> None:
    fake = FakeAuth()
    vm = filled(fake, username="  zhangsan ", server_url=" http://10.0.0.5:8000/ ")
    session = vm.submit()
    assert fake.calls == [(SERVER, "zhangsan", "s3cret")]
    assert session is not None and session.server_url == SERVER


def test_missing_username_and_password_are_named_and_nothing_is_sent() -> None:
    fake = FakeAuth()
    vm = filled(fake, username="   ", password="")
    assert vm.submit() is None
    assert fake.calls == []
    assert vm.field_error("username") == "请输入用户名"
    assert vm.field_error("password") == "请输入密码"
    assert vm.field_error("server_url") is None
    assert vm.field_error("username", Lang.EN) == "Enter your username"


def test_server_address_must_be_http_with_a_host() -> None:
    for bad in ("127.0.0.1:8000", "ftp://host", "http://", ""):
        fake = FakeAuth()
        vm = filled(fake, server_url=bad)
        assert vm.submit() is None, bad
        assert fake.calls == []
        assert vm.field_error("server_url") == "服务器地址应以 http:// 或 https:// 开头"


def test_fixing_the_form_clears_the_previous_field_errors() -> None:
    fake = FakeAuth()
    vm = filled(fake, password="")
    vm.submit()
    vm.password = "s3cret"
    assert vm.submit() is not None
    assert vm.field_errors == {}


def test_wrong_password_says_so_in_chinese_and_keeps_the_form() -> None:
    fake = FakeAuth(Rejected(401, "bad_credentials", "invalid username or password"))
    vm = filled(fake)
    assert vm.submit() is None
    assert vm.error_message() == "用户名或密码错误"
    assert vm.error_message(Lang.EN) == "Wrong username or password"
    assert vm.password == "s3cret"
    assert not vm.busy and not vm.offline


def test_other_refusals_show_the_servers_reason() -> None:
    vm = filled(FakeAuth(Rejected(403, "account_disabled", "账号已停用")))
    assert vm.submit() is None
    assert vm.error_message() == "服务器拒绝登录（账号已停用）"
    assert vm.error_message(Lang.EN) == "The server refused the sign-in (账号已停用)"


def test_unreachable_server_says_work_can_continue_offline() -> None:
    vm = filled(FakeAuth(ServerUnreachable(SERVER + "/auth/login", "ConnectionError")))
    assert vm.submit() is None
    assert vm.error_message() == "无法连接服务器，可离线继续工作"
    assert vm.offline


def test_timeout_counts_as_offline_with_its_own_message() -> None:
    vm = filled(FakeAuth(ServerTimeout(SERVER + "/auth/login", "no answer within 10 s")))
    assert vm.submit() is None
    assert vm.error_message() == "服务器响应超时，可离线继续工作"
    assert vm.offline


def test_server_failure_asks_to_retry_later() -> None:
    vm = filled(FakeAuth(ServerFault(500, "Internal Server Error")))
    assert vm.submit() is None
    assert vm.error_message() == "服务器出错，请稍后再试"
    assert not vm.offline


def test_a_new_attempt_clears_the_last_error() -> None:
    fake = FakeAuth(ServerUnreachable(SERVER, "ConnectionError"))
    vm = filled(fake)
    vm.submit()
    fake.outcome = LoginResult("tok", USER)
    assert vm.submit() is not None
    assert vm.error_message() is None and not vm.offline


def test_while_an_attempt_is_in_flight_a_second_tap_sends_nothing() -> None:
    fake = FakeAuth()
    vm = filled(fake)
    attempt = vm.start()
    assert attempt is not None and vm.busy
    assert vm.start() is None  # double tap
    session = vm.finish(attempt, vm.call(attempt))
    assert session is not None
    assert len(fake.calls) == 1
    assert not vm.busy


def test_call_changes_no_state_so_it_can_run_off_the_ui_loop() -> None:
    vm = filled(FakeAuth(ServerUnreachable(SERVER, "ConnectionError")))
    attempt = vm.start()
    assert attempt is not None
    before = dict(vars(vm))
    outcome = vm.call(attempt)
    assert isinstance(outcome, ServerUnreachable)
    assert vars(vm) == before
