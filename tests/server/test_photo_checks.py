"""Photos are images, uploads are their device's, and a photo you may not see does not exist:
a non-image or a decompression bomb is refused (422) and nothing of it is kept; an upload in
progress is written only by the device that started it; ``HEAD`` on someone else's photo
answers exactly as on a photo the server never saw."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image

from tests.conftest import Server
from tests.server.test_photos_api import (
    held,
    jpeg_bytes,
    link,
    patch,
    record_parking_case,
    sha,
)


def _device(server: Server, user: str, client_id: str) -> dict[str, str]:
    r = server.client.post(
        "/devices", json={"client_id": client_id, "name": "手机"}, headers=server.login(user)
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['device_token']}"}


def _patch_as(server: Server, auth: dict[str, str], data: bytes, offset: int, size: int) -> Any:
    chunk = data[offset : offset + size]
    headers = {
        **auth,
        "Upload-Offset": str(offset),
        "Upload-Length": str(len(data)),
        "Chunk-Sha256": sha(chunk),
        "Content-Type": "application/offset+octet-stream",
    }
    return server.client.patch(f"/photos/{sha(data)}", content=chunk, headers=headers)


def _png_bomb(side: int = 20_000) -> bytes:
    """A small PNG whose header declares side × side pixels (400 MP of zeros, compressed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + b"\x00" * side
    idat = zlib.compress(row * 64, 9)  # only the start of the data: the header is the bomb
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_file_that_is_not_an_image_or_is_a_bomb_is_refused_and_nothing_is_kept(
    server: Server,
) -> None:
    case_id = record_parking_case(server)
    real = jpeg_bytes()
    damaged = real[:200] + bytes(len(real) - 200)  # a JPEG's header, then zeros
    for data, code in ((damaged, "not_an_image"), (_png_bomb(), "too_many_pixels")):
        name = sha(data)
        assert link(server, "inspector", name, case_id).status_code == 201  # link first
        r = patch(server, "inspector", name, 0, len(data), data)
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["code"] == code and r.json()["detail"]["field"] == "content"
        assert held(server, name) is None
        fetched = server.client.get(f"/photos/{name}", headers=server.login("inspector"))
        assert fetched.status_code == 404  # nothing served from the case
    png = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(png, "PNG")
    assert (
        patch(
            server, "inspector", sha(png.getvalue()), 0, len(png.getvalue()), png.getvalue()
        ).status_code
        == 204
    )


def test_an_upload_in_progress_is_written_only_by_the_device_that_started_it(
    server: Server,
) -> None:
    data = jpeg_bytes(seed=3)
    phone = _device(server, "inspector", "phone-one-0001")
    other_phone = _device(server, "inspector", "phone-two-0002")
    stranger = _device(server, "zhzf_handler", "phone-zhzf-0003")
    assert _patch_as(server, phone, data, 0, 1000).status_code == 204
    for intruder in (other_phone, stranger, server.login("zhzf_handler")):
        r = _patch_as(server, intruder, data, 1000, 1000)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "upload_in_progress"
    # the starting device carries on from where it was: nobody else wrote a byte
    r = _patch_as(server, phone, data, 1000, len(data) - 1000)
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    assert held(server, sha(data)) == data


def test_head_on_a_photo_you_may_not_see_answers_like_a_photo_never_seen(server: Server) -> None:
    data = jpeg_bytes(seed=5)
    partial = jpeg_bytes(seed=6)
    never = sha(b"never uploaded")
    patch(server, "inspector", sha(data), 0, len(data), data)
    patch(server, "inspector", sha(partial), 0, len(partial), partial[:1000])

    def answer(name: str) -> tuple[int, dict[str, str], bytes]:
        r = server.client.head(f"/photos/{name}", headers=server.login("zhzf_handler"))
        headers = {k: v for k, v in r.headers.items() if k != "x-request-id"}  # each its own
        return r.status_code, headers, r.content

    assert answer(sha(data)) == answer(never)
    assert answer(sha(partial)) == answer(never)
    mine = server.client.head(f"/photos/{sha(data)}", headers=server.login("inspector"))
    assert mine.headers["Upload-Complete"] == "1"
