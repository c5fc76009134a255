"""Reading command payloads (plain JSON from a device) into typed inputs, with field errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.services.cases import NewCase
from sync.boundary_types import Point
from sync.clock_rules import device_to_server, trusted_offset
from sync.errors import InvalidInput
from sync.protocol import Command


def point_of(raw: Any, field: str) -> Point | None:
    if raw is None:
        return None
    try:
        return Point(float(raw["lat"]), float(raw["lon"]))
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(field, "应为 {lat, lon} / must be {lat, lon}") from None


def text_of(payload: dict[str, Any], key: str, default: str = "") -> str:
    value = payload.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(key, "应为文本 / must be text")
    return value


def new_case_from(cmd: Command, now: datetime, clock_offset_s: float | None = None) -> NewCase:
    """The NewCase a CreateCase command asks for, its times on the server's clock (corrected by
    the device's offset when that is trusted). It was entered when the command was queued; the
    rule on recorded times (sync/clock_rules.recorded_time) decides the rest."""
    p = cmd.payload
    case_id = text_of(p, "case_id")
    if not case_id:
        raise InvalidInput("case_id", "缺少案件编号 / case_id is required")
    recorded = p.get("recorded_at")
    try:
        recorded_at = datetime.fromisoformat(recorded) if recorded else cmd.created_at
    except (TypeError, ValueError):
        raise InvalidInput("recorded_at", "时间格式错误 / not an ISO time") from None
    if recorded_at.tzinfo is None:
        raise InvalidInput("recorded_at", "须带时区 / must include a time zone")
    offset = trusted_offset(clock_offset_s)
    return NewCase(
        id=case_id,
        category=text_of(p, "category"),
        description=text_of(p, "description"),
        source=text_of(p, "source", "inspection"),
        point=point_of(p.get("location"), "location"),
        town_code=p.get("town_code"),
        site_code=p.get("site_code"),
        first_contact_department=p.get("first_contact_department"),
        recorded_at=device_to_server(recorded_at, offset),
        entered_at=device_to_server(cmd.created_at, offset),
    )
