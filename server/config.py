"""Typed settings, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEV_SECRET = "yixian-development-secret"
MIN_SECRET_CHARS = 32


def is_production(environment: str | None) -> bool:
    """``YIXIAN_ENV=production`` in any casing (and with stray spaces)."""
    return (environment or "").strip().lower() == "production"


@dataclass(frozen=True)
class Settings:
    database_url: str
    photo_dir: Path
    secret: str
    access_ttl_minutes: int = 60  # an access token (sent with every request)
    refresh_ttl_days: int = 60  # a sign-in session unused this long ends (sliding)
    device_idle_days: int = 60  # a device token unused this long ends (sliding)
    environment: str = "development"
    max_photo_bytes: int = 20 * 1024 * 1024
    minutes_dir: Path | None = None  # meeting minutes (.docx); default: beside photo_dir

    @property
    def minutes_path(self) -> Path:
        return self.minutes_dir or self.photo_dir.parent / "minutes"

    @property
    def production(self) -> bool:
        return is_production(self.environment)

    def check(self) -> None:
        """In production, refuse an empty, short or development secret (it keys every stored
        token hash: whoever knows it and can write the database could mint a sign-in)."""
        if not self.production:
            return
        if self.secret.strip() == "" or self.secret == DEV_SECRET:
            raise RuntimeError("YIXIAN_SECRET must be set (not the development one) in production")
        if len(self.secret) < MIN_SECRET_CHARS:
            raise RuntimeError(
                f"YIXIAN_SECRET must be at least {MIN_SECRET_CHARS} characters in production"
            )


def settings_from_env(var_dir: Path | None = None) -> Settings:
    base = var_dir or Path(os.environ.get("YIXIAN_VAR_DIR", "var"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{base / 'yixian.db'}"
    settings = Settings(
        database_url=url,
        photo_dir=Path(os.environ.get("YIXIAN_PHOTO_DIR", str(base / "photos"))),
        secret=os.environ.get("YIXIAN_SECRET", DEV_SECRET),
        environment=os.environ.get("YIXIAN_ENV", "development"),
        minutes_dir=Path(os.environ["YIXIAN_MINUTES_DIR"])
        if os.environ.get("YIXIAN_MINUTES_DIR")
        else None,
    )
    settings.check()
    return settings
