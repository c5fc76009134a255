"""Photos through the HTTP API on both databases: resumable upload by sha256, the checks on
every chunk and on the finished photo, size limits, and who may fetch a photo. The upload's
own tests run with both stores (``BOTH_STORES``: a directory, and PostgreSQL's file store)."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from server.demo_data import SITES
from server.storage import FileStore
from server.storage.local import LocalFileStore
from tests.conftest import BOTH_STORES, Server

PARKING_LOT = next(s for s in SITES if s.kind == "parking_lot")
MiB = 1024 * 1024


def jpeg_bytes(seed: int = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    picture = Image.effect_noise(size, 40 + seed).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 64), 30).convert("RGB").save(out, "PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def head(server: Server, user: str, name: str) -> Any:
    return server.client.head(f"/photos/{name}", headers=server.login(user))


def patch(
    server: Server,
    user: str,
    name: str,
    offset: int,
    length: int,
    chunk: bytes,
    chunk_sha: str | None = None,
) -> Any:
    headers = {
        **server.login(user),
        "Upload-Offset": str(offset),
        "Upload-Length": str(length),
        "Chunk-Sha256": chunk_sha if chunk_sha is not None else sha(chunk),
        "Content-Type": "application/offset+octet-stream",
    }
    return server.client.patch(f"/photos/{name}", content=chunk, headers=headers)


def upload(server: Server, user: str, data: bytes, chunk_size: int = 64 * 1024) -> str:
    name = sha(data)
    for offset in range(0, len(data), chunk_size):
        r = patch(server, user, name, offset, len(data), data[offset : offset + chunk_size])
        assert r.status_code == 204, r.text
    return name


def photo_store(server: Server) -> FileStore:
    store: FileStore = server.client.app.state.stores.photos  # type: ignore[attr-defined]
    return store


def held(server: Server, name: str) -> bytes | None:
    """The photo's bytes as the server's store holds them (checked), None if it has none."""
    store = photo_store(server)
    return b"".join(store.open(name, name)) if store.exists(name) else None


def part_path(server: Server, name: str) -> Path:
    store = photo_store(server)
    if not isinstance(store, LocalFileStore):
        pytest.skip("the unfinished upload is a file only in the local store")
    return store.part_path(name)


def record_parking_case(server: Server, user: str = "inspector") -> str:
    lot = PARKING_LOT.location
    body = {
        "id": str(uuid.uuid4()),
        "category": "parking",
        "description": "停车场无人管理，车辆乱停",
        "location": {"lat": lot.lat, "lon": lot.lon},
    }
    r = server.post("/cases", user, body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def link(server: Server, user: str, name: str, case_id: str) -> Any:
    return server.post(f"/photos/{name}/links", user, {"case_id": case_id})


# --- the resumable upload ------------------------------------------------------------------


def test_head_on_a_photo_never_seen_says_start_at_zero(server: Server) -> None:
    r = head(server, "inspector", sha(b"never sent"))
    assert r.status_code == 200
    assert r.headers["Upload-Offset"] == "0"
    assert r.headers["Upload-Complete"] == "0"


@BOTH_STORES
def test_photo_sent_in_chunks_arrives_whole_and_head_tracks_the_offset(server: Server) -> None:
    data = jpeg_bytes()
    name = sha(data)
    third = len(data) // 3
    r = patch(server, "inspector", name, 0, len(data), data[:third])
    assert r.status_code == 204
    assert r.headers["Upload-Offset"] == str(third)
    assert r.headers["Upload-Complete"] == "0"
    status = head(server, "inspector", name)
    assert (status.headers["Upload-Offset"], status.headers["Upload-Complete"]) == (str(third), "0")
    assert status.headers["Upload-Length"] == str(len(data))

    r = patch(server, "inspector", name, third, len(data), data[third : 2 * third])
    assert r.status_code == 204
    r = patch(server, "inspector", name, 2 * third, len(data), data[2 * third :])
    assert r.status_code == 204
    assert r.headers["Upload-Complete"] == "1"

    status = head(server, "inspector", name)
    assert (status.headers["Upload-Offset"], status.headers["Upload-Complete"]) == (
        str(len(data)),
        "1",
    )
    got = server.get(f"/photos/{name}", "inspector")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.content == data
    assert held(server, name) == data
    assert photo_store(server).part_size(name) == 0  # nothing unfinished left behind


def test_png_is_accepted_and_served_as_png(server: Server) -> None:
    data = png_bytes()
    name = upload(server, "inspector", data)
    got = server.get(f"/photos/{name}", "inspector")
    assert got.headers["content-type"] == "image/png"
    assert got.content == data


def test_chunk_at_the_wrong_offset_is_refused_with_the_servers_offset(server: Server) -> None:
    data = jpeg_bytes()
    name = sha(data)
    assert patch(server, "inspector", name, 0, len(data), data[:1000]).status_code == 204

    ahead = patch(server, "inspector", name, 2000, len(data), data[2000:3000])
    assert ahead.status_code == 409
    assert ahead.headers["Upload-Offset"] == "1000"
    assert ahead.json()["detail"]["code"] == "offset_mismatch"

    again = patch(server, "inspector", name, 0, len(data), data[:1000])  # a re-sent chunk
    assert again.status_code == 409
    assert again.headers["Upload-Offset"] == "1000"
    assert head(server, "inspector", name).headers["Upload-Offset"] == "1000"


def test_chunk_whose_checksum_differs_is_refused_and_not_kept(server: Server) -> None:
    data = jpeg_bytes()
    name = sha(data)
    damaged = bytearray(data[:4096])
    damaged[100] ^= 0xFF
    r = patch(server, "inspector", name, 0, len(data), bytes(damaged), chunk_sha=sha(data[:4096]))
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "Chunk-Sha256"
    assert head(server, "inspector", name).headers["Upload-Offset"] == "0"


@BOTH_STORES
def test_photo_whose_bytes_do_not_hash_to_its_name_is_refused_and_discarded(
    server: Server,
) -> None:
    data = jpeg_bytes()
    wrong_name = sha(data + b"x")
    first = patch(server, "inspector", wrong_name, 0, len(data), data[:5000])
    assert first.status_code == 204
    last = patch(server, "inspector", wrong_name, 5000, len(data), data[5000:])
    assert last.status_code == 422
    assert last.json()["detail"]["field"] == "sha256"
    status = head(server, "inspector", wrong_name)
    assert (status.headers["Upload-Offset"], status.headers["Upload-Complete"]) == ("0", "0")
    assert held(server, wrong_name) is None
    assert photo_store(server).part_size(wrong_name) == 0
    assert server.get(f"/photos/{wrong_name}", "inspector").status_code == 404


def test_bytes_that_are_not_a_jpeg_or_png_are_refused(server: Server) -> None:
    pdf = b"%PDF-1.4\n" + b"0" * 2000
    r = patch(server, "inspector", sha(pdf), 0, len(pdf), pdf)
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "content"
    tiny = b"GIF8"  # too short to judge on the first chunk: judged when complete
    r = patch(server, "inspector", sha(tiny), 0, len(tiny), tiny)
    assert r.status_code == 422
    assert head(server, "inspector", sha(tiny)).headers["Upload-Complete"] == "0"


def test_photo_over_the_size_limit_is_refused_with_413(server: Server) -> None:
    limit = server.client.app.state.settings.max_photo_bytes  # type: ignore[attr-defined]
    chunk = b"\xff\xd8\xff" + b"\0" * 1000
    r = patch(server, "inspector", sha(b"big"), 0, limit + 1, chunk)
    assert r.status_code == 413
    assert head(server, "inspector", sha(b"big")).headers["Upload-Offset"] == "0"


def test_chunk_over_the_chunk_limit_is_refused_with_413(server: Server) -> None:
    chunk = b"\xff\xd8\xff" + b"\0" * (8 * MiB)
    r = patch(server, "inspector", sha(b"huge chunk"), 0, 16 * MiB, chunk)
    assert r.status_code == 413


def test_chunk_running_past_the_declared_length_is_refused_with_413(server: Server) -> None:
    data = jpeg_bytes()
    r = patch(server, "inspector", sha(data), 0, 1000, data[:2000])
    assert r.status_code == 413


def test_changing_the_length_of_an_upload_in_progress_is_refused(server: Server) -> None:
    data = jpeg_bytes()
    name = sha(data)
    assert patch(server, "inspector", name, 0, len(data), data[:1000]).status_code == 204
    r = patch(server, "inspector", name, 1000, len(data) + 50, data[1000:2000])
    assert r.status_code == 409
    assert r.json()["detail"]["code"] == "length_mismatch"
    assert r.headers["Upload-Offset"] == "1000"


@BOTH_STORES
def test_photo_already_held_is_not_written_again(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = jpeg_bytes()
    name = upload(server, "inspector", data)
    writes: list[str] = []
    store = photo_store(server)
    for method in ("write_part", "publish_part", "put", "delete"):
        original = getattr(store, method)

        def spy(name: str, *a: Any, _m: str = method, _o: Any = original, **k: Any) -> Any:
            writes.append(name)
            return _o(name, *a, **k)

        monkeypatch.setattr(store, method, spy)
    r = patch(server, "inspector", name, 0, len(data), data[:1000])
    assert r.status_code == 204
    assert r.headers["Upload-Complete"] == "1"
    assert r.headers["Upload-Offset"] == str(len(data))
    assert writes == []
    # one who may not see it is answered as for a photo never seen (tests/server/
    # test_photo_checks.py), and writes nothing of the held photo either: only their own
    r = patch(server, "zhzf_handler", name, 0, len(data), data[:1000])
    assert (r.status_code, r.headers["Upload-Complete"], r.headers["Upload-Offset"]) == (
        204,
        "0",
        "1000",
    )
    assert writes and all(".shadow" in w for w in writes)
    monkeypatch.undo()
    assert held(server, name) == data
    assert head(server, "inspector", name).headers["Upload-Complete"] == "1"


def test_upload_resumes_from_what_reached_the_disk_after_a_crash(server: Server) -> None:
    data = jpeg_bytes()
    name = sha(data)
    assert patch(server, "inspector", name, 0, len(data), data[:8000]).status_code == 204
    part = part_path(server, name)
    with part.open("r+b") as fh:  # the unsynced tail was lost in a power cut
        fh.truncate(5000)
    assert head(server, "inspector", name).headers["Upload-Offset"] == "5000"
    assert patch(server, "inspector", name, 5000, len(data), data[5000:]).status_code == 204
    assert server.get(f"/photos/{name}", "inspector").content == data


@BOTH_STORES
def test_a_chunk_stored_but_not_recorded_is_overwritten_by_the_next(server: Server) -> None:
    """A host dies after its chunk reached the store but before the upload's offset was
    committed: the phone resends from the recorded offset and the stale tail is cut."""
    data = jpeg_bytes(3, (1100, 800))
    assert len(data) > 600_000  # the stale tail spans pieces of the database store (256 KiB)
    name = sha(data)
    assert patch(server, "inspector", name, 0, len(data), data[:300_000]).status_code == 204
    photo_store(server).write_part(name, 300_000, b"\xee" * 300_000)  # never recorded
    assert head(server, "inspector", name).headers["Upload-Offset"] == "300000"
    r = patch(server, "inspector", name, 300_000, len(data), data[300_000:])
    assert r.status_code == 204, r.text
    assert r.headers["Upload-Complete"] == "1"
    assert server.get(f"/photos/{name}", "inspector").content == data


@BOTH_STORES
def test_a_damaged_stored_photo_is_refused_with_a_clear_error_not_served(
    server: Server,
) -> None:
    data = jpeg_bytes(4)
    name = upload(server, "inspector", data)
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x01
    store = photo_store(server)
    if isinstance(store, LocalFileStore):
        store.path(name).write_bytes(bytes(damaged))
    else:  # the database store: the same bytes, one bit flipped, in the pieces of that content
        from sqlalchemy import text

        with server.client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(
                text("UPDATE file_chunk SET data = :d WHERE content = :c AND seq = 0"),
                {"d": bytes(damaged[: 256 * 1024]), "c": name},
            )
    r = server.get(f"/photos/{name}", "inspector")
    assert r.status_code == 500
    assert r.json()["detail"]["code"] == "stored_file_damaged"
    assert data[:100] not in r.content


def test_missing_or_malformed_upload_headers_name_the_header(server: Server) -> None:
    data = jpeg_bytes()
    r = server.client.patch(
        f"/photos/{sha(data)}",
        content=data[:100],
        headers={**server.login("inspector"), "Upload-Offset": "0", "Chunk-Sha256": "x"},
    )
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "Upload-Length"
    r = patch(server, "inspector", sha(data), 0, len(data), data[:100], chunk_sha="not-hex")
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "Chunk-Sha256"


def test_photo_name_must_be_a_sha256(server: Server) -> None:
    for bad in ("abc", "g" * 64, "a" * 65):
        assert head(server, "inspector", bad).status_code == 422
        assert server.get(f"/photos/{bad}", "inspector").status_code == 422


def test_upload_needs_a_signed_in_user(server: Server) -> None:
    name = sha(b"x")
    assert server.client.head(f"/photos/{name}").status_code == 401
    r = server.client.patch(
        f"/photos/{name}",
        content=b"\xff\xd8\xff",
        headers={"Upload-Offset": "0", "Upload-Length": "3", "Chunk-Sha256": name},
    )
    assert r.status_code == 401


# --- who may fetch a photo -----------------------------------------------------------------


def test_unlinked_photo_is_visible_only_to_its_uploader(server: Server) -> None:
    name = upload(server, "inspector", jpeg_bytes())
    assert server.get(f"/photos/{name}", "inspector").status_code == 200
    for other in ("supervisor", "zhzf_handler", "sw_handler"):
        assert server.get(f"/photos/{name}", other).status_code == 404, other


def test_department_fetches_a_photo_only_once_it_may_see_the_case(server: Server) -> None:
    data = jpeg_bytes()
    name = upload(server, "inspector", data)
    case_id = record_parking_case(server)
    assert link(server, "inspector", name, case_id).status_code == 201

    assert server.get(f"/photos/{name}", "supervisor").content == data  # oversight sees all
    assert server.get(f"/photos/{name}", "zhzf_handler").status_code == 404  # not its case yet
    r = server.post(f"/cases/{case_id}/assign", "inspector")
    assert r.status_code == 200, r.text
    assert r.json()["lead_department"] == "zhzf"
    assert server.get(f"/photos/{name}", "zhzf_handler").content == data  # now the lead
    assert server.get(f"/photos/{name}", "sw_handler").status_code == 404  # never involved


def test_link_may_come_before_the_bytes(server: Server) -> None:
    data = jpeg_bytes(seed=3)
    name = sha(data)
    case_id = record_parking_case(server)
    r = link(server, "inspector", name, case_id)
    assert r.status_code == 201
    assert r.json()["case_id"] == case_id
    assert server.get(f"/photos/{name}", "supervisor").status_code == 404  # no bytes yet
    upload(server, "inspector", data)
    assert server.get(f"/photos/{name}", "supervisor").content == data


def test_linking_twice_keeps_one_link(server: Server) -> None:
    name = upload(server, "inspector", jpeg_bytes())
    case_id = record_parking_case(server)
    first = link(server, "inspector", name, case_id)
    second = link(server, "inspector", name, case_id)
    assert second.status_code == 201
    assert second.json() == first.json()


def test_photo_cannot_be_linked_to_a_case_the_user_cannot_see(server: Server) -> None:
    name = upload(server, "sw_handler", jpeg_bytes())
    case_id = record_parking_case(server)
    r = link(server, "sw_handler", name, case_id)
    assert r.status_code == 404


def test_knowing_a_hash_does_not_open_someone_elses_photo(server: Server) -> None:
    """A department cannot link another's photo to its own case to read it."""
    data = jpeg_bytes(seed=5)
    name = upload(server, "sw_handler", data)  # unlinked: only sw_handler sees it
    own_case = record_parking_case(server, "inspector")
    r = link(server, "inspector", name, own_case)
    assert r.status_code == 201  # as for a photo never seen: the answer tells nothing (#12)
    for user in ("inspector", "supervisor"):  # the photo does not show on the case
        assert server.get(f"/photos/{name}", user).status_code == 404, user
