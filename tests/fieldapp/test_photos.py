"""The field photo pipeline: upright, small, watermarked, hashed, private, and safe on bad input."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import struct
import warnings
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageFile, ImageStat
from PIL.JpegImagePlugin import JpegImageFile
from PIL.TiffImagePlugin import IFDRational

from fieldapp import photos
from fieldapp.photos import (
    MAX_INPUT_BYTES,
    PhotoRejected,
    ProcessedPhoto,
    WatermarkInfo,
    find_watermark_font,
    plain_process_photo,
    process_photo,
    read_exif_gps,
    watermark_lines,
)
from sync.errors import InvalidInput

MARK = WatermarkInfo(
    taken_at=datetime(2024, 7, 16, 1, 30, 5, tzinfo=UTC),
    lat=35.72756,
    lon=116.49521,
    place="汶上县中都街道",
    inspector="Zhang San",
    case_number="WS-2024-000123",
)

# 35°43'39.22" N, 116°29'42.76" E written as EXIF rationals
LAT_DMS = (35, 43, 39.22)
LON_DMS = (116, 29, 42.76)


def decimal(dms: tuple[float, float, float]) -> float:
    d, m, s = dms
    return d + m / 60 + s / 3600


def gps_ifd(
    lat: tuple[float, float, float] = LAT_DMS,
    lon: tuple[float, float, float] = LON_DMS,
    lat_ref: str = "N",
    lon_ref: str = "E",
) -> dict[int, object]:
    def rationals(dms: tuple[float, float, float]) -> tuple[IFDRational, ...]:
        return tuple(IFDRational(round(x * 100), 100) for x in dms)

    return {
        ExifTags.GPS.GPSLatitudeRef: lat_ref,
        ExifTags.GPS.GPSLatitude: rationals(lat),
        ExifTags.GPS.GPSLongitudeRef: lon_ref,
        ExifTags.GPS.GPSLongitude: rationals(lon),
    }


def make_exif(
    orientation: int | None = None,
    gps: dict[int, object] | None = None,
    taken: str | None = None,
    offset: str | None = None,
) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    if taken is not None:
        sub: dict[int, object] = {ExifTags.Base.DateTimeOriginal: taken}
        if offset is not None:
            sub[ExifTags.Base.OffsetTimeOriginal] = offset
        exif[ExifTags.IFD.Exif] = sub
    return exif.tobytes()


def jpeg_bytes(picture: Image.Image, exif: bytes = b"", quality: int = 90) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def png_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, streamed so that it never exists decoded in memory."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body)
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def open_jpeg(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    picture.load()
    return picture


def region_mean(picture: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(picture.crop(box).convert("L")).mean[0])


@pytest.fixture(scope="module")
def portrait_held_12mp() -> bytes:
    """A 4000x3000 sensor image held upright (orientation 6), red block in its stored top-left."""
    picture = Image.new("RGB", (4000, 3000), (90, 140, 200))
    picture.paste((255, 0, 0), (0, 0, 600, 600))
    return jpeg_bytes(picture, make_exif(orientation=6, gps=gps_ifd(), taken="2024:07:16 09:30:00"))


@pytest.fixture(scope="module")
def processed_portrait(portrait_held_12mp: bytes) -> ProcessedPhoto:
    return process_photo(portrait_held_12mp, watermark=MARK)


# --------------------------------------------------------------------------- shape


def test_photo_held_upright_comes_out_portrait_1200_by_1600(
    processed_portrait: ProcessedPhoto,
) -> None:
    out = open_jpeg(processed_portrait.jpeg)
    assert out.size == (1200, 1600)
    assert (processed_portrait.width, processed_portrait.height) == (1200, 1600)


def test_orientation_6_turns_the_stored_top_left_to_the_top_right(
    processed_portrait: ProcessedPhoto,
) -> None:
    out = open_jpeg(processed_portrait.jpeg).convert("RGB")
    red = out.getpixel((1200 - 60, 60))
    blue_side = out.getpixel((60, 60))
    assert isinstance(red, tuple) and isinstance(blue_side, tuple)
    assert red[0] > 200 and red[2] < 60
    assert blue_side[2] > 150 and blue_side[0] < 130


def test_landscape_photo_long_edge_is_capped_at_1600() -> None:
    data = jpeg_bytes(Image.new("RGB", (4000, 3000), (10, 200, 30)))
    result = process_photo(data, watermark=MARK)
    assert open_jpeg(result.jpeg).size == (1600, 1200)


def test_small_photo_is_not_enlarged() -> None:
    data = jpeg_bytes(Image.new("RGB", (800, 600), (10, 200, 30)))
    result = process_photo(data, watermark=MARK)
    assert open_jpeg(result.jpeg).size == (800, 600)


def test_draft_decode_matches_the_full_decode_result() -> None:
    picture = Image.radial_gradient("L").resize((4000, 3000)).convert("RGB")
    picture.paste((250, 250, 0), (1000, 1000, 2500, 2000))
    data = jpeg_bytes(picture)
    fast = open_jpeg(process_photo(data, watermark=MARK).jpeg)
    full = open_jpeg(plain_process_photo(data, watermark=MARK).jpeg)
    assert fast.size == full.size == (1600, 1200)
    top = (0, 0, 1600, 900)  # above the watermark band
    assert abs(region_mean(fast, top) - region_mean(full, top)) < 2
    centre = (700, 500, 900, 700)  # inside the yellow block
    assert abs(region_mean(fast, centre) - region_mean(full, centre)) < 2


def test_jpeg_is_decoded_at_half_scale_not_full_size(
    portrait_held_12mp: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[tuple[int, int]] = []
    real_load = JpegImageFile.load

    def spying_load(self: JpegImageFile) -> object:
        result = real_load(self)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImageFile, "load", spying_load)
    process_photo(portrait_held_12mp, watermark=MARK)
    assert decoded[0] == (2000, 1500)  # 1/2 of 4000x3000: still >= the final 1600x1200
    decoded.clear()
    plain_process_photo(portrait_held_12mp, watermark=MARK)
    assert decoded[0] == (4000, 3000)


def test_draft_target_keeps_the_aspect_so_a_4_by_3_photo_can_be_decoded_at_half_scale() -> None:
    assert photos.draft_target((4000, 3000)) == (1600, 1200)
    assert photos.draft_target((3000, 4000)) == (1200, 1600)
    assert photos.draft_target((800, 600)) == (800, 600)


def test_transparent_png_is_accepted_and_flattened_onto_white() -> None:
    picture = Image.new("RGBA", (1000, 800), (0, 0, 0, 0))
    picture.paste((0, 0, 255, 255), (0, 0, 500, 400))
    result = process_photo(png_bytes(picture), watermark=MARK)
    out = open_jpeg(result.jpeg)
    assert out.mode == "RGB" and out.size == (1000, 800)
    see_through = out.getpixel((900, 50))
    assert isinstance(see_through, tuple) and min(see_through) > 240


def test_sixteen_bit_grey_png_keeps_its_tones() -> None:
    picture = Image.new("I;16", (600, 400), 32768)  # mid grey in 16 bits
    out = open_jpeg(process_photo(png_bytes(picture), watermark=MARK).jpeg)
    assert 110 < region_mean(out, (0, 0, 600, 100)) < 145


# --------------------------------------------------------------------------- EXIF


def test_exif_gps_of_the_original_is_returned(processed_portrait: ProcessedPhoto) -> None:
    assert processed_portrait.exif_point == pytest.approx(
        (decimal(LAT_DMS), decimal(LON_DMS)), abs=1e-7
    )


def test_read_exif_gps_gives_south_and_west_as_negative() -> None:
    data = jpeg_bytes(Image.new("RGB", (64, 48)), make_exif(gps=gps_ifd(lat_ref="S", lon_ref="W")))
    assert read_exif_gps(data) == pytest.approx((-decimal(LAT_DMS), -decimal(LON_DMS)), abs=1e-7)


def test_read_exif_gps_is_none_without_gps_or_with_a_null_island_fix() -> None:
    assert read_exif_gps(jpeg_bytes(Image.new("RGB", (64, 48)))) is None
    null_island = make_exif(gps=gps_ifd(lat=(0, 0, 0), lon=(0, 0, 0)))
    assert read_exif_gps(jpeg_bytes(Image.new("RGB", (64, 48)), null_island)) is None


def test_read_exif_gps_ignores_impossible_coordinates() -> None:
    bad = make_exif(gps=gps_ifd(lat=(95, 0, 0)))
    assert read_exif_gps(jpeg_bytes(Image.new("RGB", (64, 48)), bad)) is None


def test_exif_capture_time_without_offset_is_taken_as_china_time(
    processed_portrait: ProcessedPhoto,
) -> None:
    expected = datetime(2024, 7, 16, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert processed_portrait.exif_taken_at == expected


def test_exif_capture_time_with_an_offset_is_converted_to_china_time() -> None:
    exif = make_exif(taken="2024:07:16 09:30:00", offset="+00:00")
    result = process_photo(jpeg_bytes(Image.new("RGB", (64, 48)), exif), watermark=MARK)
    assert result.exif_taken_at == datetime(2024, 7, 16, 9, 30, tzinfo=UTC)
    assert result.exif_taken_at is not None
    assert result.exif_taken_at.utcoffset() == timedelta(hours=8)


def test_stored_photo_and_thumbnail_carry_no_exif(processed_portrait: ProcessedPhoto) -> None:
    for data in (processed_portrait.jpeg, processed_portrait.thumbnail):
        stored = open_jpeg(data)
        assert len(stored.getexif()) == 0
        assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert b"Exif\x00\x00" not in data
        assert read_exif_gps(data) is None


# --------------------------------------------------------------------------- hashes, thumbnail


def test_hashes_are_sha256_of_the_returned_bytes(processed_portrait: ProcessedPhoto) -> None:
    assert processed_portrait.sha256 == hashlib.sha256(processed_portrait.jpeg).hexdigest()
    thumb_hash = hashlib.sha256(processed_portrait.thumbnail).hexdigest()
    assert processed_portrait.thumb_sha256 == thumb_hash


def test_thumbnail_is_a_jpeg_of_at_most_320_px_with_the_same_shape(
    processed_portrait: ProcessedPhoto,
) -> None:
    thumb = open_jpeg(processed_portrait.thumbnail)
    assert thumb.size == (240, 320)


def test_same_input_gives_the_same_hash(portrait_held_12mp: bytes) -> None:
    again = process_photo(portrait_held_12mp, watermark=MARK)
    assert again.sha256 == process_photo(portrait_held_12mp, watermark=MARK).sha256


# --------------------------------------------------------------------------- watermark


@pytest.fixture(scope="module")
def uniform_grey() -> bytes:
    return jpeg_bytes(Image.new("RGB", (2000, 1500), (200, 200, 200)), quality=95)


def test_watermark_darkens_a_band_at_the_bottom_and_writes_light_text(
    uniform_grey: bytes,
) -> None:
    out = open_jpeg(process_photo(uniform_grey, watermark=MARK).jpeg).convert("L")
    width, height = out.size
    top = out.crop((0, 0, width, 100))
    bottom = out.crop((0, height - 60, width, height))
    assert ImageStat.Stat(top).mean[0] == pytest.approx(200, abs=3)
    assert ImageStat.Stat(bottom).mean[0] < 140  # darkened
    assert ImageStat.Stat(top).extrema[0][1] < 215  # nothing drawn on top
    assert ImageStat.Stat(out.crop((0, height - 200, width, height))).extrema[0][1] > 235  # text


def test_watermark_text_depends_on_the_case_number(uniform_grey: bytes) -> None:
    other = WatermarkInfo(**{**MARK.__dict__, "case_number": "WS-2024-999999"})
    first = open_jpeg(process_photo(uniform_grey, watermark=MARK).jpeg).convert("L")
    second = open_jpeg(process_photo(uniform_grey, watermark=other).jpeg).convert("L")
    width, height = first.size
    band = (0, height - 200, width, height)
    assert first.crop((0, 0, width, 600)).tobytes() == second.crop((0, 0, width, 600)).tobytes()
    assert first.crop(band).tobytes() != second.crop(band).tobytes()


def test_watermark_lines_show_china_time_coordinates_place_and_who() -> None:
    lines = watermark_lines(MARK)
    assert lines == [
        "2024-07-16 09:30:05 周二",
        "35.72756, 116.49521",
        "汶上县中都街道",
        "Zhang San · WS-2024-000123",
    ]


def test_watermark_says_no_fix_without_coordinates_and_keeps_text_on_one_line() -> None:
    info = WatermarkInfo(**{**MARK.__dict__, "lat": None, "lon": None, "place": "a\nb"})
    lines = watermark_lines(info)
    assert lines[1] == "无定位"
    assert lines[2] == "a b"


def test_watermark_info_needs_an_aware_time_and_a_whole_coordinate() -> None:
    with pytest.raises(InvalidInput):
        WatermarkInfo(**{**MARK.__dict__, "taken_at": datetime(2024, 7, 16, 9, 30)})
    with pytest.raises(InvalidInput):
        WatermarkInfo(**{**MARK.__dict__, "lon": None})
    with pytest.raises(InvalidInput):
        WatermarkInfo(**{**MARK.__dict__, "lat": 91.0})


# --------------------------------------------------------------------------- fonts


def test_font_lookup_prefers_explicit_then_bundled_then_debian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled_dir = tmp_path / "assets" / "fonts"
    bundled_dir.mkdir(parents=True)
    debian = tmp_path / "NotoSansCJK-Regular.ttc"
    explicit = tmp_path / "mine.otf"
    monkeypatch.setattr(photos, "FONT_DIR", bundled_dir)
    monkeypatch.setattr(photos, "DEBIAN_CJK_FONT", debian)

    assert find_watermark_font() is None
    debian.write_bytes(b"x")
    assert find_watermark_font() == debian
    (bundled_dir / "README.txt").write_text("not a font")
    assert find_watermark_font() == debian
    (bundled_dir / "NotoSansSC-Subset.otf").write_bytes(b"x")
    assert find_watermark_font() == bundled_dir / "NotoSansSC-Subset.otf"
    explicit.write_bytes(b"x")
    assert find_watermark_font(str(explicit)) == explicit


def test_missing_explicit_font_is_an_input_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        find_watermark_font(str(tmp_path / "nope.ttf"))
    assert caught.value.field == "font_path"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs a TrueType font on the system")
def test_explicit_font_is_used_for_the_watermark(
    uniform_grey: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(photos, "FONT_DIR", tmp_path / "none")
    monkeypatch.setattr(photos, "DEBIAN_CJK_FONT", tmp_path / "none.ttc")
    default = open_jpeg(process_photo(uniform_grey, watermark=MARK).jpeg)
    dejavu = open_jpeg(process_photo(uniform_grey, watermark=MARK, font_path=str(DEJAVU)).jpeg)
    band = (0, default.height - 200, default.width, default.height)
    assert default.crop(band).tobytes() != dejavu.crop(band).tobytes()


# --------------------------------------------------------------------------- refusals


def rejected(data: bytes) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, watermark=MARK)
    return caught.value


def test_decompression_bomb_png_is_refused_as_too_large() -> None:
    bomb = bilevel_png(20000, 20000)  # 400 megapixels
    assert len(bomb) < 200_000
    error = rejected(bomb)
    assert error.kind == "too_many_pixels"
    assert error.field == "photo"
    assert "图片过大" in error.why and "image too large" in error.why


def test_pixel_limit_holds_even_with_pillows_global_limit_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert rejected(bilevel_png(20000, 20000)).kind == "too_many_pixels"


def test_81_megapixels_is_over_our_80_megapixel_limit_though_under_pillows() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > 9000 * 9000
    error = rejected(bilevel_png(9000, 9000))
    assert error.kind == "too_many_pixels"
    assert "9000×9000" in error.why


def test_pillows_bomb_warning_and_error_become_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert rejected(bilevel_png(1200, 1000)).kind == "too_many_pixels"  # warning zone
        assert rejected(bilevel_png(2000, 2000)).kind == "too_many_pixels"  # error zone
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]


def test_refusal_leaves_pillow_and_warnings_settings_as_they_were() -> None:
    limit, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    rejected(bilevel_png(20000, 20000))
    assert limit == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters
    ok = process_photo(jpeg_bytes(Image.new("RGB", (64, 48))), watermark=MARK)
    assert ok.width == 64


def test_truncated_jpeg_is_refused_as_damaged(portrait_held_12mp: bytes) -> None:
    noisy = Image.effect_noise((1200, 900), 40).convert("RGB")
    data = jpeg_bytes(noisy)
    assert rejected(data[: len(data) // 2]).kind == "damaged"
    assert rejected(portrait_held_12mp[: len(portrait_held_12mp) * 2 // 3]).kind == "damaged"


def test_truncated_png_is_refused_as_damaged() -> None:
    data = png_bytes(Image.effect_noise((600, 400), 40))
    assert rejected(data[: len(data) // 2]).kind == "damaged"


def test_random_bytes_are_refused_as_not_an_image() -> None:
    error = rejected(os.urandom(50_000))
    assert error.kind == "not_image"
    assert "JPEG" in error.why


def test_empty_input_is_refused() -> None:
    assert rejected(b"").kind == "empty"


def test_other_image_formats_are_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "GIF")
    assert rejected(out.getvalue()).kind == "not_image"
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "BMP")
    assert rejected(out.getvalue()).kind == "not_image"


def test_input_over_30_mib_is_refused_before_decoding() -> None:
    valid = jpeg_bytes(Image.new("RGB", (64, 48)))
    padded = valid + b"\x00" * (MAX_INPUT_BYTES + 1 - len(valid))  # still a decodable JPEG
    error = rejected(padded)
    assert error.kind == "too_large"
    assert "文件过大" in error.why and "too large" in error.why
    assert process_photo(valid + b"\x00" * 1000, watermark=MARK).width == 64


def test_read_exif_gps_refuses_what_the_pipeline_refuses() -> None:
    with pytest.raises(PhotoRejected):
        read_exif_gps(os.urandom(1000))
    with pytest.raises(PhotoRejected):
        read_exif_gps(bilevel_png(20000, 20000))


def test_refusal_is_reported_as_invalid_photo_input() -> None:
    error = rejected(b"GIF89a not really")
    assert isinstance(error, InvalidInput)
    assert error.as_dict()["field"] == "photo"
    assert error.as_dict()["code"] == "invalid_input"


def _seed_images() -> list[bytes]:
    picture = Image.effect_noise((96, 64), 30).convert("RGB")
    exif = make_exif(orientation=3, gps=gps_ifd(), taken="2024:07:16 09:30:00")
    return [jpeg_bytes(picture, exif), png_bytes(picture.convert("RGBA"))]


SEEDS = _seed_images()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from([0, 1]),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_damaged_input_either_processes_or_is_refused_never_crashes(
    which: int, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(SEEDS[which])
    for position, value in flips:
        data[position % len(data)] = value
    damaged = bytes(data if cut is None else data[: cut % len(data)])
    with contextlib.suppress(PhotoRejected):
        read_exif_gps(damaged)
    try:
        result = process_photo(damaged, watermark=MARK)
    except PhotoRejected:
        return
    assert max(result.width, result.height) <= 1600
    assert result.sha256 == hashlib.sha256(result.jpeg).hexdigest()


# --- others' photos, downloaded for the timeline ----------------------------------------------


def _png_header_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_downloaded_photo_gets_a_small_thumbnail() -> None:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), "white").save(out, "JPEG")
    thumb = photos.thumbnail_of(out.getvalue())
    assert thumb is not None
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.format == "JPEG" and max(im.size) <= photos.THUMB_EDGE


def test_a_downloaded_bomb_or_oversized_file_gets_no_thumbnail_and_is_never_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[object] = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decoded.append(im) or real_load(im))
    side = int(photos.MAX_DOWNLOAD_PIXELS**0.5) + 1
    assert photos.thumbnail_of(_png_header_declaring(side, side)) is None
    assert photos.thumbnail_of(b"\xff\xd8\xff" + bytes(photos.MAX_DOWNLOAD_BYTES)) is None
    assert photos.thumbnail_of(b"not an image at all") is None
    assert decoded == []


def test_a_download_larger_than_the_cap_is_refused_without_reading_it_all() -> None:
    from fieldapp.device import download_capped

    class Response:
        def __init__(self, declared: str | None, parts: int) -> None:
            self.status_code = 200
            self.headers = {} if declared is None else {"Content-Length": declared}
            self.parts = parts
            self.read = 0

        def __enter__(self) -> Response:
            return self

        def __exit__(self, *_exc: object) -> None:
            return None

        def iter_content(self, size: int) -> Any:
            for _ in range(self.parts):
                self.read += size
                yield b"x" * size

    class Http:
        def __init__(self, response: Response) -> None:
            self.response = response

        def get(self, *_a: object, **_kw: object) -> Response:
            return self.response

    declared = Response(str(734 * 1024 * 1024), parts=11_744)  # says 734 MB: nothing is read
    assert download_capped(Http(declared), "u", {}, cap=1024 * 1024) is None  # type: ignore[arg-type]
    assert declared.read == 0
    silent = Response(None, parts=11_744)  # says nothing: reading stops just past the cap
    assert download_capped(Http(silent), "u", {}, cap=1024 * 1024) is None  # type: ignore[arg-type]
    assert silent.read <= 1024 * 1024 + 64 * 1024
    small = Response("1024", parts=1)
    assert download_capped(Http(small), "u", {}, cap=1024 * 1024) == b"x" * 64 * 1024  # type: ignore[arg-type]
