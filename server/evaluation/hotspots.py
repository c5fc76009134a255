"""Hotspots and "fast reply, no real fix" (重时效、轻实效), from reports placed on the map.

A *report* is a case with a location (one merged as a duplicate too: it is another citizen's
report, counted for the case it was merged into) or a hotline ticket that joined an existing
case (a ticket that became a case is that case). Pure: the data layer supplies the reports.

- ``hotspots``: per category, DBSCAN-like clusters by geodesic distance: a report with at least
  ``min_reports`` reports (itself included) within ``radius_m`` is a core; cores within reach of
  each other, and the reports they reach, form one hotspot. Largest first.
- ``repeat_complaints``: a case closed at a place, followed within ``window_days`` by another
  report of the same category within ``radius_m`` — the problem came back. Listed per
  department that led the closed case.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from server.evaluation import budget
from server.evaluation.budget import no_limit
from server.evaluation.grid import GridIndex
from sync.boundary_types import Point
from sync.geo import distance_m


@dataclass(frozen=True)
class PlacedReport:
    kind: str  # "case" | "ticket"
    id: str  # case id or ticket number
    case_id: str  # the case it is, or joined
    category: str
    point: Point
    at: datetime
    department: str | None  # the case's lead, when known


@dataclass
class Hotspot:
    category: str
    centre: Point
    radius_m: float  # farthest report from the centre
    reports: list[PlacedReport]
    first_at: datetime
    last_at: datetime
    departments: dict[str, int] = field(default_factory=dict)

    @property
    def case_ids(self) -> list[str]:
        return list(dict.fromkeys(r.case_id for r in self.reports))


@dataclass(frozen=True)
class ClosedCase:
    case_id: str
    number: str
    category: str
    point: Point
    closed_at: datetime
    department: str | None  # the lead when it was closed


@dataclass
class Repeat:
    closed: ClosedCase
    later: list[tuple[PlacedReport, float]]  # the report and its distance in metres


def hotspots(
    reports: Sequence[PlacedReport],
    *,
    radius_m: float = 100.0,
    min_reports: int = 3,
    check: Callable[[], None] = no_limit,
) -> list[Hotspot]:
    """``check`` is called between steps (server/evaluation/budget.py: it stops a computation
    past its time limit)."""
    by_category: dict[str, list[PlacedReport]] = defaultdict(list)
    for r in reports:
        by_category[r.category].append(r)
    found: list[Hotspot] = []
    pairs = 0
    for category, items in sorted(by_category.items()):
        grid: GridIndex[int] = GridIndex(radius_m)
        for i, r in enumerate(items):
            grid.add(r.point, i)
        neighbours: list[list[int]] = []
        for r in items:
            check()
            neighbours.append(grid.within(r.point, radius_m))
            pairs += len(neighbours[-1])
            if pairs > budget.MAX_NEIGHBOUR_PAIRS:
                raise budget.too_many_pairs()
        core = [len(n) >= min_reports for n in neighbours]
        label = [-1] * len(items)
        cluster = 0
        for i in range(len(items)):
            if not core[i] or label[i] != -1:
                continue
            label[i] = cluster
            stack = [i]
            while stack:
                check()
                k = stack.pop()
                for j in neighbours[k]:
                    if label[j] == -1:
                        label[j] = cluster
                        if core[j]:
                            stack.append(j)
            cluster += 1
        members: dict[int, list[PlacedReport]] = defaultdict(list)
        for i, c in enumerate(label):
            if c != -1:
                members[c].append(items[i])
        for group in members.values():
            found.append(_hotspot(category, group))
    found.sort(key=lambda h: (-len(h.reports), h.category, h.first_at))
    return found


def _hotspot(category: str, group: list[PlacedReport]) -> Hotspot:
    centre = Point(
        sum(r.point.lat for r in group) / len(group), sum(r.point.lon for r in group) / len(group)
    )
    return Hotspot(
        category=category,
        centre=centre,
        radius_m=max(distance_m(centre, r.point) for r in group),
        reports=sorted(group, key=lambda r: (r.at, r.id)),
        first_at=min(r.at for r in group),
        last_at=max(r.at for r in group),
        departments=dict(Counter(r.department for r in group if r.department)),
    )


def repeat_complaints(
    closed: Sequence[ClosedCase],
    reports: Sequence[PlacedReport],
    *,
    radius_m: float = 100.0,
    window_days: int = 90,
    check: Callable[[], None] = no_limit,
) -> dict[str, list[Repeat]]:
    """Department → its closed cases whose problem came back, most repeats first."""
    grids: dict[str, GridIndex[PlacedReport]] = defaultdict(lambda: GridIndex(radius_m))
    for r in reports:
        check()
        grids[r.category].add(r.point, r)
    window = timedelta(days=window_days)
    out: dict[str, list[Repeat]] = defaultdict(list)
    pairs = 0
    for c in closed:
        check()
        grid = grids.get(c.category)
        if grid is None:
            continue
        later = [
            (r, d)
            for r, d in grid.near(c.point, radius_m)
            if r.id != c.case_id and c.closed_at < r.at <= c.closed_at + window
        ]
        pairs += len(later)
        if pairs > budget.MAX_NEIGHBOUR_PAIRS:
            raise budget.too_many_pairs()
        if later:
            later.sort(key=lambda hit: (hit[0].at, hit[0].id))
            out[c.department or ""].append(Repeat(c, later))
    for repeats in out.values():
        repeats.sort(key=lambda rep: (-len(rep.later), rep.closed.closed_at, rep.closed.case_id))
    return dict(sorted(out.items(), key=lambda kv: (-sum(len(r.later) for r in kv[1]), kv[0])))
