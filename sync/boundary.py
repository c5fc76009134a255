"""The boundary list (职责边界清单) rules: which version is in force, where a place is, and who
leads and assists on a matter there.

``resolve`` answers (category, place, time) → the entry in force → lead, assisting, list version.
A version applies to cases created from its ``effective_from`` on; a case keeps the version it
was assigned under (``resolve_in_version`` re-reads that version). ``validate_version`` is the
gate a new version (an 认定意见 batch or a ruling) passes before it is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sync.boundary_types import (
    Area,
    AreaKind,
    BoundaryEntry,
    BoundaryVersion,
    PlaceMatch,
    Point,
    Resolution,
    Site,
    Town,
)
from sync.clock import to_local
from sync.errors import InvalidInput, NotFound, RuleViolation
from sync.geo import distance_m, nearest_site, town_at, validate_point
from sync.vocabulary import TimeUnit

__all__ = [
    "entries_for",
    "locate",
    "resolve",
    "resolve_in_version",
    "validate_version",
    "version_in_force",
    "version_numbered",
]

# Most specific first.
_SPECIFICITY = {AreaKind.TOWNS: 0, AreaKind.URBAN: 1, AreaKind.COUNTY: 2}


# --- versions ---------------------------------------------------------------------------------


def version_in_force(versions: Sequence[BoundaryVersion], at: datetime) -> BoundaryVersion:
    """The highest-numbered version whose ``effective_from`` is at or before ``at``."""
    if at.tzinfo is None:
        raise InvalidInput("at", "naive datetime: pass an aware datetime")
    in_force = [v for v in versions if v.effective_from <= at]
    if not in_force:
        raise RuleViolation(f"no boundary list in force at {to_local(at).isoformat()}")
    return max(in_force, key=lambda v: v.number)


def version_numbered(versions: Sequence[BoundaryVersion], number: int) -> BoundaryVersion:
    """The version a case was assigned under, by its number."""
    for version in versions:
        if version.number == number:
            return version
    raise NotFound(f"boundary list version {number} does not exist")


# --- places -----------------------------------------------------------------------------------


def _town_by_code(towns: Sequence[Town], code: str, field: str) -> Town:
    for town in towns:
        if town.code == code:
            return town
    raise InvalidInput(field, f"unknown town/street {code!r}")


def _site_by_code(sites: Sequence[Site], code: str) -> Site:
    for site in sites:
        if site.code == code:
            return site
    raise InvalidInput("site_code", f"unknown site {code!r}")


def locate(
    *,
    point: Point | None,
    town_code: str | None,
    site_code: str | None,
    towns: Sequence[Town],
    sites: Sequence[Site],
) -> PlaceMatch:
    """Where a case is, from whatever the reporter gave.

    - an explicit site → that site and its town (its distance from ``point`` if one is given);
      a ``town_code`` that contradicts the site's town is refused;
    - an explicit town → that town, and with a point the nearest site of that town in reach;
    - a point alone → the town whose polygon contains it (or, outside every polygon, the town of
      the nearest registered site within its radius) and the nearest site in reach;
    - nothing → an empty match (only county-wide entries can apply).
    """
    if point is not None:
        validate_point(point, "point")

    if site_code is not None:
        site = _site_by_code(sites, site_code)
        if town_code is not None and town_code != site.town_code:
            raise InvalidInput(
                "town_code", f"site {site.code} is in {site.town_code}, not in {town_code}"
            )
        distance = distance_m(point, site.location) if point is not None else None
        return PlaceMatch(town_code=site.town_code, site=site, site_distance_m=distance)

    if town_code is not None:
        town = _town_by_code(towns, town_code, "town_code")
        hit = None
        if point is not None:
            hit = nearest_site(point, [s for s in sites if s.town_code == town.code])
        return PlaceMatch(
            town_code=town.code,
            site=hit[0] if hit else None,
            site_distance_m=hit[1] if hit else None,
        )

    if point is not None:
        hit = nearest_site(point, sites)
        town_found = town_at(point, towns)
        code = town_found.code if town_found is not None else (hit[0].town_code if hit else None)
        return PlaceMatch(
            town_code=code,
            site=hit[0] if hit else None,
            site_distance_m=hit[1] if hit else None,
        )

    return PlaceMatch(town_code=None, site=None, site_distance_m=None)


# --- resolution -------------------------------------------------------------------------------


def entries_for(version: BoundaryVersion, category: str) -> list[BoundaryEntry]:
    """The entries of ``version`` for ``category``, in list order."""
    return [entry for entry in version.entries if entry.category == category]


def _covers(area: Area, town: Town | None) -> bool:
    if area.kind is AreaKind.COUNTY:
        return True
    if town is None:
        return False
    if area.kind is AreaKind.URBAN:
        return town.urban
    return town.code in area.town_codes


def _describe(place: PlaceMatch, town: Town | None) -> str:
    if place.site is not None:
        return f"site {place.site.code} ({place.site.name}) in {place.town_code}"
    if town is not None:
        return f"town/street {town.code} ({town.name})"
    if place.town_code is not None:
        return f"town/street {place.town_code}"
    return "no known town/street"


def resolve_in_version(
    version: BoundaryVersion,
    *,
    towns: Sequence[Town],
    sites: Sequence[Site],
    category: str,
    point: Point | None = None,
    town_code: str | None = None,
    site_code: str | None = None,
) -> Resolution:
    """What one given version says about (category, place): for a case that keeps its version.

    Among the entries for the category, the most specific area that covers the place wins:
    TOWNS naming the town > URBAN (the town is urban) > COUNTY. Should two entries of the same
    kind both cover the place (a list that skipped ``validate_version``), the one naming fewer
    towns wins, then the one listed first.
    """
    if not category.strip():
        raise InvalidInput("category", "a category is required")
    candidates = entries_for(version, category)
    if not candidates:
        raise InvalidInput(
            "category", f"unknown category {category!r} in boundary list v{version.number}"
        )
    place = locate(point=point, town_code=town_code, site_code=site_code, towns=towns, sites=sites)
    town = next((t for t in towns if t.code == place.town_code), None)
    covering = [e for e in candidates if _covers(e.area, town)]
    if not covering:
        raise RuleViolation(
            f"boundary list v{version.number} has no entry for category {category!r} "
            f"that covers {_describe(place, town)}"
        )
    order = {id(e): i for i, e in enumerate(covering)}
    best = min(
        covering,
        key=lambda e: (_SPECIFICITY[e.area.kind], len(e.area.town_codes), order[id(e)]),
    )
    return Resolution(entry=best, list_version=version.number, place=place)


def resolve(
    *,
    versions: Sequence[BoundaryVersion],
    towns: Sequence[Town],
    sites: Sequence[Site],
    category: str,
    at: datetime,
    point: Point | None = None,
    town_code: str | None = None,
    site_code: str | None = None,
) -> Resolution:
    """(category, place, time) → the entry of the version in force at ``at`` that covers the place.

    A category found in no version at all is an ``InvalidInput("category", …)``; one that exists
    in other versions but not in the one in force, or whose entries do not cover the place, is a
    ``RuleViolation`` that names the category and the place.
    """
    if not category.strip():
        raise InvalidInput("category", "a category is required")
    version = version_in_force(versions, at)
    if not entries_for(version, category):
        if not any(entries_for(v, category) for v in versions):
            raise InvalidInput("category", f"unknown category {category!r}")
        raise RuleViolation(
            f"category {category!r} is not in boundary list v{version.number}, "
            f"in force at {to_local(at).isoformat()}"
        )
    return resolve_in_version(
        version,
        towns=towns,
        sites=sites,
        category=category,
        point=point,
        town_code=town_code,
        site_code=site_code,
    )


# --- publishing a new version -----------------------------------------------------------------


def _require_text(value: str, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must not be empty")


def _validate_area(area: Area, field: str, town_codes: set[str] | None) -> None:
    if area.kind in (AreaKind.COUNTY, AreaKind.URBAN):
        if area.town_codes:
            raise InvalidInput(f"{field}.town_codes", f"a {area.kind} area names no towns")
        return
    if area.kind is not AreaKind.TOWNS:
        raise InvalidInput(f"{field}.kind", f"unknown area kind {area.kind!r}")
    if not area.town_codes:
        raise InvalidInput(f"{field}.town_codes", "a towns area must name at least one town")
    if len(set(area.town_codes)) != len(area.town_codes):
        raise InvalidInput(f"{field}.town_codes", "a town is named twice")
    if town_codes is not None:
        for code in area.town_codes:
            if code not in town_codes:
                raise InvalidInput(f"{field}.town_codes", f"unknown town/street {code!r}")


def _validate_entry(
    entry: BoundaryEntry, field: str, department_codes: set[str], town_codes: set[str] | None
) -> None:
    _require_text(entry.matter, f"{field}.matter")
    _require_text(entry.category, f"{field}.category")
    _require_text(entry.lead_duty, f"{field}.lead_duty")
    _require_text(entry.legal_basis, f"{field}.legal_basis")
    _require_text(entry.source, f"{field}.source")
    if entry.lead_department_code not in department_codes:
        raise InvalidInput(
            f"{field}.lead_department_code",
            f"unknown department {entry.lead_department_code!r}",
        )
    seen: set[str] = set()
    for j, duty in enumerate(entry.assisting):
        duty_field = f"{field}.assisting[{j}]"
        if duty.department_code not in department_codes:
            raise InvalidInput(
                f"{duty_field}.department_code", f"unknown department {duty.department_code!r}"
            )
        if duty.department_code == entry.lead_department_code:
            raise InvalidInput(
                f"{duty_field}.department_code",
                f"{duty.department_code} is the lead and cannot also be assisting",
            )
        if duty.department_code in seen:
            raise InvalidInput(
                f"{duty_field}.department_code", f"{duty.department_code} is listed twice"
            )
        seen.add(duty.department_code)
        _require_text(duty.duty, f"{duty_field}.duty")
    limit = entry.time_limit
    if isinstance(limit.amount, bool) or not isinstance(limit.amount, int) or limit.amount <= 0:
        raise InvalidInput(
            f"{field}.time_limit.amount", f"must be a whole number > 0, got {limit.amount!r}"
        )
    if limit.unit not in set(TimeUnit):
        raise InvalidInput(f"{field}.time_limit.unit", f"unknown unit {limit.unit!r}")
    _validate_area(entry.area, f"{field}.area", town_codes)


def validate_version(
    previous: BoundaryVersion | None,
    new: BoundaryVersion,
    *,
    department_codes: set[str],
    town_codes: set[str] | None = None,
) -> None:
    """Refuse a new version that cannot be published, naming the first bad field.

    The first version is number 1; each next one is previous + 1, takes effect no earlier than
    the previous one, and states its reason. Every entry names existing departments (and, when
    ``town_codes`` is given, existing towns), does not list the lead as assisting, has a positive
    time limit, and no two entries share a category and area — nor, for one category, name the
    same town in two TOWNS areas (resolution would be ambiguous).
    """
    expected = 1 if previous is None else previous.number + 1
    if new.number != expected:
        raise InvalidInput("number", f"must be {expected}, got {new.number}")
    if new.effective_from.tzinfo is None:
        raise InvalidInput("effective_from", "naive datetime: pass an aware datetime")
    if previous is not None and new.effective_from < previous.effective_from:
        raise InvalidInput(
            "effective_from",
            f"must not be before v{previous.number}'s "
            f"{to_local(previous.effective_from).isoformat()}",
        )
    _require_text(new.reason, "reason")
    if not new.entries:
        raise InvalidInput("entries", "a version must have at least one entry")

    areas_seen: dict[tuple[str, AreaKind, tuple[str, ...]], int] = {}
    towns_seen: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(new.entries):
        field = f"entries[{i}]"
        _validate_entry(entry, field, department_codes, town_codes)
        key = (entry.category, entry.area.kind, tuple(sorted(entry.area.town_codes)))
        if key in areas_seen:
            raise InvalidInput(
                f"{field}.area",
                f"entries[{areas_seen[key]}] already covers category {entry.category!r} "
                f"in the same area",
            )
        areas_seen[key] = i
        if entry.area.kind is AreaKind.TOWNS:
            for code in entry.area.town_codes:
                if (entry.category, code) in towns_seen:
                    raise InvalidInput(
                        f"{field}.area.town_codes",
                        f"{code} is already named for category {entry.category!r} "
                        f"by entries[{towns_seen[(entry.category, code)]}]",
                    )
                towns_seen[(entry.category, code)] = i
