"""The phone build's configuration is complete, read by flet-cli's own code.

`flet build apk` cannot run here (it downloads Flutter and a Python build), so these tests run the
part of flet-cli 1.0.5 that turns pyproject.toml ``[tool.flet]`` into the Flutter project's
settings (``setup_template_data``) and check what it produces: name, bundle id, version,
permissions with their Chinese reasons, icon, splash and font; and that every package the phone
bundles is pure Python or one Flet's Android build provides (docs/deploy.md "Building the phone
app" gives the source of that list).
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata as md
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PIL import Image

from fieldapp.theme import FONT_ASSET

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Binary packages Flet's mobile package index (pypi.flet.dev) builds for Android and iOS, from
# https://docs.flet.dev/contributing/binary-packages-android-ios (read 2026-12-07; the newer
# https://docs.flet.dev/reference/binary-packages-android-ios lists the same and more, with
# versions). Names only: which versions are there is settled by `flet build` itself.
FLET_MOBILE_BINARY_PACKAGES = frozenset(
    canonicalize_name(name)
    for name in [
        "aiohttp",
        "argon2-cffi-bindings",
        "bcrypt",
        "bitarray",
        "blis",
        "Brotli",
        "cffi",
        "contourpy",
        "cryptography",
        "fiona",
        "GDAL",
        "google-crc32",
        "grpcio",
        "jq",
        "kiwisolver",
        "lru-dict",
        "lxml",
        "MarkupSafe",
        "matplotlib",
        "msgpack",
        "msgspec",
        "numpy",
        "opaque",
        "opencv-python",
        "pandas",
        "pendulum",
        "pillow",
        "protobuf",
        "pycryptodome",
        "pycryptodomex",
        "pydantic-core",
        "pyjnius",
        "PyNaCl",
        "pyobjus",
        "pyogrio",
        "pyproj",
        "pysodium",
        "PyYAML",
        "regex",
        "ruamel.yaml.clib",
        "shapely",
        "SQLAlchemy",
        "time-machine",
        "websockets",
        "yarl",
        "zstandard",
    ]
)
# Compiled on this server, but published on PyPI as a pure-Python wheel too (py3-none-any,
# checked with `pip download charset-normalizer==3.5.3 --only-binary :all: --platform any`):
# a phone gets that one.
PURE_WHEEL_ON_PYPI = frozenset({"charset-normalizer"})

# How the phone's markers evaluate (Android on arm64; iOS is the same for our dependencies).
ANDROID = {
    "sys_platform": "android",
    "platform_system": "Android",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "extra": "",
}


def flet_build_settings(target: str) -> dict[str, Any]:
    """What flet-cli's ``flet build <target>`` would render the Flutter project from."""
    from flet_cli.commands.build import Command
    from flet_cli.utils.pyproject_toml import load_pyproject_toml

    parser = argparse.ArgumentParser()
    command = Command(parser)
    command.options = parser.parse_args([target, str(ROOT)])
    command.target_platform = target
    command.package_platform = command.platforms[target]["package_platform"]
    command.config_platform = command.platforms[target]["config_platform"]
    command.python_app_path = ROOT
    command.get_pyproject = load_pyproject_toml(ROOT)
    # The bundled Python build is looked up online at build time; any supported one will do.
    command.python_release = SimpleNamespace(
        short="3.12", pyodide="0", android_abis=["arm64-v8a", "armeabi-v7a", "x86_64"]
    )
    command.flutter_dir = ROOT / "build" / "flutter"  # not created: only its name is read
    command.validate_entry_point()  # exits if tool.flet.app's module file is missing
    command.setup_template_data()
    data: dict[str, Any] = command.template_data
    data["package_app_path"] = command.package_app_path
    data["python_module_name"] = command.python_module_name
    return data


@pytest.fixture(scope="module")
def android() -> dict[str, Any]:
    return flet_build_settings("apk")


def test_the_phone_app_is_called_yixian_with_a_bundle_id_and_the_projects_version(
    android: dict[str, Any],
) -> None:
    assert android["product_name"] == "一线"
    bundle_id = android["bundle_id"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}", bundle_id), bundle_id
    assert bundle_id.startswith(android["org_name"] + ".")
    assert re.fullmatch(r"\d+\.\d+\.\d+", PYPROJECT["project"]["version"])
    build_number = PYPROJECT["tool"]["flet"]["build_number"]
    assert isinstance(build_number, int) and build_number >= 1


def test_the_phone_runs_the_field_app_from_main_py(android: dict[str, Any]) -> None:
    entry = android["package_app_path"] / f"{android['python_module_name']}.py"
    calls = {
        (node.module, alias.name)
        for node in ast.walk(ast.parse(entry.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert ("fieldapp.main", "run") in calls


def test_the_phone_package_leaves_the_server_out_and_keeps_the_app() -> None:
    exclude = set(PYPROJECT["tool"]["flet"]["app"]["exclude"])
    assert {"server", "tests", "bench", "scripts"} <= exclude
    assert not exclude & {"fieldapp", "sync", "assets", "main.py"}


def test_camera_fine_location_and_storage_are_asked_for_and_never_background_location(
    android: dict[str, Any],
) -> None:
    permissions = android["options"]["android_permissions"]
    for wanted in (
        "android.permission.CAMERA",
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.INTERNET",
    ):
        assert permissions.get(wanted) is True, wanted
    # storage: the gallery on Android 12 and older, the photo picker's selection after
    assert permissions["android.permission.READ_EXTERNAL_STORAGE"] == {"maxSdkVersion": "32"}
    assert permissions["android.permission.READ_MEDIA_VISUAL_USER_SELECTED"] is True
    # Flet's "location" group asks for background location too: we switch it off
    assert permissions["android.permission.ACCESS_BACKGROUND_LOCATION"] is False
    # a phone without a camera or GPS may still install it
    features = android["options"]["android_features"]
    assert features["android.hardware.camera"] is False
    assert features["android.hardware.location.gps"] is False


def test_every_reason_ios_shows_for_a_permission_is_in_chinese() -> None:
    ios = flet_build_settings("ipa")
    info = ios["options"]["info_plist"]
    reasons = {k: v for k, v in info.items() if k.endswith("UsageDescription")}
    assert {
        "NSCameraUsageDescription",
        "NSLocationWhenInUseUsageDescription",
        "NSPhotoLibraryUsageDescription",
    } <= set(reasons)
    for key, text in reasons.items():  # Flet's English defaults would show if one were missed
        assert re.search(r"[\u4e00-\u9fff]{4}", text), f"{key}: {text!r}"


def test_icon_splash_and_the_offline_font_are_in_the_assets_flet_build_reads(
    android: dict[str, Any],
) -> None:
    assets = android["package_app_path"] / "assets"
    for name, least in (("icon.png", 1024), ("splash.png", 512)):
        with Image.open(assets / name) as image:
            assert image.format == "PNG"
            assert image.width == image.height >= least, name
    with Image.open(assets / "icon.png") as image:
        assert image.mode == "RGB"  # the App Store refuses an icon with an alpha channel
    assert (assets / FONT_ASSET).stat().st_size > 1_000_000  # the CJK subset, not a stub
    assert android["splash"]["android"] and android["splash"]["ios"]


def phone_closure(requirements: list[str]) -> dict[str, md.Distribution]:
    """Every distribution the phone installs for ``requirements`` (markers as on Android),
    read from what this environment has installed."""
    found: dict[str, md.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate(ANDROID):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found[name] = md.distribution(req.name)
        todo.extend(Requirement(r) for r in found[name].requires or [])
    return found


def needs_a_mobile_build(dist: md.Distribution) -> bool:
    """Compiled code in it, and no pure-Python wheel of it to fall back on."""
    name = canonicalize_name(dist.metadata["Name"])
    compiled = "Root-Is-Purelib: true" not in (dist.read_text("WHEEL") or "")
    return compiled and name not in PURE_WHEEL_ON_PYPI and name not in FLET_MOBILE_BINARY_PACKAGES


def test_every_phone_dependency_is_pure_python_or_built_by_flet_for_android() -> None:
    closure = phone_closure(PYPROJECT["project"]["dependencies"])
    compiled = {
        n for n, d in closure.items() if "Root-Is-Purelib: true" not in d.read_text("WHEEL")
    }
    assert {"flet", "sqlmodel", "pillow", "pydantic-core"} <= set(closure)
    assert {"pillow", "pydantic-core", "sqlalchemy", "msgpack"} <= compiled
    unsupported = sorted(n for n, d in closure.items() if needs_a_mobile_build(d))
    assert not unsupported, f"no Android build of {unsupported}: keep them off the phone"


def test_the_check_refuses_a_compiled_package_flet_does_not_build() -> None:
    # the server's PostgreSQL driver: compiled, and no phone build exists
    closure = phone_closure(["psycopg-binary"])
    assert needs_a_mobile_build(closure["psycopg-binary"])


def test_the_server_stack_is_not_among_the_phones_dependencies() -> None:
    closure = phone_closure(PYPROJECT["project"]["dependencies"])
    assert not set(closure) & {"fastapi", "uvicorn", "alembic", "psycopg", "argon2-cffi"}
