"""The sign-in screen's state and logic.

The network call is blocking, so a sign-in is three steps the screen runs in order:
``start()`` on the UI loop (validates, marks busy), ``call(attempt)`` off the loop (talks to
the server; mutates nothing), ``finish(outcome)`` on the UI loop (records the error or
returns the session). ``submit()`` runs all three in a row for callers that may block.

Messages are stored as i18n keys and rendered in the language the screen asks for, so a
language switch shows them in the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fieldapp.api_client import (
    ApiError,
    AuthApi,
    LoginResult,
    Rejected,
    ServerFault,
    ServerTimeout,
    ServerUnreachable,
    normalize_base_url,
)
from fieldapp.i18n import DEFAULT_LANG, Lang, t
from fieldapp.viewmodels.app_state import Session
from fieldapp.viewmodels.sign_in_wait import Clock, SignInWait

ClientFactory = Callable[[str], AuthApi]  # server base URL -> client


@dataclass(frozen=True)
class LoginAttempt:
    server_url: str
    username: str
    password: str


class LoginViewModel:
    def __init__(
        self,
        client_for: ClientFactory,
        *,
        server_url: str,
        username: str = "",
        clock: Clock | None = None,
    ) -> None:
        self._client_for = client_for
        self.server_url = server_url
        self.username = username
        self.password = ""
        self.busy = False
        # field name ("server_url" | "username" | "password") -> i18n key
        self.field_errors: dict[str, str] = {}
        self.error_key: str | None = None  # a failure of the whole attempt
        self.error_detail: str | None = None  # the server's own words, when it gave some
        self.error_n: int | None = None  # the number in the message (minutes or seconds)
        self.offline = False  # the last attempt could not reach the server
        self.wait = SignInWait() if clock is None else SignInWait(clock)  # after a 429

    # -- what the screen shows (in the language it asks for) --------------------------
    def field_error(self, field: str, lang: Lang = DEFAULT_LANG) -> str | None:
        key = self.field_errors.get(field)
        return None if key is None else t(key, lang)

    def error_message(self, lang: Lang = DEFAULT_LANG) -> str | None:
        if self.error_key is None:
            return None
        message = t(self.error_key, lang, n=self.error_n)
        if not self.error_detail:
            return message
        return (
            f"{message}（{self.error_detail}）"
            if lang is Lang.ZH
            else (f"{message} ({self.error_detail})")
        )

    # -- signing in -------------------------------------------------------------------
    def start(self) -> LoginAttempt | None:
        """Validate the form; the attempt to send, or None (errors set) when invalid/busy."""
        if self.busy:
            return None
        server_url = normalize_base_url(self.server_url)
        username = self.username.strip()
        errors: dict[str, str] = {}
        parsed = urlsplit(server_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            errors["server_url"] = "login.error.server_invalid"
        if not username:
            errors["username"] = "login.error.username_required"
        if not self.password:
            errors["password"] = "login.error.password_required"
        self.field_errors = errors
        self.error_key = None
        self.error_detail = None
        self.error_n = None
        if errors:
            return None
        if self.wait.remaining_s((server_url, username)) > 0:  # the server said when: not yet
            self.error_key, self.error_n = self.wait.message((server_url, username))
            return None
        self.busy = True
        return LoginAttempt(server_url=server_url, username=username, password=self.password)

    def call(self, attempt: LoginAttempt) -> LoginResult | ApiError:
        """Talk to the server. Blocking; safe off the UI loop (changes no state)."""
        try:
            return self._client_for(attempt.server_url).login(attempt.username, attempt.password)
        except ApiError as exc:
            return exc

    def finish(self, attempt: LoginAttempt, outcome: LoginResult | ApiError) -> Session | None:
        """Record the outcome: the new session on success, None with ``error_key`` set."""
        self.busy = False
        self.offline = isinstance(outcome, ServerUnreachable)
        if isinstance(outcome, LoginResult):
            self.password = ""
            self.server_url = attempt.server_url
            return Session.from_login(attempt.server_url, outcome)
        key = (attempt.server_url, attempt.username)
        if self.wait.hold(outcome, key):  # 429: say how long, send nothing before then
            self.error_key, self.error_n = self.wait.message(key)
            return None
        self.error_key, self.error_detail = _describe(outcome)
        return None

    def submit(self) -> Session | None:
        attempt = self.start()
        if attempt is None:
            return None
        return self.finish(attempt, self.call(attempt))


def _describe(error: ApiError) -> tuple[str, str | None]:
    """(i18n key, server's detail or None) for a failed sign-in."""
    if isinstance(error, ServerTimeout):
        return "login.error.timeout", None
    if isinstance(error, ServerUnreachable):
        return "login.error.unreachable", None
    if isinstance(error, Rejected):
        if error.status == 401:
            return "login.error.bad_credentials", None
        return "login.error.rejected", error.reason or None
    if isinstance(error, ServerFault):
        return "login.error.server_fault", None
    return "login.error.server_fault", str(error) or None
