"""The phone prints the same case number the server will store, whatever zone its clock uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sync.case_numbers import case_number
from sync.clock import CHINA_TZ

CASE_ID = "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11"


def test_the_number_carries_the_county_date_even_when_utc_is_still_yesterday() -> None:
    early_morning = datetime(2026, 11, 2, 7, 30, tzinfo=CHINA_TZ)  # 2026-11-01 23:30 UTC
    assert case_number(CASE_ID, early_morning) == "YX261102-6F1C2A4E8A"
    assert case_number(CASE_ID, early_morning.astimezone(UTC)) == "YX261102-6F1C2A4E8A"
    elsewhere = early_morning.astimezone(timezone(timedelta(hours=-5)))
    assert case_number(CASE_ID, elsewhere) == "YX261102-6F1C2A4E8A"


def test_different_cases_on_one_day_get_different_numbers() -> None:
    at = datetime(2026, 11, 2, 10, tzinfo=CHINA_TZ)
    numbers = {case_number(str(uuid.uuid4()), at) for _ in range(1000)}
    assert len(numbers) == 1000


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError):
        case_number(CASE_ID, datetime(2026, 11, 2, 7, 30))
