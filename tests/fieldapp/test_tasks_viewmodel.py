"""Home's task list by urgency and the cases near me."""

from __future__ import annotations

from datetime import timedelta

from fieldapp.viewmodels.tasks import Bucket, my_tasks, near_me
from sync.boundary_types import Point
from sync.lifecycle import Actor
from sync.vocabulary import Role
from tests.fieldapp.vm_fixtures import NOW, POINT, snapshot

HANDLER = Actor("u-handler", Role.HANDLER, "zhzf")


def due(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()


def case(case_id: str, status: str, hours: float | None, **more: object) -> dict[str, object]:
    return snapshot(
        id=case_id,
        number=case_id,
        status=status,
        lead_department="zhzf",
        due_at=None if hours is None else due(hours),
        **{"assigned_at": due(-72), **more},
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
    grouped = {b: [r.case_id for r in rows] for b, rows in my_tasks(cases, HANDLER, NOW)}
    assert list(grouped) == [Bucket.OVERDUE, Bucket.DUE_SOON, Bucket.NEW, Bucket.IN_PROGRESS]
    assert grouped == {
        Bucket.OVERDUE: ["late"],
        Bucket.DUE_SOON: ["soon"],
        Bucket.NEW: ["new"],
        Bucket.IN_PROGRESS: ["later"],
    }


def test_a_disputed_case_stays_on_the_lead_departments_list() -> None:
    rows = my_tasks([case("d", "accepted", 50, disputed=True)], HANDLER, NOW)
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
