"""Joint on-site sessions (联合办公) on the phone, as pure logic: who may do what, each point's
progress through the closed loop, who has checked in, and the three forms (convene, add a
point with duties divided on the spot, conclude) with errors named by field.

Errors are i18n keys (``joint.error.*``) keyed by the form field they belong to, so a screen
shows each under its field and a test can name the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from fieldapp.joint_api import (
    CheckIn,
    DutyOnSite,
    JointSession,
    NewPoint,
    PointCase,
    SessionSummary,
)
from sync.boundary_types import BoundaryEntry, Point, Site
from sync.clock import CHINA_TZ, to_local
from sync.lifecycle import Actor
from sync.overdue import CaseClock, is_overdue
from sync.reference_codec import Reference
from sync.vocabulary import CaseStatus, Role

OPEN = "open"
OVERSIGHT = frozenset({Role.SUPERVISOR, Role.COORDINATOR})
LOOP = ("assigned", "accepted", "handling", "handled", "closed")  # 交办 → 结案
MAX_DAYS = 90
TIME_NODE_HOUR = 18  # a time node falls at the end of the working day, local time
DEFAULT_LEAD_DAYS = "3"
DEFAULT_ASSIST_DAYS = "2"


# --- who may do what ---------------------------------------------------------------------------


def may_convene(actor: Actor) -> bool:
    """Supervisors (and coordinators) start sessions from the phone."""
    return actor.role in OVERSIGHT


def my_check_in(actor: Actor, session: JointSession) -> CheckIn | None:
    """My department's check-in (one per department is enough for the session)."""
    return next((c for c in session.check_ins if c.department == actor.department), None)


def may_check_in(actor: Actor, session: JointSession) -> bool:
    return (
        session.status == OPEN
        and actor.role != Role.ADMIN
        and bool(actor.department)
        and my_check_in(actor, session) is None
    )


def present_departments(session: JointSession) -> list[str]:
    """Departments that checked in, in check-in order: only they can be given duties."""
    seen: list[str] = []
    for c in session.check_ins:
        if c.department not in seen:
            seen.append(c.department)
    return seen


def may_add_point(actor: Actor, session: JointSession) -> bool:
    """Anyone present records points; the organizer may before checking in."""
    if session.status != OPEN:
        return False
    return my_check_in(actor, session) is not None or actor.role in OVERSIGHT


def may_conclude(actor: Actor, session: JointSession) -> bool:
    """The organizer ends the session and gets its one minute."""
    return session.status == OPEN and actor.role in OVERSIGHT


# --- where things stand ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    department: str
    check_in: CheckIn | None

    @property
    def present(self) -> bool:
        return self.check_in is not None


def attendance(session: JointSession) -> list[Attendance]:
    """Every invited department with its check-in (or none), then anyone else who came."""
    firsts: dict[str, CheckIn] = {}
    for c in session.check_ins:
        firsts.setdefault(c.department, c)
    rows = [Attendance(d, firsts.get(d)) for d in session.called_departments]
    rows += [Attendance(d, c) for d, c in firsts.items() if d not in session.called_departments]
    return rows


@dataclass(frozen=True)
class Progress:
    step: int  # 0 (not yet assigned) … len(LOOP) (closed)
    of: int
    closed: bool
    overdue: bool

    @property
    def fraction(self) -> float:
        return self.step / self.of


def point_progress(case: PointCase, now: datetime) -> Progress:
    """How far a point's case is along 交办 → 签收 → 处置 → 反馈 → 结案."""
    step = LOOP.index(case.status) + 1 if case.status in LOOP else 0
    closed = case.status == "closed"
    clock = CaseClock(status=CaseStatus(case.status), due_at=case.due_at, suspended=case.suspended)
    overdue = is_overdue(clock, now)
    return Progress(step=step, of=len(LOOP), closed=closed, overdue=overdue)


def open_first(sessions: Iterable[SessionSummary]) -> list[SessionSummary]:
    """Open sessions first, each group newest first."""
    return sorted(sessions, key=lambda s: (s.status != OPEN, -s.started_at.timestamp()))


def open_invitations(actor: Actor, sessions: Iterable[SessionSummary]) -> list[SessionSummary]:
    """Open sessions my department was invited to."""
    return [s for s in sessions if s.status == OPEN and actor.department in s.called_departments]


def shows_home_entry(actor: Actor, sessions: Iterable[SessionSummary]) -> bool:
    """The home screen's 联合办公 entry: for organizers always, else while I am invited."""
    return may_convene(actor) or bool(open_invitations(actor, sessions))


def due_after(now: datetime, days: int) -> datetime:
    """The time node ``days`` calendar days after ``now``: 18:00 local on that day."""
    day = to_local(now).date() + timedelta(days=days)
    return datetime.combine(day, time(TIME_NODE_HOUR), tzinfo=CHINA_TZ)


def _days(text: str) -> int | None:
    value = text.strip()
    if not value.isdigit():
        return None
    n = int(value)
    return n if 1 <= n <= MAX_DAYS else None


def entry_for(reference: Reference, category: str | None, now: datetime) -> BoundaryEntry | None:
    version = reference.version_at(now)
    if version is None or category is None:
        return None
    return next((e for e in version.entries if e.category == category), None)


# --- convene -----------------------------------------------------------------------------------


@dataclass
class ConveneForm:
    """A supervisor starts a session at a site, inviting departments."""

    own_department: str
    site_code: str | None = None
    title: str = ""
    purpose: str = ""
    place: str = ""
    location: Point | None = None
    departments: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def choose_site(self, site: Site, reference: Reference, now: datetime) -> None:
        """Fill in place and location; invite the departments the list names for the site's
        matter (lead and assisting), which the organizer may change."""
        self.site_code = site.code
        self.place = site.name
        self.location = site.location
        if not self.title.strip():
            self.title = f"{site.name}联合办公"
        entry = entry_for(reference, site.category, now)
        known = {d.code for d in reference.departments}
        if entry is not None:
            suggested = [entry.lead_department_code] + [a.department_code for a in entry.assisting]
            for code in suggested:
                if code in known and code != self.own_department and code not in self.departments:
                    self.departments.append(code)

    def toggle(self, department: str, on: bool) -> None:
        if on and department not in self.departments and department != self.own_department:
            self.departments.append(department)
        if not on and department in self.departments:
            self.departments.remove(department)

    def validate(self) -> bool:
        errors: dict[str, str] = {}
        if not self.title.strip():
            errors["title"] = "joint.error.title_required"
        if not [d for d in self.departments if d != self.own_department]:
            errors["departments"] = "joint.error.departments_required"
        self.errors = errors
        return not errors


# --- a point, duties divided on the spot -------------------------------------------------------


@dataclass
class DutyDraft:
    selected: bool = False
    duty: str = ""
    days: str = DEFAULT_ASSIST_DAYS


@dataclass
class PointForm:
    """A problem found at the session: what, where, and who does what by when."""

    site_code: str | None = None
    label: str = ""
    category: str | None = None
    description: str = ""
    location: Point | None = None  # the site's, else the phone's GPS
    lead: str | None = None
    lead_days: str = DEFAULT_LEAD_DAYS
    duties: dict[str, DutyDraft] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def choose_site(self, site: Site) -> None:
        self.site_code = site.code
        self.label = site.name
        self.location = site.location
        if site.category is not None:
            self.category = site.category

    def draft(self, department: str) -> DutyDraft:
        return self.duties.setdefault(department, DutyDraft())

    def choose_lead(self, department: str | None) -> None:
        self.lead = department
        if department is not None and department in self.duties:
            self.duties[department].selected = False  # the lead does not also assist

    def toggle_assisting(
        self, department: str, on: bool, reference: Reference, now: datetime
    ) -> None:
        """Select an assisting department; its duty starts from the list's wording, if any."""
        d = self.draft(department)
        d.selected = on
        if on and not d.duty.strip():
            entry = entry_for(reference, self.category, now)
            if entry is not None:
                d.duty = next(
                    (a.duty for a in entry.assisting if a.department_code == department), ""
                )

    def assisting(self) -> list[str]:
        return [code for code, d in self.duties.items() if d.selected and code != self.lead]

    def validate(self, present: Sequence[str]) -> bool:
        errors: dict[str, str] = {}
        if not self.category:
            errors["category"] = "joint.error.category_required"
        if not self.description.strip():
            errors["description"] = "joint.error.description_required"
        if self.location is None:
            errors["location"] = "joint.error.location_required"
        if not self.lead:
            errors["lead_department"] = "joint.error.lead_required"
        elif self.lead not in present:
            errors["lead_department"] = "joint.error.not_present"
        lead_days = _days(self.lead_days)
        if lead_days is None:
            errors["lead_days"] = "joint.error.days"
        for code in self.assisting():
            d = self.duties[code]
            if code not in present:
                errors[f"duties.{code}.department"] = "joint.error.not_present"
            if not d.duty.strip():
                errors[f"duties.{code}.duty"] = "joint.error.duty_required"
            days = _days(d.days)
            if days is None:
                errors[f"duties.{code}.days"] = "joint.error.days"
            elif lead_days is not None and days > lead_days:
                errors[f"duties.{code}.days"] = "joint.error.after_lead"
        self.errors = errors
        return not errors

    def new_point(self, case_id: str, present: Sequence[str], now: datetime) -> NewPoint | None:
        """The request to send, or None (with ``errors`` set) when the form is not complete."""
        if not self.validate(present):
            return None
        assert self.category is not None and self.lead is not None
        lead_days = _days(self.lead_days)
        assert lead_days is not None
        duties = []
        for code in self.assisting():
            d = self.duties[code]
            days = _days(d.days)
            assert days is not None
            duties.append(DutyOnSite(code, d.duty.strip(), due_after(now, days)))
        return NewPoint(
            case_id=case_id,
            label=self.label.strip(),
            category=self.category,
            description=self.description.strip(),
            location=self.location,
            site_code=self.site_code,
            lead_department=self.lead,
            lead_due_at=due_after(now, lead_days),
            duties=tuple(duties),
        )


# --- conclude ----------------------------------------------------------------------------------


def suggested_facts(session: JointSession) -> str:
    """A first draft of the minute's facts, which the organizer edits."""
    n = len(session.points)
    names = "、".join(p.label for p in session.points if p.label)
    found = f"现场排查点位{n}处" + (f"（{names}）" if names else "")
    return f"{found}，已现场划定各部门职责和时间节点。"


@dataclass
class ConcludeForm:
    facts: str = ""
    legal_basis: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def validate(self) -> bool:
        self.errors = {} if self.facts.strip() else {"facts": "joint.error.facts_required"}
        return not self.errors
