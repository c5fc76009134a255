"""Intake channels (受理渠道): how a problem reached the county, as reference data.

The source names the channels the county watches: the 12345 hotline, O2O, 民意"5"来听 and the
属地管理 grid, plus the counter (窗口) and reports made on site (现场). ``INTAKE_CHANNELS`` is the
seed the server stores as reference data (migration 0009) and sends to phones with the rest of
the reference data (``sync.reference_codec``); ``check_source`` is the one check of a case's
``source``, used by the REST and the sync-push paths alike (``server.services.cases``).

Decisions (the issue is silent on them): the codes cases already carry stay as they were —
``hotline`` is the 12345 channel, ``street`` is a report made to staff on site (现场),
``inspection`` a problem an inspector found, ``joint_session`` a point found at a joint
on-site session — and the two channels the software did not know get new codes
(``minyi_5``, ``grid``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sync.errors import InvalidInput

__all__ = ["INTAKE_CHANNELS", "IntakeChannel", "check_source"]


@dataclass(frozen=True)
class IntakeChannel:
    code: str
    name_zh: str
    name_en: str
    position: int  # the order lists show them in

    @property
    def label(self) -> str:
        return f"{self.name_zh} / {self.name_en}"


INTAKE_CHANNELS: tuple[IntakeChannel, ...] = (
    IntakeChannel("hotline", "12345 政务服务热线", "12345 hotline", 1),
    IntakeChannel("o2o", "O2O 平台", "O2O platform", 2),
    IntakeChannel("minyi_5", "民意“5”来听", "Public opinion '5' listening", 3),
    IntakeChannel("grid", "属地管理网格", "Local grid (属地管理)", 4),
    IntakeChannel("counter", "窗口受理", "Counter", 5),
    IntakeChannel("street", "现场反映", "On site", 6),
    IntakeChannel("inspection", "巡查发现", "Found on inspection", 7),
    IntakeChannel("joint_session", "联合办公", "Joint on-site session", 8),
)


def check_source(source: str, known: Collection[str]) -> str:
    """``source`` if it is one of the ``known`` channel codes; else ``InvalidInput("source")``."""
    if source not in known:
        codes = ", ".join(sorted(known)) or "—"
        raise InvalidInput(
            "source",
            f"未知的受理渠道 {source!r}，应为 {codes} 之一 / unknown intake channel, "
            "must be one of these",
        )
    return source
