"""On-the-spot assignment: the proposal the boundary list makes for a case, computed offline.

Which version applies is decided by when the case was recorded (a ruling's new version applies
to cases recorded from its effective date); the deadline clock starts at assignment (交办).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sync.boundary import resolve
from sync.boundary_types import (
    AssistingDuty,
    BoundaryVersion,
    PlaceMatch,
    Point,
    Site,
    TimeLimit,
    Town,
)
from sync.workcalendar import Deadline, compute_deadline

TOWN_OFFICE_PREFIX = "town:"
WHERE_THE_CASE_IS = "town:*"


@dataclass(frozen=True)
class Proposal:
    category: str
    matter: str
    lead_department: str
    lead_duty: str
    assisting: tuple[AssistingDuty, ...]
    legal_basis: str
    list_version: int
    time_limit: TimeLimit
    deadline: Deadline
    place: PlaceMatch
    source: str


def town_office_code(town_code: str) -> str:
    """The department code of a town/street office (乡镇/街道)."""
    return f"{TOWN_OFFICE_PREFIX}{town_code}"


def _concrete_assisting(
    assisting: Sequence[AssistingDuty], place: PlaceMatch
) -> tuple[AssistingDuty, ...]:
    out: list[AssistingDuty] = []
    for duty in assisting:
        if duty.department_code == WHERE_THE_CASE_IS:
            if place.town_code is None:
                continue  # no town known: nobody to name; the place must be fixed first
            out.append(AssistingDuty(town_office_code(place.town_code), duty.duty))
        else:
            out.append(duty)
    return tuple(out)


def propose_assignment(
    *,
    versions: Sequence[BoundaryVersion],
    towns: Sequence[Town],
    sites: Sequence[Site],
    category: str,
    recorded_at: datetime,
    assigned_at: datetime,
    point: Point | None = None,
    town_code: str | None = None,
    site_code: str | None = None,
) -> Proposal:
    resolution = resolve(
        versions=versions,
        towns=towns,
        sites=sites,
        category=category,
        at=recorded_at,
        point=point,
        town_code=town_code,
        site_code=site_code,
    )
    entry = resolution.entry
    return Proposal(
        category=entry.category,
        matter=entry.matter,
        lead_department=entry.lead_department_code,
        lead_duty=entry.lead_duty,
        assisting=_concrete_assisting(entry.assisting, resolution.place),
        legal_basis=entry.legal_basis,
        list_version=resolution.list_version,
        time_limit=entry.time_limit,
        deadline=compute_deadline(assigned_at=assigned_at, limit=entry.time_limit, now=assigned_at),
        place=resolution.place,
        source=entry.source,
    )
