"""Home's task list by urgency and the cases near me."""

from __future__ import annotations

from datetime import datetime, timedelta

from fieldapp.viewmodels.tasks import Bucket, bucket_of, my_tasks, near_me, row_of
from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.lifecycle import Actor
from sync.vocabulary import Role
from sync.workflow import acceptance_due_at
from tests.fieldapp.vm_fixtures import NOW, POINT, snapshot
from tests.support.work_calendar import SEEDED

HANDLER = Actor("u-handler", Role.HANDLER, "zhzf")


def due(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()


def case(case_id: str, status: str, hours: float | None, **more: object) -> dict[str, object]:
    return snapshot(
        id=case_id,
        number=case_id,
        status=status,
        lead_department="zhzf",
        **{"due_at": None if hours is None else due(hours), "assigned_at": due(-72), **more},
    )


def test_tasks_come_overdue_first_then_due_soon_then_new() -> None:
    cases = [
        case("new", "assigned", 72),
        case("late", "handling", -2),
        case("soon", "accepted", 5),
        case("later", "handling", 100),
        case("closed", "closed", -5),
        snapshot(id="not-mine", status="assigned", lead_department="sw", due_at=due(-1)),
    ]
    grouped = {b: [r.case_id for r in rows] for b, rows in my_tasks(cases, HANDLER, NOW, SEEDED)}
    assert list(grouped) == [Bucket.OVERDUE, Bucket.DUE_SOON, Bucket.NEW, Bucket.IN_PROGRESS]
    assert grouped == {
        Bucket.OVERDUE: ["late"],
        Bucket.DUE_SOON: ["soon"],
        Bucket.NEW: ["new"],
        Bucket.IN_PROGRESS: ["later"],
    }


def test_a_disputed_case_stays_on_the_lead_departments_list() -> None:
    rows = my_tasks([case("d", "accepted", 50, disputed=True)], HANDLER, NOW, SEEDED)
    assert rows and rows[0][1][0].disputed


def test_near_me_lists_open_cases_within_500_m_nearest_first() -> None:
    here = Point(*POINT)
    cases = [
        snapshot(id="b", lat=POINT[0] + 0.003, lon=POINT[1]),  # ~333 m
        snapshot(id="a", lat=POINT[0] + 0.001, lon=POINT[1]),  # ~111 m
        snapshot(id="far", lat=POINT[0] + 0.01, lon=POINT[1]),  # ~1.1 km
        snapshot(id="done", status="closed"),
    ]
    assert [r.case_id for r in near_me(cases, here)] == ["a", "b"]
    assert near_me(cases, None) == []


# --- the one definition of overdue and due soon (sync/overdue.py) ------------------------------


def china(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHINA_TZ)


def bucket(snap: dict[str, object], now: datetime) -> Bucket:
    return bucket_of(row_of(snap, calendar=SEEDED), now, SEEDED)


def test_a_suspended_case_is_neither_overdue_nor_due_soon_on_the_phone() -> None:
    late = case("late", "handling", -2, suspended=True)
    soon = case("soon", "accepted", 1, suspended=True)
    assert bucket(late, NOW) == Bucket.IN_PROGRESS
    assert bucket(soon, NOW) == Bucket.IN_PROGRESS
    assert bucket(case("late", "handling", -2), NOW) == Bucket.OVERDUE


def test_a_case_reported_back_but_not_verified_is_overdue_until_closed_on_the_phone() -> None:
    assert bucket(case("handled", "handled", -2), NOW) == Bucket.OVERDUE
    assert bucket(case("closed", "closed", -2), NOW) == Bucket.IN_PROGRESS


def test_due_soon_is_working_time_so_monday_morning_is_due_soon_on_friday_evening() -> None:
    # assigned Monday 09:00, due next Monday 09:30: on Friday 18:00 63.5 wall-clock hours are
    # left, but only one working hour (Monday 08:30–09:30)
    snap = case(
        "weekend",
        "accepted",
        None,
        assigned_at=china(2, 9).isoformat(),
        due_at=china(9, 9, 30).isoformat(),
    )
    assert bucket(snap, china(6, 18)) == Bucket.DUE_SOON


def test_a_short_limit_is_not_due_soon_just_because_it_ends_within_24_hours() -> None:
    # assigned Wednesday 09:00, due Thursday 09:00 (7.5 working hours granted): at Wednesday
    # 10:00 6.5 of them are left, far more than a quarter
    snap = case(
        "short",
        "accepted",
        None,
        assigned_at=china(4, 9).isoformat(),
        due_at=china(5, 9).isoformat(),
    )
    assert bucket(snap, china(4, 10)) == Bucket.IN_PROGRESS
    assert bucket(snap, china(5, 8, 45)) == Bucket.DUE_SOON


def test_a_case_awaiting_acceptance_shows_its_acceptance_deadline_in_the_task_list() -> None:
    stored = china(4, 15, 30)
    snap = case(
        "new",
        "assigned",
        72,
        assigned_at=china(4, 10).isoformat(),
        acceptance_due_at=stored.isoformat(),
    )
    assert row_of(snap).acceptance_due_at == stored
    # assigned on this phone, not yet synced: the same rule from the phone's assignment time
    offline = case("offline", "assigned", 72, assigned_at=china(4, 10).isoformat())
    assert row_of(offline, calendar=SEEDED).acceptance_due_at == acceptance_due_at(
        china(4, 10), SEEDED
    )
    # accepted: nothing awaits acceptance any more
    accepted = {**snap, "status": "accepted"}
    assert row_of(accepted).acceptance_due_at is None


def test_a_returned_case_shows_its_rerouting_deadline_and_is_overdue_after_it() -> None:
    returned = snapshot(
        id="r",
        status="discovered",
        first_contact_department="zhzf",
        reroute_due_at=china(5, 17, 30).isoformat(),
    )
    row = row_of(returned)
    assert row.reroute_due_at == china(5, 17, 30)
    assert bucket(returned, china(5, 17, 30)) == Bucket.NEW
    assert bucket(returned, china(5, 17, 31)) == Bucket.OVERDUE
