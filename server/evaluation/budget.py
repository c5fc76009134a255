"""A time limit for expensive computations (hotspots, repeat complaints, scoring, dashboards).

Cooperative: the computation calls ``Deadline.check`` in its loops (or iterates through
``Deadline.each``), and the first check after the limit raises ``TooExpensive`` — a 422 that
says to narrow the request — instead of running for minutes. No thread is ever killed: the
computation stops itself between two steps, holding no write transaction (the services read
first, end the read, then compute).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from sync.errors import InvalidInput

T = TypeVar("T")

CHECK_EVERY = 256  # items between two looks at the clock in ``each``


# Pairs of reports within the radius of each other that one hotspot or repeat-complaint
# computation may hold: bounds its memory as the time limit bounds its time.
MAX_NEIGHBOUR_PAIRS = 2_000_000


class TooExpensive(InvalidInput):
    """The computation passed its time or size limit (HTTP 422, code ``too_expensive``)."""

    code = "too_expensive"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(
            "start",
            f"{zh}，请缩小时间范围、半径或类别 / {en}: narrow the period, the radius or the "
            "category",
        )


def too_many_pairs() -> TooExpensive:
    return TooExpensive(
        f"相邻点位超过 {MAX_NEIGHBOUR_PAIRS} 对",
        f"more than {MAX_NEIGHBOUR_PAIRS} pairs of reports lie within the radius",
    )


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def check(self) -> None:
        """Raise ``TooExpensive`` once the limit has passed (a limit of 0 is passed at once)."""
        if self._clock() >= self._end:
            raise TooExpensive(
                f"计算超过 {self.seconds:g} 秒",
                f"the computation took longer than {self.seconds:g} s",
            )

    def each(self, items: Iterable[T], every: int = CHECK_EVERY) -> Iterator[T]:
        """``items``, checking the clock before the first and then every ``every`` items."""
        for i, item in enumerate(items):
            if i % every == 0:
                self.check()
            yield item


def no_limit() -> None:
    """A ``check`` that never stops anything (pure uses and tests)."""
