"""Times that a phone or a user claims, and when the server believes them. One rule each, used
by the REST API and by sync push alike; pure functions that take ``now``.

- ``clock_offset``: a device's clock offset, estimated at every sync from the clock reading it
  sends (``device_time`` in the push and pull requests) against the server's own.
- ``assignment_time``: an assignment (交办) made offline keeps the phone's on-the-spot time when
  it is plausible — the deadline is counted from when the inspector assigned it — and server
  time otherwise, with a note that says why (shown on the case).
- ``recorded_time``: a case's recorded time may not be in the future (refused, naming
  ``recorded_at``) nor implausibly far in the past (the server's time, with a note); recorded
  earlier than it was entered beyond a tolerance, it is flagged (``backdated_by_s`` in its
  CaseCreated event).
- ``check_effective_from``: a new boundary list version cannot take effect before it is
  published unless a reason for back-dating it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sync.errors import InvalidInput

# A device clock further off than this is not trusted for an on-the-spot time (no phone
# drifts 10 minutes between syncs: someone set it by hand, or it never synchronised).
MAX_CLOCK_SKEW = timedelta(minutes=10)
# A claimed time may be this far ahead of the clock it is compared with (clocks and requests
# are never perfectly aligned); further ahead, it is in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A case recorded this much earlier than it was entered says so in its history.
BACKDATE_TOLERANCE = timedelta(minutes=30)
# A case recorded longer ago than this (a phone whose clock reads 1970, a year typed wrong) is
# not believed: like a clock running ahead, it is stored at the server's time, with a note and
# the claimed time kept as evidence. No phone stays offline this long (its sign-in expires).
MAX_RECORDED_AGE = timedelta(days=30)
# A list version may take effect this long before its publication without a reason (the time
# the administrator took to fill in the form).
EFFECTIVE_FROM_TOLERANCE = timedelta(minutes=5)


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(field, "须带时区 / must include a time zone")
    return moment


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} 天 / {seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} 小时 / {seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} 分钟 / {seconds / 60:.0f} minutes"


# --- the device's clock -------------------------------------------------------------------


def clock_offset(device_time: datetime, now: datetime) -> float:
    """Seconds the device's clock is ahead of the server's (negative: behind)."""
    return (_aware(device_time, "device_time") - now).total_seconds()


def device_to_server(device_at: datetime, offset_s: float) -> datetime:
    """A device clock reading as server time, given the device's offset."""
    return device_at - timedelta(seconds=offset_s)


def trusted_offset(offset_s: float | None) -> float:
    """The offset to correct a device's readings by: its estimate when known and within
    ``MAX_CLOCK_SKEW``, else none (a clock that far off is not corrected but distrusted)."""
    if offset_s is None or abs(offset_s) > MAX_CLOCK_SKEW.total_seconds():
        return 0.0
    return offset_s


# --- when was the case assigned ----------------------------------------------------------


@dataclass(frozen=True)
class AssignedTime:
    """The time an assignment counts from, and how it was decided."""

    at: datetime
    on_site: bool  # the device's on-the-spot time was used
    device_at: datetime | None = None  # the device's clock reading, as sent
    offset_s: float | None = None  # the device's estimated clock offset
    note: str | None = None  # why server time was used instead of the device's: shown on the case

    def event_data(self) -> dict[str, Any]:
        if self.device_at is None:
            return {}
        return {
            "assigned_at": self.at.isoformat(),
            "assigned_on_site": self.on_site,
            "device_assigned_at": self.device_at.isoformat(),
            "device_clock_offset_s": self.offset_s,
            "assigned_time_note": self.note,
        }


def assignment_time(
    *,
    device_at: datetime | None,
    offset_s: float | None,
    not_before: datetime,
    now: datetime,
) -> AssignedTime:
    """The time an assignment counts from.

    ``device_at``: the device's clock when the inspector assigned (None: assigned online, at
    ``now``); ``offset_s``: the device's latest clock offset; ``not_before``: when the case was
    recorded (an assignment cannot precede it). The device's time, corrected by its offset, is
    used when the offset is known and within ``MAX_CLOCK_SKEW`` and the corrected time is
    neither in the future nor before the case was recorded; otherwise server time, with a note.
    """
    if device_at is None:
        return AssignedTime(at=now, on_site=False)
    _aware(device_at, "created_at")

    def server_time(zh: str, en: str) -> AssignedTime:
        return AssignedTime(
            at=now,
            on_site=False,
            device_at=device_at,
            offset_s=offset_s,
            note=f"{zh}，按服务器收到时间计算时限 / {en}: the deadline counts from when the "
            "server received it",
        )

    if offset_s is None:
        return server_time("设备时钟未校准", "the device's clock was never checked")
    if abs(offset_s) > MAX_CLOCK_SKEW.total_seconds():
        zh_span, en_span = _span(offset_s).split(" / ")
        if offset_s > 0:
            return server_time(f"设备时钟快 {zh_span}", f"the device's clock is {en_span} ahead")
        return server_time(f"设备时钟慢 {zh_span}", f"the device's clock is {en_span} behind")
    corrected = device_to_server(device_at, offset_s)
    if corrected > now + FUTURE_TOLERANCE:
        return server_time("交办时间晚于当前时间", "the assignment time is in the future")
    if corrected < not_before - FUTURE_TOLERANCE:
        return server_time("交办时间早于案件登记时间", "the assignment time precedes the recording")
    return AssignedTime(
        at=min(corrected, now), on_site=True, device_at=device_at, offset_s=offset_s
    )


# --- when was the case recorded ----------------------------------------------------------


@dataclass(frozen=True)
class RecordedTime:
    at: datetime  # the time stored as the case's recorded time
    backdated_by_s: int | None = None  # recorded this long before it was entered
    clock_ahead_by_s: int | None = None  # the device's clock ran ahead of the server's
    claimed_at: datetime | None = None  # the time claimed, when it was too far in the past
    note: str | None = None  # why the claimed time was not used

    def event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.claimed_at is not None:
            data["claimed_recorded_at"] = self.claimed_at.isoformat()
            data["recorded_time_note"] = self.note
        if self.backdated_by_s is not None:
            data["backdated_by_s"] = self.backdated_by_s
        if self.clock_ahead_by_s is not None:
            data["clock_ahead_by_s"] = self.clock_ahead_by_s
        return data


def recorded_time(
    recorded_at: datetime | None, *, entered_at: datetime, now: datetime
) -> RecordedTime:
    """The recorded time of a new case, claimed as ``recorded_at`` and entered at
    ``entered_at`` (REST: ``now``; sync: the command's queue time on the device's clock, the
    same clock as ``recorded_at``).

    Refused when later than ``entered_at`` beyond ``FUTURE_TOLERANCE`` (a time in the future).
    More than ``MAX_RECORDED_AGE`` before ``now`` (a phone reading 1970): not believed — the
    server's time, with a note and the claimed time in the event. Earlier than ``entered_at``
    beyond ``BACKDATE_TOLERANCE``: kept, and flagged. A device
    clock running ahead of the server is never stored: the time is at most ``now``.
    """
    entered = _aware(entered_at, "created_at")
    claimed = entered if recorded_at is None else _aware(recorded_at, "recorded_at")
    if claimed > entered + FUTURE_TOLERANCE:
        raise InvalidInput(
            "recorded_at",
            f"登记时间不能在未来（晚于当前 {_span((claimed - entered).total_seconds())}）/ "
            "recorded_at must not be in the future",
            code="in_the_future",
        )
    if claimed < now - MAX_RECORDED_AGE:
        zh_span, en_span = _span((now - claimed).total_seconds()).split(" / ")
        return RecordedTime(
            at=now,
            claimed_at=claimed,
            note=f"登记时间早于当前 {zh_span}，不可信，按服务器收到时间记录 / the recorded time "
            f"is {en_span} in the past: not believed, the server's time is used",
        )
    backdated = (entered - claimed).total_seconds()
    ahead = (claimed - now).total_seconds()
    return RecordedTime(
        at=min(claimed, now),
        backdated_by_s=int(backdated) if backdated > BACKDATE_TOLERANCE.total_seconds() else None,
        clock_ahead_by_s=int(ahead) if ahead > 0 else None,
    )


# --- when does a list version take effect ------------------------------------------------


def check_effective_from(
    effective_from: datetime, *, published_at: datetime, backdate_reason: str
) -> str | None:
    """Refuse a version taking effect before it is published (beyond a tolerance) unless a
    reason is given. Returns the reason to store (None when none is needed or given)."""
    _aware(effective_from, "effective_from")
    reason = backdate_reason.strip() or None
    if effective_from < published_at - EFFECTIVE_FROM_TOLERANCE and reason is None:
        raise InvalidInput(
            "effective_from",
            "生效时间早于发布时间，须填写追溯理由（backdate_reason）/ a version cannot take "
            "effect before it is published unless backdate_reason says why",
            code="backdated_without_reason",
        )
    return reason
