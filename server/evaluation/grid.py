"""A grid of points for "what is within r metres of here", exact by geodesic distance.

Points go into square cells of about ``cell_m`` metres; a query looks only at the cells a
circle of radius r can touch, rejects with a cheap flat-earth estimate what is certainly too
far, and measures the rest with ``sync.geo.distance_m`` (WGS-84 geodesic).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Generic, TypeVar

from sync.boundary_types import Point
from sync.geo import PREFILTER_FACTOR, PREFILTER_SLACK_M, distance_m, rough_distance_m

T = TypeVar("T")

_METRES_PER_DEGREE_LAT_MIN = 110_500.0  # a degree of latitude is never shorter
_METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
# The flat estimate (sync.geo.rough_distance_m) is within 1% of the geodesic at county
# distances; its margin (PREFILTER_FACTOR, PREFILTER_SLACK_M) is the one sync.geo's prefilter uses.


class GridIndex(Generic[T]):
    def __init__(self, cell_m: float = 100.0) -> None:
        if cell_m <= 0:
            raise ValueError("cell_m must be > 0")
        self._step = cell_m / _METRES_PER_DEGREE_LAT_MIN  # degrees, on both axes
        self._cells: dict[tuple[int, int], list[tuple[int, Point, T]]] = defaultdict(list)
        self._count = 0

    def _cell(self, p: Point) -> tuple[int, int]:
        return (math.floor(p.lat / self._step), math.floor(p.lon / self._step))

    def add(self, p: Point, item: T) -> None:
        self._cells[self._cell(p)].append((self._count, p, item))
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def _in_reach(self, p: Point, radius_m: float) -> Iterator[tuple[float, int, Point, T]]:
        """(flat estimate, order, point, item) of every item that may be within ``radius_m``."""
        reach = radius_m * PREFILTER_FACTOR + PREFILTER_SLACK_M
        lat_cells = math.ceil(reach / _METRES_PER_DEGREE_LAT_MIN / self._step)
        cos_lat = max(math.cos(math.radians(min(abs(p.lat) + 1.0, 89.0))), 1e-6)
        lon_degrees = reach / (_METRES_PER_DEGREE_LON_EQUATOR * cos_lat)
        lon_cells = math.ceil(lon_degrees / self._step)
        ci, cj = self._cell(p)
        for i in range(ci - lat_cells, ci + lat_cells + 1):
            for j in range(cj - lon_cells, cj + lon_cells + 1):
                for order, q, item in self._cells.get((i, j), ()):
                    rough = rough_distance_m(p, q)
                    if rough <= reach:
                        yield rough, order, q, item

    def near(self, p: Point, radius_m: float) -> list[tuple[T, float]]:
        """Items within ``radius_m`` of ``p`` (geodesic), nearest first; ties in insertion order."""
        hits: list[tuple[int, T, float]] = []
        for _rough, order, q, item in self._in_reach(p, radius_m):
            d = distance_m(p, q)
            if d <= radius_m:
                hits.append((order, item, d))
        hits.sort(key=lambda h: (h[2], h[0]))
        return [(item, d) for _, item, d in hits]

    def within(self, p: Point, radius_m: float) -> list[T]:
        """The items ``near`` finds, in insertion order, without their distances: a geodesic is
        measured only where the flat estimate cannot decide (a hotspot search needs who is
        within reach, not how far — most pairs are far inside or far outside the radius)."""
        hits: list[tuple[int, T]] = []
        for rough, order, q, item in self._in_reach(p, radius_m):
            certainly_within = rough * PREFILTER_FACTOR + PREFILTER_SLACK_M <= radius_m
            if certainly_within or distance_m(p, q) <= radius_m:
                hits.append((order, item))
        hits.sort(key=lambda h: h[0])
        return [item for _, item in hits]

    def nearest(self, p: Point, radius_m: float) -> T | None:
        """The item ``near`` ranks first (or None), measuring a geodesic only where the flat
        estimate cannot decide: one candidate certainly within ``radius_m`` and certainly
        nearer than every other is the answer without one."""
        found = sorted(self._in_reach(p, radius_m), key=lambda c: (c[0], c[1]))
        best: tuple[float, int, T] | None = None
        for k, (rough, order, q, item) in enumerate(found):
            lowest = (rough - PREFILTER_SLACK_M) / PREFILTER_FACTOR
            if lowest > radius_m or (best is not None and lowest > best[0]):
                break
            if best is None:
                highest = rough * PREFILTER_FACTOR + PREFILTER_SLACK_M
                next_lowest = (
                    (found[k + 1][0] - PREFILTER_SLACK_M) / PREFILTER_FACTOR
                    if k + 1 < len(found)
                    else math.inf
                )
                if highest <= radius_m and next_lowest > highest:
                    return item
            d = distance_m(p, q)
            if d <= radius_m and (best is None or (d, order) < (best[0], best[1])):
                best = (d, order, item)
        return best[2] if best is not None else None
