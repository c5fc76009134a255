"""Reading command payloads (plain JSON from a device) into typed inputs, with field errors.

The shape and limits of every payload are its message's in ``sync/commands.py`` (the same as the
REST bodies'); this module only turns a decoded message into the services' inputs."""

from __future__ import annotations

from datetime import datetime

from server.services.cases import NewCase
from sync.boundary_types import Point
from sync.clock_rules import device_to_server, trusted_offset
from sync.commands import CreateCase, GeoPoint, decode_command
from sync.errors import InvalidInput
from sync.protocol import Command


def point_of(raw: GeoPoint | None) -> Point | None:
    return None if raw is None else Point(raw.lat, raw.lon)


def create_case_of(cmd: Command) -> CreateCase:
    """The CreateCase message of ``cmd``; ``InvalidInput`` naming the first wrong field."""
    p = decode_command(cmd)
    if not isinstance(p, CreateCase):
        raise InvalidInput("type", "不是新建案件 / not a CreateCase command")
    return p


def new_case_from(cmd: Command, now: datetime, clock_offset_s: float | None = None) -> NewCase:
    """The NewCase a CreateCase command asks for, its times on the server's clock (corrected by
    the device's offset when that is trusted). It was entered when the command was queued; the
    rule on recorded times (sync/clock_rules.recorded_time) decides the rest."""
    p = create_case_of(cmd)
    recorded_at = p.recorded_at or cmd.created_at
    offset = trusted_offset(clock_offset_s)
    return NewCase(
        id=p.case_id,
        category=p.category,
        description=p.description,
        source=p.source,
        point=point_of(p.location),
        town_code=p.town_code,
        site_code=p.site_code,
        first_contact_department=p.first_contact_department,
        first_contact_reason=p.first_contact_reason,
        recorded_at=device_to_server(recorded_at, offset),
        entered_at=device_to_server(cmd.created_at, offset),
    )
