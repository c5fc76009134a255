"""The phone's screens read its database while the sync engine writes to it: a read takes a
snapshot and never waits for the writer (in web mode one event loop serves every phone, so a
waiting read would freeze every screen), and it sees only what was committed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sync.device_store import DeviceStore

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def snapshot(case_id: str) -> dict[str, object]:
    return {
        "id": case_id,
        "status": "discovered",
        "category": "waterlogging",
        "updated_at": NOW.isoformat(),
        "events": [],
    }


def test_a_screen_reads_committed_cases_while_a_sync_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "phone.db")
    with store.transaction() as s:
        store.put_local_case(s, snapshot("c-1"), from_server=True)
    store.set("last_sync", "earlier")
    writing, read_done = threading.Event(), threading.Event()
    held_during_read: list[bool] = []

    def sync_writes_a_page() -> None:
        with store.transaction() as s:  # BEGIN IMMEDIATE: the write lock, as a pull holds it
            store.put_local_case(s, snapshot("c-2"), from_server=True)
            s.flush()
            writing.set()
            held_during_read.append(not read_done.wait(timeout=10))

    writer = threading.Thread(target=sync_writes_a_page)
    writer.start()
    assert writing.wait(timeout=10)
    seen = [c["id"] for c in store.cases()]
    meta = store.get("last_sync")
    read_done.set()
    writer.join()

    assert held_during_read == [False]  # the reads finished while the writer held its lock
    assert seen == ["c-1"] and meta == "earlier"  # the uncommitted page is not seen
    assert sorted(c for c in store.case_ids()) == ["c-1", "c-2"]  # and it is, once committed
