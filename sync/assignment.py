"""On-the-spot assignment: the proposal the boundary list makes for a case, computed offline.

Which version applies is decided by when the case was recorded (a ruling's new version applies
to cases recorded from its effective date); the deadline clock starts at assignment (交办).

A matter or place no entry of the version in force covers is still assigned (no case is stuck
with nobody): the proposal is the town/street office of the place (属地管理), marked
``unlisted``, with ``UNLISTED_TIME_LIMIT``; the assigning user may choose another lead with a
reason (``choose_assignment``). Such an assignment is recorded in the register of unlisted
matters that 编办 reviews for the next list version. With no town/street known either, nobody
can be proposed (``lead_department`` is empty): the user must name the lead, with a reason.
``UNLISTED_CATEGORY`` (其他) records a matter that has no category on the list at all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sync.boundary import locate, resolve, version_in_force
from sync.boundary_types import (
    AssistingDuty,
    BoundaryVersion,
    PlaceMatch,
    Point,
    Site,
    TimeLimit,
    Town,
)
from sync.errors import InvalidInput, RuleViolation
from sync.vocabulary import TimeUnit
from sync.workcalendar import Deadline, WorkCalendar, compute_deadline

TOWN_OFFICE_PREFIX = "town:"
WHERE_THE_CASE_IS = "town:*"

UNLISTED_CATEGORY = "unlisted"  # 其他：清单未列的事项
UNLISTED_MATTER = "清单未列事项"
UNLISTED_TIME_LIMIT = TimeLimit(5, TimeUnit.WORKING_DAYS)
UNLISTED_DUTY = (
    "属地管理：清单未覆盖此事项或地点，由所在乡镇（街道）负责处置或协调 / not on the list: "
    "the town/street office of the place handles or coordinates it"
)
UNLISTED_BASIS = "属地管理原则 / the town or street of the place is responsible"
UNLISTED_SOURCE = "清单未覆盖（属地管理） / not on the list"


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
    unlisted: bool = False  # no entry covers it: the town/street office (or nobody) proposed


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
    calendar: WorkCalendar,
    point: Point | None = None,
    town_code: str | None = None,
    site_code: str | None = None,
) -> Proposal:
    if not category.strip():
        raise InvalidInput("category", "a category is required")
    known = {e.category for v in versions for e in v.entries}
    if category not in known and category != UNLISTED_CATEGORY:
        raise InvalidInput("category", f"未知的事项类别 {category!r} / unknown category")
    version = version_in_force(versions, recorded_at)
    place = locate(point=point, town_code=town_code, site_code=site_code, towns=towns, sites=sites)
    try:
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
    except (InvalidInput, RuleViolation):  # the place was valid: no entry covers it
        return _unlisted(version, category, place, assigned_at, calendar)
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
        deadline=compute_deadline(
            assigned_at=assigned_at, limit=entry.time_limit, calendar=calendar, now=assigned_at
        ),
        place=resolution.place,
        source=entry.source,
    )


def _unlisted(
    version: BoundaryVersion,
    category: str,
    place: PlaceMatch,
    assigned_at: datetime,
    calendar: WorkCalendar,
) -> Proposal:
    """属地管理: the town/street office of the place (nobody when no town/street is known)."""
    matter = next((e.matter for e in version.entries if e.category == category), UNLISTED_MATTER)
    return Proposal(
        category=category,
        matter=matter,
        lead_department=town_office_code(place.town_code) if place.town_code else "",
        lead_duty=UNLISTED_DUTY,
        assisting=(),
        legal_basis=UNLISTED_BASIS,
        list_version=version.number,
        time_limit=UNLISTED_TIME_LIMIT,
        deadline=compute_deadline(
            assigned_at=assigned_at, limit=UNLISTED_TIME_LIMIT, calendar=calendar, now=assigned_at
        ),
        place=place,
        source=UNLISTED_SOURCE,
        unlisted=True,
    )


@dataclass(frozen=True)
class Chosen:
    """The assignment made: the proposal as is, or an override of it with a reason."""

    lead_department: str
    assisting: tuple[AssistingDuty, ...]
    overridden: bool
    override_reason: str


def choose_assignment(
    proposal: Proposal,
    *,
    departments: Collection[str],
    lead_department: str | None = None,
    assisting: Sequence[AssistingDuty] | None = None,
    override_reason: str = "",
) -> Chosen:
    """Accept the proposal or override it. An override (another lead or other assisting
    departments) needs a reason and departments that exist or were proposed; with no lead
    proposed (an unlisted matter at an unknown place) the lead must be named. The lead never
    also assists."""
    lead, chosen_assisting, overridden = proposal.lead_department, proposal.assisting, False
    proposed = {proposal.lead_department, *(a.department_code for a in proposal.assisting)}
    if lead_department is not None and lead_department != proposal.lead_department:
        if lead_department not in departments and lead_department not in proposed:
            raise InvalidInput("lead_department", "未知的部门 / unknown department")
        lead, overridden = lead_department, True
    if assisting is not None and tuple(assisting) != proposal.assisting:
        for i, duty in enumerate(assisting):
            if duty.department_code not in departments and duty.department_code not in proposed:
                raise InvalidInput(
                    f"assisting[{i}].department_code", "未知的部门 / unknown department"
                )
        chosen_assisting, overridden = tuple(assisting), True
    if not lead:
        raise InvalidInput(
            "lead_department",
            "清单未覆盖且位置不明，须指定主办部门并说明理由 / not on the list and no town/street "
            "known: name the lead department, with a reason",
            code="lead_required",
        )
    if overridden and not override_reason.strip():
        raise InvalidInput(
            "override_reason", "改变清单建议的部门须说明理由 / overriding the list needs a reason"
        )
    if any(a.department_code == lead for a in chosen_assisting):
        raise InvalidInput("assisting", "主办部门不能同时是协办部门 / lead cannot also assist")
    return Chosen(lead, chosen_assisting, overridden, override_reason.strip())
