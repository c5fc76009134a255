"""The boundary list, towns, sites, intake channels and the working calendar held in memory,
reloaded when a new version is published or a year of the calendar is entered."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from sqlmodel import Session

from server.data import boundary as boundary_data
from server.data import reference as reference_data
from server.data import work_calendar as calendar_data
from sync.boundary_types import BoundaryVersion, Site, Town
from sync.intake import IntakeChannel
from sync.workcalendar import WorkCalendar


@dataclass(frozen=True)
class ReferenceSnapshot:
    versions: tuple[BoundaryVersion, ...]
    towns: tuple[Town, ...]
    sites: tuple[Site, ...]
    departments: frozenset[str]
    latest_version: int | None
    intake_channels: tuple[IntakeChannel, ...]

    @cached_property
    def source_codes(self) -> frozenset[str]:
        """The intake channels a case's ``source`` may name."""
        return frozenset(c.code for c in self.intake_channels)

    calendar: WorkCalendar
    calendar_revision: int

    @cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(e.category for v in self.versions for e in v.entries)

    @cached_property
    def town_codes(self) -> frozenset[str]:
        return frozenset(t.code for t in self.towns)

    @cached_property
    def site_codes(self) -> frozenset[str]:
        return frozenset(s.code for s in self.sites)


class ReferenceCache:
    """One per app. ``invalidate`` after publishing a version, entering a calendar year or
    changing towns/sites."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: ReferenceSnapshot | None = None

    def get(self, session: Session) -> ReferenceSnapshot:
        # A cheap check keeps several server processes consistent after a publish elsewhere.
        latest = boundary_data.latest_version_number(session)
        calendar_revision = calendar_data.revision(session)
        snap = self._snapshot
        if (
            snap is not None
            and snap.latest_version == latest
            and snap.calendar_revision == calendar_revision
        ):
            return snap
        with self._lock:
            snap = self._snapshot
            if (
                snap is None
                or snap.latest_version != latest
                or snap.calendar_revision != calendar_revision
            ):
                self._snapshot = ReferenceSnapshot(
                    versions=tuple(boundary_data.load_versions(session)),
                    towns=tuple(reference_data.load_towns(session)),
                    sites=tuple(reference_data.load_sites(session)),
                    departments=frozenset(reference_data.department_codes(session)),
                    latest_version=latest,
                    intake_channels=tuple(reference_data.load_intake_channels(session)),
                    calendar=WorkCalendar(tuple(calendar_data.load_years(session))),
                    calendar_revision=calendar_revision,
                )
                snap = self._snapshot
            return snap

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None
