"""Entry point: ``python -m fieldapp`` serves the app in web mode on 127.0.0.1.

Environment:
    YIXIAN_APP_PORT     port to serve on (default 8550)
    YIXIAN_APP_HOST     interface (default 127.0.0.1)
    YIXIAN_SERVER_URL   the API server, prefilled at sign-in (default http://127.0.0.1:8000)
    YIXIAN_DATA_DIR     local storage of the app process (default ~/.local/share/yixian)
    YIXIAN_TILE_URL     the base map's XYZ tile template (default none: outlines only)
    YIXIAN_TILE_KEY     what fills {key} in it (天地图's tk)
    FLET_SECRET_KEY     needed by Flet for uploads; a random one is set when absent

``no_cdn=True``: the Flutter client's CanvasKit/skwasm are served locally, so the app renders
with no internet. Each browser session is one device (see docs/flet.md).
"""

from __future__ import annotations

import logging
import os

import flet as ft

from fieldapp.app_context import AppEnv, AppServices, ObservableAppState
from fieldapp.component import keep_updating
from fieldapp.config import AppConfig, ensure_secret_key
from fieldapp.i18n import t
from fieldapp.shell import App
from fieldapp.theme import apply_theme
from fieldapp.token_store import FallbackTokenStore, SecureTokenStore

log = logging.getLogger("fieldapp")


def make_main(config: AppConfig) -> ft.AppCallable:
    def main(page: ft.Page) -> None:
        page.title = t("app.name")
        apply_theme(page)
        services = AppServices(
            config=config,
            token_store=FallbackTokenStore(SecureTokenStore.create()),
            prefs=ft.SharedPreferences(),
        )
        state = ObservableAppState(
            server_url=config.server_url, tile_url=config.tile_url, tile_key=config.tile_key
        )
        env = AppEnv(state=state, services=services)
        page.render_views(App, env)
        keep_updating(page.session)

    return main


def run() -> None:
    logging.basicConfig(level=os.environ.get("YIXIAN_LOG_LEVEL", "INFO"))
    ensure_secret_key(os.environ)
    config = AppConfig.from_env()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    log.info(
        "serving the field app on http://%s:%d (server %s, data %s)",
        config.host,
        config.port,
        config.server_url,
        config.data_dir,
    )
    ft.run(
        make_main(config),
        view=ft.AppView.WEB_BROWSER,
        host=config.host,
        port=config.port,
        assets_dir=str(config.assets_dir),
        upload_dir=str(config.data_dir / "uploads"),
        no_cdn=True,
    )


if __name__ == "__main__":
    run()
