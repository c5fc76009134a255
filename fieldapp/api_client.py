"""HTTP calls from the field app to the Yixian server.

Blocking (``requests``) with a timeout on every call: the UI runs them off the event loop
(``asyncio.to_thread``). Failures become typed errors the view-models turn into messages:

    ApiError
    ├── ServerUnreachable   – no connection (offline, wrong address, server down)
    │   └── ServerTimeout   – connected or trying, but no answer in time
    ├── Rejected            – the server answered 4xx with {"detail": {"code", "reason"}}
    └── ServerFault         – 5xx, or an answer that is not the agreed JSON
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from pydantic import ValidationError

from fieldapp.session_tokens import SessionTokens, tokens_for
from sync.bodies import LoginOut

DEFAULT_TIMEOUT_S = 10.0


class ApiError(Exception):
    """Base of every error of a call to the server."""


class ServerUnreachable(ApiError):
    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"cannot reach {url}: {cause}")
        self.url = url
        self.cause = cause


class ServerTimeout(ServerUnreachable):
    pass


class Rejected(ApiError):
    """A 4xx answer. ``code`` is the server's stable key, ``reason`` its explanation;
    ``retry_after_s`` the seconds its ``Retry-After`` header asks to wait (a 429), if any."""

    def __init__(
        self, status: int, code: str, reason: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {reason}")
        self.status = status
        self.code = code
        self.reason = reason
        self.retry_after_s = retry_after_s


class ServerFault(ApiError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class UserInfo:
    id: str
    username: str
    display_name: str
    role: str
    department_code: str | None


@dataclass(frozen=True)
class LoginResult:
    token: str  # the access token (short-lived)
    user: UserInfo
    refresh_token: str = ""  # traded once for a new pair when the access token has expired


class AuthApi(Protocol):
    """What the sign-in view-model needs from a client (a fake in unit tests)."""

    def login(self, username: str, password: str) -> LoginResult: ...


def normalize_base_url(url: str) -> str:
    """``url`` without surrounding spaces or trailing slashes."""
    return url.strip().rstrip("/")


class ApiClient:
    """One server. ``token`` is sent as a bearer token once signed in. When it is an access
    token of a tracked sign-in (``fieldapp.session_tokens``), a 401 is answered by refreshing
    the sign-in once and sending the request again: an access token lives an hour, a phone is
    offline for days."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.token = token
        self.timeout_s = timeout_s
        self._http = session or requests.Session()
        self._tokens: SessionTokens | None = tokens_for(token)

    def login(self, username: str, password: str) -> LoginResult:
        body = self._request(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        try:
            answer = LoginOut.model_validate(body)
        except ValidationError as exc:
            raise ServerFault(
                200, f"login answer lacks or garbles {exc.errors()[0]['loc']}"
            ) from exc
        user = answer.user
        return LoginResult(
            token=answer.token,
            refresh_token=answer.refresh_token,
            user=UserInfo(
                id=user.id,
                username=user.username,
                display_name=user.display_name or user.username,
                role=user.role,
                department_code=user.department_code or None,
            ),
        )

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` (online-only screens: oversight, disputes, joint sessions)."""
        return self._request("GET", path, params=params)

    def get_json_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """GET ``path`` whose answer is a JSON array (notifications, the overdue board)."""
        body = _checked_body(self._send("GET", path, params=params))
        if not isinstance(body, list):
            raise ServerFault(200, "answer is not a JSON array")
        return body

    def get_bytes(self, path: str) -> bytes:
        """GET a file (a minute's .docx); a 4xx/5xx raises as ``get_json`` does."""
        response = self._send("GET", path)
        if response.status_code >= 400:
            _checked_body(response)
        return response.content

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path``; a 4xx becomes ``Rejected`` with the rule's reason."""
        return self._request("POST", path, json=body or {})

    def refresh(self, refresh_token: str) -> tuple[str, str] | None:
        """A new (access, refresh) pair, or None when the server refuses the refresh token
        (expired, revoked, already used): sign in again. Offline raises ``ServerUnreachable``."""
        response = self._send_once(
            "POST", "/auth/refresh", None, json={"refresh_token": refresh_token}
        )
        if response.status_code in (400, 401, 403, 422):
            return None
        answer = LoginOut.model_validate(_decode(response))
        return answer.token, answer.refresh_token

    def logout(self) -> None:
        """End this sign-in on the server (its access and refresh tokens)."""
        _checked_body(self._send("POST", "/auth/logout", json={}))

    def change_password(self, current_password: str, new_password: str) -> None:
        """POST /auth/password; a refusal is ``Rejected`` with the field in ``code``/reason."""
        _checked_body(
            self._send(
                "POST",
                "/auth/password",
                json={"current_password": current_password, "new_password": new_password},
            )
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return _decode(self._send(method, path, **kwargs))

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        tokens = self._tokens
        token = tokens.access if tokens is not None else self.token
        response = self._send_once(method, path, token, **kwargs)
        if response.status_code == 401 and tokens is not None and token:
            renewed = tokens.renewed(token, self.refresh)
            if renewed is not None:
                self.token = renewed
                response = self._send_once(method, path, renewed, **kwargs)
        return response

    def _send_once(
        self, method: str, path: str, token: str | None, **kwargs: Any
    ) -> requests.Response:
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._http.request(
                method, url, headers=headers, timeout=self.timeout_s, **kwargs
            )
        except requests.Timeout as exc:
            raise ServerTimeout(url, f"no answer within {self.timeout_s:g} s") from exc
        except (requests.ConnectionError, requests.exceptions.InvalidURL) as exc:
            raise ServerUnreachable(url, type(exc).__name__) from exc
        except requests.RequestException as exc:  # MissingSchema, InvalidSchema...
            raise ServerUnreachable(url, str(exc)) from exc
        return response


def _decode(response: requests.Response) -> dict[str, Any]:
    body = _checked_body(response)
    if not isinstance(body, dict):
        raise ServerFault(response.status_code, "answer is not a JSON object")
    return body


def _checked_body(response: requests.Response) -> Any:
    """The decoded JSON of a 2xx answer; a 4xx/5xx becomes ``Rejected`` / ``ServerFault``."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if 400 <= status < 500:
        code, reason = _detail(body, fallback=getattr(response, "reason", None) or "")
        raise Rejected(status, code, reason, retry_after_of(response))
    if status >= 500:
        _, reason = _detail(body, fallback=getattr(response, "reason", None) or "")
        raise ServerFault(status, reason)
    return body


def retry_after_of(response: requests.Response) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP date), or
    None when there is none or it cannot be read."""
    headers = getattr(response, "headers", None) or {}
    value = str(headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _detail(body: Any, *, fallback: str) -> tuple[str, str]:
    """(code, reason) from FastAPI-style ``{"detail": {...}}`` or ``{"detail": "text"}``."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("code") or "error"), str(detail.get("reason") or fallback)
    if isinstance(detail, str):
        return "error", detail
    return "error", fallback
