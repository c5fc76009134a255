"""The sync engine writes a whole page of cases and a whole batch of results at once: the
phone still keeps what has work queued, drops what the server no longer gives it, and records
each command's result (and only for commands it holds)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sync.device_store import DeviceStore, OutboxCommand
from sync.protocol import CommandResult, PullResponse, ResultStatus

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def snapshot(case_id: str, status: str = "discovered") -> dict[str, object]:
    return {
        "id": case_id,
        "status": status,
        "category": "waterlogging",
        "updated_at": NOW.isoformat(),
        "events": [],
    }


def page(cases: list[dict[str, object]], **kw: object) -> PullResponse:
    return PullResponse.model_validate(
        {"cursor": "c", "reset": False, "more": False, "cases": cases, "last_applied": 0}
        | {"results": [], **kw}
    )


def test_a_reset_pull_keeps_cases_with_queued_work_even_beside_a_command_without_a_case(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "phone.db")
    store.apply_pull(page([snapshot("old"), snapshot("busy")]))
    with store.transaction() as s:  # one queued command for "busy", one with no case at all
        s.add(OutboxCommand(id=1, type="AddNote", payload="{}", created_at="x", case_id="busy"))
        s.add(OutboxCommand(id=2, type="AddNote", payload="{}", created_at="x", case_id=None))

    store.apply_pull(page([snapshot("new", "assigned"), snapshot("busy", "closed")], reset=True))

    assert sorted(store.case_ids()) == ["busy", "new"]
    busy = store.case("busy")
    assert busy is not None and busy["status"] == "discovered"  # the local copy, not the server's
    new = store.case("new")
    assert new is not None and new["status"] == "assigned"


def test_a_page_replaces_a_held_copy_and_drops_a_gone_case_unless_work_is_queued(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "phone.db")
    store.apply_pull(page([snapshot("a"), snapshot("b"), snapshot("c")]))
    with store.transaction() as s:
        s.add(OutboxCommand(id=1, type="AddNote", payload="{}", created_at="x", case_id="c"))

    store.apply_pull(page([snapshot("a", "closed")], gone=["b", "c"]))

    assert sorted(store.case_ids()) == ["a", "c"]
    a = store.case("a")
    assert a is not None and a["status"] == "closed"


def test_a_batch_of_results_is_recorded_per_command_and_unknown_ids_are_skipped(
    tmp_path: Path,
) -> None:
    store = DeviceStore(tmp_path / "phone.db")
    with store.transaction() as s:
        for i in (1, 2, 3, 4):
            s.add(OutboxCommand(id=i, type="AddNote", payload="{}", created_at="x", case_id="k"))

    store.record_results(
        [
            CommandResult(id=1, status=ResultStatus.APPLIED),
            CommandResult(id=2, status=ResultStatus.REJECTED, code="closed", reason="已办结"),
            CommandResult(id=99, status=ResultStatus.APPLIED),
        ],
        last_applied=3,
    )

    held = {c.id: (c.status, c.code, c.reason) for c in store.commands()}
    assert held == {
        1: ("applied", None, None),
        2: ("rejected", "closed", "已办结"),
        3: ("applied?", None, None),  # applied on the server; its result comes by pull
        4: ("pending", None, None),
    }
    assert store.pending_count() == 1

    # the pull brings the lost result; a result never overwrites one already recorded
    store.apply_pull(
        page(
            [],
            results=[
                {"id": 3, "status": "conflict", "code": "c", "reason": "r"},
                {"id": 2, "status": "applied"},
            ],
        )
    )
    after = {c.id: (c.status, c.code) for c in store.commands()}
    assert after[3] == ("conflict", "c") and after[2] == ("rejected", "closed")
