"""Typed settings, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from server.db import normalise_url
from server.services.compute_pool import default_processes

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
    # Availability limits (README "Availability limits"): a JSON body larger than this is
    # refused with 413 before it is read (YIXIAN_MAX_JSON_BYTES); an expensive computation
    # (hotspots, repeat complaints, scoring, dashboards) stops after this many seconds with a
    # 422 too_expensive (YIXIAN_COMPUTE_SECONDS); a user may have this many unfinished photo
    # uploads at once (YIXIAN_MAX_OPEN_UPLOADS).
    max_json_bytes: int = 1024 * 1024
    compute_seconds: float = 20.0
    max_open_uploads: int = 50
    # Expensive computations run in this many worker processes (YIXIAN_COMPUTE_PROCESSES;
    # default from the environment: half the cores, 1 to 4) and at most this many more wait for
    # one (YIXIAN_COMPUTE_QUEUE); past that 429 compute_busy. 0 processes: in the server's own
    # threads, one at a time — this dataclass's default, for tests that patch functions in-process
    # (server/services/compute_pool.py).
    compute_processes: int = 0
    compute_queue: int = 4
    minutes_dir: Path | None = None  # meeting minutes (.docx); default: beside photo_dir
    # where photos and minutes are kept (YIXIAN_STORAGE, docs/storage.md): "local" (the two
    # directories above) or "postgres" (in the database, shared by several hosts)
    storage: str = "local"
    # PostgreSQL with two roles: migrations run as the tables' owner (MIGRATION_DATABASE_URL),
    # the server as ``app_role`` (DATABASE_URL's user), which may not rewrite history
    migration_database_url: str | None = None
    app_role: str | None = None
    api_docs: bool = True  # /docs, /redoc, /openapi.json (YIXIAN_API_DOCS)

    # the escalation job inside the server process, every N seconds (0: not in this process)
    escalate_every: float = 0.0
    # /ready fails when the escalation job has not succeeded for this long (any process)
    scheduler_stale_after: float = 900.0
    # PostgreSQL connection pool of this process (``serve --workers`` sets them per worker)
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_pool_timeout_s: float = 10.0

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


def _app_role(url: str, migration_url: str | None) -> str | None:
    """The role to grant after migrating: YIXIAN_APP_ROLE, else DATABASE_URL's user when
    migrations connect as someone else."""
    if os.environ.get("YIXIAN_APP_ROLE"):
        return os.environ["YIXIAN_APP_ROLE"]
    if not migration_url:
        return None
    app_user = make_url(normalise_url(url)).username
    return app_user if app_user != make_url(normalise_url(migration_url)).username else None


def _api_docs(environment: str) -> bool:
    """On in development, off in production unless YIXIAN_API_DOCS says on."""
    value = os.environ.get("YIXIAN_API_DOCS", "").strip().lower()
    if value in ("on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    if value:
        raise RuntimeError(f"YIXIAN_API_DOCS must be on or off, not {value!r}")
    return environment.strip().lower() != "production"


def _storage() -> str:
    value = os.environ.get("YIXIAN_STORAGE", "").strip().lower() or "local"
    if value not in ("local", "postgres"):
        raise RuntimeError(f"YIXIAN_STORAGE must be local or postgres, not {value!r}")
    return value


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


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise RuntimeError(f"{name} must be a whole number (0 or more), not {raw!r}")
    return int(raw)


def settings_from_env(var_dir: Path | None = None) -> Settings:
    base = var_dir or Path(os.environ.get("YIXIAN_VAR_DIR", "var"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{base / 'yixian.db'}"
    migration_url = os.environ.get("MIGRATION_DATABASE_URL") or None
    environment = os.environ.get("YIXIAN_ENV", "development")

    every = float(os.environ.get("YIXIAN_ESCALATE_EVERY") or 0)
    settings = Settings(
        database_url=url,
        photo_dir=Path(os.environ.get("YIXIAN_PHOTO_DIR", str(base / "photos"))),
        secret=os.environ.get("YIXIAN_SECRET", DEV_SECRET),
        environment=environment,
        minutes_dir=Path(os.environ["YIXIAN_MINUTES_DIR"])
        if os.environ.get("YIXIAN_MINUTES_DIR")
        else None,
        storage=_storage(),
        migration_database_url=migration_url,
        app_role=_app_role(url, migration_url),
        api_docs=_api_docs(environment),
        max_json_bytes=_positive_int("YIXIAN_MAX_JSON_BYTES", Settings.max_json_bytes),
        compute_seconds=_positive_float("YIXIAN_COMPUTE_SECONDS", Settings.compute_seconds),
        max_open_uploads=_positive_int("YIXIAN_MAX_OPEN_UPLOADS", Settings.max_open_uploads),
        compute_processes=_whole_number("YIXIAN_COMPUTE_PROCESSES", default_processes()),
        compute_queue=_whole_number("YIXIAN_COMPUTE_QUEUE", Settings.compute_queue),
        escalate_every=every,
        scheduler_stale_after=float(os.environ.get("YIXIAN_SCHEDULER_STALE_AFTER") or 0)
        or max(900.0, 3 * every),
        db_pool_size=int(os.environ.get("YIXIAN_DB_POOL_SIZE", "10")),
        db_max_overflow=int(os.environ.get("YIXIAN_DB_MAX_OVERFLOW", "20")),
        db_pool_timeout_s=float(os.environ.get("YIXIAN_DB_POOL_TIMEOUT", "10")),
    )
    settings.check()
    return settings
