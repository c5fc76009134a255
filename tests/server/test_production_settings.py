"""A production server refuses what only a demo may have: the demo accounts (a public password)
and an empty, short or development secret — ``YIXIAN_ENV=production`` in any casing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from server import __main__ as cli
from server.config import DEV_SECRET, MIN_SECRET_CHARS, Settings, settings_from_env
from server.db import make_engine, migrate
from server.demo import DemoRefused, load_demo
from tests.conftest import T0

STRONG = "k" * MIN_SECRET_CHARS
PRODUCTION_SPELLINGS = ["production", "Production", "PRODUCTION", " production "]


@pytest.mark.parametrize("env", PRODUCTION_SPELLINGS)
@pytest.mark.parametrize("secret", ["", "   ", DEV_SECRET, "k" * (MIN_SECRET_CHARS - 1)])
def test_production_refuses_an_empty_short_or_development_secret_at_startup(
    env: str, secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YIXIAN_ENV", env)
    monkeypatch.setenv("YIXIAN_SECRET", secret)
    with pytest.raises(RuntimeError, match="YIXIAN_SECRET"):
        settings_from_env(tmp_path)


def test_production_starts_with_a_strong_secret_and_development_with_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YIXIAN_ENV", "Production")
    monkeypatch.setenv("YIXIAN_SECRET", STRONG)
    assert settings_from_env(tmp_path).production
    monkeypatch.delenv("YIXIAN_ENV")
    monkeypatch.delenv("YIXIAN_SECRET")
    settings = settings_from_env(tmp_path)
    assert (settings.production, settings.secret) == (False, DEV_SECRET)


def test_create_app_checks_the_settings_it_is_given(tmp_path: Path) -> None:
    from server.app import create_app

    weak = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        photo_dir=tmp_path,
        secret=DEV_SECRET,
        environment="PRODUCTION",
    )
    with pytest.raises(RuntimeError, match="YIXIAN_SECRET"):
        create_app(weak)


def test_demo_accounts_are_never_loaded_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    migrate(url)
    engine = make_engine(url)
    monkeypatch.setenv("YIXIAN_SECRET", STRONG)
    monkeypatch.setenv("DATABASE_URL", url)
    for env in PRODUCTION_SPELLINGS:
        monkeypatch.setenv("YIXIAN_ENV", env)
        with pytest.raises(DemoRefused):
            load_demo(engine, now=T0)
        with pytest.raises(DemoRefused):  # nor through the command line
            cli.main(["load-demo"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_user")).scalar_one() == 0
    engine.dispose()
