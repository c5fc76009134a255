"""Joint on-site sessions (联合办公) over HTTP: typed calls for the online-only session screens.

Every call is blocking (run it with ``asyncio.to_thread``) and raises the ``ApiClient`` errors:
``ServerUnreachable`` (需要网络), ``Rejected`` (a rule said no: show its reason), ``ServerFault``.
An answer that lacks an agreed field is a ``ServerFault`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.json_api import JsonApi, decoded, maybe_moment, moment
from sync.boundary_types import Point


@dataclass(frozen=True)
class CheckIn:
    department: str
    display_name: str
    at: datetime
    where: Point | None


@dataclass(frozen=True)
class AssistingPart:
    department: str
    duty: str


@dataclass(frozen=True)
class PointCase:
    id: str
    number: str
    status: str
    category: str
    matter: str
    description: str
    lead_department: str | None
    assisting: tuple[AssistingPart, ...]
    due_at: datetime | None
    disputed: bool
    suspended: bool = False


@dataclass(frozen=True)
class SessionPoint:
    label: str
    case: PointCase


@dataclass(frozen=True)
class JointSession:
    id: str
    title: str
    purpose: str
    place: str
    location: Point | None
    called_departments: tuple[str, ...]
    status: str  # open | concluded
    started_at: datetime
    concluded_at: datetime | None
    minute_id: str | None
    check_ins: tuple[CheckIn, ...]
    points: tuple[SessionPoint, ...]
    closed_points: int
    all_closed: bool


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str
    place: str
    status: str
    started_at: datetime
    called_departments: tuple[str, ...]
    convened_by_department: str
    checked_in: tuple[str, ...]
    points: int
    closed_points: int
    minute_id: str | None


@dataclass(frozen=True)
class Minute:
    id: str
    title: str
    created_at: datetime
    download: str  # path on the server: /minutes/{id}/file (.docx)


@dataclass(frozen=True)
class DutyOnSite:
    department: str
    duty: str
    due_at: datetime


@dataclass(frozen=True)
class NewPoint:
    """A problem found at the session, recorded as a case with duties divided on the spot."""

    case_id: str
    label: str
    category: str
    description: str
    location: Point | None
    site_code: str | None
    lead_department: str
    lead_due_at: datetime
    duties: tuple[DutyOnSite, ...]

    def body(self) -> dict[str, Any]:
        case: dict[str, Any] = {
            "id": self.case_id,
            "category": self.category,
            "description": self.description,
        }
        if self.location is not None:
            case["location"] = _point_json(self.location)
        if self.site_code:
            case["site_code"] = self.site_code
        return {
            "label": self.label,
            "case": case,
            "lead_department": self.lead_department,
            "lead_due_at": self.lead_due_at.isoformat(),
            "duties": [
                {"department": d.department, "duty": d.duty, "due_at": d.due_at.isoformat()}
                for d in self.duties
            ],
        }


# --- the calls ---------------------------------------------------------------------------------


class JointApi:
    def __init__(self, client: JsonApi) -> None:
        self._client = client

    def my_sessions(self, status: str | None = None) -> list[SessionSummary]:
        params = {"status": status} if status else None
        body = self._client.get_json("/joint-sessions", params)
        return decoded("joint-session", lambda: [_summary(row) for row in body["sessions"]])

    def session(self, session_id: str) -> JointSession:
        return _session(self._client.get_json(f"/joint-sessions/{session_id}"))

    def convene(
        self,
        *,
        title: str,
        purpose: str,
        place: str,
        location: Point | None,
        departments: Sequence[str],
    ) -> JointSession:
        body: dict[str, Any] = {
            "title": title,
            "purpose": purpose,
            "place": place,
            "departments": list(departments),
        }
        if location is not None:
            body["location"] = _point_json(location)
        return _session(self._client.post_json("/joint-sessions", body))

    def check_in(self, session_id: str, where: Point | None) -> JointSession:
        body = {"where": _point_json(where)} if where is not None else {}
        return _session(self._client.post_json(f"/joint-sessions/{session_id}/check-in", body))

    def add_point(self, session_id: str, point: NewPoint) -> JointSession:
        return _session(
            self._client.post_json(f"/joint-sessions/{session_id}/points", point.body())
        )

    def conclude(self, session_id: str, *, facts: str, legal_basis: str) -> JointSession:
        body = {"facts": facts, "legal_basis": legal_basis}
        return _session(self._client.post_json(f"/joint-sessions/{session_id}/conclude", body))

    def minute(self, minute_id: str) -> Minute:
        body = self._client.get_json(f"/minutes/{minute_id}")
        return decoded(
            "joint-session",
            lambda: Minute(
                id=str(body["id"]),
                title=str(body["title"]),
                created_at=moment(body["created_at"]),
                download=str(body["download"]),
            ),
        )


# --- decoding ----------------------------------------------------------------------------------


def _point_json(p: Point) -> dict[str, float]:
    return {"lat": p.lat, "lon": p.lon}


def _maybe_point(lat: Any, lon: Any) -> Point | None:
    return None if lat is None or lon is None else Point(float(lat), float(lon))


def _case(raw: Mapping[str, Any]) -> PointCase:
    return PointCase(
        id=str(raw["id"]),
        number=str(raw["number"]),
        status=str(raw["status"]),
        category=str(raw["category"]),
        matter=str(raw.get("matter") or raw["category"]),
        description=str(raw["description"]),
        lead_department=raw.get("lead_department"),
        assisting=tuple(
            AssistingPart(str(a.get("department_code") or a.get("department")), str(a["duty"]))
            for a in raw.get("assisting") or ()
        ),
        due_at=maybe_moment(raw.get("due_at")),
        disputed=bool(raw.get("disputed")),
        suspended=bool(raw.get("suspended")),
    )


def _session(raw: Mapping[str, Any]) -> JointSession:
    return decoded(
        "joint-session",
        lambda: JointSession(
            id=str(raw["id"]),
            title=str(raw["title"]),
            purpose=str(raw.get("purpose") or ""),
            place=str(raw.get("place") or ""),
            location=_maybe_point(raw.get("lat"), raw.get("lon")),
            called_departments=tuple(str(d) for d in raw["called_departments"]),
            status=str(raw["status"]),
            started_at=moment(raw["started_at"]),
            concluded_at=maybe_moment(raw.get("concluded_at")),
            minute_id=raw.get("minute_id"),
            check_ins=tuple(
                CheckIn(
                    department=str(c["department"]),
                    display_name=str(c["display_name"]),
                    at=moment(c["at"]),
                    where=_maybe_point(c.get("lat"), c.get("lon")),
                )
                for c in raw["check_ins"]
            ),
            points=tuple(
                SessionPoint(label=str(p["label"]), case=_case(p["case"])) for p in raw["points"]
            ),
            closed_points=int(raw["closed_points"]),
            all_closed=bool(raw["all_closed"]),
        ),
    )


def _summary(raw: Mapping[str, Any]) -> SessionSummary:
    return SessionSummary(
        id=str(raw["id"]),
        title=str(raw["title"]),
        place=str(raw.get("place") or ""),
        status=str(raw["status"]),
        started_at=moment(raw["started_at"]),
        called_departments=tuple(str(d) for d in raw["called_departments"]),
        convened_by_department=str(raw["convened_by_department"]),
        checked_in=tuple(str(d) for d in raw["checked_in"]),
        points=int(raw["points"]),
        closed_points=int(raw["closed_points"]),
        minute_id=raw.get("minute_id"),
    )
