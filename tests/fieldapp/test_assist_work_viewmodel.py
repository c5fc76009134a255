"""Every role's work on the phone (issue 14): an assisting department reports its part and the
lead rates it, offline, by the rules the server applies (``sync/workflow.py``); supervisors see
待核查 as a group of its own; after an action that takes a case off this user's list the app
says so and goes back to the list; "near me" never repeats a case already on my list; the sync
card counts cases, not commands."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.viewmodels.case_detail import CaseDetailViewModel, after_action
from fieldapp.viewmodels.new_inspection import NewInspectionViewModel
from fieldapp.viewmodels.records import CaseWriter, StoredPhoto
from fieldapp.viewmodels.sync_status import Counts
from fieldapp.viewmodels.tasks import Bucket, my_tasks, near_me
from sync.boundary_types import Point
from sync.device_store import DeviceStore
from sync.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from sync.lifecycle import Action, Actor
from sync.protocol import CommandType
from sync.vocabulary import Role
from sync.workflow import assist_tasks
from tests.fieldapp.vm_fixtures import NOW, POINT, reference, snapshot

CASE_ID = "7e3c1f4e-2b7a-4c9e-8f31-6a2d9b0e7c15"
LEAD = Actor("u-zhzf", Role.HANDLER, "zhzf")
ASSISTING = Actor("u-sw", Role.HANDLER, "sw")
OTHER = Actor("u-shzl", Role.HANDLER, "shzl")
SUPERVISOR = Actor("u-sup", Role.SUPERVISOR, "zfb")
SW_DUE = NOW + timedelta(hours=20)


def handling(**fields: Any) -> dict[str, Any]:
    """综合执法局 leads, 水务局 assists (its task created by the server at assignment)."""
    base: dict[str, Any] = {
        "id": CASE_ID,
        "status": "handling",
        "lead_department": "zhzf",
        "assisting": [{"department_code": "sw", "duty": "泵站强排"}],
        "assigned_at": (NOW - timedelta(hours=2)).isoformat(),
        "due_at": (NOW + timedelta(days=2)).isoformat(),
        "events": [
            {
                "kind": "AssistTaskCreated",
                "at": (NOW - timedelta(hours=2)).isoformat(),
                "actor_department": "shzl",
                "data": {"department": "sw", "duty": "泵站强排", "due_at": SW_DUE.isoformat()},
            }
        ],
    }
    return snapshot(**{**base, **fields})


def stored(tmp_path: Path, snap: dict[str, Any]) -> DeviceStore:
    store = DeviceStore(tmp_path / "phone.db")
    with store.transaction() as session:
        store.put_local_case(session, snap, from_server=True)
    return store


def detail(actor: Actor, snap: dict[str, Any], now: Any = NOW) -> CaseDetailViewModel:
    return CaseDetailViewModel(snap, actor, reference(), now=now)


PHOTO = StoredPhoto("b" * 64, "/x/b.jpg", "/x/b.thumb.jpg", 1000)


# --- 协办反馈 ----------------------------------------------------------------------------------


def test_the_assisting_department_sees_its_task_and_may_report_it_nobody_else_may() -> None:
    [row] = detail(ASSISTING, handling()).assist_tasks()
    assert (row.department_name, row.task.duty, row.task.due_at) == ("水务局", "泵站强排", SW_DUE)
    assert row.may_report and not row.may_rate and not row.task.reported
    assert detail(ASSISTING, handling()).my_assist_task() == row
    assert detail(LEAD, handling()).my_assist_task() is None
    assert detail(OTHER, handling()).my_assist_task() is None
    assert detail(ASSISTING, handling(status="closed")).my_assist_task() is None


def test_reporting_offline_writes_the_report_and_queues_its_command(tmp_path: Path) -> None:
    store = stored(tmp_path, handling())
    writer = CaseWriter(store, ASSISTING, "王喆")
    writer.report_assist_task(
        CASE_ID, note=" 已开泵强排 ", photos=[PHOTO], where=Point(*POINT), now=NOW
    )
    commands = store.pending(10)
    assert [c.type for c in commands] == [CommandType.REPORT_ASSIST_TASK, CommandType.ADD_PHOTO]
    assert commands[0].payload["department"] == "sw"
    assert commands[0].payload["note"] == "已开泵强排"
    assert commands[0].payload["photos"] == ["b" * 64]
    snap = store.case(CASE_ID)
    assert snap is not None
    [row] = detail(LEAD, snap).assist_tasks()
    assert row.task.reported and row.task.report_note == "已开泵强排"
    assert row.task.report_photos == ("b" * 64,)
    assert row.may_rate  # reported: the lead may rate it now, before its time node


def test_a_report_needs_a_note_or_photos_and_only_the_assisting_department_makes_it(
    tmp_path: Path,
) -> None:
    store = stored(tmp_path, handling())
    with pytest.raises(InvalidInput) as empty:
        CaseWriter(store, ASSISTING).report_assist_task(CASE_ID, note="  ", now=NOW)
    assert empty.value.field == "note"
    with pytest.raises(NotPermitted):  # a supervisor is no assisting department's handler
        CaseWriter(store, SUPERVISOR).report_assist_task(CASE_ID, note="代为反馈", now=NOW)
    for not_assisting in (LEAD, OTHER):  # a phone reports its own department's task only
        with pytest.raises(NotFound):
            CaseWriter(store, not_assisting).report_assist_task(CASE_ID, note="x", now=NOW)
    assert store.pending(10) == []
    assert CaseDetailViewModel.report_error(note="", photo_count=0) == "assist.error.note_required"
    assert CaseDetailViewModel.report_error(note="", photo_count=1) is None


# --- 协办评价 ----------------------------------------------------------------------------------


def test_the_lead_rates_only_once_the_task_is_reported_or_its_time_node_passed(
    tmp_path: Path,
) -> None:
    assert not detail(LEAD, handling()).assist_tasks()[0].may_rate  # too early
    late = SW_DUE + timedelta(minutes=1)
    assert detail(LEAD, handling(), now=late).assist_tasks()[0].may_rate  # not performing
    store = stored(tmp_path, handling())
    with pytest.raises(RuleViolation) as early:
        CaseWriter(store, LEAD).rate_assist_task(
            CASE_ID, department="sw", rating=4, comment="", now=NOW
        )
    assert early.value.code == "too_early_to_rate"
    with pytest.raises(NotPermitted):  # only the lead rates
        CaseWriter(store, ASSISTING).rate_assist_task(
            CASE_ID, department="sw", rating=5, comment="", now=late
        )
    assert store.pending(10) == []


def test_a_low_rating_needs_a_comment_and_a_department_is_rated_once(tmp_path: Path) -> None:
    store = stored(tmp_path, handling())
    CaseWriter(store, ASSISTING).report_assist_task(CASE_ID, note="已强排", now=NOW)
    lead = CaseWriter(store, LEAD)
    with pytest.raises(InvalidInput) as silent:
        lead.rate_assist_task(CASE_ID, department="sw", rating=2, comment=" ", now=NOW)
    assert silent.value.field == "comment"
    with pytest.raises(InvalidInput) as out_of_range:
        lead.rate_assist_task(CASE_ID, department="sw", rating=6, comment="", now=NOW)
    assert out_of_range.value.field == "rating"
    lead.rate_assist_task(CASE_ID, department="sw", rating=2, comment="到场晚", now=NOW)
    with pytest.raises(RuleViolation) as again:
        lead.rate_assist_task(CASE_ID, department="sw", rating=5, comment="", now=NOW)
    assert again.value.code == "rated"
    rate = [c for c in store.pending(10) if c.type == CommandType.RATE_ASSIST_TASK]
    assert [c.payload["rating"] for c in rate] == [2]
    snap = store.case(CASE_ID)
    assert snap is not None
    [row] = detail(LEAD, snap).assist_tasks()
    assert (row.task.rating, row.task.rating_comment, row.may_rate) == (2, "到场晚", False)
    assert CaseDetailViewModel.rating_error(rating=None, comment="") == (
        "assist.error.rating_required"
    )
    assert CaseDetailViewModel.rating_error(rating=1, comment="") == (
        "assist.error.comment_required"
    )
    assert CaseDetailViewModel.rating_error(rating=3, comment="") is None


def test_a_fresh_task_after_a_ruling_starts_without_the_old_report_and_rating() -> None:
    created = {"department": "sw", "duty": "泵站强排", "due_at": SW_DUE.isoformat()}
    events = [
        {"kind": "AssistTaskCreated", "at": "2026-11-01T01:00:00Z", "data": created},
        {"kind": "AssistTaskReported", "at": "2026-11-01T02:00:00Z", "data": {"department": "sw"}},
        {"kind": "AssistingRated", "data": {"department": "sw", "rating": 1, "comment": "差"}},
        {"kind": "AssistTaskCreated", "at": "2026-11-03T01:00:00Z", "data": created},
    ]
    [task] = assist_tasks(events, [("sw", "泵站强排")])
    assert not task.reported and not task.rated
    assert assist_tasks(events, []) == []  # no longer assisting: no task


# --- 待核查, near me, where the app goes after an action -----------------------------------------


def test_a_supervisor_sees_reported_back_cases_as_their_own_group() -> None:
    waiting = handling(status="handled", handler_user_ids=["u-zhzf"])
    buckets = dict(my_tasks([waiting], SUPERVISOR, NOW, reference().calendar))
    assert [r.case_id for r in buckets[Bucket.TO_VERIFY]] == [CASE_ID]
    # the lead that handled it may not verify it: for it the case is simply in progress
    lead_buckets = dict(my_tasks([waiting], LEAD, NOW, reference().calendar))
    assert Bucket.TO_VERIFY not in lead_buckets


def test_near_me_leaves_out_the_cases_already_on_my_list() -> None:
    mine = handling()
    other = handling(id="case-2", lead_department="sw", assisting=[])
    listed = {
        r.case_id for _, rows in my_tasks([mine], LEAD, NOW, reference().calendar) for r in rows
    }
    near = near_me([mine, other], Point(*POINT), exclude=listed)
    assert [r.case_id for r in near] == ["case-2"]


def test_after_a_return_the_app_says_so_and_leaves_the_case(tmp_path: Path) -> None:
    store = stored(tmp_path, handling(status="assigned", first_contact_department="shzl"))
    CaseWriter(store, LEAD).transition(CASE_ID, Action.RETURN, reason="不属于本部门", now=NOW)
    leave, key = after_action(store.case(CASE_ID), LEAD, Action.RETURN, now=NOW)
    assert (leave, key) == (True, "case.left.returned")
    # a case gone from the phone (a ruling elsewhere moved it): leave, in words
    assert after_action(None, LEAD, None, now=NOW) == (True, "case.left.generic")


def test_after_accepting_the_case_stays_and_the_app_confirms_it(tmp_path: Path) -> None:
    store = stored(tmp_path, handling(status="assigned"))
    CaseWriter(store, LEAD).transition(CASE_ID, Action.ACCEPT, now=NOW)
    assert after_action(store.case(CASE_ID), LEAD, Action.ACCEPT, now=NOW) == (
        False,
        "case.done.accepted",
    )


def test_the_sync_card_counts_cases_waiting_not_commands(tmp_path: Path) -> None:
    store = stored(tmp_path, handling())
    CaseWriter(store, ASSISTING).report_assist_task(CASE_ID, note="a", photos=[PHOTO], now=NOW)
    CaseWriter(store, ASSISTING).add_note(CASE_ID, note="b", now=NOW)
    counts = Counts.of(store)
    assert counts.pending_commands == 3 and counts.pending_cases == 1


# --- 撤销 and 合并 from the phone ---------------------------------------------------------------


def test_supervisors_may_cancel_or_merge_a_case_the_lead_may_do_neither() -> None:
    assert {Action.CANCEL, Action.MERGE} <= set(detail(SUPERVISOR, handling()).actions())
    assert not {Action.CANCEL, Action.MERGE} & set(detail(LEAD, handling()).actions())


def test_merge_offers_open_cases_of_the_same_matter_nearest_first_and_needs_one() -> None:
    near = handling(id="near", number="N", lat=POINT[0] + 0.0005, lon=POINT[1])
    far = handling(id="far", number="F", lat=POINT[0] + 0.01, lon=POINT[1])
    other_matter = handling(id="park", number="P", category="parking")
    closed = handling(id="done", number="D", status="closed")
    vm = detail(SUPERVISOR, handling())
    offered = vm.merge_candidates([far, closed, other_matter, handling(), near])
    assert [cid for cid, _ in offered] == ["near", "far", "park"]
    assert offered[0][1] == "N · 城区积水点治理 · 55 m"
    assert vm.form_error(Action.MERGE, reason="", photo_count=0) == (
        "case.error.duplicate_required"
    )
    assert vm.form_error(Action.MERGE, reason="", photo_count=0, duplicate_of="near") is None


def test_a_merge_offline_queues_the_duplicate_and_leaves_the_list(tmp_path: Path) -> None:
    other_id = "9e3c1f4e-2b7a-4c9e-8f31-6a2d9b0e7c15"
    store = stored(tmp_path, handling())
    CaseWriter(store, SUPERVISOR).transition(
        CASE_ID, Action.MERGE, duplicate_of=other_id, note="同一积水点", now=NOW
    )
    [command] = store.pending(10)
    assert command.payload["duplicate_of"] == other_id
    snap = store.case(CASE_ID)
    assert snap is not None and snap["status"] == "merged"
    assert after_action(snap, SUPERVISOR, Action.MERGE, now=NOW) == (True, "case.left.merged")


# --- the new inspection: the matter from the nearest registered site ---------------------------


def test_the_matter_is_preselected_from_the_nearest_site_but_never_overrides_a_choice() -> None:
    model = NewInspectionViewModel(reference(), inspector_name="张三", now=NOW)
    assert model.offer_gps(*POINT, 6.0)  # at the registered waterlogging point
    assert model.category == "waterlogging"
    chosen = NewInspectionViewModel(reference(), inspector_name="张三", now=NOW)
    chosen.category = "parking"
    assert chosen.offer_gps(*POINT, 6.0)
    assert chosen.category == "parking"
    far = NewInspectionViewModel(reference(), inspector_name="张三", now=NOW)
    assert far.offer_gps(POINT[0] + 0.01, POINT[1], 6.0)  # 1 km away: no site, no guess
    assert far.category is None
