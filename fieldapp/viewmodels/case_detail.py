"""Case detail: the timeline, the actions this user may take now, and each action's form rules.

Actions come from the offline rules (``sync.lifecycle.allowed_actions``) for this user, limited
to what the phone offers. Form rules on top of the lifecycle:
- return, send back, raise dispute, cancel: a reason;
- raise dispute: also its legal basis (法律依据);
- report back: at least one "after" photo;
- close (verify): the shared rule ``sync.lifecycle.verified_on_site`` — the verifier's position
  or the after photo within ``VERIFY_RADIUS_M`` of the case's original point, or a reason (the
  server applies the same rule to REST and sync push).

Assign (交办) from the case screen re-routes a returned (退回) or record-only case: the boundary
list's proposal is computed offline (``AssignmentChoice``, shared with the new inspection), the
user confirms it or overrides it with a reason, and the assignment is queued like any action.
A returned case shows why it came back (the last ``CaseReturned``'s reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.viewmodels.assignment import AssignmentChoice
from fieldapp.viewmodels.records import CaseWriter, facts_of
from fieldapp.viewmodels.tasks import acceptance_deadline, clock_of, is_my_task, reroute_deadline
from fieldapp.viewmodels.timeline_facts import Fact, facts_for
from sync.assignment import Proposal
from sync.boundary_types import Point
from sync.errors import DomainError, InvalidInput
from sync.events import CASE_CREATED, EVENT_FOR_ACTION, NOTE_ADDED, PHOTO_ADDED
from sync.geo import distance_m
from sync.lifecycle import (
    VERIFY_RADIUS_M,
    Action,
    Actor,
    Request,
    allowed_actions,
    verified_on_site,
)
from sync.overdue import Urgency, urgency
from sync.reference_codec import Reference
from sync.vocabulary import OPEN_STATUSES, CaseStatus, Role
from sync.workflow import AssistTaskState, assist_tasks

# What the phone offers, in the order shown.
PHONE_ACTIONS: tuple[Action, ...] = (
    Action.ASSIGN,
    Action.ACCEPT,
    Action.START_HANDLING,
    Action.REPORT_BACK,
    Action.CLOSE,
    Action.SEND_BACK,
    Action.RETURN,
    Action.RAISE_DISPUTE,
    Action.CANCEL,
    Action.MERGE,
)
MERGE_CANDIDATES = 20  # the open cases offered as the one a case duplicates
NEEDS_REASON = frozenset({Action.RETURN, Action.SEND_BACK, Action.RAISE_DISPUTE, Action.CANCEL})
NEEDS_LEGAL_BASIS = frozenset({Action.RAISE_DISPUTE})
NEEDS_PHOTO = frozenset({Action.REPORT_BACK})
TAKES_PHOTOS = frozenset({Action.REPORT_BACK, Action.ACCEPT, Action.START_HANDLING})
REPORTED_BACK = EVENT_FOR_ACTION[Action.REPORT_BACK]
RETURNED = EVENT_FOR_ACTION[Action.RETURN]
ASSIGNED = EVENT_FOR_ACTION[Action.ASSIGN]


@dataclass(frozen=True)
class TimelineRow:
    kind: str  # the event name; the screen labels it with i18n "event.<kind>"
    who: str
    at: datetime
    where: Point | None
    text: str  # note, reason or description
    photos: tuple[str, ...]
    local: bool  # recorded on this device, not yet confirmed by the server
    facts: tuple[Fact, ...] = ()  # departments, people, deadlines the event named


@dataclass(frozen=True)
class ReturnNotice:
    """Why a returned case came back to the first-contact department."""

    department: str  # the name of the department that returned it
    who: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class AssistTaskRow:
    """One assisting department's task as the case screen shows it."""

    task: AssistTaskState
    department_name: str
    may_report: bool  # this user's department, the case not finished: 协办反馈
    may_rate: bool  # the lead, and the rules allow a rating now: 评价

    @property
    def department(self) -> str:
        return self.task.department


# Where the app goes after an action: the case left this user's list (say so, back to the
# list), or it stays (say it was saved, stay on the case). i18n keys, by action.
LEFT_LIST_KEYS: Mapping[Action, str] = {
    Action.RETURN: "case.left.returned",
    Action.CLOSE: "case.left.closed",
    Action.CANCEL: "case.left.cancelled",
    Action.MERGE: "case.left.merged",
    Action.ASSIGN: "case.left.assigned",
}
DONE_KEYS: Mapping[Action, str] = {
    Action.ACCEPT: "case.done.accepted",
    Action.START_HANDLING: "case.done.started",
    Action.REPORT_BACK: "case.done.reported_back",
}


def after_action(
    snapshot: Mapping[str, Any] | None, actor: Actor, action: Action | None, *, now: datetime
) -> tuple[bool, str]:
    """(leave the case screen?, the i18n key of what to tell the user) after ``action`` (None:
    a note, a report or a rating). Leave when the case is no longer on this user's list."""
    if snapshot is None or not is_my_task(snapshot, actor, now):
        key = LEFT_LIST_KEYS.get(action) if action is not None else None
        return True, key or "case.left.generic"
    if action is None:
        return False, "case.done.saved"
    return False, DONE_KEYS.get(action, "case.done.saved")


@dataclass(frozen=True)
class VerifyCheck:
    distance_m: float | None  # None: a point is unknown
    within: bool

    @property
    def needs_reason(self) -> bool:
        return not self.within


def _moment(raw: Any) -> datetime:
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def _point_of(raw: Mapping[str, Any]) -> Point | None:
    lat, lon = raw.get("lat"), raw.get("lon")
    if lat is None or lon is None:
        return None
    return Point(float(lat), float(lon))


class CaseDetailViewModel:
    def __init__(
        self, snapshot: Mapping[str, Any], actor: Actor, reference: Reference, *, now: datetime
    ) -> None:
        self.snapshot = dict(snapshot)
        self.actor = actor
        self.reference = reference
        self.now = now
        self.facts = facts_of(self.snapshot)

    # -- what the case is -------------------------------------------------------------------
    @property
    def case_id(self) -> str:
        return str(self.snapshot["id"])

    @property
    def number(self) -> str:
        return str(self.snapshot.get("number") or self.case_id[:8])

    @property
    def status(self) -> CaseStatus:
        return self.facts.status

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def original_point(self) -> Point | None:
        return _point_of(self.snapshot)

    @property
    def lead_name(self) -> str:
        return self.reference.department_name(self.facts.lead_department)

    @property
    def deadline_note(self) -> str | None:
        """Set when the case's deadline counts weekends only (a year's calendar not entered)."""
        note = self.snapshot.get("deadline_note")
        return str(note) if note else None

    def assisting(self) -> list[tuple[str, str]]:
        """(department name, duty) of each assisting department."""
        return [
            (self.reference.department_name(str(a.get("department_code"))), str(a.get("duty", "")))
            for a in self.snapshot.get("assisting") or []
            if isinstance(a, dict)
        ]

    # -- its clocks (sync/overdue.py, sync/workflow.py) --------------------------------------
    @property
    def acceptance_due_at(self) -> datetime | None:
        """签收时限, while the case awaits acceptance."""
        return acceptance_deadline(self.snapshot, self.reference.calendar)

    @property
    def reroute_due_at(self) -> datetime | None:
        """退回后重新交办时限, while a returned case awaits re-routing."""
        return reroute_deadline(self.snapshot)

    @property
    def urgency(self) -> Urgency | None:
        """Overdue or due soon now, as the server's flags say."""
        return urgency(clock_of(self.snapshot), self.now, self.reference.calendar)

    # -- what this user may do --------------------------------------------------------------
    def actions(self) -> list[Action]:
        allowed = set(allowed_actions(self.facts, self.actor, now=self.now))
        return [a for a in PHONE_ACTIONS if a in allowed]

    @property
    def has_dispute(self) -> bool:
        """Disputed now, or ever (a ruled dispute still has its ruling to show)."""
        raised = EVENT_FOR_ACTION[Action.RAISE_DISPUTE]
        return bool(self.snapshot.get("disputed")) or any(
            isinstance(e, dict) and e.get("kind") == raised
            for e in self.snapshot.get("events") or []
        )

    @property
    def can_add_note(self) -> bool:
        return self.is_open

    def after_point(self) -> Point | None:
        """Where the latest report back (its "after" photos) was made."""
        for event in reversed(self.snapshot.get("events") or []):
            if event.get("kind") == REPORTED_BACK:
                return _point_of(event)
        return None

    def verify_check(self) -> VerifyCheck:
        original, after = self.original_point, self.after_point()
        if original is None or after is None:
            return VerifyCheck(None, False)
        d = distance_m(original, after)
        return VerifyCheck(d, d <= VERIFY_RADIUS_M)

    def form_error(
        self,
        action: Action,
        *,
        reason: str,
        photo_count: int,
        legal_basis: str = "",
        here: Point | None = None,
        duplicate_of: str | None = None,
    ) -> str | None:
        """The i18n key of what the form still lacks for ``action``, or None when complete.
        ``here``: the user's position now (the verifier's, for a close)."""
        if action in NEEDS_REASON and not reason.strip():
            return "case.error.reason_required"
        if action in NEEDS_LEGAL_BASIS and not legal_basis.strip():
            return "case.error.legal_basis_required"
        if action in NEEDS_PHOTO and photo_count == 0:
            return "case.error.after_photo_required"
        if action is Action.MERGE and not duplicate_of:
            return "case.error.duplicate_required"
        if action is Action.CLOSE:
            try:
                verified_on_site(self.facts, self.actor, Request(reason=reason, where=here))
            except InvalidInput:
                return "case.error.verify_reason_required"
        return None

    # -- merging a duplicate (合并) ------------------------------------------------------------
    def merge_candidates(
        self, cases: list[dict[str, Any]], limit: int = MERGE_CANDIDATES
    ) -> list[tuple[str, str]]:
        """(case id, label) of the open cases on this phone this one may duplicate: the same
        matter first, then the nearest to this case's point."""
        here = self.original_point
        found: list[tuple[tuple[int, float, str], str, str]] = []
        for other in cases:
            other_id = str(other.get("id"))
            if other_id == self.case_id or other.get("status") not in {
                s.value for s in OPEN_STATUSES
            }:
                continue
            point = _point_of(other)
            d = distance_m(here, point) if here is not None and point is not None else None
            same = 0 if other.get("category") == self.snapshot.get("category") else 1
            number = str(other.get("number") or other_id[:8])
            label = f"{number} · {self.reference.matter(str(other.get('category')))}"
            if d is not None:
                label += f" · {round(d)} m"
            found.append(((same, d if d is not None else float("inf"), number), other_id, label))
        found.sort(key=lambda f: f[0])
        return [(other_id, label) for _, other_id, label in found[:limit]]

    # -- lead and assisting work (协办反馈 · 协办评价) -------------------------------------------
    def assist_tasks(self) -> list[AssistTaskRow]:
        """Each assisting department's task, its report and rating (from the case's events),
        with what this user may do about it."""
        events = [e for e in self.snapshot.get("events") or [] if isinstance(e, dict)]
        pairs = [
            (str(a.get("department_code")), str(a.get("duty") or ""))
            for a in self.snapshot.get("assisting") or []
            if isinstance(a, dict)
        ]
        is_lead = (
            self.actor.role is Role.HANDLER
            and bool(self.facts.lead_department)
            and self.actor.department == self.facts.lead_department
        )
        rows: list[AssistTaskRow] = []
        for task in assist_tasks(events, pairs):
            may_rate = False
            if is_lead and not task.rated:
                try:  # the rating rule itself, with a rating it allows: is it time yet?
                    task.rating_refusal(rating=5, comment="", now=self.now)
                    may_rate = True
                except DomainError:
                    may_rate = False
            rows.append(
                AssistTaskRow(
                    task=task,
                    department_name=self.reference.department_name(task.department),
                    may_report=self.actor.role is Role.HANDLER
                    and self.actor.department == task.department
                    and self.is_open,
                    may_rate=may_rate,
                )
            )
        return rows

    def my_assist_task(self) -> AssistTaskRow | None:
        """This user's department's own task on the case, when it may report it."""
        return next((r for r in self.assist_tasks() if r.may_report), None)

    @staticmethod
    def report_error(*, note: str, photo_count: int) -> str | None:
        """What a 协办反馈 form still lacks (the rule: a 说明 or photos)."""
        if not note.strip() and photo_count == 0:
            return "assist.error.note_required"
        return None

    @staticmethod
    def rating_error(*, rating: int | None, comment: str) -> str | None:
        """What a 评价 form still lacks: a rating; a comment for 2 or less."""
        if rating is None:
            return "assist.error.rating_required"
        if rating <= 2 and not comment.strip():
            return "assist.error.comment_required"
        return None

    # -- routing a returned or record-only case (交办) ---------------------------------------
    @property
    def can_route(self) -> bool:
        """This user may assign the case now (the reporter inspector, the first-contact
        department, a supervisor or coordinator — ``sync.lifecycle``)."""
        return Action.ASSIGN in self.actions()

    def return_notice(self) -> ReturnNotice | None:
        """The last return, while the case waits to be routed again (None once re-assigned)."""
        if self.status is not CaseStatus.DISCOVERED:
            return None
        for event in reversed(self.snapshot.get("events") or []):
            if not isinstance(event, dict):
                continue
            kind = event.get("kind")
            if kind == ASSIGNED:
                return None
            if kind == RETURNED:
                data = event.get("data") or {}
                by = data.get("returned_by") or event.get("actor_department")
                return ReturnNotice(
                    department=self.reference.department_name(by),
                    who=str(event.get("actor_name") or ""),
                    at=_moment(event.get("at")),
                    reason=str(data.get("reason") or ""),
                )
        return None

    def propose_route(self, choice: AssignmentChoice) -> Proposal | None:
        """The boundary list's proposal for this case, offline: the list version in force when
        the case was recorded, the deadline from now (as the server computes it)."""
        created = self.snapshot.get("created_at")
        return choice.propose(
            self.reference,
            category=str(self.snapshot.get("category")),
            recorded_at=_moment(created) if created else self.now,
            assigned_at=self.now,
            point=self.original_point,
            town_code=self.snapshot.get("town_code"),
            site_code=self.snapshot.get("site_code"),
        )

    def route(
        self,
        writer: CaseWriter,
        choice: AssignmentChoice,
        *,
        now: datetime,
        where: Point | None = None,
    ) -> dict[str, Any] | None:
        """Queue the assignment the user confirmed (the proposal, or the override with its
        reason) and apply it locally. None, with ``choice.errors`` naming the field, when the
        choice is incomplete; a rule's refusal raises its typed error."""
        assignment = choice.assignment()
        if assignment is None:
            return None
        return writer.transition(
            self.case_id, Action.ASSIGN, now=now, where=where, assignment=assignment
        )

    # -- the timeline -----------------------------------------------------------------------
    def _who(self, event: Mapping[str, Any]) -> str:
        name = str(event.get("actor_name") or "")
        department = self.reference.department_name(event.get("actor_department"))
        return f"{name}（{department}）" if name else department

    def timeline(self) -> list[TimelineRow]:
        """Events oldest first. Photos linked by a separate ``PhotoAdded`` right after the
        case was recorded are shown with the recording; other photo links stand alone unless
        the photo already shows in another event."""
        events = [e for e in self.snapshot.get("events") or [] if isinstance(e, dict)]
        listed = {
            str(sha)
            for e in events
            if e.get("kind") != PHOTO_ADDED
            for sha in (e.get("data") or {}).get("photos") or []
        }  # a photo also linked by PhotoAdded is shown once, with its event
        rows: list[TimelineRow] = []
        for event in events:
            data = event.get("data") or {}
            kind = str(event.get("kind"))
            if kind == PHOTO_ADDED:
                sha = str(data.get("sha256") or "")
                if not sha or sha in listed:
                    continue
                if rows and rows[-1].kind == CASE_CREATED:
                    last = rows[-1]
                    rows[-1] = TimelineRow(
                        last.kind,
                        last.who,
                        last.at,
                        last.where,
                        last.text,
                        (*last.photos, sha),
                        last.local,
                    )
                    continue
                photos: tuple[str, ...] = (sha,)
            else:
                photos = tuple(str(s) for s in data.get("photos") or ())
            if (
                kind == NOTE_ADDED
                and not data.get("note")
                and rows
                and rows[-1].kind == CASE_CREATED
                and rows[-1].who == self._who(event)
            ):
                last = rows[-1]  # the recording's photos, sent as a note (see records.py)
                merged = (*last.photos, *(p for p in photos if p not in last.photos))
                rows[-1] = TimelineRow(
                    last.kind, last.who, last.at, last.where, last.text, merged, last.local
                )
                continue
            text = " · ".join(
                str(data[k])
                for k in ("description", "note", "reason", "override_reason")
                if data.get(k)
            )
            if kind == EVENT_FOR_ACTION[Action.RAISE_DISPUTE] and data.get("legal_basis"):
                text = " · ".join(t for t in (text, str(data["legal_basis"])) if t)
            rows.append(
                TimelineRow(
                    kind=kind,
                    who=self._who(event),
                    at=_moment(event.get("at")),
                    where=_point_of(event),
                    text=text,
                    photos=photos,
                    local=bool(event.get("local")),
                    facts=tuple(facts_for(kind, data, self.reference)),
                )
            )
        return rows
