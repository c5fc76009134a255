from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.config import AppConfig, ConfigError, ensure_secret_key


def test_defaults_serve_locally_on_8550_against_a_local_server() -> None:
    config = AppConfig.from_env({})
    assert (config.host, config.port) == ("127.0.0.1", 8550)
    assert config.server_url == "http://127.0.0.1:8000"
    assert (config.assets_dir / "fonts").is_dir()


def test_environment_overrides_port_server_and_data_dir(tmp_path: Path) -> None:
    config = AppConfig.from_env(
        {
            "YIXIAN_APP_PORT": "9001",
            "YIXIAN_SERVER_URL": "https://yixian.example.gov.cn/",
            "YIXIAN_DATA_DIR": str(tmp_path),
        }
    )
    assert config.port == 9001
    assert config.server_url == "https://yixian.example.gov.cn"
    assert config.data_dir == tmp_path


def test_on_a_phone_data_lives_in_the_apps_storage(tmp_path: Path) -> None:
    config = AppConfig.from_env({"FLET_APP_STORAGE_DATA": str(tmp_path)})
    assert config.data_dir == tmp_path


@pytest.mark.parametrize(
    "env",
    [
        {"YIXIAN_APP_PORT": "eighty"},
        {"YIXIAN_APP_PORT": "70000"},
        {"YIXIAN_SERVER_URL": "127.0.0.1:8000"},
    ],
)
def test_bad_settings_are_refused_naming_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        AppConfig.from_env(env)


def test_a_secret_key_is_set_only_when_absent() -> None:
    env: dict[str, str] = {}
    ensure_secret_key(env)
    generated = env["FLET_SECRET_KEY"]
    assert len(generated) >= 32
    ensure_secret_key(env)
    assert env["FLET_SECRET_KEY"] == generated
    kept = {"FLET_SECRET_KEY": "from-ops"}
    ensure_secret_key(kept)
    assert kept["FLET_SECRET_KEY"] == "from-ops"
