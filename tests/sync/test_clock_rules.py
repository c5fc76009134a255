"""The clock rules themselves (sync/clock_rules.py): when a phone's time is believed, when a
claimed time is refused or flagged — pure functions of their inputs and ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sync.clock import CHINA_TZ
from sync.clock_rules import (
    BACKDATE_TOLERANCE,
    FUTURE_TOLERANCE,
    MAX_CLOCK_SKEW,
    MAX_RECORDED_AGE,
    assignment_time,
    check_effective_from,
    clock_offset,
    recorded_time,
    trusted_offset,
)
from sync.errors import InvalidInput

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=CHINA_TZ)
SPOT = NOW - timedelta(hours=3)  # assigned on the spot, three hours before the sync
RECORDED = SPOT - timedelta(minutes=10)


def test_the_offset_is_the_device_clock_minus_the_server_clock() -> None:
    assert clock_offset(NOW + timedelta(seconds=90), NOW) == 90
    assert clock_offset(NOW - timedelta(days=2), NOW) == -2 * 86400
    with pytest.raises(InvalidInput) as err:
        clock_offset(datetime(2026, 11, 2, 12, 0), NOW)
    assert err.value.field == "device_time"


def test_a_plausible_on_the_spot_time_is_kept_corrected_by_the_offset() -> None:
    t = assignment_time(device_at=SPOT, offset_s=120.0, not_before=RECORDED, now=NOW)
    assert t.on_site and t.note is None
    assert t.at == SPOT - timedelta(seconds=120)
    assert t.event_data()["assigned_on_site"] is True


def test_an_online_assignment_counts_from_now_and_says_nothing() -> None:
    t = assignment_time(device_at=None, offset_s=None, not_before=RECORDED, now=NOW)
    assert t.at == NOW and t.note is None and t.event_data() == {}


@pytest.mark.parametrize(
    ("device_at", "offset_s", "said"),
    [
        (SPOT, None, "never checked"),
        (SPOT, MAX_CLOCK_SKEW.total_seconds() + 1, "ahead"),
        (SPOT, -2 * 86400.0, "2.0 days behind"),
        (NOW + FUTURE_TOLERANCE + timedelta(seconds=1), 0.0, "in the future"),
        (RECORDED - FUTURE_TOLERANCE - timedelta(seconds=1), 0.0, "precedes the recording"),
    ],
)
def test_an_implausible_on_the_spot_time_gives_way_to_server_time_and_says_why(
    device_at: datetime, offset_s: float | None, said: str
) -> None:
    t = assignment_time(device_at=device_at, offset_s=offset_s, not_before=RECORDED, now=NOW)
    assert t.at == NOW and not t.on_site
    assert t.note is not None and said in t.note and "服务器" in t.note
    assert t.event_data()["assigned_time_note"] == t.note


def test_only_a_small_offset_corrects_a_device_reading() -> None:
    assert trusted_offset(None) == 0.0
    assert trusted_offset(300.0) == 300.0
    assert trusted_offset(-MAX_CLOCK_SKEW.total_seconds() - 1) == 0.0


def test_a_recorded_time_in_the_future_is_refused_naming_recorded_at() -> None:
    with pytest.raises(InvalidInput) as err:
        recorded_time(NOW + FUTURE_TOLERANCE + timedelta(seconds=1), entered_at=NOW, now=NOW)
    assert err.value.field == "recorded_at"
    within = recorded_time(NOW + FUTURE_TOLERANCE, entered_at=NOW, now=NOW)
    assert within.at == NOW  # tolerated, but never stored ahead of the server


def test_a_recorded_time_is_in_the_future_relative_to_when_it_was_entered() -> None:
    # sync: a phone's time, compared with the same phone's queue time
    queued = NOW - timedelta(hours=5)
    with pytest.raises(InvalidInput):
        recorded_time(queued + timedelta(hours=1), entered_at=queued, now=NOW)
    ahead = recorded_time(NOW + timedelta(days=1), entered_at=NOW + timedelta(days=1), now=NOW)
    assert ahead.at == NOW and ahead.clock_ahead_by_s == 86400


def test_a_back_dated_recorded_time_is_kept_and_flagged_beyond_the_tolerance() -> None:
    late = recorded_time(NOW - timedelta(hours=3), entered_at=NOW, now=NOW)
    assert late.at == NOW - timedelta(hours=3) and late.backdated_by_s == 3 * 3600
    assert late.event_data() == {"backdated_by_s": 3 * 3600}
    prompt = recorded_time(NOW - BACKDATE_TOLERANCE, entered_at=NOW, now=NOW)
    assert prompt.backdated_by_s is None and prompt.event_data() == {}
    with pytest.raises(InvalidInput) as err:
        recorded_time(datetime(2026, 11, 2, 8, 0), entered_at=NOW, now=NOW)
    assert err.value.field == "recorded_at"


def test_a_version_cannot_take_effect_before_publication_without_a_reason() -> None:
    with pytest.raises(InvalidInput) as err:
        check_effective_from(NOW - timedelta(days=1), published_at=NOW, backdate_reason=" ")
    assert err.value.field == "effective_from"
    assert (
        check_effective_from(NOW - timedelta(days=1), published_at=NOW, backdate_reason=" 通知 ")
        == "通知"
    )
    assert check_effective_from(NOW, published_at=NOW, backdate_reason="") is None
    assert (
        check_effective_from(NOW + timedelta(days=3), published_at=NOW, backdate_reason="") is None
    )


@pytest.mark.parametrize(
    "claimed",
    [datetime(1970, 1, 1, tzinfo=CHINA_TZ), NOW - MAX_RECORDED_AGE - timedelta(seconds=1)],
)
def test_a_recorded_time_far_in_the_past_is_not_believed_but_clamped_with_a_note(
    claimed: datetime,
) -> None:
    # a phone reading 1970: both its queue time and its recorded time are on that clock
    t = recorded_time(claimed, entered_at=claimed, now=NOW)
    assert t.at == NOW and t.claimed_at == claimed
    data = t.event_data()
    assert data["claimed_recorded_at"] == claimed.isoformat()
    assert "in the past" in data["recorded_time_note"]
    # also when only the recorded time is old (a year typed wrong on REST)
    assert recorded_time(claimed, entered_at=NOW, now=NOW).at == NOW


def test_a_recorded_time_within_the_age_limit_is_kept_and_flagged() -> None:
    claimed = NOW - MAX_RECORDED_AGE + timedelta(hours=1)
    t = recorded_time(claimed, entered_at=NOW, now=NOW)
    assert t.at == claimed and t.backdated_by_s is not None and t.claimed_at is None
