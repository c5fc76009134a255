"""Where the problem is: what a map shows and what the place card says (pure; no Flet).

One ``MapModel`` serves the three maps (docs/map.md): the case screen, the new inspection and
the 附近/我的案件 view. Everything on it comes from the phone's own data — the reference data's
town/street polygons and registered sites, the local cases and the phone's fix — so the map is
useful with no tiles and no network; tiles (``fieldapp.config.TileSource``) only add a base map.

Other open cases are coloured by the one urgency rule (``sync.overdue.urgency``): overdue, due
soon, or normal. Distances are ``sync.geo`` (geodesic, WGS-84).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fieldapp.viewmodels.tasks import clock_of
from sync.boundary_types import Point, Site, Town
from sync.geo import distance_m, distance_to_tell, nearest_site, sites_within, town_at
from sync.overdue import Urgency, urgency
from sync.reference_codec import Reference
from sync.vocabulary import OPEN_STATUSES, CaseStatus
from sync.workcalendar import WorkCalendar

NEARBY_M = 1000.0  # other open cases shown around a case or the phone
NEARBY_MAX = 50
SITES_AROUND_M = 1000.0  # registered sites shown on the 附近 map
DEFAULT_ZOOM = 15.0  # one point and nothing else to fit: a few streets around it
COUNTY_ZOOM = 11.0  # no point at all: the county's towns


class Level(StrEnum):
    """How urgent an open case is, for its colour on the map (``sync.overdue``)."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    NORMAL = "normal"


def level_of(snapshot: Mapping[str, Any], now: datetime, calendar: WorkCalendar) -> Level:
    state = urgency(clock_of(snapshot), now, calendar)
    if state is Urgency.OVERDUE:
        return Level.OVERDUE
    if state is Urgency.DUE_SOON:
        return Level.DUE_SOON
    return Level.NORMAL


@dataclass(frozen=True)
class CasePin:
    """An open case on the map."""

    case_id: str
    number: str
    point: Point
    level: Level
    distance_m: float  # from the map's centre of interest (the case, or the phone)


@dataclass(frozen=True)
class MapModel:
    """What one map draws. ``subject``: the case's point (or the new inspection's fix)."""

    subject: Point | None
    here: Point | None  # the phone's own position
    outlines: tuple[Town, ...]  # town/street polygons from the reference data
    sites: tuple[Site, ...]  # registered sites (点位)
    others: tuple[CasePin, ...]  # other open cases, nearest first
    fit: tuple[Point, ...]  # what the camera should show at first

    @property
    def center(self) -> Point | None:
        """The point the map opens on: the subject, else the phone, else the outlines."""
        if self.subject is not None:
            return self.subject
        if self.here is not None:
            return self.here
        ring = [p for town in self.outlines for p in town.polygon]
        if not ring:
            return None
        return Point(
            (min(p.lat for p in ring) + max(p.lat for p in ring)) / 2,
            (min(p.lon for p in ring) + max(p.lon for p in ring)) / 2,
        )

    @property
    def zoom(self) -> float:
        return COUNTY_ZOOM if self.subject is None and self.here is None else DEFAULT_ZOOM

    @property
    def is_empty(self) -> bool:
        return self.center is None


def point_of(snapshot: Mapping[str, Any]) -> Point | None:
    lat, lon = snapshot.get("lat"), snapshot.get("lon")
    if lat is None or lon is None:
        return None
    return Point(float(lat), float(lon))


def open_cases_near(
    snapshots: Iterable[Mapping[str, Any]],
    around: Point | None,
    *,
    now: datetime,
    calendar: WorkCalendar,
    within_m: float = NEARBY_M,
    limit: int = NEARBY_MAX,
    exclude: str | None = None,
) -> list[CasePin]:
    """Open cases within ``within_m`` of ``around``, nearest first, each with its urgency."""
    if around is None:
        return []
    pins: list[CasePin] = []
    for snap in snapshots:
        if str(snap.get("id")) == exclude:
            continue
        try:
            if CaseStatus(snap["status"]) not in OPEN_STATUSES:
                continue
        except (KeyError, ValueError):
            continue
        point = point_of(snap)
        if point is None:
            continue
        d = distance_m(around, point)
        if d > within_m:
            continue
        pins.append(
            CasePin(
                case_id=str(snap["id"]),
                number=str(snap.get("number") or str(snap["id"])[:8]),
                point=point,
                level=level_of(snap, now, calendar),
                distance_m=d,
            )
        )
    pins.sort(key=lambda pin: (pin.distance_m, pin.number))
    return pins[:limit]


def town_of(reference: Reference, town_code: str | None, point: Point | None) -> Town | None:
    """The case's town/street: the one it was recorded in, else the polygon holding its point."""
    town = reference.town(town_code) if town_code else None
    if town is None and point is not None:
        town = town_at(point, reference.towns)
    return town


def site_of(reference: Reference, site_code: str | None, point: Point | None) -> Site | None:
    """The case's registered site: the one it names, else the nearest in reach of its point."""
    site = reference.site(site_code) if site_code else None
    if site is None and point is not None:
        found = nearest_site(point, reference.sites)
        site = found[0] if found else None
    return site


def _fit(*groups: Iterable[Point]) -> tuple[Point, ...]:
    seen: list[Point] = []
    for group in groups:
        for p in group:
            if p not in seen:
                seen.append(p)
    return tuple(seen)


def case_map(
    snapshot: Mapping[str, Any],
    reference: Reference,
    nearby: Iterable[Mapping[str, Any]],
    *,
    here: Point | None,
    now: datetime,
) -> MapModel:
    """The case screen's map: the case's point, its site, its town's outline, the other open
    cases around it (by urgency) and the phone. Opens on all of them (the phone only when it
    is within ``NEARBY_M``: a phone across the county would shrink the case to a dot)."""
    point = point_of(snapshot)
    town = town_of(reference, snapshot.get("town_code"), point)
    site = site_of(reference, snapshot.get("site_code"), point)
    others = open_cases_near(
        nearby, point, now=now, calendar=reference.calendar, exclude=str(snapshot.get("id"))
    )
    return MapModel(
        subject=point,
        here=here,
        outlines=(town,) if town is not None else (),
        sites=(site,) if site is not None else (),
        others=tuple(others),
        fit=_fit(
            [point] if point else [],
            [site.location] if site else [],
            [p.point for p in others],
            [here] if here and point and distance_m(here, point) <= NEARBY_M else [],
        ),
    )


def inspection_map(
    reference: Reference,
    nearby: Iterable[Mapping[str, Any]],
    *,
    fix: Point | None,
    site: Site | None,
    now: datetime,
) -> MapModel:
    """The new inspection's map: the fix being recorded (also the phone's position), the
    suggested site, the town/street it falls in, and open cases around it."""
    town = town_at(fix, reference.towns) if fix is not None else None
    others = open_cases_near(nearby, fix, now=now, calendar=reference.calendar)
    return MapModel(
        subject=fix,
        here=fix,
        outlines=(town,) if town is not None else (),
        sites=(site,) if site is not None else (),
        others=tuple(others),
        fit=_fit([fix] if fix else [], [site.location] if site else [], [p.point for p in others]),
    )


def around_me_map(
    reference: Reference,
    cases: Iterable[Mapping[str, Any]],
    *,
    here: Point | None,
    now: datetime,
    mine: Iterable[str] = (),
) -> MapModel:
    """The 附近/我的案件 view: around the phone, every open case within ``NEARBY_M`` and the
    registered sites within ``SITES_AROUND_M``; with no fix, my open cases wherever they are
    and every town's outline. ``mine``: the ids of my tasks (shown even when far)."""
    snaps = list(cases)
    wanted = set(mine)
    if here is not None:
        pins = open_cases_near(snaps, here, now=now, calendar=reference.calendar)
        shown = {p.case_id for p in pins}
        far_mine = open_cases_near(
            (s for s in snaps if str(s.get("id")) in wanted and str(s.get("id")) not in shown),
            here,
            now=now,
            calendar=reference.calendar,
            within_m=float("inf"),
        )
        town = town_at(here, reference.towns)
        return MapModel(
            subject=None,
            here=here,
            outlines=(town,) if town is not None else reference.towns,
            sites=tuple(s for s, _d in sites_within(here, reference.sites, SITES_AROUND_M)),
            others=(*pins, *far_mine),
            fit=_fit([here], [p.point for p in pins]),
        )
    pins = []
    for snap in snaps:
        point = point_of(snap)
        if str(snap.get("id")) in wanted and point is not None:
            pins.extend(
                open_cases_near([snap], point, now=now, calendar=reference.calendar, within_m=0)
            )
    return MapModel(
        subject=None,
        here=None,
        outlines=reference.towns,
        sites=(),
        others=tuple(pins),
        fit=tuple(p.point for p in pins),
    )


# --- the place in words ----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """The case's place as the case screen says it."""

    site: str | None  # the registered site's name
    town: str | None  # the town/street's name
    address: str | None  # a street address, when one is known (e.g. a 12345 ticket's)
    distance_m: int | None  # from the phone, rounded as people are told it
    point: Point | None

    @property
    def coordinates(self) -> str | None:
        """The point as "lat, lon" with 6 decimals (≈ 0.1 m): what the copy button copies."""
        if self.point is None:
            return None
        return f"{self.point.lat:.6f}, {self.point.lon:.6f}"


def address_of(snapshot: Mapping[str, Any]) -> str | None:
    """A street address, when the case has one: its own, else the latest one an event carries
    (a 12345 ticket names an address)."""
    own = snapshot.get("address")
    if isinstance(own, str) and own.strip():
        return own.strip()
    for event in reversed(snapshot.get("events") or []):
        data = event.get("data") if isinstance(event, dict) else None
        found = data.get("address") if isinstance(data, dict) else None
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def place_of(snapshot: Mapping[str, Any], reference: Reference, here: Point | None) -> Place:
    point = point_of(snapshot)
    town = town_of(reference, snapshot.get("town_code"), point)
    site = site_of(reference, snapshot.get("site_code"), point)
    return Place(
        site=site.name if site is not None else None,
        town=town.name if town is not None else None,
        address=address_of(snapshot),
        distance_m=distance_to_tell(here, point),
        point=point,
    )


def tiles_unavailable(configured: bool, failed: bool) -> bool:
    """Whether the map must say that it has no base map: no tile server set, or its tiles
    could not be fetched (offline, refused, a wrong key)."""
    return not configured or failed
