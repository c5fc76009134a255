"""SQLModel tables, one module per area. Importing this package registers every table."""

from server.models.boundary import BoundaryEntryRow, BoundaryVersionRow
from server.models.cases import Case, CaseEvent, CaseSuspension
from server.models.evaluation import (
    EvaluationRun,
    HotlineCallBack,
    HotlineColumnAlias,
    HotlineImport,
    HotlineTicket,
)
from server.models.jobs import JobRun, JobRunLog
from server.models.login_throttle import LoginThrottleRow
from server.models.photos import Photo, PhotoHolder, PhotoLink
from server.models.reference import (
    Department,
    IntakeChannelRow,
    SiteRow,
    TownRow,
    UnlistedMatter,
    WorkCalendarYearRow,
)
from server.models.storage import FileChunk, StoredFile
from server.models.sync import CaseWithdrawal, CommandResultRow, Device, SyncCounter
from server.models.users import AuthSession, AuthToken, User
from server.models.workflow import (
    AssistTask,
    CaseEscalation,
    Dispute,
    JointCheckIn,
    JointPoint,
    JointSession,
    Minute,
    Notification,
)

__all__ = [
    "AssistTask",
    "AuthSession",
    "AuthToken",
    "BoundaryEntryRow",
    "BoundaryVersionRow",
    "Case",
    "CaseEscalation",
    "CaseEvent",
    "CaseSuspension",
    "CaseWithdrawal",
    "CommandResultRow",
    "Department",
    "Device",
    "Dispute",
    "EvaluationRun",
    "FileChunk",
    "HotlineCallBack",
    "HotlineColumnAlias",
    "HotlineImport",
    "HotlineTicket",
    "IntakeChannelRow",
    "JobRun",
    "JobRunLog",
    "JointCheckIn",
    "JointPoint",
    "JointSession",
    "LoginThrottleRow",
    "Minute",
    "Notification",
    "Photo",
    "PhotoHolder",
    "PhotoLink",
    "SiteRow",
    "StoredFile",
    "SyncCounter",
    "TownRow",
    "UnlistedMatter",
    "User",
    "WorkCalendarYearRow",
]
