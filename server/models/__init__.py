"""SQLModel tables, one module per area. Importing this package registers every table."""

from server.models.boundary import BoundaryEntryRow, BoundaryVersionRow
from server.models.cases import Case, CaseEvent, CaseSuspension
from server.models.photos import Photo, PhotoLink
from server.models.reference import Department, SiteRow, TownRow
from server.models.sync import CommandResultRow, Device, SyncCounter
from server.models.users import AuthToken, User

__all__ = [
    "AuthToken",
    "BoundaryEntryRow",
    "BoundaryVersionRow",
    "Case",
    "CaseEvent",
    "CaseSuspension",
    "CommandResultRow",
    "Department",
    "Device",
    "Photo",
    "PhotoLink",
    "SiteRow",
    "SyncCounter",
    "TownRow",
    "User",
]
