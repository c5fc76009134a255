"""The case number (案件编号) a phone prints offline and the server stores: one formula.

``YX`` + the county date the case was recorded (Asia/Shanghai) + the first 40 bits of the case
UUID. A phone and the server compute the same number from the same id and time, whatever time
zone the phone's clock reports in; a collision needs about 10^6 cases recorded on one day.
"""

from __future__ import annotations

from datetime import datetime

from sync.clock import to_local


def case_number(case_id: str, recorded_at: datetime) -> str:
    """``YX<yymmdd>-<10 hex digits>`` for the case ``case_id`` recorded at ``recorded_at``."""
    day = to_local(recorded_at)  # not strftime: this runs for every case of a push
    digits = case_id.replace("-", "")[:10].upper()
    return f"YX{day.year % 100:02d}{day.month:02d}{day.day:02d}-{digits}"
