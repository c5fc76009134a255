"""Field photos, made fit to store: checked, turned upright, shrunk, watermarked and hashed.

Plain Pillow, no flet: the capture screen hands over the camera's bytes and gets back a
:class:`ProcessedPhoto` or a :class:`PhotoRejected` that says why, in Chinese and English.

The pipeline (:func:`process_photo`):

1. refuse before decoding: empty input, more than :data:`MAX_INPUT_BYTES`, anything that is
   not a JPEG or PNG, more than :data:`MAX_PIXELS` declared in the header (decompression
   bombs; checked here on every call, whatever ``Image.MAX_IMAGE_PIXELS`` is set to, and
   Pillow's own ``DecompressionBomb*`` turned into :class:`PhotoRejected` too);
2. read the original's EXIF GPS and capture time (they are stripped from the output);
3. JPEG only: ask libjpeg to decode at a reduced scale (``Image.draft``) sized from the header
   so that the result is still at least the final size;
4. decode (a truncated or damaged file is refused: ``LOAD_TRUNCATED_IMAGES`` is not set),
   turn upright from the EXIF orientation, flatten to RGB, shrink to at most
   :data:`MAX_EDGE` px on the long edge;
5. burn in the evidence watermark (time in China time, "lat, lon" or 无定位, place,
   inspector and case number) on a semi-transparent dark band at the bottom;
6. encode as JPEG at :data:`QUALITY` with no EXIF, XMP or comment (privacy: the location
   lives in the watermark and in the returned metadata), plus a ≤ 320 px thumbnail,
   and hash both with SHA-256.

The function is pure: a refused photo raises and changes nothing else.
:func:`plain_process_photo` is the same pipeline without step 3 (the benchmark's baseline).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from PIL import ExifTags, Image, ImageDraw, ImageFont, ImageOps

from fieldapp.config import assets_dir
from sync.clock import CHINA_TZ, to_local
from sync.errors import InvalidInput

__all__ = [
    "DEBIAN_CJK_FONT",
    "FONT_DIR",
    "MAX_DOWNLOAD_BYTES",
    "MAX_DOWNLOAD_PIXELS",
    "MAX_EDGE",
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "QUALITY",
    "THUMB_EDGE",
    "PhotoRejected",
    "ProcessedPhoto",
    "RejectKind",
    "WatermarkInfo",
    "draft_target",
    "find_watermark_font",
    "plain_process_photo",
    "process_photo",
    "read_exif_gps",
    "thumbnail_of",
    "watermark_lines",
]

MAX_INPUT_BYTES: Final = 30 * 1024 * 1024
MAX_PIXELS: Final = 80_000_000
MAX_EDGE: Final = 1600
QUALITY: Final = 80
THUMB_EDGE: Final = 320
THUMB_QUALITY: Final = 75
# Another device's photo, downloaded for the timeline: refused past these caps, unread and
# undecoded (the server keeps photos under 20 MiB and 50 MP; a phone's own are 1600 px).
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_DOWNLOAD_PIXELS: Final = 25_000_000

# Where the watermark font is looked for, in order, after an explicit ``font_path``.
FONT_DIR: Path = assets_dir() / "fonts"
DEBIAN_CJK_FONT: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# Only these decoders ever see untrusted bytes. MPO is what JPEG's opener returns for
# multi-picture JPEGs some phones write; it is a JPEG subclass (draft works).
_OPEN_FORMATS: Final = ("JPEG", "PNG")
_ACCEPTED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG"})

# Measured on the bench's 12 MP JPEG (draft-decoded 2000x1500 -> 1200x1600, min of 7 runs):
# LANCZOS 145 ms, BICUBIC 66 ms, BILINEAR 59 ms. At this small ratio BICUBIC looks the same as
# LANCZOS for less than half the cost; BILINEAR saves little more.
_RESAMPLE: Final = Image.Resampling.BICUBIC
_BAND_DARKEN: Final = 0.45  # band pixels keep 45 % of their brightness (55 % black overlay)
_WEEKDAYS: Final = ("一", "二", "三", "四", "五", "六", "日")

_DAMAGED: Final = "图片已损坏或不完整 / image is damaged or truncated"
_NOT_IMAGE: Final = "无法识别的图片，仅支持 JPEG、PNG / not a JPEG or PNG image"

RejectKind = Literal["empty", "too_large", "not_image", "too_many_pixels", "damaged"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class PhotoRejected(InvalidInput):
    """A photo the pipeline refuses. ``why`` reads "中文 / English"; ``kind`` is a stable key."""

    def __init__(self, reason: str, *, kind: RejectKind) -> None:
        super().__init__("photo", reason)
        self.kind: RejectKind = kind


@dataclass(frozen=True)
class WatermarkInfo:
    """What is burnt into the photo. ``taken_at`` must be timezone-aware; lat/lon both or none."""

    taken_at: datetime
    lat: float | None
    lon: float | None
    place: str
    inspector: str
    case_number: str

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None:
            raise InvalidInput("taken_at", "需要带时区的时间 / a timezone-aware time is required")
        if (self.lat is None) != (self.lon is None):
            raise InvalidInput(
                "lat", "经纬度须同时提供 / give both latitude and longitude or neither"
            )
        if self.lat is not None and not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            raise InvalidInput("lat", f"纬度超出范围 / latitude out of range: {self.lat}")
        if self.lon is not None and not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise InvalidInput("lon", f"经度超出范围 / longitude out of range: {self.lon}")


@dataclass(frozen=True)
class ProcessedPhoto:
    jpeg: bytes
    sha256: str
    width: int
    height: int
    thumbnail: bytes  # JPEG, long edge <= THUMB_EDGE
    thumb_sha256: str
    exif_point: tuple[float, float] | None  # (lat, lon) from the ORIGINAL's EXIF GPS
    exif_taken_at: datetime | None  # the original's EXIF capture time, aware, China time


# --------------------------------------------------------------------------- public API


def read_exif_gps(data: bytes) -> tuple[float, float] | None:
    """(lat, lon) from the photo's EXIF GPS, or None when there is none or it is unusable.

    Unusable: missing or malformed values, out of range, or exactly (0, 0) (what some
    cameras write without a fix). Input that :func:`process_photo` would refuse raises the
    same :class:`PhotoRejected`; pixels are not decoded for a JPEG.
    """
    with _open_checked(data) as im:
        return _exif_point(_safe_exif(im))


def process_photo(
    data: bytes, *, watermark: WatermarkInfo, font_path: str | None = None
) -> ProcessedPhoto:
    """Check, orient, shrink (JPEG decoded at reduced scale), watermark, strip EXIF and hash.

    Raises :class:`PhotoRejected` for empty, oversized (> 30 MiB or > 80 MP), truncated,
    damaged or non-JPEG/PNG input. ``font_path`` picks the watermark font; see
    :func:`find_watermark_font` for the lookup when it is None. When no CJK font is found
    Pillow's built-in scalable font is used and Chinese characters in the watermark may
    show as empty boxes (digits, Latin text and the coordinates stay legible).
    """
    return _process(data, watermark=watermark, font_path=font_path, use_draft=True)


def plain_process_photo(
    data: bytes, *, watermark: WatermarkInfo, font_path: str | None = None
) -> ProcessedPhoto:
    """:func:`process_photo` with a full-size decode (no draft): the benchmark baseline."""
    return _process(data, watermark=watermark, font_path=font_path, use_draft=False)


def draft_target(size: tuple[int, int], max_edge: int = MAX_EDGE) -> tuple[int, int]:
    """The final size's bounding box in the stored (un-rotated) orientation, aspect-correct.

    Rounded up so that a JPEG decoded at 1/2, 1/4 or 1/8 scale with ``Image.draft`` is
    never smaller than the final image. A square (max_edge, max_edge) target would stop
    draft from reducing a 4:3 photo at all.
    """
    width, height = size
    long_edge = max(width, height)
    if long_edge <= max_edge:
        return (width, height)
    scale = max_edge / long_edge
    return (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))


def find_watermark_font(font_path: str | None = None) -> Path | None:
    """The font file the watermark uses, or None for Pillow's built-in font.

    Order: ``font_path`` (must exist) → the first ``*.ttf``/``*.otf`` in ``assets/fonts/``
    (by name; the package's copy when installed) → Debian's Noto Sans CJK (fonts-noto-cjk) → None.
    """
    if font_path is not None:
        path = Path(font_path)
        if not path.is_file():
            raise InvalidInput("font_path", f"字体文件不存在 / font file not found: {font_path}")
        return path
    if FONT_DIR.is_dir():
        bundled = sorted(
            p for p in FONT_DIR.iterdir() if p.suffix.lower() in {".ttf", ".otf"} and p.is_file()
        )
        if bundled:
            return bundled[0]
    if DEBIAN_CJK_FONT.is_file():
        return DEBIAN_CJK_FONT
    return None


# --------------------------------------------------------------------------- pipeline


def _process(
    data: bytes, *, watermark: WatermarkInfo, font_path: str | None, use_draft: bool
) -> ProcessedPhoto:
    font_file = find_watermark_font(font_path)  # a bad explicit path fails before any work
    with _open_checked(data) as im:
        exif = _safe_exif(im)
        exif_point = _exif_point(exif)
        exif_taken_at = _exif_taken_at(exif)
        picture = _decode_upright_rgb(im, use_draft=use_draft)
        picture.thumbnail((MAX_EDGE, MAX_EDGE), _RESAMPLE)
    _burn_watermark(picture, watermark, font_file, explicit=font_path is not None)
    jpeg = _encode_jpeg(picture, QUALITY)
    small = picture.copy()
    small.thumbnail((THUMB_EDGE, THUMB_EDGE), _RESAMPLE)
    thumb = _encode_jpeg(small, THUMB_QUALITY)
    return ProcessedPhoto(
        jpeg=jpeg,
        sha256=hashlib.sha256(jpeg).hexdigest(),
        width=picture.width,
        height=picture.height,
        thumbnail=thumb,
        thumb_sha256=hashlib.sha256(thumb).hexdigest(),
        exif_point=exif_point,
        exif_taken_at=exif_taken_at,
    )


def thumbnail_of(data: bytes) -> bytes | None:
    """A JPEG thumbnail (long edge ≤ :data:`THUMB_EDGE`) of a downloaded photo, or None when it
    is not a photo fit to show: over :data:`MAX_DOWNLOAD_BYTES`, over
    :data:`MAX_DOWNLOAD_PIXELS` by its header (never decoded then), not a JPEG/PNG, damaged.
    A JPEG is decoded at a reduced scale: a thumbnail costs little memory whatever the photo."""
    if len(data) > MAX_DOWNLOAD_BYTES:
        return None
    try:
        im = _open_checked(data)
    except PhotoRejected:
        return None
    with im:
        width, height = im.size
        if width * height > MAX_DOWNLOAD_PIXELS:
            return None
        try:
            if im.format in {"JPEG", "MPO"}:
                im.draft("RGB", (THUMB_EDGE, THUMB_EDGE))
            im.load()
            small = _to_rgb(im)
            small.thumbnail((THUMB_EDGE, THUMB_EDGE), _RESAMPLE)
            return _encode_jpeg(small, THUMB_QUALITY)
        except Exception:  # damaged, or a mode Pillow cannot convert
            return None


def _too_many_pixels(size: tuple[int, int] | None) -> PhotoRejected:
    dims = f"{size[0]}×{size[1]}，" if size else ""
    dims_en = f"{size[0]}x{size[1]}, " if size else ""
    return PhotoRejected(
        f"图片过大（{dims}像素超过 {MAX_PIXELS // 10_000} 万）"
        f"/ image too large ({dims_en}over {MAX_PIXELS // 1_000_000} megapixels)",
        kind="too_many_pixels",
    )


def _open_checked(data: bytes) -> Image.Image:
    """Open the header only, refusing what must never be decoded."""
    if not data:
        raise PhotoRejected("空文件 / empty file", kind="empty")
    if len(data) > MAX_INPUT_BYTES:
        mib = MAX_INPUT_BYTES // (1024 * 1024)
        raise PhotoRejected(
            f"文件过大（超过 {mib} MB）/ file too large (over {mib} MiB)", kind="too_large"
        )
    try:
        # Pillow warns above Image.MAX_IMAGE_PIXELS and raises above twice that; make both
        # a refusal. (catch_warnings swaps the process-wide filters for the duration.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(None) from exc
    except Exception as exc:  # Pillow raises many types on hostile headers
        raise PhotoRejected(_NOT_IMAGE, kind="not_image") from exc
    width, height = im.size
    if im.format not in _ACCEPTED_FORMATS or width < 1 or height < 1:
        im.close()
        raise PhotoRejected(_NOT_IMAGE, kind="not_image")
    if width * height > MAX_PIXELS:  # our own limit, whatever the global one says
        im.close()
        raise _too_many_pixels((width, height))
    return im


def _decode_upright_rgb(im: Image.Image, *, use_draft: bool) -> Image.Image:
    try:
        if use_draft and im.format in {"JPEG", "MPO"}:
            im.draft("RGB", draft_target(im.size))
        im.load()
    except Exception as exc:  # truncated ("image file is truncated"), corrupt data, ...
        raise PhotoRejected(_DAMAGED, kind="damaged") from exc
    # Malformed EXIF must not cost the photo: it then stays as stored.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(im, in_place=True)
    try:
        return _to_rgb(im)
    except Exception as exc:  # a mode Pillow cannot convert
        raise PhotoRejected(_DAMAGED, kind="damaged") from exc


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB for the encoder: transparency flattened onto white, 16-bit grey scaled to 8-bit."""
    if im.mode == "RGB":
        return im
    if im.mode in {"RGBA", "LA", "PA"} or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode == "I" or im.mode.startswith("I;16"):  # 16-bit PNG grey; a plain convert clips
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return im.convert("RGB")


def _encode_jpeg(picture: Image.Image, quality: int) -> bytes:
    picture.info.clear()  # no comment, XMP, EXIF or anything else carried from the original
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()


# --------------------------------------------------------------------------- EXIF


def _safe_exif(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:  # broken EXIF (or a PNG whose eXIf lies past damaged data)
        return Image.Exif()


def _exif_point(exif: Image.Exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        return None
    lat = _signed_degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    lon = _signed_degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return (lat, lon)


def _signed_degrees(dms: Any, ref: Any) -> float | None:
    """Degrees/minutes/seconds rationals plus an N/S/E/W ref to signed decimal degrees."""
    if not isinstance(dms, tuple | list) or not 1 <= len(dms) <= 3:
        return None
    try:
        parts = [float(x) for x in dms]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts += [0.0] * (3 - len(parts))
    degrees, minutes, seconds = parts
    if not all(math.isfinite(p) and p >= 0 for p in parts) or minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = (ref or "").strip("\x00 ").upper()
    if ref in {"S", "W"}:
        return -value
    if ref in {"", "N", "E"}:  # a missing ref is read as north/east
        return value
    return None


def _exif_taken_at(exif: Image.Exif) -> datetime | None:
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        candidates = [
            (sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)),
            (exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime)),
        ]
    except Exception:
        return None
    for stamp, offset in candidates:
        moment = _parse_exif_datetime(stamp, offset)
        if moment is not None:
            return moment
    return None


def _parse_exif_datetime(stamp: Any, offset: Any) -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS"; without an offset tag the camera is taken to be in China."""
    if not isinstance(stamp, str):
        return None
    try:
        naive = datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz: timezone = CHINA_TZ
    if isinstance(offset, str):
        text = offset.strip("\x00 ")
        if len(text) == 6 and text[0] in "+-" and text[3] == ":":
            try:
                minutes = int(text[1:3]) * 60 + int(text[4:6])
            except ValueError:
                minutes = -1
            if 0 <= minutes <= 14 * 60:
                tz = timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))
    return to_local(naive.replace(tzinfo=tz))


# --------------------------------------------------------------------------- watermark


def watermark_lines(info: WatermarkInfo) -> list[str]:
    """The watermark's lines, top to bottom (also usable as a caption in the UI)."""
    local = to_local(info.taken_at)
    when = f"{local:%Y-%m-%d %H:%M:%S} 周{_WEEKDAYS[local.weekday()]}"
    no_fix = info.lat is None or info.lon is None
    where = "无定位" if no_fix else f"{info.lat:.5f}, {info.lon:.5f}"
    who = f"{_one_line(info.inspector)} · {_one_line(info.case_number)}"
    return [when, where, _one_line(info.place), who]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _burn_watermark(
    picture: Image.Image, info: WatermarkInfo, font_file: Path | None, *, explicit: bool
) -> None:
    """Darken a band at the bottom and write the lines on it, in place."""
    lines = watermark_lines(info)
    width, height = picture.size
    size = max(10, round(min(width, height) / 42))
    font = _font(font_file, size, explicit=explicit)
    line_height = round(size * 1.35)
    margin = max(4, size // 2)
    band_top = max(0, height - (line_height * len(lines) + 2 * margin))
    box = (0, band_top, width, height)
    band = picture.crop(box).point(_darken)
    draw = ImageDraw.Draw(band)
    max_text = max(1, width - 2 * margin)
    for i, line in enumerate(lines):
        draw.text(
            (margin, margin + i * line_height),
            _fit(line, font, max_text),
            font=font,
            fill=(255, 255, 255),
        )
    picture.paste(band, box)


def _darken(value: int) -> int:
    return int(value * _BAND_DARKEN)


def _fit(text: str, font: Font, max_width: int) -> str:
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text + "…"


def _font(font_file: Path | None, size: int, *, explicit: bool) -> Font:
    if font_file is None:
        return _default_font(size)
    try:
        return _truetype(str(font_file), size)
    except OSError as exc:
        if explicit:
            raise InvalidInput(
                "font_path", f"无法读取字体 / cannot load font: {font_file}"
            ) from exc
        return _default_font(size)


@lru_cache(maxsize=16)
def _truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_cjk_sc_index(path))


@lru_cache(maxsize=8)
def _cjk_sc_index(path: str) -> int:
    """In a .ttc collection (Noto Sans CJK), the face for Simplified Chinese; else 0."""
    if not path.lower().endswith(".ttc"):
        return 0
    for index in range(10):
        try:
            family = ImageFont.truetype(path, 10, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith(" SC") or " SC " in family:
            return index
    return 0


@lru_cache(maxsize=16)
def _default_font(size: int) -> Font:
    return ImageFont.load_default(size=size)
