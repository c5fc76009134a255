"""The cheap pre-filter of the repeat-report rule (sync/geo.py ``bounding_box``) never drops a
real repeat: every point within the radius lies in the box, at the poles and across the
antimeridian too, and ``find_repeat`` answers as the plain rule on random data."""

from __future__ import annotations

import random
from datetime import timedelta

from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.boundary_types import Point
from sync.geo import bounding_box, distance_m
from sync.workflow import (
    REPEAT_RADIUS_M,
    ClosedCase,
    find_repeat,
    same_place,
    within_repeat_window,
)
from tests.conftest import T0


@settings(max_examples=150, deadline=None)
@given(
    lat=st.floats(min_value=-89.9999, max_value=89.9999),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    radius=st.floats(min_value=0.0, max_value=20_000.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_every_point_within_the_radius_lies_in_the_box(
    lat: float, lon: float, bearing: float, radius: float, fraction: float
) -> None:
    centre = Point(lat, lon)
    far = geodesic(meters=radius * fraction).destination((lat, lon), bearing)
    q = Point(far.latitude, far.longitude)
    assert distance_m(centre, q) <= radius * 1.000001 + 1e-6
    assert bounding_box(centre, radius).contains(q)


def test_the_box_crosses_the_antimeridian_and_covers_every_longitude_at_a_pole() -> None:
    east_edge = bounding_box(Point(10.0, 179.9999), 100.0)
    assert east_edge.wraps
    assert east_edge.contains(Point(10.0, -179.9995))
    assert not east_edge.contains(Point(10.0, 0.0))
    pole = bounding_box(Point(89.9999, 0.0), 100.0)
    assert pole.contains(Point(89.9995, 180.0)) and pole.contains(Point(89.9995, -90.0))


def test_the_box_leaves_out_what_is_clearly_farther() -> None:
    box = bounding_box(Point(35.7215, 116.4877), REPEAT_RADIUS_M)
    north_100m = geodesic(meters=100).destination((35.7215, 116.4877), 0.0)
    east_100m = geodesic(meters=100).destination((35.7215, 116.4877), 90.0)
    assert not box.contains(Point(north_100m.latitude, north_100m.longitude))
    assert not box.contains(Point(east_100m.latitude, east_100m.longitude))


def _plain_rule(
    closed: list[ClosedCase], category: str, site: str | None, point: Point | None
) -> ClosedCase | None:
    hits = [
        c
        for c in closed
        if c.category == category
        and within_repeat_window(c.closed_at, T0)
        and same_place(site_a=c.site_code, point_a=c.point, site_b=site, point_b=point)
    ]
    return max(hits, key=lambda c: c.closed_at) if hits else None


def _near(rng: random.Random, centre: Point, reach_m: float) -> Point:
    p = geodesic(meters=rng.uniform(0, reach_m)).destination(
        (centre.lat, centre.lon), rng.uniform(0, 360)
    )
    return Point(p.latitude, p.longitude)


def test_find_repeat_answers_as_the_plain_rule_on_random_reports() -> None:
    rng = random.Random(15)
    centre = Point(35.7215, 116.4877)
    closed = [
        ClosedCase(
            f"c{i}",
            rng.choice(["waterlogging", "parking"]),
            T0 - timedelta(minutes=rng.randint(0, 40 * 24 * 60)),
            rng.choice([None, None, "s1", "s2"]),
            None if rng.random() < 0.1 else _near(rng, centre, 150.0),
        )
        for i in range(150)
    ]
    found = 0
    for _ in range(120):
        category = rng.choice(["waterlogging", "parking"])
        site = rng.choice([None, None, None, "s1", "s3"])
        point = None if rng.random() < 0.1 else _near(rng, centre, 150.0)
        expected = _plain_rule(closed, category, site, point)
        got = find_repeat(closed, category=category, site_code=site, point=point, now=T0)
        assert got == expected
        found += expected is not None
    assert 10 < found < 110  # both answers occur: the comparison means something
