"""The pull's reference JSON (departments, towns, sites, boundary-list versions, intake
channels, the working calendar) as typed values.

The server sends ``reference`` in a pull when the device's copy is missing or out of date; the
device keeps the JSON as it came (``DeviceStore`` meta ``reference``) and decodes it here into
``sync.boundary_types`` objects, so the offline rules (``propose_assignment``, ``geo``) run on
exactly what the server runs on. Pure: no I/O. Malformed input raises ``InvalidInput`` naming
the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sync.assignment import UNLISTED_CATEGORY, UNLISTED_MATTER
from sync.boundary_types import (
    Area,
    AreaKind,
    AssistingDuty,
    BoundaryEntry,
    BoundaryVersion,
    Point,
    Site,
    TimeLimit,
    Town,
)
from sync.errors import InvalidInput
from sync.intake import IntakeChannel
from sync.vocabulary import TimeUnit
from sync.workcalendar import EMPTY_CALENDAR, CalendarYear, WorkCalendar

__all__ = ["EMPTY_REFERENCE", "Department", "Reference", "decode_reference", "encode_calendar"]

TOWN_OFFICE_PREFIX = "town:"


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    short_name: str
    kind: str


@dataclass(frozen=True)
class Reference:
    departments: tuple[Department, ...]
    towns: tuple[Town, ...]
    sites: tuple[Site, ...]
    versions: tuple[BoundaryVersion, ...]
    intake_channels: tuple[IntakeChannel, ...] = ()
    calendar: WorkCalendar = EMPTY_CALENDAR

    def intake_channel_label(self, code: str) -> str:
        """A case source's name, "中文 / English" (an unknown code is shown as it is)."""
        found = next((c for c in self.intake_channels if c.code == code), None)
        return found.label if found is not None else code

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def department_name(self, code: str | None) -> str:
        """A short human name for a department code (a town office is named by its town)."""
        if not code:
            return "—"
        found = self.department(code)
        if found is not None:
            return found.short_name or found.name
        if code.startswith(TOWN_OFFICE_PREFIX):
            town = self.town(code[len(TOWN_OFFICE_PREFIX) :])
            if town is not None:
                return town.name
        return code

    def town(self, code: str | None) -> Town | None:
        return next((t for t in self.towns if t.code == code), None)

    def site(self, code: str | None) -> Site | None:
        return next((s for s in self.sites if s.code == code), None)

    def version_at(self, at: datetime) -> BoundaryVersion | None:
        """The newest version in force at ``at`` (aware), or None."""
        in_force = [v for v in self.versions if v.effective_from <= at]
        return max(in_force, key=lambda v: v.number) if in_force else None

    def categories(self, at: datetime) -> list[tuple[str, str]]:
        """(category, matter) of the list in force at ``at``, in the list's order, then
        ``UNLISTED_CATEGORY`` for a matter the list does not name (属地管理)."""
        version = self.version_at(at)
        if version is None:
            return []
        listed = [(e.category, e.matter) for e in version.entries]
        return [*listed, (UNLISTED_CATEGORY, UNLISTED_MATTER)]

    def matter(self, category: str) -> str:
        if category == UNLISTED_CATEGORY:
            return UNLISTED_MATTER
        for version in sorted(self.versions, key=lambda v: -v.number):
            for entry in version.entries:
                if entry.category == category:
                    return entry.matter
        return category


EMPTY_REFERENCE = Reference((), (), (), ())


# --- decoding --------------------------------------------------------------------------------


def _get(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "应为对象 / must be an object")
    if key not in raw:
        raise InvalidInput(f"{where}.{key}", "缺少字段 / missing")
    return raw[key]


def _text(raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = raw.get(key) if optional else _get(raw, key, where)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{key}", f"应为文本 / must be text, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(where, f"应为数字 / must be a number, got {value!r}")
    return float(value)


def _list(raw: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = raw.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{where}.{key}", "应为列表 / must be a list")
    return value


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(where, f"应为时间文本 / must be an ISO time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(where, f"无法识别的时间 / not an ISO time: {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(where, "须带时区 / must include a time zone")
    return moment


def _department(raw: Mapping[str, Any], where: str) -> Department:
    return Department(
        code=_text(raw, "code", where),
        name=_text(raw, "name", where),
        short_name=_text(raw, "short_name", where, optional=True),
        kind=_text(raw, "kind", where, optional=True),
    )


def _town(raw: Mapping[str, Any], where: str) -> Town:
    ring = []
    for i, pair in enumerate(_list(raw, "polygon", where)):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidInput(f"{where}.polygon[{i}]", "应为 [lat, lon] / must be [lat, lon]")
        ring.append(
            Point(_number(pair[0], f"{where}.polygon[{i}]"), _number(pair[1], f"{where}.polygon"))
        )
    return Town(
        code=_text(raw, "code", where),
        name=_text(raw, "name", where),
        kind=_text(raw, "kind", where, optional=True) or "town",
        urban=bool(raw.get("urban", False)),
        polygon=tuple(ring),
    )


def _site(raw: Mapping[str, Any], where: str) -> Site:
    category = raw.get("category")
    return Site(
        code=_text(raw, "code", where),
        name=_text(raw, "name", where),
        kind=_text(raw, "kind", where, optional=True),
        category=category if isinstance(category, str) and category else None,
        town_code=_text(raw, "town_code", where, optional=True),
        location=Point(
            _number(_get(raw, "lat", where), f"{where}.lat"),
            _number(_get(raw, "lon", where), f"{where}.lon"),
        ),
        radius_m=_number(raw.get("radius_m", 100.0), f"{where}.radius_m"),
    )


def _intake_channel(raw: Mapping[str, Any], where: str) -> IntakeChannel:
    return IntakeChannel(
        code=_text(raw, "code", where),
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        position=int(_number(raw.get("position", 0), f"{where}.position")),
    )


def _entry(raw: Mapping[str, Any], where: str) -> BoundaryEntry:
    assisting = tuple(
        AssistingDuty(
            department_code=_text(a, "department_code", f"{where}.assisting[{i}]"),
            duty=_text(a, "duty", f"{where}.assisting[{i}]", optional=True),
        )
        for i, a in enumerate(_list(raw, "assisting", where))
    )
    try:
        area_kind = AreaKind(_text(raw, "area_kind", where))
    except ValueError:
        raise InvalidInput(f"{where}.area_kind", "未知的适用范围 / unknown area kind") from None
    try:
        unit = TimeUnit(_text(raw, "time_unit", where))
    except ValueError:
        raise InvalidInput(f"{where}.time_unit", "未知的时限单位 / unknown time unit") from None
    amount = _number(_get(raw, "time_amount", where), f"{where}.time_amount")
    return BoundaryEntry(
        matter=_text(raw, "matter", where),
        category=_text(raw, "category", where),
        lead_department_code=_text(raw, "lead_department_code", where),
        lead_duty=_text(raw, "lead_duty", where, optional=True),
        assisting=assisting,
        legal_basis=_text(raw, "legal_basis", where, optional=True),
        area=Area(
            area_kind, tuple(str(c) for c in _list(raw, "area_towns", where) if isinstance(c, str))
        ),
        time_limit=TimeLimit(int(amount), unit),
        source=_text(raw, "source", where, optional=True),
    )


def _version(raw: Mapping[str, Any], where: str) -> BoundaryVersion:
    number = _number(_get(raw, "number", where), f"{where}.number")
    return BoundaryVersion(
        number=int(number),
        effective_from=_moment(_get(raw, "effective_from", where), f"{where}.effective_from"),
        reason=_text(raw, "reason", where, optional=True),
        entries=tuple(
            _entry(e, f"{where}.entries[{i}]") for i, e in enumerate(_list(raw, "entries", where))
        ),
    )


def _dates(raw: Mapping[str, Any], key: str, where: str) -> frozenset[date]:
    out: set[date] = set()
    for i, value in enumerate(_list(raw, key, where)):
        if not isinstance(value, str):
            raise InvalidInput(f"{where}.{key}[{i}]", "应为日期文本 / must be an ISO date")
        try:
            out.add(date.fromisoformat(value))
        except ValueError:
            raise InvalidInput(
                f"{where}.{key}[{i}]", f"无法识别的日期 / not a date: {value!r}"
            ) from None
    return frozenset(out)


def _calendar_year(raw: Mapping[str, Any], where: str) -> CalendarYear:
    return CalendarYear(
        year=int(_number(_get(raw, "year", where), f"{where}.year")),
        holidays=_dates(raw, "holidays", where),
        workdays=_dates(raw, "workdays", where),
    )


def encode_calendar(calendar: WorkCalendar) -> list[dict[str, Any]]:
    """The calendar as the pull's ``work_calendar`` list (what ``decode_reference`` reads)."""
    return [
        {
            "year": y.year,
            "holidays": sorted(d.isoformat() for d in y.holidays),
            "workdays": sorted(d.isoformat() for d in y.workdays),
        }
        for y in sorted(calendar.years, key=lambda y: y.year)
    ]


def decode_reference(raw: Mapping[str, Any] | None) -> Reference:
    """The typed reference data of a pull's ``reference`` object (None: nothing known yet)."""
    if raw is None:
        return EMPTY_REFERENCE
    if not isinstance(raw, Mapping):
        raise InvalidInput("reference", "应为对象 / must be an object")
    return Reference(
        departments=tuple(
            _department(d, f"departments[{i}]")
            for i, d in enumerate(_list(raw, "departments", "reference"))
        ),
        towns=tuple(
            _town(t, f"towns[{i}]") for i, t in enumerate(_list(raw, "towns", "reference"))
        ),
        sites=tuple(
            _site(s, f"sites[{i}]") for i, s in enumerate(_list(raw, "sites", "reference"))
        ),
        versions=tuple(
            sorted(
                (
                    _version(v, f"boundary_versions[{i}]")
                    for i, v in enumerate(_list(raw, "boundary_versions", "reference"))
                ),
                key=lambda v: v.number,
            )
        ),
        intake_channels=tuple(
            sorted(
                (
                    _intake_channel(c, f"intake_channels[{i}]")
                    for i, c in enumerate(_list(raw, "intake_channels", "reference"))
                ),
                key=lambda c: (c.position, c.code),
            )
        ),
        calendar=WorkCalendar(
            tuple(
                _calendar_year(y, f"work_calendar[{i}]")
                for i, y in enumerate(_list(raw, "work_calendar", "reference"))
            )
        ),
    )
