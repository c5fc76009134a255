"""Photos are images, uploads are their device's, and a photo you may not see does not exist:
a non-image or a decompression bomb is refused (422) and nothing of it is kept; an upload in
progress is written only by the device that started it; ``HEAD`` on someone else's photo
answers exactly as on a photo the server never saw."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from server.db import make_engine
from server.models import PhotoLink
from tests.conftest import Server
from tests.server.test_photos_api import (
    head,
    jpeg_bytes,
    link,
    patch,
    photo_store,
    record_parking_case,
    sha,
    upload,
)
from tests.server.test_photos_api import held as stored_bytes


def _device(server: Server, user: str, client_id: str) -> dict[str, str]:
    return _device_and_id(server, user, client_id)[0]


def _device_and_id(server: Server, user: str, client_id: str) -> tuple[dict[str, str], str]:
    r = server.client.post(
        "/devices", json={"client_id": client_id, "name": "手机"}, headers=server.login(user)
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['device_token']}"}, r.json()["device_id"]


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
        assert stored_bytes(server, name) is None
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
    assert stored_bytes(server, sha(data)) == data


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


def _journey(server: Server, user: str, data: bytes) -> list[tuple[Any, ...]]:
    """Everything ``user`` is answered while linking a photo to a case of theirs and sending
    its bytes (a chunk, one at a wrong offset, the rest), the photo's length written "L"."""
    name, length = sha(data), str(len(data))

    def seen(r: Any) -> tuple[Any, ...]:
        upload_headers = ("Upload-Offset", "Upload-Length", "Upload-Complete")
        got = tuple(r.headers.get(h, "-").replace(length, "L") for h in upload_headers)
        body = r.json() if r.content and r.headers.get("content-type", "").endswith("json") else {}
        return r.status_code, got, sorted(body), (body.get("detail") or {}).get("code")

    answers = [seen(link(server, user, name, record_parking_case(server, user)))]
    answers.append(seen(head(server, user, name)))
    answers.append(seen(patch(server, user, name, 0, len(data), data[:1000])))
    answers.append(seen(head(server, user, name)))
    answers.append(seen(patch(server, user, name, 500, len(data), data[500:900])))
    answers.append(seen(patch(server, user, name, 1000, len(data), data[1000:])))
    answers.append(seen(head(server, user, name)))
    fetched = server.get(f"/photos/{name}", user)
    answers.append((fetched.status_code, fetched.content == data))
    return answers


def test_sending_the_bytes_of_a_photo_you_may_not_see_answers_like_a_photo_never_seen(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One who holds a photo's bytes (or only its sha256) learns nothing from the answers
    about whether the server holds it: linking, every chunk, HEAD and GET go as for a photo
    never seen. The held photo is not touched; a holder who sent every byte may then see it,
    as its first uploader may; wrong bytes under its name are refused as for any photo."""
    held, never = jpeg_bytes(seed=11), jpeg_bytes(seed=12)
    upload(server, "sw_handler", held)  # unlinked: only sw_handler may see it
    store, touched = photo_store(server), []
    for method in ("write_part", "publish_part", "put", "delete"):
        original = getattr(store, method)

        def spy(name: str, *a: Any, _m: str = method, _o: Any = original, **k: Any) -> Any:
            touched.append(name)
            return _o(name, *a, **k)

        monkeypatch.setattr(store, method, spy)
    assert _journey(server, "inspector", held) == _journey(server, "inspector", never)
    assert sha(held) not in touched  # only the sender's own (shadow) upload was written
    monkeypatch.undo()
    assert stored_bytes(server, sha(held)) == held
    assert server.get(f"/photos/{sha(held)}", "sw_handler").content == held

    other = jpeg_bytes(seed=13)
    upload(server, "sw_handler", other)
    forged = other[:-10] + bytes(10)  # not the photo: its hash is not the name
    r = patch(server, "zhzf_handler", sha(other), 0, len(forged), forged)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "photo_hash_mismatch"
    assert server.get(f"/photos/{sha(other)}", "zhzf_handler").status_code == 404
    assert server.get(f"/photos/{sha(other)}", "sw_handler").content == other


def test_a_lost_phones_unfinished_upload_blocks_no_other_device(server: Server) -> None:
    data = jpeg_bytes(seed=14)
    lost, lost_id = _device_and_id(server, "inspector", "lost-phone-0001")
    new_phone = _device(server, "inspector", "new-phone-0002")
    other_user = _device(server, "zhzf_handler", "zhzf-phone-0003")
    assert _patch_as(server, lost, data, 0, 1000).status_code == 204
    assert server.post(f"/devices/{lost_id}/revoke", "admin").status_code == 204
    assert _patch_as(server, lost, data, 1000, 1000).status_code == 401  # cut off for good

    r = _patch_as(server, new_phone, data, 0, 1500)  # the same bytes, from the start
    assert r.status_code == 204, r.text
    assert (r.headers["Upload-Offset"], r.headers["Upload-Complete"]) == ("1500", "0")
    # the new phone now writes it: another device waits as for any upload in progress
    r = _patch_as(server, other_user, data, 0, 1000)
    assert r.status_code == 409 and r.json()["detail"]["code"] == "upload_in_progress"
    r = _patch_as(server, new_phone, data, 1500, len(data) - 1500)
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    assert stored_bytes(server, sha(data)) == data
    assert server.get(f"/photos/{sha(data)}", "inspector").content == data


def test_a_photo_refused_as_no_image_leaves_no_link_and_the_case_keeps_the_rest(
    server: Server,
) -> None:
    case_id = record_parking_case(server)
    good = jpeg_bytes(seed=15)
    real = jpeg_bytes(seed=16)
    refused = real[:200] + bytes(len(real) - 200)  # a JPEG's header, then zeros
    assert link(server, "inspector", upload(server, "inspector", good), case_id).status_code == 201
    assert server.post(
        f"/cases/{case_id}/notes", "inspector", {"note": "现场已拍照", "photos": [sha(good)]}
    ).status_code in (200, 201)
    assert link(server, "inspector", sha(refused), case_id).status_code == 201  # bytes follow
    case_before = server.get(f"/cases/{case_id}", "inspector").json()

    r = patch(server, "inspector", sha(refused), 0, len(refused), refused)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "not_an_image"

    engine = make_engine(server.url)
    with Session(engine) as s:
        links = s.exec(select(PhotoLink.sha256).where(col(PhotoLink.case_id) == case_id)).all()
    engine.dispose()
    assert list(links) == [sha(good)]  # nothing dangling: the refused photo's link is gone
    assert server.get(f"/cases/{case_id}", "inspector").json() == case_before
    assert server.get(f"/photos/{sha(good)}", "supervisor").content == good
