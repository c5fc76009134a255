"""The file stores themselves (server/storage, docs/storage.md): the local directory (with the
SQLite runs) and PostgreSQL's content-addressed pieces (with the PostgreSQL runs) keep the same
promises — a put checked against its sha256, reads in pieces of at most 256 KiB that are
checked, unfinished uploads invisible until published, deletes that leave nothing behind."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from server.db import make_engine
from server.models.storage import FileChunk
from server.storage import (
    CHUNK_BYTES,
    PHOTOS,
    ContentMismatch,
    FileStore,
    StoredFileMissing,
    open_stores,
)
from tests.conftest import Backend


@pytest.fixture
def store_and_engine(backend: Backend, tmp_path: Path) -> Iterator[tuple[FileStore, Engine]]:
    url = backend.fresh_url(tmp_path)
    engine = make_engine(url)
    kind = "local" if backend.name == "sqlite" else "postgres"
    stores = open_stores(
        kind, engine=engine, photo_dir=tmp_path / "photos", minutes_dir=tmp_path / "minutes"
    )
    yield stores.photos, engine
    engine.dispose()
    backend.drop(url)


def content(n: int, seed: int = 1) -> tuple[bytes, str]:
    data = random.Random(seed).randbytes(n)
    return data, hashlib.sha256(data).hexdigest()


def pieces_of(data: bytes, size: int = 100_000) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_file_goes_in_checked_and_comes_out_checked_in_bounded_pieces(
    store_and_engine: tuple[FileStore, Engine],
) -> None:
    store, _ = store_and_engine
    data, sha = content(3 * CHUNK_BYTES + 12_345)
    with pytest.raises(ContentMismatch):
        store.put(sha, pieces_of(data[:-1] + b"x"), sha256=sha)
    assert not store.exists(sha) and list(store.names()) == []  # nothing half-kept

    info = store.put(sha, pieces_of(data), sha256=sha)
    assert (info.sha256, info.size) == (sha, len(data))
    out = list(store.open(sha, sha))
    assert b"".join(out) == data
    assert max(len(p) for p in out) <= CHUNK_BYTES  # never the whole file at once
    assert store.size(sha) == len(data) and list(store.names()) == [sha]
    with pytest.raises(StoredFileMissing):
        store.open("0" * 64)

    # an upload in pieces is invisible until published, and a rewrite cuts the old tail
    up, up_sha = content(CHUNK_BYTES + 5000, seed=2)
    store.write_part(up_sha, 0, up[:200_000])
    store.write_part(up_sha, 150_000, b"\xee" * 200_000)  # a stale, longer write
    store.write_part(up_sha, 150_000, up[150_000:])  # the resend from the recorded offset
    assert store.part_size(up_sha) == len(up) and not store.exists(up_sha)
    with store.open_part(up_sha) as fh:
        fh.seek(CHUNK_BYTES - 10)
        assert fh.read(20) == up[CHUNK_BYTES - 10 : CHUNK_BYTES + 10]  # across a piece
        fh.seek(0)
        assert hashlib.sha256(fh.read()).hexdigest() == up_sha
    store.publish_part(up_sha, up_sha)
    assert store.part_size(up_sha) == 0
    assert b"".join(store.open(up_sha, up_sha)) == up
    assert sorted(store.names()) == sorted([sha, up_sha])

    store.delete(sha)
    store.delete(up_sha)
    assert list(store.names()) == [] and not store.exists(sha)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # a directory keeps names
def test_the_database_store_keeps_one_copy_of_a_content_held_under_two_names(
    store_and_engine: tuple[FileStore, Engine],
) -> None:
    store, engine = store_and_engine
    minutes = open_stores(
        "postgres", engine=engine, photo_dir=Path("unused"), minutes_dir=Path("unused")
    ).minutes
    data, sha = content(CHUNK_BYTES * 2 + 1, seed=3)

    def pieces() -> int:
        with engine.connect() as conn:
            stmt = select(func.count()).select_from(FileChunk).where(FileChunk.content == sha)
            return int(conn.execute(stmt).scalar_one())

    assert store.area == PHOTOS
    store.put(sha, [data], sha256=sha)
    minutes.put("copy.docx", pieces_of(data))
    assert pieces() == 3  # one copy: 256 KiB + 256 KiB + 1 byte
    store.delete(sha)
    assert b"".join(minutes.open("copy.docx", sha)) == data  # the other name still reads
    minutes.delete("copy.docx")
    assert pieces() == 0  # the last name gone: its content too
