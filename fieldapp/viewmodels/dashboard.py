"""The supervisor dashboard (督办看板), pure: the server's JSON turned into chart series and rows.

Four figures, each from one endpoint (``fieldapp.dashboard_api`` fetches them):

    cases over time   /evaluation/dashboard/cases-over-time  → ``TimeChart`` (a line per status)
    on-time rate      /evaluation/dashboard/on-time          → ``RateRow`` per department (bars)
    hotspots          /evaluation/hotspots                   → ``HotspotRow`` (top few)
    overdue board     /supervision/overdue-board             → ``BoardRow`` per department

Labels are short enough for a 390 px phone: at most ``MAX_AXIS_LABELS`` dates on the time axis,
department names abbreviated under the bars (the rows below a chart keep the full short name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldapp.i18n import Lang, label_for, t
from sync.boundary_types import Point
from sync.geo import distance_m
from sync.reference_codec import Reference
from sync.visibility import OVERSIGHT_ROLES
from sync.vocabulary import Role

PERIODS: tuple[str, ...] = ("month", "quarter", "year")
BUCKET_OF: Mapping[str, str] = {"month": "day", "quarter": "week", "year": "month"}
STATUS_ORDER: tuple[str, ...] = (
    "discovered",
    "assigned",
    "accepted",
    "handling",
    "handled",
    "closed",
    "cancelled",
    "merged",
)
STATUS_COLORS: Mapping[str, str] = {
    "discovered": "#8E8E93",
    "assigned": "#F2A900",
    "accepted": "#1E5AA8",
    "handling": "#7B4FC9",
    "handled": "#00897B",
    "closed": "#2E7D32",
    "cancelled": "#B0B0B0",
    "merged": "#6D4C41",
}
OTHER_COLOR = "#455A64"
MAX_AXIS_LABELS = 5  # "11-05" labels on a 390 px phone, with room between them
MAX_BARS = 12
BAR_AXIS_WIDTH_PX = 300  # the narrowest chart: a phone's width minus paddings
AXIS_CHAR_PX = 13
TOP_HOTSPOTS = 5
PREFIXES = ("中共汶上县", "济宁市", "汶上县")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Namer = Callable[[str], str]  # department code → a short human name


def may_see_dashboard(role: str | None) -> bool:
    """Supervisors, coordinators and administrators: the roles that see every department."""
    try:
        return role is not None and Role(role) in OVERSIGHT_ROLES
    except ValueError:
        return False


# --- names -------------------------------------------------------------------------------------


def strip_county(name: str) -> str:
    """``汶上县水务局`` → ``水务局``: every department is the county's; the prefix says nothing."""
    for prefix in PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


def abbreviate(name: str, max_chars: int) -> str:
    """At most ``max_chars`` characters for a label under a bar: county prefix off, then the
    ``局``/``中心`` suffix, then cut (``综合执法局`` → ``综合执法``)."""
    short = strip_county(name)
    for suffix in ("中心", "局"):
        if len(short) > max_chars and short.endswith(suffix) and len(short) > len(suffix):
            short = short[: -len(suffix)]
    return short[:max_chars]


def bar_label_chars(bars: int) -> int:
    """Characters per bar label so labels under ``bars`` bars do not overlap on a phone."""
    if bars <= 0:
        return 4
    return max(2, min(4, BAR_AXIS_WIDTH_PX // (bars * AXIS_CHAR_PX)))


def reference_namer(reference: Reference, fallback: Mapping[str, str] | None = None) -> Namer:
    """Names from the device's reference list (short names), else from ``fallback``, else the
    code itself."""
    extra = dict(fallback or {})

    def name(code: str) -> str:
        known = reference.department_name(code)
        if known != code:
            return known
        return strip_county(extra.get(code, code))

    return name


# --- period and axis labels --------------------------------------------------------------------


def period_label(period: str, lang: Lang) -> str:
    return t(f"dashboard.period.{period}", lang)


def short_bucket_label(label: str, bucket: str, lang: Lang) -> str:
    """``2026-11-05`` → ``11-05``; ``2026-W45`` → ``45周`` / ``W45``; ``2026-11`` → ``11月`` /
    ``Nov``. Anything unexpected is returned as is."""
    try:
        if bucket == "day":
            return label[5:] if len(label) == 10 else label
        if bucket == "week":
            week = int(label.split("-W")[1])
            return f"W{week}" if lang is Lang.EN else f"{week}周"
        if bucket == "month":
            month = int(label.split("-")[1])
            return MONTHS_EN[month - 1] if lang is Lang.EN else f"{month}月"
    except (IndexError, ValueError):
        return label
    return label


def axis_indices(count: int, most: int = MAX_AXIS_LABELS) -> list[int]:
    """Up to ``most`` evenly spread indices of ``count`` points, first and last included."""
    if count <= 0:
        return []
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def nice_max(value: float) -> int:
    """A round top for a count axis: ≥ value, at least 4, 4 × (1, 2 or 5 × a power of ten)."""
    top = max(4.0, float(value))
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 4 >= top:
                return int(step * 4)
        magnitude *= 10


# --- cases over time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    status: str
    label: str
    color: str
    points: tuple[int, ...]

    @property
    def latest(self) -> int:
        return self.points[-1] if self.points else 0


@dataclass(frozen=True)
class TimeChart:
    bucket: str
    x_labels: tuple[tuple[int, str], ...]  # (index, short label) shown under the axis
    series: tuple[Series, ...]
    max_y: int

    @property
    def empty(self) -> bool:
        return not self.series or all(v == 0 for s in self.series for v in s.points)


def _status_rank(status: str) -> tuple[int, str]:
    return (STATUS_ORDER.index(status), "") if status in STATUS_ORDER else (99, status)


def time_chart(data: Mapping[str, Any], lang: Lang) -> TimeChart:
    """A line per status (in lifecycle order) through the buckets' counts."""
    bucket = str(data.get("bucket") or "day")
    buckets: Sequence[Mapping[str, Any]] = data.get("buckets") or []
    statuses = {str(s) for s in data.get("statuses") or []}
    for b in buckets:
        statuses |= {str(s) for s in (b.get("counts") or {})}
    series = tuple(
        Series(
            status=s,
            label=label_for("status", s, lang),
            color=STATUS_COLORS.get(s, OTHER_COLOR),
            points=tuple(int((b.get("counts") or {}).get(s, 0)) for b in buckets),
        )
        for s in sorted(statuses, key=_status_rank)
    )
    labels = [str(b.get("label", "")) for b in buckets]
    x_labels = tuple(
        (i, short_bucket_label(labels[i], bucket, lang)) for i in axis_indices(len(labels))
    )
    top = max((v for s in series for v in s.points), default=0)
    return TimeChart(bucket=bucket, x_labels=x_labels, series=series, max_y=nice_max(top))


# --- on-time rate ------------------------------------------------------------------------------


def percent(rate: float | None) -> str:
    """``0.5`` → ``50%``, ``2/3`` → ``66.7%``, None → ``—``."""
    if rate is None:
        return "—"
    value = round(rate * 100, 1)
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


@dataclass(frozen=True)
class RateRow:
    department: str
    name: str  # short name, for the rows
    axis_label: str  # abbreviated, for under a bar
    rate: float | None
    on_time: int
    sample: int
    late: int
    ranked: bool

    @property
    def percent(self) -> str:
        return percent(self.rate)


def rate_rows(data: Mapping[str, Any], namer: Namer) -> list[RateRow]:
    """Departments with a rate, in the server's order (ranked first, best rate first). One with
    nothing scored (the viewer's own department is always sent) has nothing to show."""
    raw = [
        d
        for d in data.get("departments") or []
        if isinstance(d, Mapping) and d.get("rate") is not None
    ]
    shown = min(len(raw), MAX_BARS)
    chars = bar_label_chars(shown)
    rows: list[RateRow] = []
    for d in raw:
        code = str(d.get("department", ""))
        name = namer(code)
        sample = int(d.get("sample") or 0)
        late = int(d.get("late") or 0)
        rate = d.get("rate")
        rows.append(
            RateRow(
                department=code,
                name=name,
                axis_label=abbreviate(name, chars),
                rate=None if rate is None else float(rate),
                on_time=sample - late,
                sample=sample,
                late=late,
                ranked=bool(d.get("ranked")),
            )
        )
    return [r for r in rows if r.rate is not None]


def bars(rows: Sequence[RateRow]) -> list[RateRow]:
    """The rows drawn as bars: at most ``MAX_BARS``."""
    return list(rows[:MAX_BARS])


def rate_period_label(data: Mapping[str, Any]) -> str:
    period = data.get("period")
    return str(period.get("label", "")) if isinstance(period, Mapping) else ""


# --- hotspots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotspotRow:
    category: str
    matter: str
    place: str
    reports: int
    cases: int
    tickets: int


def hotspot_rows(
    data: Mapping[str, Any], reference: Reference, lang: Lang, top: int = TOP_HOTSPOTS
) -> list[HotspotRow]:
    """The ``top`` hotspots (server order: most reports first), each placed by the nearest
    registered site within its radius, else by its coordinates."""
    rows: list[HotspotRow] = []
    for h in (data.get("hotspots") or [])[:top]:
        category = str(h.get("category", ""))
        centre = Point(float(h.get("lat", 0.0)), float(h.get("lon", 0.0)))
        rows.append(
            HotspotRow(
                category=category,
                matter=reference.matter(category),
                place=place_name(reference, centre, float(h.get("radius_m") or 0.0), lang),
                reports=int(h.get("reports") or 0),
                cases=int(h.get("cases") or 0),
                tickets=int(h.get("tickets") or 0),
            )
        )
    return rows


def place_name(reference: Reference, centre: Point, radius_m: float, lang: Lang) -> str:
    near = [
        (distance_m(centre, s.location), s.name)
        for s in reference.sites
        if distance_m(centre, s.location) <= max(radius_m, s.radius_m, 100.0)
    ]
    if near:
        return min(near)[1]
    return t("dashboard.hotspot.at", lang, lat=f"{centre.lat:.4f}", lon=f"{centre.lon:.4f}")


# --- overdue board -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    key: str
    name: str
    overdue: int
    due_soon: int
    disputed_overdue: int


def board_rows(data: Sequence[Mapping[str, Any]], namer: Namer) -> list[BoardRow]:
    """Server order (most overdue first)."""
    return [
        BoardRow(
            key=str(r.get("key", "")),
            name=namer(str(r.get("key", ""))),
            overdue=int(r.get("overdue") or 0),
            due_soon=int(r.get("due_soon") or 0),
            disputed_overdue=int(r.get("disputed_overdue") or 0),
        )
        for r in data
    ]


# --- the whole dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    period: str
    period_label: str  # the server's label of the scored period, e.g. 2026-11
    over_time: TimeChart
    on_time: list[RateRow]
    hotspots: list[HotspotRow]
    board: list[BoardRow]


def build_dashboard(
    *,
    period: str,
    on_time: Mapping[str, Any],
    over_time: Mapping[str, Any],
    hotspots: Mapping[str, Any],
    board: Sequence[Mapping[str, Any]],
    reference: Reference,
    lang: Lang,
) -> Dashboard:
    names = {
        str(d.get("department")): str(d.get("name"))
        for d in on_time.get("departments") or []
        if isinstance(d, Mapping) and d.get("name")
    }
    namer = reference_namer(reference, names)
    return Dashboard(
        period=period,
        period_label=rate_period_label(on_time),
        over_time=time_chart(over_time, lang),
        on_time=rate_rows(on_time, namer),
        hotspots=hotspot_rows(hotspots, reference, lang),
        board=board_rows(board, namer),
    )
