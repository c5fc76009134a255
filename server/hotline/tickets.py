"""Turn the rows of a hotline export into tickets, or into problems that say which row and why.

Pure: no database. A row is a ticket when it has a ticket number, a valid receive time (not in
the future), content, and a category or matter that maps to a matter of the boundary list —
by its category key, its matter name, or a common word from ``SYNONYMS``. Latitude and
longitude are optional but must come together and be a real place; both 0 counts as absent.
A ticket number seen on an earlier good row of the same file makes the row a duplicate: it is
reported, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from server.hotline.reader import Cell, RawRow
from sync.boundary_types import Point, Town
from sync.clock import CHINA_TZ
from sync.clock_rules import recorded_time
from sync.errors import InvalidInput
from sync.geo import validate_point
from sync.limits import (
    MAX_TICKET_ADDRESS,
    MAX_TICKET_AREA,
    MAX_TICKET_CONTENT,
    MAX_TICKET_MATTER,
    MAX_TICKET_NO,
    text_problem,
)

# the cells a ticket keeps as text: column → (its name in an export, its limit in characters)
_TEXT_CELLS: Mapping[str, tuple[str, int]] = {
    "ticket_no": ("工单编号", MAX_TICKET_NO),
    "content": ("诉求内容", MAX_TICKET_CONTENT),
    "matter": ("事项", MAX_TICKET_MATTER),
    "area": ("所属区域", MAX_TICKET_AREA),
    "address": ("事发地址", MAX_TICKET_ADDRESS),
}

# Words citizens and operators use, mapped to the boundary list's category keys. Longer words
# are tried first, so "路灯不亮" wins over a shorter word inside it.
SYNONYMS: Mapping[str, str] = {
    "乱停车": "parking",
    "停车场": "parking",
    "停车": "parking",
    "下水道": "drainage",
    "排水": "drainage",
    "污水外溢": "drainage",
    "河道": "urban_river",
    "河水": "urban_river",
    "灌溉": "irrigation",
    "浇地": "irrigation",
    "占道经营": "street_vending",
    "占道": "street_vending",
    "摆摊": "street_vending",
    "违建": "illegal_construction",
    "违章建筑": "illegal_construction",
    "私搭乱建": "illegal_construction",
    "油烟": "fumes_noise",
    "噪音": "fumes_noise",
    "噪声": "fumes_noise",
    "扰民": "fumes_noise",
    "广告牌": "outdoor_ads",
    "广告": "outdoor_ads",
    "渣土": "muck_transport",
    "撒漏": "muck_transport",
    "道路破损": "road_damage",
    "路面坑洼": "road_damage",
    "坑洼": "road_damage",
    "欠薪": "unpaid_wages",
    "拖欠工资": "unpaid_wages",
    "讨薪": "unpaid_wages",
    "工资": "unpaid_wages",
    "积水": "waterlogging",
    "内涝": "waterlogging",
    "流浪狗": "stray_dogs",
    "流浪犬": "stray_dogs",
    "供暖": "heating",
    "暖气": "heating",
    "供热": "heating",
    "物业": "property_disputes",
    "校园周边": "school_surroundings",
    "学校周边": "school_surroundings",
    "小吃摊": "food_vendors",
    "食品摊": "food_vendors",
    "路灯不亮": "street_lights",
    "路灯": "street_lights",
    "绿化": "greening",
    "树木": "greening",
}
_SYNONYMS_LONGEST_FIRST = sorted(SYNONYMS.items(), key=lambda kv: -len(kv[0]))

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


@dataclass(frozen=True)
class TicketDraft:
    row: int
    ticket_no: str
    received_at: datetime
    category: str
    matter: str | None  # the matter text as the file gave it
    content: str
    area: str | None
    address: str | None
    point: Point | None
    town_code: str | None


@dataclass(frozen=True)
class RowProblem:
    row: int
    ticket_no: str | None
    kind: str  # "error" (not imported) | "duplicate" (same ticket already in file or database)
    reason: str


def text_of(cell: Cell) -> str:
    """A cell as trimmed text; Excel's whole floats lose their ".0"."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
    return str(cell).strip()


def parse_received_at(
    cell: Cell, now: datetime, *, field: str = "received_at", label: str = "受理时间"
) -> datetime:
    """An aware instant; naive values are China time. ``ValueError`` says why not, naming
    ``field`` (a call-back's time is read the same way)."""
    if isinstance(cell, datetime):
        value = cell
    elif isinstance(cell, date):
        value = datetime(cell.year, cell.month, cell.day)
    else:
        text = text_of(cell)
        if not text:
            raise ValueError(f"{label}为空 / {field} is empty")
        try:
            value = _parse_text_time(text)
        except ValueError:
            raise ValueError(f"无法识别的{label} / {field} is not a date-time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    if value.year < 2000:
        raise ValueError(f"{label}过早 / {field} before 2000: {text_of(cell)}")
    try:  # the one rule on claimed times (sync/clock_rules.py)
        recorded_time(value, entered_at=now, now=now)
    except InvalidInput:
        raise ValueError(f"{label}在未来 / {field} is in the future: {text_of(cell)}") from None
    return value


def _parse_text_time(text: str) -> datetime:
    try:  # the common "2026-11-02 09:30" first, in C: the formats below read it the same way
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"无法识别的受理时间 / received_at is not a date-time: {text!r}")


def match_category(texts: Sequence[str], categories: Mapping[str, str]) -> str | None:
    """The category for the first text that names one: its key, its matter name, or a synonym.
    ``categories`` maps category key → matter name (the boundary list's entries)."""
    by_matter = {matter: key for key, matter in categories.items()}
    by_key = {key.lower(): key for key in categories}
    for text in texts:
        if not text:
            continue
        key = by_key.get(text.lower()) or by_matter.get(text)
        if key is not None:
            return key
        for word, synonym_key in _SYNONYMS_LONGEST_FIRST:
            if word in text and synonym_key in categories:
                return synonym_key
    return None


def _number(cell: Cell, name: str) -> float | None:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    text = text_of(cell)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} 不是数字 / {name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} 不是有效数字 / {name} is not a finite number")
    return value


def _point(values: Mapping[str, Cell]) -> Point | None:
    lat = _number(values.get("lat"), "纬度 lat")
    lon = _number(values.get("lon"), "经度 lon")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValueError("经纬度须同时填写 / lat and lon must both be given")
    if lat == 0 and lon == 0:
        return None
    point = Point(lat, lon)
    try:
        validate_point(point, "location")
    except InvalidInput as exc:
        raise ValueError(f"经纬度无效 / invalid location: {exc.why}") from None
    return point


def _town_code(area: str, towns: Sequence[Town]) -> str | None:
    for town in towns:
        if area in (town.code, town.name):
            return town.code
    for town in towns:  # "汶上街道办事处" or "中都" still name the town
        if town.name in area or area in town.name:
            return town.code
    return None


def parse_row(
    raw: RawRow, *, categories: Mapping[str, str], towns: Sequence[Town], now: datetime
) -> TicketDraft | RowProblem:
    v = raw.values
    ticket_no = text_of(v.get("ticket_no"))

    def problem(reason: str) -> RowProblem:
        return RowProblem(raw.number, ticket_no or None, "error", reason)

    for column in ("ticket_no", "content", "matter", "category", "area", "address"):
        reason = text_problem(text_of(v.get(column)))
        if reason is not None:  # a cell no database can keep (NUL, a control character)
            return problem(f"{column}: {reason}")
    for column, (label, limit) in _TEXT_CELLS.items():
        length = len(text_of(v.get(column)))
        if length > limit:  # refused, never cut: the rest of the row would tell a shorter story
            return problem(
                f"{column}: {label}超过 {limit} 字（第 {raw.number} 行为 {length} 字）"
                f" / {column} longer than {limit} characters (row {raw.number} has {length})"
            )
    if not ticket_no:
        return problem("工单编号为空 / ticket number is empty")
    try:
        received_at = parse_received_at(v.get("received_at"), now)
    except ValueError as exc:
        return problem(str(exc))
    content = text_of(v.get("content"))
    if not content:
        return problem("诉求内容为空 / content is empty")
    category_text = text_of(v.get("category"))
    matter_text = text_of(v.get("matter"))
    # a platform's 诉求类型 often says 投诉/咨询: then the request's own words name the matter
    category = match_category([category_text, matter_text, content], categories)
    if category is None:
        given = category_text or matter_text
        if not given:
            return problem("诉求类别和事项均为空 / category and matter are both empty")
        return problem(f"无法对应到清单事项 / no matter of the boundary list matches {given!r}")
    try:
        point = _point(v)
    except ValueError as exc:
        return problem(str(exc))
    area = text_of(v.get("area")) or None
    address = text_of(v.get("address")) or None
    return TicketDraft(
        row=raw.number,
        ticket_no=ticket_no,
        received_at=received_at,
        category=category,
        matter=matter_text or None,
        content=content,
        area=area,
        address=address,
        point=point,
        town_code=_town_code(area, towns) if area else None,
    )


def parse_rows(
    rows: Sequence[RawRow],
    *,
    categories: Mapping[str, str],
    towns: Sequence[Town],
    now: datetime,
) -> tuple[list[TicketDraft], list[RowProblem]]:
    """Good tickets (first of each ticket number) and every other row's problem, in row order."""
    drafts: list[TicketDraft] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        result = parse_row(raw, categories=categories, towns=towns, now=now)
        if isinstance(result, RowProblem):
            problems.append(result)
            continue
        seen = first_row.get(result.ticket_no)
        if seen is not None:
            problems.append(
                RowProblem(
                    raw.number,
                    result.ticket_no,
                    "duplicate",
                    f"与第 {seen} 行工单编号重复 / same ticket number as row {seen}",
                )
            )
            continue
        first_row[result.ticket_no] = raw.number
        drafts.append(result)
    return drafts, problems
