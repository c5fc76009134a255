"""Cases over time by status: how many cases were in each status at the end of each bucket.

Pure: replays (case id, time, status after) in time order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.clock import CHINA_TZ
from sync.errors import InvalidInput

BUCKETS = ("day", "week", "month")
MAX_BUCKETS = 400


@dataclass(frozen=True)
class StatusPoint:
    at: datetime  # the bucket's end (exclusive); counts are the state just before it
    label: str
    counts: dict[str, int]


def bucket_edges(start: datetime, end: datetime, bucket: str) -> list[tuple[datetime, str]]:
    """Bucket ends after ``start`` up to ``end``, in China time, with a label each."""
    if bucket not in BUCKETS:
        raise InvalidInput("bucket", f"应为 {', '.join(BUCKETS)} 之一 / must be one of these")
    if end <= start:
        raise InvalidInput("end", "结束须晚于开始 / end must be after start")
    local = start.astimezone(CHINA_TZ)
    cursor = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        cursor -= timedelta(days=cursor.weekday())
    if bucket == "month":
        cursor = cursor.replace(day=1)
    edges: list[tuple[datetime, str]] = []
    while cursor < end:
        if bucket == "day":
            nxt = cursor + timedelta(days=1)
            label = f"{cursor:%Y-%m-%d}"
        elif bucket == "week":
            nxt = cursor + timedelta(days=7)
            label = f"{cursor:%G-W%V}"
        else:
            year, month = (
                (cursor.year + 1, 1) if cursor.month == 12 else (cursor.year, cursor.month + 1)
            )
            nxt = cursor.replace(year=year, month=month)
            label = f"{cursor:%Y-%m}"
        edges.append((min(nxt, end), label))
        cursor = nxt
        if len(edges) > MAX_BUCKETS:
            raise InvalidInput(
                "bucket", f"区间过长 / more than {MAX_BUCKETS} buckets: use a wider bucket"
            )
    return edges


def status_over_time(
    transitions: Iterable[tuple[str, datetime, str]],
    edges: Sequence[tuple[datetime, str]],
) -> list[StatusPoint]:
    """``transitions`` = (case id, at, status after), sorted by time."""
    status: dict[str, str] = {}
    counts: Counter[str] = Counter()
    out: list[StatusPoint] = []
    it = iter(transitions)
    pending = next(it, None)
    for edge, label in edges:
        while pending is not None and pending[1] < edge:
            case_id, _, after = pending
            before = status.get(case_id)
            if before != after:
                if before is not None:
                    counts[before] -= 1
                counts[after] += 1
                status[case_id] = after
            pending = next(it, None)
        out.append(StatusPoint(edge, label, {k: v for k, v in sorted(counts.items()) if v}))
    return out
