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
    minutes_dir: Path | None = None  # meeting minutes (.docx); default: beside photo_dir
    # PostgreSQL connection pool of this process (``serve --workers`` sets them per worker)
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_pool_timeout_s: float = 10.0

    @property
    def minutes_path(self) -> Path:
        return self.minutes_dir or self.photo_dir.parent / "minutes"

    def check(self) -> None:
        if self.environment == "production" and self.secret == DEV_SECRET:
            raise RuntimeError("YIXIAN_SECRET must be set outside development")


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
        db_pool_size=int(os.environ.get("YIXIAN_DB_POOL_SIZE", "10")),
        db_max_overflow=int(os.environ.get("YIXIAN_DB_MAX_OVERFLOW", "20")),
        db_pool_timeout_s=float(os.environ.get("YIXIAN_DB_POOL_TIMEOUT", "10")),
    )
    settings.check()
    return settings
