"""Hotspots and repeat complaints (pure), by geodesic distance."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.evaluation import budget
from server.evaluation.budget import Deadline, TooExpensive
from server.evaluation.grid import GridIndex
from server.evaluation.hotspots import ClosedCase, PlacedReport, hotspots, repeat_complaints
from server.evaluation.timeline import bucket_edges, status_over_time
from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.geo import distance_m

BASE = Point(35.7300, 116.4900)
T = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
M_PER_DEG_LAT = 110_950.0  # near 35.7° N


def north(metres: float, of: Point = BASE) -> Point:
    return Point(of.lat + metres / M_PER_DEG_LAT, of.lon)


def report(
    i: str,
    point: Point,
    category: str = "waterlogging",
    days: int = 0,
    dept: str | None = "zhzf",
    kind: str = "case",
) -> PlacedReport:
    return PlacedReport(
        kind, i, i if kind == "case" else "c0", category, point, T + timedelta(days=days), dept
    )


def test_grid_finds_exactly_the_points_within_the_geodesic_radius() -> None:
    grid: GridIndex[str] = GridIndex(50.0)
    points = {f"p{m}": north(m) for m in (0, 20, 49, 51, 120)}
    for name, p in points.items():
        grid.add(p, name)
    found = grid.near(BASE, 50.0)
    assert [name for name, _ in found] == ["p0", "p20", "p49"]
    assert all(abs(d - distance_m(BASE, points[n])) < 1e-9 for n, d in found)


def test_reports_chained_within_100_m_form_one_hotspot_per_category() -> None:
    chain = [report(f"w{i}", north(80 * i)) for i in range(4)]  # 0, 80, 160, 240 m
    lone = report("w9", north(2000))
    other = [report(f"s{i}", north(10 * i), category="street_lights") for i in range(2)]
    found = hotspots([*chain, lone, *other], radius_m=100, min_reports=3)
    assert len(found) == 1
    spot = found[0]
    assert spot.category == "waterlogging"
    assert [r.id for r in spot.reports] == ["w0", "w1", "w2", "w3"]
    assert spot.departments == {"zhzf": 4}
    assert 110 < spot.radius_m < 130  # the ends are ~120 m from the centre


def test_a_ticket_and_its_case_are_two_reports_but_one_case() -> None:
    items = [
        report("c0", BASE),
        report("T-1", north(5), kind="ticket"),
        report("T-2", north(9), kind="ticket"),
    ]
    spot = hotspots(items, radius_m=100, min_reports=3)[0]
    assert len(spot.reports) == 3 and spot.case_ids == ["c0"]


def test_a_problem_reported_again_near_a_closed_case_is_listed_for_its_department() -> None:
    closed = [
        ClosedCase("c1", "YX-1", "waterlogging", BASE, T, "zhzf"),
        ClosedCase("c2", "YX-2", "street_lights", north(5000), T, "cgfw"),
    ]
    reports = [
        report("before", north(10), days=-1),  # before the close: not a repeat
        report("again", north(30), days=20),  # came back 20 days later, 30 m away
        report("far", north(300), days=20),  # elsewhere
        report("late", north(10), days=200),  # outside the 90-day window
        report("other", north(10), category="street_lights", days=5),  # other matter
    ]
    out = repeat_complaints(closed, reports, radius_m=100, window_days=90)
    assert list(out) == ["zhzf"]
    [repeat] = out["zhzf"]
    assert repeat.closed.case_id == "c1"
    assert [(r.id, round(d)) for r, d in repeat.later] == [("again", 30)]


def test_cases_over_time_count_each_case_in_its_status_at_each_day_end() -> None:
    day = datetime(2026, 11, 2, tzinfo=CHINA_TZ)
    transitions = [
        ("a", day + timedelta(hours=9), "discovered"),
        ("a", day + timedelta(hours=10), "assigned"),
        ("b", day + timedelta(hours=11), "discovered"),
        ("a", day + timedelta(days=1, hours=9), "closed"),
    ]
    edges = bucket_edges(day, day + timedelta(days=3), "day")
    points = status_over_time(transitions, edges)
    assert [p.label for p in points] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert [p.counts for p in points] == [
        {"assigned": 1, "discovered": 1},
        {"closed": 1, "discovered": 1},
        {"closed": 1, "discovered": 1},
    ]


def test_a_crowd_of_reports_too_dense_to_pair_is_refused_not_held_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crowd = [report(f"r{i}", north(i)) for i in range(30)]  # 30 reports within 30 m
    assert len(hotspots(crowd, radius_m=100.0)) == 1
    closed = [ClosedCase("c1", "N1", "waterlogging", BASE, T - timedelta(days=1), "zhzf")]
    assert repeat_complaints(closed, crowd, radius_m=100.0)
    monkeypatch.setattr(budget, "MAX_NEIGHBOUR_PAIRS", 20)
    with pytest.raises(TooExpensive) as refused:
        hotspots(crowd, radius_m=100.0)
    assert refused.value.code == "too_expensive" and refused.value.field == "start"
    with pytest.raises(TooExpensive):
        repeat_complaints(closed, crowd, radius_m=100.0)


def test_a_computation_stops_at_its_first_check_past_the_time_limit() -> None:
    ticks = iter([0.0, 5.0, 11.0])
    deadline = Deadline(10.0, clock=lambda: next(ticks))  # started at 0
    deadline.check()  # 5 s: within
    with pytest.raises(TooExpensive):
        deadline.check()  # 11 s: past
    crowd = [report(f"r{i}", north(i)) for i in range(3)]
    with pytest.raises(TooExpensive):
        hotspots(crowd, radius_m=100.0, check=Deadline(0.0).check)


def test_the_grid_finds_who_is_within_reach_exactly_as_by_geodesic_with_fewer_geodesics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random

    from server.evaluation import grid as grid_module

    rng = random.Random(12)
    measured = [0]

    def counting(a: Point, b: Point) -> float:
        measured[0] += 1
        return distance_m(a, b)

    for radius in (10.0, 100.0, 2000.0, 5000.0):  # the smallest and largest legal, two between
        grid: GridIndex[int] = GridIndex(radius)
        spread = radius * 4 / M_PER_DEG_LAT
        points = [
            Point(BASE.lat + rng.uniform(0, spread), BASE.lon + rng.uniform(0, spread))
            for _ in range(120)
        ]
        # and some exactly on and just either side of the radius
        points += [north(radius + d) for d in (-0.01, 0.0, 0.01)]
        for n, p in enumerate(points):
            grid.add(p, n)
        queries = [*points[:30], BASE]
        measured[0] = 0
        monkeypatch.setattr(grid_module, "distance_m", counting)
        within = [grid.within(q, radius) for q in queries]
        fewer = measured[0]
        measured[0] = 0
        exact = [sorted(n for n, _ in grid.near(q, radius)) for q in queries]
        monkeypatch.undo()
        assert within == exact, radius
        assert sum(len(w) for w in within) > len(queries)  # not all alone: pairs were decided
        if radius >= 100:  # at 10 m the estimate's 5 m slack leaves most pairs to measure
            assert fewer < measured[0] / 2, radius
