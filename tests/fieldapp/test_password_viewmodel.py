"""设置 → 修改密码: the form checks the server's own rule before sending, names the field a
refusal is about, and forgets every typed password after a success."""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldapp.api_client import ApiError, Rejected, ServerUnreachable
from fieldapp.i18n import Lang
from fieldapp.viewmodels.password import PasswordViewModel


@dataclass
class FakePasswords:
    outcome: ApiError | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def change_password(self, current_password: str, new_password: str) -> None:
        self.calls.append((current_password, new_password))
        if self.outcome is not None:
            raise self.outcome


def filled(
    api: FakePasswords, new: str = "河道巡查2026春", repeat: str | None = None
) -> PasswordViewModel:
    vm = PasswordViewModel(api, username="zhangsan")
    vm.current_password = "old-password"
    vm.new_password = new
    vm.repeat_password = new if repeat is None else repeat
    return vm


def test_a_change_is_sent_once_and_the_form_forgets_every_password() -> None:
    api = FakePasswords()
    vm = filled(api)
    assert vm.submit()
    assert api.calls == [("old-password", "河道巡查2026春")]
    assert (vm.current_password, vm.new_password, vm.repeat_password) == ("", "", "")
    assert vm.done and not vm.busy and vm.error_message() is None


def test_a_weak_or_mistyped_new_password_is_refused_before_anything_is_sent() -> None:
    for new, repeat, bad_field in (
        ("short1", None, "new_password"),
        ("1234567890", None, "new_password"),
        ("ZhangSan", None, "new_password"),
        ("old-password", None, "new_password"),
        ("河道巡查2026春", "河道巡查2026夏", "repeat_password"),
    ):
        api = FakePasswords()
        vm = filled(api, new, repeat)
        assert not vm.submit()
        assert api.calls == []
        assert bad_field in vm.field_errors, new
    vm = filled(FakePasswords(), "short1")
    vm.submit()
    assert vm.field_error("new_password") == "新密码至少 8 个字符，不能全是数字，不能与用户名相同"
    assert "At least 8 characters" in (vm.field_error("new_password", Lang.EN) or "")


def test_a_wrong_current_password_is_shown_on_its_field_and_nothing_is_lost() -> None:
    api = FakePasswords(Rejected(422, "bad_password", "当前密码不正确"))
    vm = filled(api)
    assert not vm.submit()
    assert vm.field_error("current_password") == "当前密码不正确"
    assert vm.new_password == "河道巡查2026春"  # kept: correct the other field and send again
    assert not vm.done and not vm.busy


def test_offline_says_a_connection_is_needed_and_the_server_refusal_shows_its_words() -> None:
    vm = filled(FakePasswords(ServerUnreachable("http://x", "ConnectionError")))
    assert not vm.submit()
    assert vm.error_message(Lang.EN) == (
        "Cannot reach the server: changing a password needs a connection"
    )
    vm = filled(FakePasswords(Rejected(422, "weak_password", "不能使用演示密码")))
    assert not vm.submit()
    assert "new_password" in vm.field_errors
    assert "不能使用演示密码" in (vm.error_message() or "")
