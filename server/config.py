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
    # the escalation job inside the server process, every N seconds (0: not in this process)
    escalate_every: float = 0.0
    # /ready fails when the escalation job has not succeeded for this long (any process)
    scheduler_stale_after: float = 900.0

    @property
    def minutes_path(self) -> Path:
        return self.minutes_dir or self.photo_dir.parent / "minutes"

    def check(self) -> None:
        if self.environment == "production" and self.secret == DEV_SECRET:
            raise RuntimeError("YIXIAN_SECRET must be set outside development")


def settings_from_env(var_dir: Path | None = None) -> Settings:
    base = var_dir or Path(os.environ.get("YIXIAN_VAR_DIR", "var"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{base / 'yixian.db'}"
    every = float(os.environ.get("YIXIAN_ESCALATE_EVERY") or 0)
    settings = Settings(
        database_url=url,
        photo_dir=Path(os.environ.get("YIXIAN_PHOTO_DIR", str(base / "photos"))),
        secret=os.environ.get("YIXIAN_SECRET", DEV_SECRET),
        environment=os.environ.get("YIXIAN_ENV", "development"),
        minutes_dir=Path(os.environ["YIXIAN_MINUTES_DIR"])
        if os.environ.get("YIXIAN_MINUTES_DIR")
        else None,
        escalate_every=every,
        scheduler_stale_after=float(os.environ.get("YIXIAN_SCHEDULER_STALE_AFTER") or 0)
        or max(900.0, 3 * every),
    )
    settings.check()
    return settings
