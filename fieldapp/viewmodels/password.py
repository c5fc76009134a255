"""The change-password form (设置 → 修改密码): its state and logic.

Like sign-in, a change is three steps: ``start()`` on the UI loop (checks the form with the
server's own rule, ``sync/passwords.py``, and marks busy), ``call(attempt)`` off the loop
(talks to the server, mutates nothing), ``finish(outcome)`` on the UI loop. A refusal names
its field; nothing typed is kept after a success. Messages are i18n keys (zh/en).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fieldapp.api_client import ApiError, Rejected, ServerUnreachable
from fieldapp.i18n import DEFAULT_LANG, Lang, t
from fieldapp.viewmodels.sign_in_wait import Clock, SignInWait
from sync.passwords import MIN_PASSWORD_CHARS, password_problem


class PasswordApi(Protocol):
    def change_password(self, current_password: str, new_password: str) -> None: ...


@dataclass(frozen=True)
class PasswordChange:
    current_password: str
    new_password: str


class PasswordViewModel:
    def __init__(self, api: PasswordApi, *, username: str, clock: Clock | None = None) -> None:
        self._api = api
        self.username = username
        self.current_password = ""
        self.new_password = ""
        self.repeat_password = ""
        self.busy = False
        self.done = False
        self.field_errors: dict[str, str] = {}  # field -> i18n key
        self.error_key: str | None = None
        self.error_detail: str | None = None  # the server's own words
        self.error_n: int | None = None  # the number in the message (minutes or seconds)
        # a 429 (the current password is checked under the sign-in throttle): nothing is sent
        # before its Retry-After
        self.wait = SignInWait() if clock is None else SignInWait(clock)

    def field_error(self, field: str, lang: Lang = DEFAULT_LANG) -> str | None:
        key = self.field_errors.get(field)
        return None if key is None else t(key, lang, n=MIN_PASSWORD_CHARS)

    def error_message(self, lang: Lang = DEFAULT_LANG) -> str | None:
        if self.error_key is None:
            return None
        message = t(self.error_key, lang, n=self.error_n)
        return f"{message}（{self.error_detail}）" if self.error_detail else message

    def start(self) -> PasswordChange | None:
        if self.busy:
            return None
        errors: dict[str, str] = {}
        if not self.current_password:
            errors["current_password"] = "password.error.current_required"
        problem = password_problem(self.new_password, username=self.username)
        if problem is not None:
            errors["new_password"] = "password.error.weak"
        elif self.new_password == self.current_password:
            errors["new_password"] = "password.error.same"
        if self.repeat_password != self.new_password:
            errors["repeat_password"] = "password.error.mismatch"
        self.field_errors = errors
        self.error_key = self.error_detail = None
        self.error_n = None
        self.done = False
        if errors:
            return None
        if self.wait.remaining_s() > 0:
            self.error_key, self.error_n = self.wait.message()
            return None
        self.busy = True
        return PasswordChange(self.current_password, self.new_password)

    def call(self, change: PasswordChange) -> ApiError | None:
        """Blocking; safe off the UI loop."""
        try:
            self._api.change_password(change.current_password, change.new_password)
        except ApiError as exc:
            return exc
        return None

    def finish(self, outcome: ApiError | None) -> bool:
        """True when the password was changed (the form is emptied)."""
        self.busy = False
        if outcome is None:
            self.current_password = self.new_password = self.repeat_password = ""
            self.done = True
            return True
        if self.wait.hold(outcome):
            self.error_key, self.error_n = self.wait.message()
        elif isinstance(outcome, Rejected) and outcome.code == "bad_password":
            self.field_errors = {"current_password": "password.error.current_wrong"}
        elif isinstance(outcome, Rejected) and outcome.status == 422:
            self.field_errors = {"new_password": "password.error.weak"}
            self.error_key, self.error_detail = "password.error.refused", outcome.reason
        elif isinstance(outcome, Rejected) and outcome.status == 401:
            self.error_key = "password.error.signed_out"
        elif isinstance(outcome, ServerUnreachable):
            self.error_key = "password.error.offline"
        else:
            self.error_key, self.error_detail = "password.error.server", str(outcome)
        return False

    def submit(self) -> bool:
        change = self.start()
        return False if change is None else self.finish(self.call(change))
