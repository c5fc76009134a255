"""The bodies of the API's answers that a phone decodes: one model each, used by the server as
its response model and by the phone (``fieldapp/*_api.py``) to read the answer, so the two
cannot drift apart. An answer that does not fit its model is the server's fault
(``ServerFault`` on the phone), never a half-read screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Body(BaseModel):
    """An answer; fields a newer server adds are ignored by an older phone."""


class AssistingOut(Body):
    department_code: str
    duty: str = ""


class PositionOut(Body):
    """An involved department's position: ``not_ours`` (不属于本部门) or it accepts (认可)."""

    not_ours: bool = False
    reason: str = ""
    legal_basis: str = ""


class SuspensionOut(Body):
    start: datetime
    end: datetime | None = None
    reason: str = ""


class UserOut(Body):
    id: str
    username: str
    display_name: str
    role: str
    department_code: str


class LoginOut(Body):
    token: str  # the access token (short-lived: ``expires_in`` seconds)
    user: UserOut
    refresh_token: str = ""  # used once at POST /auth/refresh for a new pair
    expires_in: int = 0


class CaseEventOut(Body):
    seq: int
    kind: str
    actor_user_id: str
    actor_department: str
    at: datetime
    lat: float | None
    lon: float | None
    list_version: int | None
    status_after: str
    data: dict[str, Any]


class CaseOut(Body):
    id: str
    number: str
    status: str
    category: str
    matter: str | None
    description: str
    source: str
    lat: float | None
    lon: float | None
    town_code: str | None
    site_code: str | None
    first_contact_department: str
    owner_department: str
    reporter_user_id: str
    lead_department: str | None
    assisting: list[AssistingOut]
    legal_basis: str | None
    list_version: int | None
    time_amount: int | None
    time_unit: str | None
    assigned_at: datetime | None
    # why server time was used for an offline assignment (its phone's time was not plausible)
    assigned_time_note: str | None = None
    due_at: datetime | None
    # Set when the deadline counts weekends only: a year's holiday calendar was not entered.
    deadline_note: str | None = None
    acceptance_due_at: datetime | None = Field(
        None, description="签收时限: the lead must accept (签收) by then (sync/workflow.py)"
    )
    reroute_due_at: datetime | None = Field(
        None,
        description="退回后重新交办时限: a returned case's first-contact department must "
        "re-route it by then, or it escalates",
    )
    overdue: bool = Field(description="sync/overdue.py: the running deadline has passed")
    due_soon: bool = Field(False, description="sync/overdue.py: little working time left")
    suspended: bool
    disputed: bool
    rework_count: int
    return_count: int
    duplicate_of: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class AssistTaskOut(Body):
    department: str
    duty: str
    status: str
    due_at: datetime
    overdue: bool
    reported_at: datetime | None
    report_note: str | None
    report_photos: list[str]
    rating: int | None
    rating_comment: str | None


class DisputeOut(Body):
    id: str
    case_id: str
    raised_by_department: str
    reason: str
    legal_basis: str
    claimed_responsible: str | None
    involved: list[str]
    positions: dict[str, PositionOut]
    stage: str
    status: str
    needs_county_leader: bool
    stage_due_at: datetime
    suspended: bool
    suspensions: list[SuspensionOut]
    raised_at: datetime
    settled_at: datetime | None
    responsible_department: str | None
    lost_by: list[str]
    new_list_version: int | None
    minute_id: str | None
    ruling_text: str | None


class MinuteOut(Body):
    id: str
    kind: str
    title: str
    case_ids: list[str]
    dispute_id: str | None
    session_id: str | None
    created_at: datetime
    download: str


class EscalationOut(Body):
    level: str
    due_at: datetime
    departments: list[str]
    at: datetime


class CaseWorkOut(Body):
    case: CaseOut
    assist_tasks: list[AssistTaskOut]
    disputes: list[DisputeOut]
    escalations: list[EscalationOut]
    minutes: list[MinuteOut]


class BoardRowOut(Body):
    key: str
    overdue: int
    due_soon: int
    disputed_overdue: int


class NotificationOut(Body):
    id: int
    recipient: str
    kind: str
    case_id: str | None
    text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class CheckInOut(Body):
    department: str
    display_name: str
    at: datetime
    lat: float | None
    lon: float | None


class SessionPointOut(Body):
    label: str
    case: CaseOut


class SessionOut(Body):
    id: str
    title: str
    purpose: str
    place: str
    lat: float | None
    lon: float | None
    called_departments: list[str]
    status: str
    started_at: datetime
    concluded_at: datetime | None
    minute_id: str | None
    check_ins: list[CheckInOut]
    points: list[SessionPointOut]
    closed_points: int
    all_closed: bool


class SessionSummaryOut(Body):
    id: str
    title: str
    place: str
    status: str
    started_at: datetime
    concluded_at: datetime | None
    called_departments: list[str]
    convened_by_department: str
    checked_in: list[str]
    points: int
    closed_points: int
    minute_id: str | None


class SessionListOut(Body):
    sessions: list[SessionSummaryOut]


# --- the supervisor's dashboard ------------------------------------------------------------------


class PeriodOut(Body):
    label: str
    start: datetime
    end: datetime


class OnTimeRowOut(Body):
    """One department's on-time closure rate, scored now."""

    department: str
    name: str
    rate: float | None
    sample: int
    late: int
    due: int = 0
    suspended: int = 0
    shared: int = 0
    ranked: bool


class OnTimeOut(Body):
    period: PeriodOut
    min_cases: int
    departments: list[OnTimeRowOut]


class StatusBucketOut(Body):
    label: str
    end: datetime
    counts: dict[str, int]


class CasesOverTimeOut(Body):
    bucket: str
    statuses: list[str]
    buckets: list[StatusBucketOut]


class HotspotOut(Body):
    category: str
    lat: float
    lon: float
    radius_m: float
    reports: int
    cases: int
    tickets: int
    first_at: datetime
    last_at: datetime
    departments: dict[str, int] = {}
    case_ids: list[str] = []
    items: list[dict[str, Any]] = []


class HotspotsOut(Body):
    radius_m: float
    min_reports: int
    total: int
    hotspots: list[HotspotOut]
