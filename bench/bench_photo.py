"""The field photo pipeline on a 12-megapixel JPEG against a plain full-decode pipeline.

Both pipelines run in the same process on the same input, interleaved, and the medians are
compared: ``ratio`` = draft pipeline / full-decode pipeline (the issue expects <= 0.67, i.e.
at least 1.5x faster). Run: ``.venv/bin/python -m bench.bench_photo``.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PIL import ExifTags, Image, ImageChops, ImageDraw
from PIL.TiffImagePlugin import IFDRational

from fieldapp.photos import (
    ProcessedPhoto,
    WatermarkInfo,
    plain_process_photo,
    process_photo,
)

WIDTH, HEIGHT = 4000, 3000  # 12 MP, as a phone's main camera stores it
ROUNDS = 7

WATERMARK = WatermarkInfo(
    taken_at=datetime(2024, 7, 16, 1, 30, tzinfo=UTC),
    lat=35.72756,
    lon=116.49521,
    place="汶上县中都街道 宁民路与尚书路交叉口",
    inspector="张巡查",
    case_number="WS-2024-000123",
)


def make_12mp_jpeg(seed: int = 7) -> bytes:
    """A camera-like JPEG: gradients, shapes and sensor-like noise, portrait-held (orientation 6),
    with EXIF GPS; quality 92 so it is a few MB like a phone's."""
    size = (WIDTH, HEIGHT)
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    channels = []
    for i, base in enumerate((horizontal, vertical, radial)):
        noise = Image.effect_noise(size, 9 + 2 * ((seed + i) % 3))  # centred on 128
        channels.append(ImageChops.add(base, noise, scale=1.0, offset=-128))
    picture = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(picture)
    for k in range(40):  # hard edges, like buildings and signs
        x = (k * 397 + seed * 131) % WIDTH
        y = (k * 241 + seed * 71) % HEIGHT
        colour = ((k * 53) % 256, (k * 97) % 256, (k * 151) % 256)
        if k % 2:
            draw.rectangle((x, y, x + 300, y + 180), fill=colour)
        else:
            draw.ellipse((x, y, x + 260, y + 260), outline=colour, width=12)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "BenchPhone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (IFDRational(35), IFDRational(43), IFDRational(3922, 100)),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (IFDRational(116), IFDRational(29), IFDRational(4276, 100)),
    }
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _time_once(pipeline: Callable[..., ProcessedPhoto], data: bytes) -> float:
    start = time.perf_counter()
    pipeline(data, watermark=WATERMARK)
    return time.perf_counter() - start


def run(rounds: int = ROUNDS) -> list[dict[str, Any]]:
    data = make_12mp_jpeg()
    for pipeline in (process_photo, plain_process_photo):  # warm-up: fonts, code paths
        pipeline(data, watermark=WATERMARK)
    draft_times: list[float] = []
    plain_times: list[float] = []
    for i in range(rounds):  # interleaved, alternating which goes first
        if i % 2:
            plain_times.append(_time_once(plain_process_photo, data))
            draft_times.append(_time_once(process_photo, data))
        else:
            draft_times.append(_time_once(process_photo, data))
            plain_times.append(_time_once(plain_process_photo, data))
    value = statistics.median(draft_times)
    baseline = statistics.median(plain_times)
    return [
        {
            "name": "photo_pipeline_12mp",
            "value": value,
            "unit": "s/photo",
            "baseline": "plain_full_decode_12mp",
            "baseline_value": baseline,
            "ratio": value / baseline,
            "input_bytes": len(data),
            "rounds": rounds,
        }
    ]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
