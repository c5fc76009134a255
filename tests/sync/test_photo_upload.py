"""The device's photo upload against the real server (uvicorn on a local port, both databases),
directly and through a throttled, lossy proxy that cuts connections mid-body. The resuming
tests run with both stores too (``BOTH_STORES``: a directory, PostgreSQL's file store)."""

from __future__ import annotations

import hashlib
import io
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from PIL import Image

from server.app import create_app
from server.config import Settings
from server.db import make_engine
from server.storage import FileStore
from sync.photo_upload import (
    PhotoRefused,
    PhotoUploadGaveUp,
    backoff_delay,
    upload_photo,
)
from tests.conftest import BOTH_STORES, Backend
from tests.support.lossy_proxy import LossyProxy

KiB = 1024
MiB = 1024 * KiB
MAX_PHOTO = 3 * MiB


@dataclass
class LiveServer:
    url: str
    port: int
    store: FileStore

    def headers(self, username: str = "inspector") -> dict[str, str]:
        r = requests.post(
            f"{self.url}/auth/login",
            json={"username": username, "password": "yixian-demo"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def held(self, sha256: str) -> bytes:
        return b"".join(self.store.open(sha256, sha256))  # checked against its name


@pytest.fixture
def live_server(backend: Backend, tmp_path: Path, storage_kind: str) -> Iterator[LiveServer]:
    url = backend.fresh_url(tmp_path)
    settings = Settings(
        database_url=url,
        photo_dir=tmp_path / "photos",
        secret="test",
        max_photo_bytes=MAX_PHOTO,
        storage=storage_kind,
    )
    engine = make_engine(url)
    app = create_app(settings, engine=engine)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    yield LiveServer(f"http://127.0.0.1:{port}", port, app.state.stores.photos)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    engine.dispose()
    backend.drop(url)


def photo(seed: int, approx_bytes: int) -> tuple[bytes, str]:
    """A JPEG of roughly ``approx_bytes`` (noise does not compress) and its sha256."""
    side = int((approx_bytes / 1.2) ** 0.5)
    out = io.BytesIO()
    Image.effect_noise((side, side), 60 + seed).convert("RGB").save(out, "JPEG", quality=100)
    data = out.getvalue()
    return data, hashlib.sha256(data).hexdigest()


class RecordingSession(requests.Session):
    """Remembers the offset of every chunk sent: a chunk sent twice is a re-send."""

    def __init__(self) -> None:
        super().__init__()
        self.chunk_offsets: list[tuple[str, int]] = []

    def patch(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.get("headers") or {}
        self.chunk_offsets.append((str(url), int(headers["Upload-Offset"])))
        return super().patch(url, data=data, **kwargs)

    def resends(self) -> int:
        return len(self.chunk_offsets) - len(set(self.chunk_offsets))


def no_sleep(_seconds: float) -> None:
    pass


# --- on a good network -----------------------------------------------------------------------


def test_photo_arrives_whole_and_progress_reaches_the_total(live_server: LiveServer) -> None:
    data, name = photo(1, 700 * KiB)
    progress: list[tuple[int, int]] = []
    session = RecordingSession()
    upload_photo(
        session,
        live_server.url,
        live_server.headers(),
        data,
        name,
        chunk_size=128 * KiB,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert live_server.held(name) == data
    assert progress[-1] == (len(data), len(data))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert session.resends() == 0
    assert len(session.chunk_offsets) == -(-len(data) // (128 * KiB))


def test_photo_from_a_file_path_arrives_and_the_file_is_left_in_place(
    live_server: LiveServer, tmp_path: Path
) -> None:
    data, name = photo(2, 300 * KiB)
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(data)
    upload_photo(requests.Session(), live_server.url, live_server.headers(), path, name)
    assert live_server.held(name) == data
    assert path.read_bytes() == data  # deleting it is the device's call, after this returns


@BOTH_STORES
def test_interrupted_upload_resumes_where_it_stopped(live_server: LiveServer) -> None:
    data, name = photo(3, 600 * KiB)
    headers = live_server.headers()
    chunk = 64 * KiB

    class DiesAfterThreeChunks(RecordingSession):
        def patch(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
            if len(self.chunk_offsets) == 3:
                raise KeyboardInterrupt("the app was killed")
            return super().patch(url, data=data, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        upload_photo(DiesAfterThreeChunks(), live_server.url, headers, data, name, chunk_size=chunk)

    later = RecordingSession()
    upload_photo(later, live_server.url, headers, data, name, chunk_size=chunk)
    assert later.chunk_offsets[0][1] == 3 * chunk  # not from zero
    assert live_server.held(name) == data


def test_photo_the_server_already_holds_is_not_sent_again(live_server: LiveServer) -> None:
    data, name = photo(4, 200 * KiB)
    upload_photo(requests.Session(), live_server.url, live_server.headers(), data, name)
    again = RecordingSession()
    progress: list[tuple[int, int]] = []
    upload_photo(  # the same user again (to anyone else, HEAD answers "never seen")
        again,
        live_server.url,
        live_server.headers("inspector"),
        data,
        name,
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert again.chunk_offsets == []
    assert progress == [(len(data), len(data))]


@BOTH_STORES
def test_two_devices_sending_the_same_photo_at_once_both_finish_with_one_whole_copy(
    live_server: LiveServer,
) -> None:
    data, name = photo(9, 900 * KiB)
    errors: list[BaseException] = []
    sessions = [RecordingSession(), RecordingSession()]
    headers = [live_server.headers("inspector"), live_server.headers("zhzf_handler")]

    def send(i: int) -> None:
        try:
            upload_photo(
                sessions[i],
                live_server.url,
                headers[i],
                data,
                name,
                chunk_size=32 * KiB,
                sleep=lambda _s: threading.Event().wait(0.02),  # the waiter asks again soon
                max_failures=2000,
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert live_server.held(name) == data
    # The upload is written by the device that started it, which never sends a chunk twice;
    # the other waits (409 upload_in_progress). The photo is then held, but not one this other
    # user may see: to them it is a photo never seen (README "Hostile input and object
    # checks"), so they send every byte, proving they hold it — and may then fetch it.
    assert any(s.resends() == 0 and s.chunk_offsets for s in sessions)
    for h in headers:
        fetched = requests.get(f"{live_server.url}/photos/{name}", headers=h, timeout=10)
        assert fetched.status_code == 200 and fetched.content == data
    # one whole copy, nothing of the shared upload left over (the other user's own proof
    # upload is dropped once it hashed: server/services/photos.py _receive_shadow)
    assert list(live_server.store.names()) == [name]
    assert live_server.store.part_size(name) == 0


def test_photo_over_the_size_limit_is_refused_with_413(live_server: LiveServer) -> None:
    data, name = photo(5, MAX_PHOTO + 300 * KiB)
    assert len(data) > MAX_PHOTO
    with pytest.raises(PhotoRefused) as refused:
        upload_photo(requests.Session(), live_server.url, live_server.headers(), data, name)
    assert refused.value.status == 413


def test_bytes_that_do_not_match_their_name_are_not_sent(live_server: LiveServer) -> None:
    data, _ = photo(6, 50 * KiB)
    session = RecordingSession()
    with pytest.raises(ValueError):
        upload_photo(session, live_server.url, live_server.headers(), data, "0" * 64)
    assert session.chunk_offsets == []


def test_server_errors_are_retried_with_growing_backoff(live_server: LiveServer) -> None:
    data, name = photo(7, 200 * KiB)
    pauses: list[float] = []

    class Flaky(RecordingSession):
        failures_left = 3

        def patch(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
            if self.failures_left:
                self.failures_left -= 1
                response = requests.Response()
                response.status_code = 503
                response._content = b'{"detail": {"code": "retry"}}'
                return response
            return super().patch(url, data=data, **kwargs)

    upload_photo(
        Flaky(),
        live_server.url,
        live_server.headers(),
        data,
        name,
        sleep=pauses.append,
        backoff_base=1.0,
        backoff_cap=100.0,
        rng=random.Random(0),
    )
    assert live_server.held(name) == data
    assert len(pauses) == 3
    assert all(0 <= p <= 2**i for i, p in enumerate(pauses))


def test_upload_gives_up_after_repeated_network_failures() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    data, name = photo(8, 20 * KiB)
    pauses: list[float] = []
    with pytest.raises(PhotoUploadGaveUp):
        upload_photo(
            requests.Session(), f"http://127.0.0.1:{port}", {}, data, name,
            sleep=pauses.append, max_failures=4,
        )  # fmt: skip
    assert len(pauses) == 4


def test_backoff_is_jittered_below_a_doubling_cap() -> None:
    rng = random.Random(42)
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, base=0.5, cap=30.0, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling  # spread over the range, not a fixed value
        assert len(set(delays)) > 150


# --- on a bad network ------------------------------------------------------------------------


def test_photos_all_arrive_through_a_slow_lossy_link_with_one_resend_per_cut(
    live_server: LiveServer,
) -> None:
    photos = [photo(10 + i, 400 * KiB) for i in range(3)]
    total = sum(len(d) for d, _ in photos)
    rng = random.Random(2026)
    cut_points = sorted(rng.sample(range(50 * KiB, total - 50 * KiB), 6))
    headers = live_server.headers()
    session = RecordingSession()
    with LossyProxy(
        ("127.0.0.1", live_server.port), latency=0.02, bandwidth=2 * MiB, cut_up_at=cut_points
    ) as proxy:
        for data, name in photos:
            upload_photo(
                session, proxy.url, headers, data, name,
                chunk_size=64 * KiB, backoff_base=0.05, backoff_cap=0.5,
            )  # fmt: skip
    for data, name in photos:
        assert live_server.held(name) == data
    assert proxy.stats.cuts == len(cut_points)  # every scheduled cut happened
    assert 1 <= session.resends() <= proxy.stats.cuts
    assert proxy.stats.bytes_up < total + proxy.stats.cuts * 64 * KiB + 200 * KiB


def test_lost_responses_cause_no_resend(live_server: LiveServer) -> None:
    """A response cut on its way back: the chunk was kept, HEAD says so, nothing is re-sent."""
    data, name = photo(20, 500 * KiB)
    headers = live_server.headers()
    session = RecordingSession()
    # Responses are a few hundred bytes each: cut the 3rd, 7th and 12th or so.
    with LossyProxy(
        ("127.0.0.1", live_server.port), latency=0.01, cut_down_at=[700, 1900, 3300]
    ) as proxy:
        upload_photo(
            session, proxy.url, headers, data, name,
            chunk_size=32 * KiB, backoff_base=0.05, backoff_cap=0.2,
        )  # fmt: skip
    assert live_server.held(name) == data
    assert proxy.stats.cuts == 3
    assert session.resends() == 0
