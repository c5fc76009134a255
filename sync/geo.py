"""Places on the map: distances, town/street polygons and registered sites (点位).

Pure functions on ``sync.boundary_types`` values. Distances are geodesic on the WGS-84
ellipsoid (geopy), in metres. Polygons are tested on (lon, lat) as a plane, which is exact
enough for county-sized towns; rings that cross the antimeridian are not supported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from geopy.distance import geodesic

from sync.boundary_types import Point, Site, Town
from sync.errors import InvalidInput

__all__ = [
    "PREFILTER_FACTOR",
    "PREFILTER_SLACK_M",
    "BoundingBox",
    "bounding_box",
    "distance_m",
    "distance_to_tell",
    "nearest_site",
    "point_in_polygon",
    "rough_distance_m",
    "sites_within",
    "town_at",
    "validate_point",
]

# Mean Earth radius (IUGG), for the cheap prefilter only.
_MEAN_EARTH_RADIUS_M = 6_371_008.8
# The equirectangular estimate on a sphere differs from the ellipsoidal geodesic by well under
# 1% at county distances; this margin keeps the prefilter from ever dropping a real candidate.
PREFILTER_FACTOR = 1.02
PREFILTER_SLACK_M = 5.0
# Beyond this reach the flat estimate is no longer trustworthy: measure every site exactly.
_PREFILTER_MAX_REACH_M = 50_000.0
# WGS-84: equatorial radius, and the shortest degree of latitude (the meridian at the equator,
# a(1 - e²) · π/180). A geodesic of length d moves at most d / these many degrees.
_WGS84_A_M = 6_378_137.0
_MIN_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_AT_EQUATOR = math.pi / 180.0 * _WGS84_A_M
# Widen the box a little more, so that float rounding can never cut a real neighbour off.
_BOX_MARGIN = 1.01
_BOX_SLACK_DEG = 1e-7  # ~1 cm
# Tolerance for "on the edge" of a polygon, in degrees (~0.1 mm).
_EDGE_EPSILON_DEG = 1e-9


def validate_point(p: Point, field: str = "location") -> None:
    """Refuse a point that is not a real place: non-numeric, NaN, infinite or out of range."""
    for name, value, limit in (("lat", p.lat, 90.0), ("lon", p.lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(field, f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidInput(field, f"{name} must be a finite number, got {value!r}")
        if not -limit <= value <= limit:
            raise InvalidInput(
                field, f"{name} must be between {-limit:g} and {limit:g}, got {value}"
            )


def distance_m(a: Point, b: Point) -> float:
    """Geodesic distance between two points on the WGS-84 ellipsoid, in metres."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def distance_to_tell(here: Point | None, there: Point | None) -> int | None:
    """How far ``there`` is from ``here`` as a person is told it ("距您 320 米"), in whole
    metres: the geodesic distance rounded to 1 m under 100 m, to 10 m under 1 km and to 100 m
    beyond (a phone's fix is rarely better than that). None when either point is unknown."""
    if here is None or there is None:
        return None
    d = distance_m(here, there)
    step = 1 if d < 100 else 10 if d < 1000 else 100
    return int(round(d / step) * step)


@dataclass(frozen=True)
class BoundingBox:
    """A box in degrees holding every point within some distance of a centre.

    ``west > east`` when it crosses the antimeridian (the longitudes run west → 180 → east);
    near a pole it spans every longitude (-180 → 180).
    """

    south: float
    north: float
    west: float
    east: float

    @property
    def wraps(self) -> bool:
        return self.west > self.east

    def contains(self, p: Point) -> bool:
        if not self.south <= p.lat <= self.north:
            return False
        if self.wraps:
            return p.lon >= self.west or p.lon <= self.east
        return self.west <= p.lon <= self.east


def bounding_box(p: Point, radius_m: float) -> BoundingBox:
    """A box (in degrees) that holds every point within ``radius_m`` metres (geodesic, WGS-84)
    of ``p``: the cheap pre-filter before ``distance_m``, in Python or pushed into SQL.

    Sound, not tight: a geodesic of length d changes latitude by at most d / 110,574 m per
    degree (the shortest degree of latitude) and longitude by at most d / (111,319 m · cos φ)
    where φ is the highest latitude it can reach; the box is widened by 1% and ~1 cm on top.
    """
    _check_reach(radius_m, "radius_m")
    dlat = radius_m * _BOX_MARGIN / _MIN_M_PER_DEG_LAT + _BOX_SLACK_DEG
    south, north = max(-90.0, p.lat - dlat), min(90.0, p.lat + dlat)
    highest = max(abs(south), abs(north))
    cos_highest = math.cos(math.radians(highest)) if highest < 90.0 else 0.0
    if cos_highest <= 0.0:
        return BoundingBox(south, north, -180.0, 180.0)
    dlon = radius_m * _BOX_MARGIN / (_M_PER_DEG_LON_AT_EQUATOR * cos_highest) + _BOX_SLACK_DEG
    if dlon >= 180.0:
        return BoundingBox(south, north, -180.0, 180.0)
    west, east = p.lon - dlon, p.lon + dlon
    if west < -180.0:
        west += 360.0
    if east > 180.0:
        east -= 360.0
    return BoundingBox(south, north, west, east)


def rough_distance_m(a: Point, b: Point) -> float:
    """Equirectangular estimate: a few multiplications, good to <1% within tens of km."""
    dlon = (b.lon - a.lon + 180.0) % 360.0 - 180.0
    mean_lat = math.radians((a.lat + b.lat) / 2.0)
    x = math.radians(dlon) * math.cos(mean_lat)
    y = math.radians(b.lat - a.lat)
    return _MEAN_EARTH_RADIUS_M * math.hypot(x, y)


def _may_be_within(p: Point, q: Point, limit_m: float) -> bool:
    """False only when ``q`` is certainly farther than ``limit_m`` from ``p``."""
    if limit_m > _PREFILTER_MAX_REACH_M:
        return True
    # Bounding box on latitude first: one degree of latitude is never under 110.5 km.
    if abs(q.lat - p.lat) * 110_500.0 > limit_m * PREFILTER_FACTOR + PREFILTER_SLACK_M:
        return False
    return rough_distance_m(p, q) <= limit_m * PREFILTER_FACTOR + PREFILTER_SLACK_M


def _on_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> bool:
    eps = _EDGE_EPSILON_DEG
    if not (min(ax, bx) - eps <= px <= max(ax, bx) + eps):
        return False
    if not (min(ay, by) - eps <= py <= max(ay, by) + eps):
        return False
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    length = math.hypot(bx - ax, by - ay)
    return abs(cross) <= eps * max(length, eps)


def point_in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    """Whether ``p`` is inside the ring ``polygon`` (closed or not); its boundary counts as inside.

    Even-odd ray casting with x = lon, y = lat, so concave rings work. A ring of fewer than
    three points contains nothing.
    """
    ring = list(polygon)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3:
        return False
    px, py = p.lon, p.lat
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        ax, ay = ring[i].lon, ring[i].lat
        bx, by = ring[j].lon, ring[j].lat
        if _on_segment(px, py, ax, ay, bx, by):
            return True
        if (ay > py) != (by > py):
            x_cross = (bx - ax) * (py - ay) / (by - ay) + ax
            if px < x_cross:
                inside = not inside
        j = i
    return inside


_BBOXES: dict[int, tuple[Sequence[Point], tuple[float, float, float, float]]] = {}


def _bbox(polygon: Sequence[Point]) -> tuple[float, float, float, float]:
    """The polygon's bounding box, cached by identity (the polygon is kept alive with it)."""
    held = _BBOXES.get(id(polygon))
    if held is not None and held[0] is polygon:
        return held[1]
    eps = _EDGE_EPSILON_DEG
    box = (
        min(q.lat for q in polygon) - eps,
        min(q.lon for q in polygon) - eps,
        max(q.lat for q in polygon) + eps,
        max(q.lon for q in polygon) + eps,
    )
    if len(_BBOXES) > 4096:
        _BBOXES.clear()
    _BBOXES[id(polygon)] = (polygon, box)
    return box


def town_at(p: Point, towns: Sequence[Town]) -> Town | None:
    """The town/street whose polygon contains ``p``; on a shared border, the first one listed.
    A bounding box test skips the polygons that cannot contain the point."""
    for town in towns:
        south, west, north, east = _bbox(town.polygon)
        if not (south <= p.lat <= north and west <= p.lon <= east):
            continue
        if point_in_polygon(p, town.polygon):
            return town
    return None


def _check_reach(value: float, field: str) -> None:
    if math.isnan(value) or value < 0:
        raise InvalidInput(field, f"must be a distance in metres >= 0, got {value}")


def nearest_site(
    p: Point, sites: Sequence[Site], *, within_m: float | None = None
) -> tuple[Site, float] | None:
    """The nearest site in reach of ``p`` and its distance in metres, or None.

    A site is in reach when its distance is <= its own ``radius_m`` and, if given, <= ``within_m``.
    Ties go to the site listed first. A flat-earth prefilter keeps geodesic work to the few
    sites that could be in reach, so tens of thousands of sites stay fast.
    """
    if within_m is not None:
        _check_reach(within_m, "within_m")
    best: tuple[Site, float] | None = None
    for site in sites:
        limit = site.radius_m if within_m is None else min(site.radius_m, within_m)
        if limit < 0 or not _may_be_within(p, site.location, limit):
            continue
        d = distance_m(p, site.location)
        if d <= limit and (best is None or d < best[1]):
            best = (site, d)
    return best


def sites_within(p: Point, sites: Sequence[Site], radius_m: float) -> list[tuple[Site, float]]:
    """Every site within ``radius_m`` metres of ``p`` (whatever its own radius), nearest first."""
    _check_reach(radius_m, "radius_m")
    found = [
        (site, distance_m(p, site.location))
        for site in sites
        if _may_be_within(p, site.location, radius_m)
    ]
    hits = [(site, d) for site, d in found if d <= radius_m]
    hits.sort(key=lambda hit: hit[1])  # stable: ties keep the order given
    return hits
