"""Places on the map: polygons, geodesic distances, registered sites in reach."""

from __future__ import annotations

import math

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

import sync.geo as geo
from sync.boundary_types import Point, Site, Town
from sync.errors import InvalidInput
from sync.geo import (
    distance_m,
    nearest_site,
    point_in_polygon,
    sites_within,
    town_at,
    validate_point,
)

# WGS-84, for checking distances independently of geopy.
WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


def meridian_arc_m(lat_deg: float, dlat_deg: float) -> float:
    """North-south length of a tiny latitude step: meridional radius of curvature × angle."""
    s2 = math.sin(math.radians(lat_deg)) ** 2
    m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * s2) ** 1.5
    return m * math.radians(dlat_deg)


def parallel_arc_m(lat_deg: float, dlon_deg: float) -> float:
    """East-west length of a tiny longitude step: prime-vertical radius × cos(lat) × angle."""
    s2 = math.sin(math.radians(lat_deg)) ** 2
    n = WGS84_A / math.sqrt(1 - WGS84_E2 * s2)
    return n * math.cos(math.radians(lat_deg)) * math.radians(dlon_deg)


def square(lat0: float, lon0: float, lat1: float, lon1: float) -> tuple[Point, ...]:
    return (Point(lat0, lon0), Point(lat0, lon1), Point(lat1, lon1), Point(lat1, lon0))


def site(code: str, lat: float, lon: float, radius_m: float = 100.0, town: str = "zhongdu") -> Site:
    return Site(
        code=code,
        name=code,
        kind="parking_lot",
        category="parking",
        town_code=town,
        location=Point(lat, lon),
        radius_m=radius_m,
    )


def north_of(p: Point, metres: float) -> Point:
    """A point ``metres`` due north of ``p`` (inverting the independent meridian formula)."""
    return Point(p.lat + metres / meridian_arc_m(p.lat, 1.0), p.lon)


# 汶上县 county seat is near 35.72N 116.49E.
ZHONGDU = Town("zhongdu", "中都街道", "street", True, square(35.70, 116.47, 35.72, 116.49))
NANZHAN = Town("nanzhan", "南站镇", "town", False, square(35.70, 116.49, 35.74, 116.51))

# A U-shaped (concave) ring: two arms 116.47–116.48 and 116.50–116.51 joined at the bottom
# 35.70–35.71; the notch between the arms (35.71–35.74, 116.48–116.50) is outside.
U_SHAPE = (
    Point(35.70, 116.47),
    Point(35.70, 116.51),
    Point(35.74, 116.51),
    Point(35.74, 116.50),
    Point(35.71, 116.50),
    Point(35.71, 116.48),
    Point(35.74, 116.48),
    Point(35.74, 116.47),
)


# --- polygons ---------------------------------------------------------------------------------


def test_point_inside_square_town_is_inside() -> None:
    assert point_in_polygon(Point(35.71, 116.48), ZHONGDU.polygon)


def test_point_outside_square_town_is_outside() -> None:
    assert not point_in_polygon(Point(35.73, 116.48), ZHONGDU.polygon)
    assert not point_in_polygon(Point(35.71, 116.46), ZHONGDU.polygon)


@pytest.mark.parametrize(
    "p",
    [
        Point(35.70, 116.48),  # bottom edge
        Point(35.71, 116.49),  # right edge
        Point(35.72, 116.475),  # top edge
        Point(35.705, 116.47),  # left edge
        Point(35.70, 116.47),  # a corner
        Point(35.72, 116.49),  # the opposite corner
    ],
)
def test_point_on_town_border_counts_as_inside(p: Point) -> None:
    assert point_in_polygon(p, ZHONGDU.polygon)


def test_concave_polygon_arms_are_inside_and_notch_is_outside() -> None:
    assert point_in_polygon(Point(35.73, 116.475), U_SHAPE)  # left arm
    assert point_in_polygon(Point(35.73, 116.505), U_SHAPE)  # right arm
    assert point_in_polygon(Point(35.705, 116.49), U_SHAPE)  # the base
    assert not point_in_polygon(Point(35.73, 116.49), U_SHAPE)  # the notch
    assert not point_in_polygon(Point(35.75, 116.49), U_SHAPE)  # above everything
    assert point_in_polygon(Point(35.72, 116.48), U_SHAPE)  # the notch's inner edge


def test_ray_through_a_vertex_is_counted_once() -> None:
    diamond = (
        Point(35.70, 116.49),
        Point(35.71, 116.50),
        Point(35.72, 116.49),
        Point(35.71, 116.48),
    )
    # Both points share their latitude with the left and right vertices.
    assert point_in_polygon(Point(35.71, 116.49), diamond)
    assert not point_in_polygon(Point(35.71, 116.47), diamond)
    assert not point_in_polygon(Point(35.71, 116.51), diamond)


def test_closed_and_open_rings_give_the_same_answer() -> None:
    closed = (*ZHONGDU.polygon, ZHONGDU.polygon[0])
    for p in (Point(35.71, 116.48), Point(35.73, 116.48), Point(35.70, 116.48)):
        assert point_in_polygon(p, closed) == point_in_polygon(p, ZHONGDU.polygon)


def test_degenerate_ring_contains_nothing() -> None:
    assert not point_in_polygon(Point(35.70, 116.47), (Point(35.70, 116.47), Point(35.71, 116.48)))
    assert not point_in_polygon(Point(35.70, 116.47), ())


def test_town_at_finds_the_town_containing_the_point() -> None:
    towns = [ZHONGDU, NANZHAN]
    assert town_at(Point(35.71, 116.48), towns) == ZHONGDU
    assert town_at(Point(35.73, 116.50), towns) == NANZHAN
    assert town_at(Point(35.73, 116.48), towns) is None  # north of 中都, west of 南站


# --- distances --------------------------------------------------------------------------------


def test_a_thousandth_of_a_degree_north_is_about_111_metres_in_wenshang() -> None:
    d = distance_m(Point(35.72, 116.49), Point(35.721, 116.49))
    assert d == pytest.approx(meridian_arc_m(35.7205, 0.001), abs=0.01)
    assert 110.9 < d < 111.0


def test_a_thousandth_of_a_degree_east_is_about_90_metres_in_wenshang() -> None:
    d = distance_m(Point(35.72, 116.49), Point(35.72, 116.491))
    assert d == pytest.approx(parallel_arc_m(35.72, 0.001), abs=0.01)
    assert 90.4 < d < 90.6


def test_distance_is_symmetric_and_zero_for_the_same_point() -> None:
    a, b = Point(35.72, 116.49), Point(35.70, 116.51)
    assert distance_m(a, a) == 0.0
    assert distance_m(a, b) == pytest.approx(distance_m(b, a))


# --- sites ------------------------------------------------------------------------------------

LOT = site("P-001", 35.71, 116.48, radius_m=80.0)


def test_site_within_its_radius_is_found_with_its_distance() -> None:
    hit = nearest_site(north_of(LOT.location, 50), [LOT])
    assert hit is not None
    assert hit[0] == LOT
    assert hit[1] == pytest.approx(50.0, abs=0.05)


def test_site_beyond_its_own_radius_is_not_found() -> None:
    assert nearest_site(north_of(LOT.location, 100), [LOT]) is None


@pytest.mark.parametrize(
    ("dlat", "dlon"), [(0.002, 0), (0, 0.002), (0.0015, -0.0015), (-0.03, 0.04)]
)
def test_site_exactly_at_the_edge_of_its_radius_is_in_reach(dlat: float, dlon: float) -> None:
    origin = Point(35.71, 116.48)
    where = Point(origin.lat + dlat, origin.lon + dlon)
    exact = geodesic((origin.lat, origin.lon), (where.lat, where.lon)).meters
    edge = site("edge", where.lat, where.lon, radius_m=exact)
    assert nearest_site(origin, [edge]) is not None
    assert [s.code for s, _ in sites_within(origin, [edge], exact)] == ["edge"]
    assert sites_within(origin, [edge], exact - 0.01) == []


def test_within_m_narrows_a_sites_radius() -> None:
    p = north_of(LOT.location, 50)
    assert nearest_site(p, [LOT], within_m=30) is None
    assert nearest_site(p, [LOT], within_m=60) is not None


def test_within_m_does_not_widen_a_sites_radius() -> None:
    assert nearest_site(north_of(LOT.location, 100), [LOT], within_m=500) is None


def test_nearest_of_several_sites_in_reach_wins() -> None:
    origin = Point(35.71, 116.48)
    near = site("near", *_latlon(north_of(origin, 40)), radius_m=100)
    far = site("far", *_latlon(north_of(origin, 70)), radius_m=100)
    hit = nearest_site(origin, [far, near])
    assert hit is not None and hit[0].code == "near"


def test_a_nearer_site_out_of_its_own_reach_loses_to_a_farther_one_in_reach() -> None:
    origin = Point(35.71, 116.48)
    small = site("small", *_latlon(north_of(origin, 60)), radius_m=50)
    wide = site("wide", *_latlon(north_of(origin, 200)), radius_m=300)
    hit = nearest_site(origin, [small, wide])
    assert hit is not None and hit[0].code == "wide"


def test_nearest_site_of_none_is_none() -> None:
    assert nearest_site(Point(35.71, 116.48), []) is None


def test_negative_within_m_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        nearest_site(Point(35.71, 116.48), [LOT], within_m=-1)
    assert err.value.field == "within_m"


def test_sites_within_lists_every_site_in_the_circle_nearest_first_ignoring_own_radius() -> None:
    origin = Point(35.71, 116.48)
    a = site("a", *_latlon(north_of(origin, 300)), radius_m=10)
    b = site("b", *_latlon(north_of(origin, 100)), radius_m=10)
    c = site("c", *_latlon(north_of(origin, 900)), radius_m=10)
    hits = sites_within(origin, [a, b, c], 500)
    assert [s.code for s, _ in hits] == ["b", "a"]
    assert hits[0][1] == pytest.approx(100, abs=0.1)
    assert hits[1][1] == pytest.approx(300, abs=0.3)


def _latlon(p: Point) -> tuple[float, float]:
    return p.lat, p.lon


def _grid_of_sites(n_side: int = 100) -> list[Site]:
    """n_side² sites evenly over the county (~0.4° square), radius 150 m."""
    return [
        site(f"S{i:03d}-{j:03d}", 35.50 + i * 0.004, 116.30 + j * 0.004, radius_m=150.0)
        for i in range(n_side)
        for j in range(n_side)
    ]


def test_ten_thousand_sites_measure_only_a_few_geodesics(monkeypatch: pytest.MonkeyPatch) -> None:
    sites = _grid_of_sites()
    assert len(sites) == 10_000
    calls = 0
    real = geo.distance_m

    def counting(a: Point, b: Point) -> float:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(geo, "distance_m", counting)
    p = Point(35.50 + 50 * 0.004 + 0.0005, 116.30 + 50 * 0.004 + 0.0003)
    hit = nearest_site(p, sites)
    assert hit is not None and hit[0].code == "S050-050"
    assert calls <= 4  # the prefilter, not 10,000 geodesics (speed itself is in make bench)


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(35.60, 35.80),
    lon=st.floats(116.40, 116.60),
    within=st.one_of(st.none(), st.floats(0, 2_000)),
    seeds=st.lists(
        st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01), st.floats(0, 1_500)),
        min_size=1,
        max_size=25,
    ),
)
def test_prefiltered_nearest_site_agrees_with_brute_force_geodesic(
    lat: float,
    lon: float,
    within: float | None,
    seeds: list[tuple[float, float, float]],
) -> None:
    p = Point(lat, lon)
    sites = [site(f"s{k}", lat + dl, lon + dn, radius_m=r) for k, (dl, dn, r) in enumerate(seeds)]
    reach = [(s, geodesic((lat, lon), (s.location.lat, s.location.lon)).meters) for s in sites]
    in_reach = [
        (s, d) for s, d in reach if d <= (s.radius_m if within is None else min(s.radius_m, within))
    ]
    hit = nearest_site(p, sites, within_m=within)
    if not in_reach:
        assert hit is None
    else:
        assert hit is not None
        assert hit[1] == pytest.approx(min(d for _, d in in_reach))


# --- validating points ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "why"),
    [
        (math.nan, 116.49, "lat"),
        (35.72, math.nan, "lon"),
        (math.inf, 116.49, "lat"),
        (90.5, 116.49, "lat"),
        (-91.0, 116.49, "lat"),
        (35.72, 180.01, "lon"),
        (35.72, -200.0, "lon"),
    ],
)
def test_impossible_coordinates_are_refused_naming_the_field(
    lat: float, lon: float, why: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_point(Point(lat, lon), "location")
    assert err.value.field == "location"
    assert why in err.value.why


def test_non_numeric_coordinate_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_point(Point("35.7", 116.49), "gps")  # type: ignore[arg-type]
    assert err.value.field == "gps"


@pytest.mark.parametrize("p", [Point(35.72, 116.49), Point(90, 180), Point(-90, -180)])
def test_real_coordinates_pass(p: Point) -> None:
    validate_point(p)


# --- how far, as people are told it; the box an index query reads ---------------------------


@pytest.mark.parametrize(
    ("metres", "told"), [(7.4, 7), (96.0, 96), (322.0, 320), (987.0, 990), (1234.0, 1200)]
)
def test_a_distance_is_told_rounded_to_what_a_phone_fix_can_say(metres: float, told: int) -> None:
    here = Point(35.7, 116.5)
    there = Point(35.7 + metres / 110_950.0, 116.5)  # due north
    assert abs(distance_m(here, there) - metres) < 0.5
    assert geo.distance_to_tell(here, there) == told


def test_no_distance_is_told_without_both_points() -> None:
    assert geo.distance_to_tell(None, Point(35.7, 116.5)) is None
    assert geo.distance_to_tell(Point(35.7, 116.5), None) is None
