"""What every screen of a session can reach: the shared state and the session's services.

``App`` (in ``shell.py``) provides an ``AppEnv``; a screen calls ``use_app()``::

    env = use_app()
    env.state.lang, env.state.session, env.services.client_for(url)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import flet as ft

from fieldapp.api_client import ApiClient, AuthApi
from fieldapp.config import AppConfig
from fieldapp.i18n import t
from fieldapp.token_store import TokenStore
from fieldapp.viewmodels.app_state import AppState

T = TypeVar("T")

# ``ft.observable`` adds change notification: setting an attribute re-renders users.
ObservableAppState = ft.observable(AppState)


def default_client_for(server_url: str) -> AuthApi:
    return ApiClient(server_url)


@dataclass
class AppServices:
    config: AppConfig
    token_store: TokenStore
    prefs: ft.SharedPreferences | None = None  # non-secret settings (language)
    client_for: Callable[[str], AuthApi] = default_client_for


@dataclass
class AppEnv:
    state: AppState  # an ObservableAppState instance
    services: AppServices

    def t(self, key: str, **values: object) -> str:
        return t(key, self.state.lang, **values)


# Two contexts: ``use_context`` re-renders a component when the value it returns is
# observable, so the state must be a context value itself, not a field of one.
StateContext: ft.ContextProvider[AppState | None] = ft.create_context(None)
ServicesContext: ft.ContextProvider[AppServices | None] = ft.create_context(None)


def provide_app(env: AppEnv, render: Callable[[], T]) -> T:
    """Render ``render()`` with ``env`` reachable through ``use_app()``."""
    return StateContext(env.state, lambda: ServicesContext(env.services, render))


def use_app() -> AppEnv:
    """The session's state and services; the calling component re-renders on state changes."""
    state = ft.use_context(StateContext)
    services = ft.use_context(ServicesContext)
    if state is None or services is None:
        raise RuntimeError("use_app() called outside App: render screens inside shell.App")
    return AppEnv(state=state, services=services)
