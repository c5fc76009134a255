"""Value types of the responsibility boundary list (职责边界清单) and of places.

Plain frozen dataclasses: the server maps its tables to these, the app its local copy, and
the pure rules in ``sync.boundary`` resolve (category, place, time) against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sync.vocabulary import TimeUnit


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Town:
    """A town (乡镇) or street office (街道). ``polygon`` is a closed ring of (lat, lon)."""

    code: str
    name: str
    kind: str  # "town" | "street"
    urban: bool  # inside the urban area (城区)
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class Site:
    """A registered site (点位): a parking lot, a waterlogging point, a drain, a river reach…"""

    code: str
    name: str
    kind: str  # "parking_lot" | "waterlogging_point" | "drain" | "river" | ...
    category: str | None  # the boundary-list category it usually belongs to, if any
    town_code: str
    location: Point
    radius_m: float = 100.0


class AreaKind(StrEnum):
    COUNTY = "county"  # 全县
    URBAN = "urban"  # 城区 (towns/streets flagged urban)
    TOWNS = "towns"  # named towns/streets


@dataclass(frozen=True)
class Area:
    kind: AreaKind
    town_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeLimit:
    amount: int
    unit: TimeUnit


@dataclass(frozen=True)
class AssistingDuty:
    department_code: str
    duty: str  # what the assisting department must do


@dataclass(frozen=True)
class BoundaryEntry:
    """One matter (事项) of one version of the list."""

    matter: str  # e.g. "停车场监管"
    category: str  # stable key, e.g. "parking"
    lead_department_code: str
    lead_duty: str
    assisting: tuple[AssistingDuty, ...]
    legal_basis: str
    area: Area
    time_limit: TimeLimit
    source: str  # e.g. "认定意见第一批" or "裁决 R-2026-003"


@dataclass(frozen=True)
class BoundaryVersion:
    number: int
    effective_from: datetime  # aware
    reason: str
    entries: tuple[BoundaryEntry, ...] = field(default=())


@dataclass(frozen=True)
class PlaceMatch:
    """Where a point is: the town/street containing it and the nearest registered site in reach."""

    town_code: str | None
    site: Site | None
    site_distance_m: float | None


@dataclass(frozen=True)
class Resolution:
    """What the boundary list says about (category, place, time)."""

    entry: BoundaryEntry
    list_version: int
    place: PlaceMatch
