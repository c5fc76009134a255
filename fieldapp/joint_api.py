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

from fieldapp.json_api import JsonApi, read_body
from sync.bodies import CaseOut, MinuteOut, SessionListOut, SessionOut, SessionSummaryOut
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
        return [_summary(row) for row in read_body("joint-session", SessionListOut, body).sessions]

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
        m = read_body("minute", MinuteOut, self._client.get_json(f"/minutes/{minute_id}"))
        return Minute(id=m.id, title=m.title, created_at=m.created_at, download=m.download)


# --- decoding: through the server's own answer models (sync/bodies.py) -----------------------


def _point_json(p: Point) -> dict[str, float]:
    return {"lat": p.lat, "lon": p.lon}


def _maybe_point(lat: float | None, lon: float | None) -> Point | None:
    return None if lat is None or lon is None else Point(lat, lon)


def _case(c: CaseOut) -> PointCase:
    return PointCase(
        id=c.id,
        number=c.number,
        status=c.status,
        category=c.category,
        matter=c.matter or c.category,
        description=c.description,
        lead_department=c.lead_department,
        assisting=tuple(AssistingPart(a.department_code, a.duty) for a in c.assisting),
        due_at=c.due_at,
        disputed=c.disputed,
        suspended=c.suspended,
    )


def _session(raw: Mapping[str, Any]) -> JointSession:
    s = read_body("joint-session", SessionOut, raw)
    return JointSession(
        id=s.id,
        title=s.title,
        purpose=s.purpose,
        place=s.place,
        location=_maybe_point(s.lat, s.lon),
        called_departments=tuple(s.called_departments),
        status=s.status,
        started_at=s.started_at,
        concluded_at=s.concluded_at,
        minute_id=s.minute_id,
        check_ins=tuple(
            CheckIn(c.department, c.display_name, c.at, _maybe_point(c.lat, c.lon))
            for c in s.check_ins
        ),
        points=tuple(SessionPoint(label=p.label, case=_case(p.case)) for p in s.points),
        closed_points=s.closed_points,
        all_closed=s.all_closed,
    )


def _summary(s: SessionSummaryOut) -> SessionSummary:
    return SessionSummary(
        id=s.id,
        title=s.title,
        place=s.place,
        status=s.status,
        started_at=s.started_at,
        called_departments=tuple(s.called_departments),
        convened_by_department=s.convened_by_department,
        checked_in=tuple(s.checked_in),
        points=s.points,
        closed_points=s.closed_points,
        minute_id=s.minute_id,
    )
