"""The sync indicator: what is waiting to go, when the last sync succeeded, what went wrong.

``SyncStatus`` is updated by the device's sync loop (on the UI loop) and shown on Home: the
cases with changes waiting and the photos waiting (never internal command counts), the last
successful sync, problems (rejected/conflicting commands, listed on the 同步问题 screen with
the server's reason and what to do), and a progress bar while syncing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fieldapp.i18n import DEFAULT_LANG, Lang, t
from sync.client import NotRegistered, Offline, OutdatedApp, SyncProgress
from sync.clock import to_local


class CountSource(Protocol):
    """What the indicator counts (a ``DeviceStore`` fits)."""

    def pending_count(self) -> int: ...
    def pending_case_count(self) -> int: ...
    def photos_to_upload(self) -> Sequence[object]: ...
    def problems(self) -> Sequence[object]: ...


@dataclass(frozen=True)
class Counts:
    pending_commands: int
    pending_photos: int
    problems: int
    pending_cases: int = 0  # cases with changes waiting: what the card shows

    @classmethod
    def of(cls, source: CountSource) -> Counts:
        return cls(
            pending_commands=source.pending_count(),
            pending_photos=len(source.photos_to_upload()),
            problems=len(source.problems()),
            pending_cases=source.pending_case_count(),
        )


def error_key_for(exc: BaseException) -> str:
    if isinstance(exc, Offline):
        return "sync.error.offline"
    if isinstance(exc, NotRegistered):
        return "sync.error.not_registered"
    if isinstance(exc, OutdatedApp):
        return "sync.error.outdated"
    return "sync.error.failed"


@dataclass
class SyncStatus:
    pending_commands: int = 0
    pending_cases: int = 0
    pending_photos: int = 0
    problems: int = 0
    last_success: datetime | None = None
    syncing: bool = False
    phase: str = "idle"
    fraction: float | None = None  # None: indeterminate
    error_key: str | None = None
    error_detail: str = ""
    revision: int = 0  # bumped whenever local data may have changed: screens re-read the store
    registered: bool = False

    # -- what the loop reports ------------------------------------------------------------
    def counted(self, counts: Counts) -> None:
        self.pending_commands = counts.pending_commands
        self.pending_cases = counts.pending_cases
        self.pending_photos = counts.pending_photos
        self.problems = counts.problems
        self.revision += 1

    def started(self) -> None:
        self.syncing = True
        self.phase = "start"
        self.fraction = None

    def progressed(self, progress: SyncProgress) -> None:
        self.phase = progress.phase
        if progress.phase == "photos" and progress.bytes_total:
            self.fraction = min(1.0, progress.bytes_done / progress.bytes_total)
        elif progress.phase == "push" and progress.commands_total:
            self.fraction = min(1.0, progress.commands_done / progress.commands_total)
        else:
            self.fraction = None

    def succeeded(self, now: datetime, counts: Counts) -> None:
        self.syncing = False
        self.phase = "idle"
        self.fraction = None
        self.error_key = None
        self.error_detail = ""
        self.last_success = now
        self.counted(counts)

    def failed(self, exc: BaseException, counts: Counts) -> None:
        self.syncing = False
        self.phase = "idle"
        self.fraction = None
        self.error_key = error_key_for(exc)
        self.error_detail = "" if isinstance(exc, Offline) else str(exc)[:200]
        self.counted(counts)

    # -- what Home shows ------------------------------------------------------------------
    @property
    def all_sent(self) -> bool:
        return self.pending_commands == 0 and self.pending_photos == 0

    def headline(self, lang: Lang = DEFAULT_LANG) -> str:
        if self.syncing:
            return t("sync.syncing", lang)
        if self.error_key is not None:
            return t(self.error_key, lang)
        if self.last_success is None:
            return t("sync.never", lang)
        return t("sync.synced" if self.all_sent else "sync.waiting", lang)

    def detail(self, lang: Lang = DEFAULT_LANG) -> str:
        last = (
            to_local(self.last_success).strftime("%m-%d %H:%M:%S")
            if self.last_success is not None
            else t("sync.last.never", lang)
        )
        return t(
            "sync.detail",
            lang,
            cases=self.pending_cases,
            photos=self.pending_photos,
            last=last,
        )

    def problems_label(self, lang: Lang = DEFAULT_LANG) -> str:
        return t("sync.problems", lang, n=self.problems)


# --- 同步问题: each rejected or conflicting command and what to do ------------------------

ADVICE_BY_CODE: dict[str, str] = {
    "wrong_status": "problem.advice.wrong_status",
    "role_not_allowed": "problem.advice.not_allowed",
    "department_not_allowed": "problem.advice.not_allowed",
    "verifier_is_handler": "problem.advice.not_allowed",
    "invalid_input": "problem.advice.invalid",
    "edit_conflict": "problem.advice.conflict",
    "not_found": "problem.advice.not_found",
}


@dataclass(frozen=True)
class ProblemRow:
    command_id: int
    type_key: str
    case_id: str | None
    status: str
    reason: str
    advice_key: str


class ProblemLike(Protocol):
    id: int
    type: str
    case_id: str | None
    status: str
    code: str | None
    reason: str | None


def problem_rows(problems: Sequence[ProblemLike]) -> list[ProblemRow]:
    """One row per rejected/conflicting command, newest first, with advice for the user."""
    rows = []
    for p in sorted(problems, key=lambda p: -p.id):
        if p.status == "conflict":
            advice = "problem.advice.conflict"
        else:
            advice = ADVICE_BY_CODE.get(p.code or "", "problem.advice.other")
        rows.append(
            ProblemRow(
                command_id=p.id,
                type_key=f"command.{p.type}",
                case_id=p.case_id,
                status=p.status,
                reason=p.reason or "",
                advice_key=advice,
            )
        )
    return rows
