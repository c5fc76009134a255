"""The clocks reach the phones through sync, whichever way the action arrived: an assignment
pushed from a phone gives the lead's phone its 签收 deadline, a return pushed from a phone
starts the first-contact department's re-routing clock, and the phones' task lists show both."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fieldapp.viewmodels.tasks import row_of
from server.evaluation.rules import load_rules
from sync.client import SyncClient
from sync.protocol import CommandType
from sync.workflow import acceptance_due_at, reroute_due_at
from tests.support.live_server import LiveServer
from tests.support.work_calendar import SEEDED
from tests.sync.test_dispute_sync import assigned_case, device, live

__all__ = ["live"]  # the module's fixture: a demo server


def _moment(raw: object) -> datetime:
    return datetime.fromisoformat(str(raw))


def _snapshot(phone: SyncClient, case_id: str) -> dict[str, object]:
    snap = phone.store.case(case_id)
    assert snap is not None
    return dict(snap)


def test_a_pushed_assignment_and_a_pushed_return_bring_their_deadlines_to_the_phones(
    tmp_path: Path, live: LiveServer
) -> None:
    case_id = assigned_case(tmp_path, live)  # pushed by the inspector's phone; zhzf leads
    lead = device(tmp_path / "lead", live, "zhzf_handler")
    reporter = device(tmp_path / "r", live, "inspector")
    lead.sync_once()
    snap = _snapshot(lead, case_id)
    accept_by = _moment(snap["acceptance_due_at"])
    assert accept_by == acceptance_due_at(_moment(snap["assigned_at"]), SEEDED)
    assert row_of(snap).acceptance_due_at == accept_by  # on the lead's task list

    lead.store.enqueue(
        CommandType.TRANSITION_CASE,
        {"case_id": case_id, "action": "return", "reason": "非本局职责，退回首问部门"},
        now=datetime.now(UTC),
    )
    assert lead.sync_once().applied == 1
    reporter.sync_once()
    back = _snapshot(reporter, case_id)
    assert back["status"] == "discovered" and back["acceptance_due_at"] is None
    events = back["events"]
    assert isinstance(events, list)
    returned = [e for e in events if e["kind"] == "CaseReturned"][-1]
    expected = reroute_due_at(
        returned_at=_moment(returned["at"]), limit=load_rules().reroute_limit, calendar=SEEDED
    )
    assert _moment(back["reroute_due_at"]) == expected
    assert row_of(back).reroute_due_at == expected
