"""The field app's settings, read once from the environment at start."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ASSETS = Path(__file__).resolve().parent / "assets"  # installed from the wheel
CHECKOUT_ASSETS = REPO_ROOT / "assets"  # a checkout, and what `flet build` packages
DEFAULT_PORT = 8550
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


# The base map's tile server (底图). None by default: the map draws the reference data's
# outlines, sites and points on a plain background and says that tiles are unavailable.
# A county sets its own tile server or 天地图 (a WGS-84/CGCS2000 source: the points need no
# shift), e.g. ``TIANDITU_VECTOR`` with its key in YIXIAN_TILE_KEY (docs/map.md).
TIANDITU_VECTOR = (
    "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")


def tile_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a tile URL template, or None (an empty one means "no tiles")."""
    url = url.strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    missing = [p for p in TILE_PLACEHOLDERS if p not in url]
    if missing:
        return f"must contain {', '.join(missing)}"
    return None


@dataclass(frozen=True)
class TileSource:
    """Where the base map's tiles come from: an XYZ template and the key it may need."""

    url_template: str
    key: str = ""

    @property
    def subdomains(self) -> list[str]:
        """天地图 spreads its tiles over t0…t7; other servers name theirs a, b, c."""
        return [str(i) for i in range(8)] if "tianditu" in self.url_template else ["a", "b", "c"]


def tile_source(url: str, key: str = "") -> TileSource | None:
    """The tile source a setting names, or None when none is set (or it is not usable)."""
    url = url.strip()
    if not url or tile_url_problem(url) is not None:
        return None
    return TileSource(url, key.strip())


def assets_dir() -> Path:
    """The app's assets (font, icon, splash): the package's own copy when installed from the
    wheel (setup.py maps ``assets/`` to ``fieldapp.assets``), else the checkout's ``assets/``."""
    return PACKAGE_ASSETS if PACKAGE_ASSETS.is_dir() else CHECKOUT_ASSETS


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot use; says which and why."""


@dataclass(frozen=True)
class AppConfig:
    host: str
    port: int
    server_url: str  # the API server this device syncs with (editable at sign-in)
    data_dir: Path  # the device's local storage (SQLite, photos, outbox)
    assets_dir: Path
    tile_url: str = ""  # the base map's XYZ template; "" = no tiles (the default)
    tile_key: str = ""  # what fills ``{key}`` in it (天地图's tk)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppConfig:
        env = os.environ if env is None else env
        raw_port = env.get("YIXIAN_APP_PORT", str(DEFAULT_PORT))
        try:
            port = int(raw_port)
        except ValueError:
            raise ConfigError(f"YIXIAN_APP_PORT={raw_port!r} is not a port number") from None
        if not 0 < port < 65536:
            raise ConfigError(f"YIXIAN_APP_PORT={port} is outside 1..65535")
        server_url = env.get("YIXIAN_SERVER_URL", DEFAULT_SERVER_URL).strip().rstrip("/")
        if not server_url.startswith(("http://", "https://")):
            raise ConfigError(f"YIXIAN_SERVER_URL={server_url!r} must start with http(s)://")
        # On a phone Flet sets FLET_APP_STORAGE_DATA to the app's private storage.
        data_dir = Path(
            env.get("YIXIAN_DATA_DIR")
            or env.get("FLET_APP_STORAGE_DATA")
            or Path.home() / ".local" / "share" / "yixian"
        )
        tile_url = env.get("YIXIAN_TILE_URL", "").strip()
        problem = tile_url_problem(tile_url)
        if problem is not None:
            raise ConfigError(f"YIXIAN_TILE_URL={tile_url!r} {problem}")
        return cls(
            host=env.get("YIXIAN_APP_HOST", "127.0.0.1"),
            port=port,
            server_url=server_url,
            data_dir=data_dir,
            tile_url=tile_url,
            tile_key=env.get("YIXIAN_TILE_KEY", "").strip(),
            assets_dir=assets_dir(),
        )


def ensure_secret_key(env: MutableMapping[str, str]) -> None:
    """Flet refuses uploads without FLET_SECRET_KEY; set a random one for this run if absent."""
    if not env.get("FLET_SECRET_KEY"):
        env["FLET_SECRET_KEY"] = secrets.token_urlsafe(32)
