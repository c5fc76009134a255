"""Publishing a new version of the boundary list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.data import boundary as boundary_data
from server.data import reference as reference_data
from sync.assignment import WHERE_THE_CASE_IS
from sync.boundary import validate_version
from sync.boundary_types import (
    Area,
    AreaKind,
    AssistingDuty,
    BoundaryEntry,
    BoundaryVersion,
    TimeLimit,
)
from sync.clock_rules import check_effective_from
from sync.errors import InvalidInput
from sync.lifecycle import Actor
from sync.vocabulary import TimeUnit


def entry_from_dict(i: int, d: dict[str, Any]) -> BoundaryEntry:
    try:
        area_kind = AreaKind(d["area_kind"])
    except ValueError:
        raise InvalidInput(f"entries[{i}].area_kind", "应为 county/urban/towns") from None
    try:
        unit = TimeUnit(d["time_unit"])
    except ValueError:
        raise InvalidInput(f"entries[{i}].time_unit", "应为 working_days/working_hours") from None
    return BoundaryEntry(
        matter=d["matter"],
        category=d["category"],
        lead_department_code=d["lead_department_code"],
        lead_duty=d["lead_duty"],
        assisting=tuple(AssistingDuty(a["department_code"], a["duty"]) for a in d["assisting"]),
        legal_basis=d["legal_basis"],
        area=Area(area_kind, tuple(d["area_towns"])),
        time_limit=TimeLimit(int(d["time_amount"]), unit),
        source=d["source"],
    )


def publish_version(
    session: Session,
    *,
    actor: Actor,
    effective_from: datetime,
    reason: str,
    entries: Sequence[dict[str, Any]],
    now: datetime,
    backdate_reason: str = "",
) -> BoundaryVersion:
    """Publish the next version. Taking effect before now needs ``backdate_reason``
    (sync/clock_rules.check_effective_from): a back-dated version would re-route cases
    recorded before anyone could know of it."""
    if effective_from.tzinfo is None:
        raise InvalidInput("effective_from", "须带时区 / must include a time zone")
    backdate = check_effective_from(
        effective_from, published_at=now, backdate_reason=backdate_reason
    )
    versions = boundary_data.load_versions(session)
    previous = versions[-1] if versions else None
    version = BoundaryVersion(
        number=(previous.number + 1) if previous else 1,
        effective_from=effective_from,
        reason=reason.strip(),
        entries=tuple(entry_from_dict(i, e) for i, e in enumerate(entries)),
    )
    # "town:*" (the town office where the case is) is a valid assisting department, resolved
    # per case at assignment; it cannot lead, since nobody could accept in its name.
    for i, entry in enumerate(version.entries):
        if entry.lead_department_code == WHERE_THE_CASE_IS:
            raise InvalidInput(
                f"entries[{i}].lead_department_code",
                "主办部门须为具体部门 / the lead must be a named department",
            )
    codes = reference_data.department_codes(session) | {WHERE_THE_CASE_IS}
    validate_version(previous, version, department_codes=codes)
    boundary_data.insert_version(
        session,
        version,
        published_by=actor.user_id,
        published_at=now,
        backdate_reason=backdate,
    )
    return version
