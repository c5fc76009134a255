"""Draw the phone app's icon and splash from the app's own font: ``assets/icon.png`` and
``assets/splash.png`` (``flet build`` turns them into every size Android and iOS need;
pyproject.toml ``[tool.flet]``). White 一线 on the theme's blue (``fieldapp/theme.py``).

    .venv/bin/python scripts/build_icons.py            # draw them
    .venv/bin/python scripts/build_icons.py --check    # exit 1 if the committed ones differ
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "assets"
FONT = ASSETS / "fonts" / "NotoSansSC-Subset.otf"
BLUE = (0x1E, 0x5A, 0xA8)  # fieldapp/theme.py SEED_COLOR
WHITE = (255, 255, 255)
NAME = "一线"


def _draw(size: int, background: tuple[int, int, int] | None, colour: tuple[int, ...]) -> bytes:
    mode = "RGB" if background else "RGBA"
    image = Image.new(mode, (size, size), background or (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), size=size * 3 // 8)
    left, top, right, bottom = draw.textbbox((0, 0), NAME, font=font)  # the ink, centred
    origin = ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top)
    draw.text(origin, NAME, font=font, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # no timestamp: the same bytes every time
    return out.getvalue()


def images() -> dict[Path, bytes]:
    return {
        # opaque (the App Store refuses an icon with an alpha channel)
        ASSETS / "icon.png": _draw(1024, BLUE, WHITE),
        # drawn on [tool.flet.splash] color: the blue name on white
        ASSETS / "splash.png": _draw(768, None, (*BLUE, 255)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    stale = [p for p, data in images().items() if not p.is_file() or p.read_bytes() != data]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(REPO)}")
        return 1 if stale else 0
    for path, data in images().items():
        path.write_bytes(data)
        print(f"wrote {path.relative_to(REPO)} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
