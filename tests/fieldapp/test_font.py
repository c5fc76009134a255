"""The shipped CJK font covers what the app shows (else Flutter draws boxes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fontTools.ttLib import TTFont

from fieldapp.config import REPO_ROOT
from fieldapp.i18n import MESSAGES
from fieldapp.theme import FONT_ASSET

FONT = REPO_ROOT / "assets" / FONT_ASSET


def load_build_font() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_font", REPO_ROOT / "scripts" / "build_font.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_font"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cmap() -> set[int]:
    return set(TTFont(FONT).getBestCmap())


def test_font_is_small_enough_to_commit() -> None:
    assert FONT.stat().st_size < 4 * 1024 * 1024


def test_every_ui_text_renders_in_the_font(cmap: set[int]) -> None:
    missing = {
        ch
        for zh, en in MESSAGES.values()
        for ch in zh + en
        if ch.isprintable() and not ch.isspace() and ord(ch) not in cmap
    }
    assert not missing, (
        f"not in {FONT.name}: {''.join(sorted(missing))} (run scripts/build_font.py)"
    )


def test_font_covers_gb2312_and_county_place_names(cmap: set[int]) -> None:
    build_font = load_build_font()
    gb2312 = build_font.gb2312_characters()
    assert len(gb2312) > 7000  # 6,763 hanzi + symbols
    assert all(ord(ch) in cmap for ch in gb2312)
    for name in ("汶上县", "南站镇", "郭楼镇", "综合行政执法局", "住建局", "人社局", "水务局"):
        assert all(ord(ch) in cmap for ch in name), name


def test_every_character_in_app_sources_is_in_the_font(cmap: set[int]) -> None:
    build_font = load_build_font()
    used = build_font.characters_in_sources([Path(REPO_ROOT / "fieldapp")])
    missing = {ch for ch in used if ch.isprintable() and ord(ch) not in cmap}
    assert not missing, f"rebuild the font: {''.join(sorted(missing))}"
