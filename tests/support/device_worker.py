"""A device as its own process: open the store, sync until nothing is left, exit.

    python -m tests.support.device_worker --db DEVICE.db --server http://127.0.0.1:PORT

It prints ``ready`` once the store is open (imports done), then syncs; the kill test SIGKILLs
it at a random instant after that. Also home to the helpers that record offline work the way
the field app does (the local change and its numbered command in one transaction).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from sqlmodel import Session

from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.protocol import CommandType

CATEGORY = "waterlogging"
LOCATION = {"lat": 35.7215, "lon": 116.4877}  # in the county seat (汶上县城区)


def small_jpeg(seed: int, side: int = 32) -> bytes:
    """A few KB of noise as a JPEG: distinct per seed, like a phone photo's content."""
    rng = random.Random(seed)
    picture = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def record_case(
    store: DeviceStore,
    *,
    case_id: str,
    description: str,
    now: datetime,
    category: str = CATEGORY,
    location: dict[str, float] | None = None,
) -> int:
    """Record a case offline; returns its command id."""
    payload: dict[str, Any] = {
        "case_id": case_id,
        "category": category,
        "description": description,
        "location": location or LOCATION,
        "recorded_at": now.isoformat(),
    }

    def local(session: Session) -> None:
        store.put_local_case(
            session,
            {
                "id": case_id,
                "status": "discovered",
                "category": category,
                "description": description,
                "updated_at": now.isoformat(),
                "events": [],
            },
            from_server=False,
        )

    return store.enqueue(CommandType.CREATE_CASE, payload, now=now, local_change=local)


def edit_description(store: DeviceStore, *, case_id: str, value: str, now: datetime) -> int | None:
    """Edit a case's description against the value this device shows; None if it has no copy."""
    snapshot = store.case(case_id)
    if snapshot is None:
        return None
    base = snapshot.get("description")

    def local(session: Session) -> None:
        store.put_local_case(
            session, {**snapshot, "description": value}, from_server=bool(snapshot.get("number"))
        )

    return store.enqueue(
        CommandType.EDIT_CASE,
        {"case_id": case_id, "fields": {"description": {"base": base, "value": value}}},
        now=now,
        local_change=local,
    )


def add_photo(
    store: DeviceStore, *, case_id: str, data: bytes, photo_dir: Path, now: datetime
) -> str:
    """Keep a photo's file on the device and queue its link to the case; returns its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    photo_dir.mkdir(parents=True, exist_ok=True)
    path = photo_dir / f"{sha}.jpg"
    path.write_bytes(data)

    def local(session: Session) -> None:
        store.add_photo(session, sha256=sha, path=str(path), size=len(data), case_id=case_id)

    store.enqueue(
        CommandType.ADD_PHOTO, {"case_id": case_id, "sha256": sha}, now=now, local_change=local
    )
    return sha


def quiet(client: SyncClient) -> bool:
    """Nothing left to send: no pending command, no photo to upload."""
    return client.store.pending_count() == 0 and not client.store.photos_to_upload()


def sync_until_quiet(client: SyncClient, max_rounds: int = 20) -> int:
    """Sync until nothing is left, then once more so the last pull sees everything; returns
    the rounds it took."""
    for rounds in range(1, max_rounds + 1):
        client.sync_once()
        if quiet(client):
            client.sync_once()
            return rounds
    raise RuntimeError(f"still not quiet after {max_rounds} syncs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--server", required=True)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    store = DeviceStore(args.db)
    client = SyncClient(store, args.server, batch=args.batch, sleep=lambda _s: None)
    print("ready", flush=True)
    sync_until_quiet(client)
    store.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
