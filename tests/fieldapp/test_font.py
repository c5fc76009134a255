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
from fieldapp.theme import (
    FONT_ASSET,
    FONT_FAMILY,
    REST_FONT_ASSET,
    REST_FONT_FAMILY,
    build_theme,
)

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


REST_FONT = REPO_ROOT / "assets" / REST_FONT_ASSET


def gb18030_two_byte_hanzi() -> set[str]:
    """Every hanzi GB 18030 encodes in two bytes (its GBK part: 21,003 characters)."""
    chars: set[str] = set()
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
            try:
                ch = bytes((lead, trail)).decode("gb18030")
            except UnicodeDecodeError:
                continue
            if "\u4e00" <= ch <= "\u9fff":
                chars.add(ch)
    return chars


def test_the_two_fonts_together_cover_every_two_byte_hanzi_of_gb18030(cmap: set[int]) -> None:
    both = cmap | set(TTFont(REST_FONT).getBestCmap())
    hanzi = gb18030_two_byte_hanzi()
    assert len(hanzi) > 20_000
    missing = sorted(ch for ch in hanzi if ord(ch) not in both)
    assert missing == [], "".join(missing[:40])
    for name in ("王喆", "张堃", "李翀", "赵昇", "陈珺", "刘玥", "周喆"):
        assert all(ord(ch) in both for ch in name), name
    assert ord("喆") not in cmap  # the first frame's font stays small: rare names come later


def test_the_rest_font_loads_after_the_first_frame_and_stays_small() -> None:
    assert REST_FONT.stat().st_size < 3 * 1024 * 1024
    assert FONT.stat().st_size < REST_FONT.stat().st_size * 1.5


def test_every_text_style_of_the_theme_falls_back_to_the_rest_of_the_hanzi() -> None:
    theme = build_theme()
    styles = {
        name: getattr(theme.text_theme, name)
        for name in (
            "display_large",
            "display_medium",
            "display_small",
            "headline_large",
            "headline_medium",
            "headline_small",
            "title_large",
            "title_medium",
            "title_small",
            "body_large",
            "body_medium",
            "body_small",
            "label_large",
            "label_medium",
            "label_small",
        )
    }
    assert theme.button_theme is not None and theme.button_theme.style is not None
    styles["button"] = theme.button_theme.style.text_style
    unstyled = [n for n, s in styles.items() if s is None or s.font_family != FONT_FAMILY]
    no_fallback = [
        n
        for n, s in styles.items()
        if s is not None and s.font_family_fallback != [REST_FONT_FAMILY]
    ]
    assert unstyled == [] and no_fallback == []
