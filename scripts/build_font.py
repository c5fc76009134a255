"""Build the field app's CJK font: Noto Sans CJK SC, subset to what a county UI needs.

Flutter's web client draws Chinese as boxes unless a CJK font is served from the app's
assets. This script takes Noto Sans CJK SC out of Debian's ``fonts-noto-cjk`` collection
(``NotoSansCJK-Regular.ttc``), keeps GB2312 (6,763 hanzi + its symbols), ASCII, Latin-1,
the punctuation and symbols a form UI uses, and every non-ASCII character that appears in
``fieldapp/`` sources (so no label can fall outside the subset), and writes
``assets/fonts/NotoSansSC-Subset.otf`` — the font of the first frame. It also writes
``assets/fonts/NotoSansSC-Rest.woff2``: every other character of GB 18030's CJK Unified
Ideographs block (U+4E00–U+9FFF, names such as 王喆), which the app registers just after its
first frame as every text style's fallback (``fieldapp/theme.py``). The output is deterministic
(no timestamp), so rebuilding without changes gives the same bytes. WOFF2 needs ``brotli``.

    .venv/bin/python scripts/build_font.py            # build
    .venv/bin/python scripts/build_font.py --check    # exit 1 if the committed font is stale

Noto Sans CJK is under the SIL Open Font License 1.1; subsetting is allowed and the
subset keeps the license in its name table.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEFAULT_OUTPUT = REPO / "assets" / "fonts" / "NotoSansSC-Subset.otf"
DEFAULT_REST_OUTPUT = REPO / "assets" / "fonts" / "NotoSansSC-Rest.woff2"
REST_RANGE = (0x4E00, 0x9FFF)  # CJK Unified Ideographs: GB 18030's two-byte hanzi and more
MAX_REST_BYTES = 3 * 1024 * 1024
SOURCE_DIRS = (REPO / "fieldapp",)
FAMILY_IN_COLLECTION = "Noto Sans CJK SC"
MAX_BYTES = 4 * 1024 * 1024

# Ranges of code points kept besides GB2312 (inclusive).
EXTRA_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement: ° · × é …
    (0x2010, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x2030, 0x203B),  # ‰ ′ ″ ※
    (0x2103, 0x2103),  # ℃
    (0x2116, 0x2116),  # №
    (0x2190, 0x2199),  # arrows
    (0x2460, 0x2473),  # ① … ⑳
    (0x25A0, 0x25CF),  # ■ □ ▲ △ ○ ● (status markers)
    (0x2605, 0x2606),  # ★ ☆
    (0x2713, 0x2717),  # ✓ ✔ ✕ ✖ ✗
    (0x3000, 0x303F),  # CJK punctuation: 、。〈〉《》「」【】〔〕
    (0xFF01, 0xFF5E),  # full-width forms: ！（），：；？
    (0xFFE0, 0xFFE5),  # ￠ ￡ ￥
)


def gb2312_characters() -> set[str]:
    """Every character GB2312 encodes (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    chars: set[str] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def characters_in_sources(dirs: Iterable[Path]) -> set[str]:
    """Non-ASCII characters used in the app's Python sources (labels, messages)."""
    chars: set[str] = set()
    for directory in dirs:
        for path in sorted(directory.rglob("*.py")):
            chars.update(ch for ch in path.read_text(encoding="utf-8") if ord(ch) > 0x7E)
    return chars


def wanted_codepoints(dirs: Iterable[Path] = SOURCE_DIRS) -> set[int]:
    chars = gb2312_characters() | characters_in_sources(dirs)
    for first, last in EXTRA_RANGES:
        chars.update(chr(cp) for cp in range(first, last + 1))
    return {ord(ch) for ch in chars}


def load_family(source: Path, family: str = FAMILY_IN_COLLECTION) -> TTFont:
    collection = TTCollection(str(source))
    for font in collection.fonts:
        if font["name"].getDebugName(1) == family:
            return font
    names = [f["name"].getDebugName(1) for f in collection.fonts]
    raise SystemExit(f"{source}: no face named {family!r} (found {names})")


def rest_codepoints(core: set[int]) -> set[int]:
    """The hanzi of ``REST_RANGE`` that the first-frame font does not hold."""
    first, last = REST_RANGE
    return set(range(first, last + 1)) - core


def build(
    source: Path, codepoints: set[int], *, woff2: bool = False
) -> tuple[bytes, set[int]]:
    """Subset ``source``; returns the font bytes and the wanted code points it lacks."""
    font = load_family(source)
    available = set(font.getBestCmap())
    options = subset.Options()
    options.hinting = False  # hinting is ignored by Flutter's renderer; it costs ~10 %
    options.desubroutinize = False
    options.name_IDs = ["*"]  # keep copyright / license records
    options.name_languages = ["*"]
    options.notdef_outline = True
    # vertical forms, half-width punctuation; the rest font holds only hanzi
    options.layout_features = [] if woff2 else ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints & available)
    subsetter.subset(font)
    font.recalcTimestamp = False  # deterministic output
    if woff2:
        font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue(), codepoints - available


def write_or_check(path: Path, data: bytes, check: bool) -> int:
    if check:
        current = path.read_bytes() if path.exists() else b""
        if current != data:
            print(f"{path} is stale: run scripts/build_font.py", file=sys.stderr)
            return 1
        print(f"{path} is up to date ({len(data):,} bytes)")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"wrote {path} ({len(data):,} bytes)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--rest-output", type=Path, default=DEFAULT_REST_OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the output is stale"
    )
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(
            f"{args.source} not found: apt-get install fonts-noto-cjk "
            "(or scripts/install_browser_deps.sh)",
            file=sys.stderr,
        )
        return 2
    data, missing = build(args.source, wanted_codepoints())
    # The extra ranges have holes the font does not cover; only UI text matters here.
    in_sources = {ord(ch) for ch in characters_in_sources(SOURCE_DIRS) if ch.isprintable()}
    unrenderable = sorted(missing & in_sources)
    if unrenderable:
        shown = "".join(chr(cp) for cp in unrenderable[:40])
        print(f"warning: fieldapp/ uses characters the font lacks: {shown}", file=sys.stderr)
    if len(data) > MAX_BYTES:
        print(f"font is {len(data)} bytes, over the {MAX_BYTES} budget", file=sys.stderr)
        return 1
    status = write_or_check(args.output, data, args.check)
    rest, _ = build(args.source, rest_codepoints(wanted_codepoints()), woff2=True)
    if len(rest) > MAX_REST_BYTES:
        print(f"rest font is {len(rest)} bytes, over the {MAX_REST_BYTES} budget", file=sys.stderr)
        return 1
    return status or write_or_check(args.rest_output, rest, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
