"""State shared by every screen of one app session (one device): language, server, sign-in."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from fieldapp.api_client import LoginResult, UserInfo
from fieldapp.i18n import DEFAULT_LANG, Lang


@dataclass(frozen=True)
class Session:
    """A signed-in user on one server. Serialised whole into the token store."""

    server_url: str
    token: str
    user: UserInfo
    device_token: str = ""  # this device's sync token, once registered (POST /devices)
    refresh_token: str = ""  # traded for a new access token (``token``) when that expires

    @classmethod
    def from_login(cls, server_url: str, result: LoginResult) -> Session:
        return cls(
            server_url=server_url,
            token=result.token,
            user=result.user,
            refresh_token=result.refresh_token,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Session | None:
        """The stored session, or None when ``text`` is not one (corrupt or older format)."""
        try:
            data = json.loads(text)
            return cls(
                server_url=str(data["server_url"]),
                token=str(data["token"]),
                user=UserInfo(**data["user"]),
                device_token=str(data.get("device_token") or ""),
                refresh_token=str(data.get("refresh_token") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class AppState:
    server_url: str
    lang: Lang = DEFAULT_LANG
    session: Session | None = None
    token_storage: str = "memory"  # "secure" once the token store proved it works
    ready: bool = False  # stored language and session restored; screens may route
    tile_url: str = ""  # the base map's tile server (settings; "" = none: outlines only)
    tile_key: str = ""  # its key (天地图's tk), filling ``{key}`` in ``tile_url``

    @property
    def signed_in(self) -> bool:
        return self.session is not None

    def sign_in(self, session: Session) -> None:
        self.server_url = session.server_url
        self.session = session

    def sign_out(self) -> None:
        self.session = None

    def set_lang(self, lang: Lang) -> None:
        self.lang = lang
