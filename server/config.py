"""Typed settings, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEV_SECRET = "yixian-development-secret"


@dataclass(frozen=True)
class Settings:
    database_url: str
    photo_dir: Path
    secret: str
    token_ttl_hours: int = 24 * 30
    environment: str = "development"
    max_photo_bytes: int = 20 * 1024 * 1024
    # Availability limits (README "Availability limits"): a JSON body larger than this is
    # refused with 413 before it is read (YIXIAN_MAX_JSON_BYTES); an expensive computation
    # (hotspots, repeat complaints, scoring, dashboards) stops after this many seconds with a
    # 422 too_expensive (YIXIAN_COMPUTE_SECONDS); a user may have this many unfinished photo
    # uploads at once (YIXIAN_MAX_OPEN_UPLOADS).
    max_json_bytes: int = 1024 * 1024
    compute_seconds: float = 20.0
    max_open_uploads: int = 50
    minutes_dir: Path | None = None  # meeting minutes (.docx); default: beside photo_dir

    @property
    def minutes_path(self) -> Path:
        return self.minutes_dir or self.photo_dir.parent / "minutes"

    def check(self) -> None:
        if self.environment == "production" and self.secret == DEV_SECRET:
            raise RuntimeError("YIXIAN_SECRET must be set outside development")


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise RuntimeError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise RuntimeError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


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
        max_json_bytes=_positive_int("YIXIAN_MAX_JSON_BYTES", Settings.max_json_bytes),
        compute_seconds=_positive_float("YIXIAN_COMPUTE_SECONDS", Settings.compute_seconds),
        max_open_uploads=_positive_int("YIXIAN_MAX_OPEN_UPLOADS", Settings.max_open_uploads),
    )
    settings.check()
    return settings
