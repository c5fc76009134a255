"""Home's lists: my department's tasks by urgency, and open cases near me.

A task is an open case this user can act on now (``allowed_actions`` of the offline rules) or
whose lead/assisting department is the user's — so a disputed case stays on the handler's list.
Buckets, most urgent first: overdue, due soon (both as ``sync/overdue.py`` defines them, the
server's flags alike: a suspended case is neither; due soon is working time), 待核查 (reported
back and this user may verify it: a supervisor's, or the reporting inspector's, own group), new
(not yet accepted: shows its 签收 deadline), then the rest in progress. "Near me" leaves out
the cases already on my list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fieldapp.viewmodels.records import facts_of
from sync.boundary_types import Point
from sync.geo import distance_m
from sync.lifecycle import Action, Actor, allowed_actions
from sync.overdue import CaseClock, Urgency, urgency
from sync.vocabulary import OPEN_STATUSES, CaseStatus
from sync.workcalendar import EMPTY_CALENDAR, WorkCalendar
from sync.workflow import acceptance_due_at

NEAR_M = 500.0
NEAR_MAX = 10


class Bucket(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    TO_VERIFY = "to_verify"
    NEW = "new"
    IN_PROGRESS = "in_progress"


BUCKET_ORDER = (
    Bucket.OVERDUE,
    Bucket.DUE_SOON,
    Bucket.TO_VERIFY,
    Bucket.NEW,
    Bucket.IN_PROGRESS,
)
_NEW_STATUSES = frozenset({CaseStatus.DISCOVERED, CaseStatus.ASSIGNED})


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    number: str
    category: str
    status: str
    description: str
    due_at: datetime | None
    disputed: bool
    synced: bool  # the server has confirmed the latest local change
    distance_m: float | None = None
    assigned_at: datetime | None = None
    suspended: bool = False
    acceptance_due_at: datetime | None = None  # shown while the case awaits 签收
    reroute_due_at: datetime | None = None  # shown while a returned case awaits re-routing

    @property
    def clock(self) -> CaseClock:
        return CaseClock(
            status=CaseStatus(self.status),
            due_at=self.due_at,
            assigned_at=self.assigned_at,
            suspended=self.suspended,
            reroute_due_at=self.reroute_due_at,
        )


def _due(snapshot: Mapping[str, Any], key: str = "due_at") -> datetime | None:
    raw = snapshot.get(key)
    if not raw:
        return None
    moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return moment if moment.tzinfo else None


def clock_of(snapshot: Mapping[str, Any]) -> CaseClock:
    """The facts ``sync/overdue.py`` needs, from a case as the phone stores it."""
    return CaseClock(
        status=CaseStatus(snapshot["status"]),
        due_at=_due(snapshot),
        assigned_at=_due(snapshot, "assigned_at"),
        suspended=bool(snapshot.get("suspended")),
        reroute_due_at=_due(snapshot, "reroute_due_at"),
    )


def acceptance_deadline(snapshot: Mapping[str, Any], calendar: WorkCalendar) -> datetime | None:
    """签收时限 while the case awaits acceptance: the server's stored value; for a case assigned
    on this phone and not yet synced, the same rule (``sync.workflow.acceptance_due_at``) from
    the phone's assignment time (the later of the two: a stored value from an earlier
    assignment never wins over a newer assignment)."""
    if snapshot.get("status") != CaseStatus.ASSIGNED.value:
        return None
    stored = _due(snapshot, "acceptance_due_at")
    assigned = _due(snapshot, "assigned_at")
    computed = acceptance_due_at(assigned, calendar) if assigned is not None else None
    found = [m for m in (stored, computed) if m is not None]
    return max(found) if found else None


def reroute_deadline(snapshot: Mapping[str, Any]) -> datetime | None:
    """退回后重新交办时限 while a returned case awaits re-routing."""
    if snapshot.get("status") != CaseStatus.DISCOVERED.value:
        return None
    return _due(snapshot, "reroute_due_at")


def row_of(
    snapshot: Mapping[str, Any],
    distance: float | None = None,
    calendar: WorkCalendar = EMPTY_CALENDAR,
) -> CaseRow:
    events = snapshot.get("events") or []
    return CaseRow(
        case_id=str(snapshot["id"]),
        number=str(snapshot.get("number") or str(snapshot["id"])[:8]),
        category=str(snapshot.get("category") or ""),
        status=str(snapshot["status"]),
        description=str(snapshot.get("description") or ""),
        due_at=_due(snapshot),
        disputed=bool(snapshot.get("disputed")),
        synced=not any(e.get("local") for e in events if isinstance(e, dict)),
        distance_m=distance,
        assigned_at=_due(snapshot, "assigned_at"),
        suspended=bool(snapshot.get("suspended")),
        acceptance_due_at=acceptance_deadline(snapshot, calendar),
        reroute_due_at=reroute_deadline(snapshot),
    )


def is_my_task(snapshot: Mapping[str, Any], actor: Actor, now: datetime) -> bool:
    status = CaseStatus(snapshot["status"])
    if status not in OPEN_STATUSES:
        return False
    facts = facts_of(dict(snapshot))
    if actor.department and (
        actor.department == facts.lead_department or actor.department in facts.assisting_departments
    ):
        return True
    return bool(allowed_actions(facts, actor, now=now))


def may_verify(snapshot: Mapping[str, Any], actor: Actor, now: datetime) -> bool:
    """Reported back and this user may verify it now (核查: ``sync.lifecycle``)."""
    if snapshot.get("status") != CaseStatus.HANDLED.value:
        return False
    return Action.CLOSE in allowed_actions(facts_of(dict(snapshot)), actor, now=now)


def bucket_of(
    row: CaseRow, now: datetime, calendar: WorkCalendar, *, may_verify: bool = False
) -> Bucket:
    if may_verify:
        return Bucket.TO_VERIFY
    state = urgency(row.clock, now, calendar)
    if state == Urgency.OVERDUE:
        return Bucket.OVERDUE
    if state == Urgency.DUE_SOON:
        return Bucket.DUE_SOON
    if CaseStatus(row.status) in _NEW_STATUSES:
        return Bucket.NEW
    return Bucket.IN_PROGRESS


def my_tasks(
    cases: Iterable[Mapping[str, Any]], actor: Actor, now: datetime, calendar: WorkCalendar
) -> list[tuple[Bucket, list[CaseRow]]]:
    """Non-empty buckets in urgency order; inside a bucket the earliest deadline first."""
    grouped: dict[Bucket, list[CaseRow]] = {b: [] for b in BUCKET_ORDER}
    for snap in cases:
        if is_my_task(snap, actor, now):
            row = row_of(snap, calendar=calendar)
            grouped[bucket_of(row, now, calendar, may_verify=may_verify(snap, actor, now))].append(
                row
            )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return [
        (b, sorted(grouped[b], key=lambda r: (r.due_at or far, r.number)))
        for b in BUCKET_ORDER
        if grouped[b]
    ]


def near_me(
    cases: Iterable[Mapping[str, Any]],
    here: Point | None,
    *,
    within_m: float = NEAR_M,
    limit: int = NEAR_MAX,
    exclude: Collection[str] = (),
) -> list[CaseRow]:
    """Open cases within ``within_m`` of ``here``, nearest first; ``exclude``: the ids already
    shown (my tasks), never repeated."""
    if here is None:
        return []
    found: list[CaseRow] = []
    for snap in cases:
        if CaseStatus(snap["status"]) not in OPEN_STATUSES or str(snap["id"]) in exclude:
            continue
        lat, lon = snap.get("lat"), snap.get("lon")
        if lat is None or lon is None:
            continue
        d = distance_m(here, Point(float(lat), float(lon)))
        if d <= within_m:
            found.append(row_of(snap, d))
    found.sort(key=lambda r: r.distance_m or 0.0)
    return found[:limit]
