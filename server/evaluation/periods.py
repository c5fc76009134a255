"""Evaluation periods: a month, a quarter or a year, in China time (UTC+8)."""

from __future__ import annotations

from datetime import datetime

from server.evaluation.scoring import Period
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput

PERIOD_KINDS = ("month", "quarter", "year")


def period_of(kind: str, year: int, number: int | None = None) -> Period:
    """``("month", 2026, 11)`` → 2026-11-01 00:00 to 2026-12-01 00:00 China time.
    ``number`` is the month (1–12) or quarter (1–4); a year needs none."""
    if kind not in PERIOD_KINDS:
        raise InvalidInput("kind", f"应为 {', '.join(PERIOD_KINDS)} 之一 / must be one of these")
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "应在 2000–2100 之间 / must be between 2000 and 2100")
    if kind == "year":
        return Period(
            str(year),
            datetime(year, 1, 1, tzinfo=CHINA_TZ),
            datetime(year + 1, 1, 1, tzinfo=CHINA_TZ),
        )
    limit = 12 if kind == "month" else 4
    if number is None or not 1 <= number <= limit:
        raise InvalidInput("number", f"应为 1–{limit} / must be 1–{limit} for a {kind}")
    first_month = number if kind == "month" else 3 * (number - 1) + 1
    months = 1 if kind == "month" else 3
    end_month = first_month + months
    end_year = year + (end_month - 1) // 12
    end_month = (end_month - 1) % 12 + 1
    label = f"{year}-{number:02d}" if kind == "month" else f"{year}-Q{number}"
    return Period(
        label,
        datetime(year, first_month, 1, tzinfo=CHINA_TZ),
        datetime(end_year, end_month, 1, tzinfo=CHINA_TZ),
    )
