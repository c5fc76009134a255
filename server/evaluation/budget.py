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


class TooExpensive(InvalidInput):
    """The computation passed its time limit (HTTP 422, code ``too_expensive``)."""

    code = "too_expensive"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            "start",
            f"计算超过 {seconds:g} 秒，请缩小时间范围、半径或类别 / the computation took longer "
            f"than {seconds:g} s: narrow the period, the radius or the category",
        )


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def check(self) -> None:
        """Raise ``TooExpensive`` once the limit has passed (a limit of 0 is passed at once)."""
        if self._clock() >= self._end:
            raise TooExpensive(self.seconds)

    def each(self, items: Iterable[T], every: int = CHECK_EVERY) -> Iterator[T]:
        """``items``, checking the clock before the first and then every ``every`` items."""
        for i, item in enumerate(items):
            if i % every == 0:
                self.check()
            yield item


def no_limit() -> None:
    """A ``check`` that never stops anything (pure uses and tests)."""
