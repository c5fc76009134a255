"""New inspection (巡查记录) and on-the-spot assignment: the form's state and rules.

Location, in order of preference:
1. GPS: fixes are offered as they come; one at ≤ ``AUTO_TAKE_M`` is taken at once, otherwise the
   best one is taken when the screen stops waiting. Above ``WARN_M`` the screen warns; above
   ``REASON_M`` the inspector must say why the point is still right;
2. the first photo's EXIF GPS (read before the pipeline strips it);
3. a point typed by hand.
Then: the nearest registered site is suggested, open cases of the same category within
``DUPLICATE_RADIUS_M`` are offered to link to instead of a new case, and the boundary list
proposes the assignment (offline, ``sync.assignment.propose_assignment``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fieldapp.photos import WatermarkInfo
from fieldapp.viewmodels.assignment import AssignmentChoice
from fieldapp.viewmodels.records import (
    Assignment,
    NewCaseInput,
    StoredPhoto,
    new_case_id,
)
from sync.assignment import Proposal
from sync.boundary_types import Point, Site
from sync.case_numbers import case_number
from sync.errors import DomainError
from sync.geo import distance_m, nearest_site, town_at, validate_point
from sync.reference_codec import Reference
from sync.vocabulary import OPEN_STATUSES, CaseStatus

AUTO_TAKE_M = 10.0
WARN_M = 50.0
REASON_M = 100.0
DUPLICATE_RADIUS_M = 50.0
SITE_SUGGEST_M = 300.0
MAX_PHOTOS = 9

Source = Literal["gps", "exif", "manual"]
Quality = Literal["good", "fair", "poor", "bad"]


def accuracy_quality(accuracy_m: float | None) -> Quality:
    """good ≤ 10 m (taken automatically), fair ≤ 50 m, poor ≤ 100 m (warned), bad > 100 m
    (a reason is required). Unknown accuracy counts as bad."""
    if accuracy_m is None:
        return "bad"
    if accuracy_m <= AUTO_TAKE_M:
        return "good"
    if accuracy_m <= WARN_M:
        return "fair"
    if accuracy_m <= REASON_M:
        return "poor"
    return "bad"


@dataclass(frozen=True)
class Fix:
    point: Point
    accuracy_m: float | None
    source: Source


@dataclass(frozen=True)
class Duplicate:
    case_id: str
    number: str
    description: str
    distance_m: float


def parse_coordinate(text: str) -> float | None:
    try:
        return float(text.strip().replace("，", ",").replace(" ", ""))
    except ValueError:
        return None


class NewInspectionViewModel:
    def __init__(
        self,
        reference: Reference,
        *,
        inspector_name: str,
        now: datetime,
        case_id: str | None = None,
        routing: AssignmentChoice | None = None,
    ) -> None:
        self.reference = reference
        self.inspector_name = inspector_name
        self.case_id = case_id or new_case_id()
        self.started_at = now
        self.category: str | None = None
        self.description = ""
        self.photos: list[StoredPhoto] = []
        self.fix: Fix | None = None
        self.candidate: Fix | None = None  # best GPS fix seen, not yet taken
        self.waiting_for_gps = False
        self.location_reason = ""
        self.manual_lat = ""
        self.manual_lon = ""
        self.photo_error: str | None = None  # the pipeline's own message ("中文 / English")
        self.processing: tuple[int, int] | None = None  # (photo being processed, of how many)
        self.errors: dict[str, str] = {}  # field -> i18n key
        self.site_code: str | None = None  # chosen (None: the nearest, suggested)
        self.site_declined = False
        # the proposal and the user's choice (shared with the case screen's re-routing)
        self.routing = routing if routing is not None else AssignmentChoice()
        self.saving = False

    # -- number and watermark ---------------------------------------------------------------
    @property
    def number(self) -> str:
        return case_number(self.case_id, self.started_at)

    def watermark(self, taken_at: datetime, exif: tuple[float, float] | None) -> WatermarkInfo:
        point = self.fix.point if self.fix else None
        if point is None and exif is not None:
            point = Point(*exif)
        return WatermarkInfo(
            taken_at=taken_at,
            lat=point.lat if point else None,
            lon=point.lon if point else None,
            place=self.place_label(point),
            inspector=self.inspector_name,
            case_number=self.number,
        )

    def place_label(self, point: Point | None = None) -> str:
        point = point or (self.fix.point if self.fix else None)
        if point is None:
            return ""
        site = self.site()
        town = town_at(point, self.reference.towns)
        parts = [town.name if town else "", site[0].name if site else ""]
        return " ".join(p for p in parts if p)

    # -- location ---------------------------------------------------------------------------
    def offer_gps(self, lat: float, lon: float, accuracy_m: float | None) -> bool:
        """A GPS fix arrived. Returns True when it was good enough to take at once."""
        fix = Fix(Point(lat, lon), accuracy_m, "gps")
        try:
            validate_point(fix.point)
        except DomainError:
            return False
        best = self.candidate
        if best is None or (accuracy_m or 1e9) < (best.accuracy_m or 1e9):
            self.candidate = fix
        if accuracy_quality(accuracy_m) == "good":
            self.take(fix)
            return True
        return False

    def take_best(self) -> bool:
        """Stop waiting: take the best GPS fix seen, else the first photo's EXIF point."""
        self.waiting_for_gps = False
        if self.fix is not None and self.fix.source != "exif":
            return True
        if self.candidate is not None:
            self.take(self.candidate)
            return True
        return self.fall_back_to_exif()

    def fall_back_to_exif(self) -> bool:
        if self.fix is not None:
            return True
        for photo in self.photos:
            if photo.exif_point is not None:
                self.take(Fix(Point(*photo.exif_point), None, "exif"))
                return True
        return False

    def set_manual(self) -> bool:
        """Use the typed point; False (with ``errors['manual']``) when it is not a place."""
        lat, lon = parse_coordinate(self.manual_lat), parse_coordinate(self.manual_lon)
        if lat is None or lon is None:
            self.errors["manual"] = "new.error.manual_invalid"
            return False
        try:
            validate_point(Point(lat, lon))
        except DomainError:
            self.errors["manual"] = "new.error.manual_invalid"
            return False
        self.errors.pop("manual", None)
        self.take(Fix(Point(lat, lon), None, "manual"))
        return True

    def take(self, fix: Fix) -> None:
        self.fix = fix
        self.waiting_for_gps = False
        self.site_code = None
        self.site_declined = False
        self.routing.reset()
        self.errors.pop("location", None)
        self.preselect_category()

    def preselect_category(self) -> None:
        """The matter of the nearest registered site, while the user has chosen none (a
        waterlogging point suggests 城区积水点治理): one tap fewer, changed at will."""
        site = self.site()
        if self.category is not None or site is None or not site[0].category:
            return
        known = {code for code, _ in self.reference.categories(self.started_at)}
        if site[0].category in known:
            self.category = site[0].category
            self.errors.pop("category", None)

    @property
    def quality(self) -> Quality | None:
        if self.fix is None or self.fix.source != "gps":
            return None
        return accuracy_quality(self.fix.accuracy_m)

    @property
    def warn_accuracy(self) -> bool:
        return self.quality in ("poor", "bad")

    @property
    def needs_location_reason(self) -> bool:
        return self.quality == "bad"

    # -- sites and duplicates ---------------------------------------------------------------
    def site(self) -> tuple[Site, float] | None:
        """The chosen site, else the nearest registered one in reach (a suggestion)."""
        if self.fix is None or self.site_declined:
            return None
        if self.site_code is not None:
            chosen = self.reference.site(self.site_code)
            if chosen is not None:
                return chosen, distance_m(self.fix.point, chosen.location)
        return nearest_site(self.fix.point, self.reference.sites, within_m=SITE_SUGGEST_M)

    def duplicates(self, cases: Iterable[Mapping[str, Any]]) -> list[Duplicate]:
        """Open cases of the same category within 50 m, nearest first."""
        if self.fix is None or self.category is None:
            return []
        found = []
        for snap in cases:
            if snap.get("category") != self.category or snap.get("id") == self.case_id:
                continue
            if CaseStatus(snap["status"]) not in OPEN_STATUSES:
                continue
            if snap.get("lat") is None or snap.get("lon") is None:
                continue
            d = distance_m(self.fix.point, Point(float(snap["lat"]), float(snap["lon"])))
            if d <= DUPLICATE_RADIUS_M:
                found.append(
                    Duplicate(
                        str(snap["id"]),
                        str(snap.get("number") or ""),
                        str(snap.get("description") or ""),
                        d,
                    )
                )
        return sorted(found, key=lambda x: x.distance_m)

    # -- validation and the record ----------------------------------------------------------
    def validate(self) -> bool:
        errors: dict[str, str] = {}
        if not self.category:
            errors["category"] = "new.error.category_required"
        if not self.description.strip():
            errors["description"] = "new.error.description_required"
        if not self.photos:
            errors["photos"] = "new.error.photo_required"
        if self.fix is None:
            errors["location"] = "new.error.location_required"
        elif self.needs_location_reason and not self.location_reason.strip():
            errors["location_reason"] = "new.error.location_reason_required"
        self.errors = errors
        return not errors

    def record(self, recorded_at: datetime) -> NewCaseInput:
        if self.category is None:
            raise ValueError("validate() first")
        site = self.site()
        point = self.fix.point if self.fix else None
        town = town_at(point, self.reference.towns) if point else None
        return NewCaseInput(
            case_id=self.case_id,
            category=self.category,
            description=self.description,
            point=point,
            town_code=town.code if town else None,
            site_code=site[0].code if site else None,
            recorded_at=recorded_at,
            accuracy_m=self.fix.accuracy_m if self.fix else None,
            location_source=self.fix.source if self.fix else "none",
            location_reason=self.location_reason if self.needs_location_reason else "",
        )

    # -- the proposal ----------------------------------------------------------------------
    def propose(self, now: datetime) -> Proposal | None:
        """The boundary list's proposal for this record (None, with ``routing.proposal_error``,
        when the list has no entry for the category at this place and time)."""
        if self.category is None:
            return None
        site = self.site()
        return self.routing.propose(
            self.reference,
            category=self.category,
            recorded_at=now,
            assigned_at=now,
            point=self.fix.point if self.fix else None,
            site_code=site[0].code if site else None,
        )

    @property
    def deadline_note(self) -> str | None:
        """Set when the proposed deadline counts weekends only (a year's calendar not entered)."""
        proposal = self.routing.proposal
        return proposal.deadline.note if proposal is not None else None

    @property
    def unlisted(self) -> bool:
        """No list entry covers this matter here: the town/street office is proposed (属地管理),
        or nobody when no town/street is known, and the assignment enters 编办's register."""
        return self.routing.proposal is not None and self.routing.proposal.unlisted

    def assignment(self) -> Assignment | None:
        """What to send: the proposal as is, or the override (None when incomplete)."""
        return self.routing.assignment()
