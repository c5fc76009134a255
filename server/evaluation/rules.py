"""The scoring rules, read from a TOML file (``server/evaluation/rules.toml``) with ``tomllib``.

Top-level keys:

- ``version`` (str): the rules' name, printed on reports and stored with each run.
- ``base_points`` (float > 0): every department's score before deductions.
- ``min_cases`` (int >= 1): the sample a rate needs before it is ranked, and the sample a
  department needs before it is ranked at all (a department with one case never tops the
  table; it is listed as "not ranked", its deductions still shown).

``[deadlines]`` (optional): the clocks the county sets in its rules rather than in code.

- ``reroute_amount`` (int >= 1) and ``reroute_unit`` (``"working_days"`` | ``"working_hours"``):
  how long the first-contact department has to re-route a returned (退回) case before it
  escalates like any overdue case (首问负责: no case is stuck with nobody). Left out: the
  acceptance limit (``sync.workflow.ACCEPTANCE_LIMIT``) applies.

``[indicators.<name>]`` tables; ``<name>`` is one of ``INDICATORS``. Leaving one out turns it
off. Common keys: ``kind`` (must match the indicator's kind below) and ``label`` (shown on
reports, "中文 / English").

- ``kind = "rate"`` (``on_time_rate``, ``closure_rate``, ``rework_rate``): ``weight`` (float
  >= 0): the points at stake. Deduction = weight × misses ÷ sample, so each missed case costs
  ``weight ÷ sample``. ``lower_is_better`` (bool, default false) marks a rate whose hits are the
  misses (rework).
- ``kind = "count"`` (``returns``, ``disputes_lost``, ``ruling_refusals``, ``repeat_reports``):
  ``points_each`` (float >= 0) per event; ``max_deduction`` (float >= 0) caps the total.
- ``kind = "satisfaction"`` (``citizen_satisfaction``, 群众诉求解决情况): ``weight`` (float >= 0):
  the points at stake over the period's 12345 call-backs (回访); ``credit_satisfied``,
  ``credit_basically_satisfied``, ``credit_not_satisfied`` (0–1): how much of a resolved request
  each result counts for. Each call-back costs weight ÷ call-backs × (1 − its credit).
- ``kind = "rating"`` (``assisting_rating``): ``neutral`` (1–5); ``points_per_step`` per step
  below neutral, capped by ``max_deduction``; ``bonus_per_step`` per step above neutral,
  capped by ``max_bonus``.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.boundary_types import TimeLimit
from sync.errors import InvalidInput
from sync.vocabulary import TimeUnit
from sync.workflow import ACCEPTANCE_LIMIT

RULES_PATH = Path(__file__).with_name("rules.toml")

INDICATORS: Mapping[str, str] = {
    "on_time_rate": "rate",
    "closure_rate": "rate",
    "rework_rate": "rate",
    "returns": "count",
    "disputes_lost": "count",
    "ruling_refusals": "count",
    "repeat_reports": "count",
    "assisting_rating": "rating",
    "citizen_satisfaction": "satisfaction",
}

_KEYS: Mapping[str, frozenset[str]] = {
    "rate": frozenset({"kind", "label", "weight", "lower_is_better"}),
    "count": frozenset({"kind", "label", "points_each", "max_deduction"}),
    "satisfaction": frozenset(
        {
            "kind",
            "label",
            "weight",
            "credit_satisfied",
            "credit_basically_satisfied",
            "credit_not_satisfied",
        }
    ),
    "rating": frozenset(
        {
            "kind",
            "label",
            "neutral",
            "points_per_step",
            "max_deduction",
            "bonus_per_step",
            "max_bonus",
        }
    ),
}
_OPTIONAL: frozenset[str] = frozenset({"lower_is_better"})


@dataclass(frozen=True)
class IndicatorRule:
    name: str
    kind: str  # "rate" | "count" | "rating"
    label: str
    weight: float = 0.0
    lower_is_better: bool = False
    points_each: float = 0.0
    max_deduction: float = 0.0
    neutral: int = 3
    points_per_step: float = 0.0
    bonus_per_step: float = 0.0
    max_bonus: float = 0.0
    credit_satisfied: float = 1.0
    credit_basically_satisfied: float = 1.0
    credit_not_satisfied: float = 0.0

    def credit(self, result: str) -> float:
        """A call-back result's share of a resolved request (``satisfaction`` indicators)."""
        return float(getattr(self, f"credit_{result}", 0.0))


@dataclass(frozen=True)
class Rules:
    version: str
    base_points: float
    min_cases: int
    indicators: tuple[IndicatorRule, ...]
    digest: str  # sha256 of the source text: which exact rules a run used
    reroute_limit: TimeLimit = ACCEPTANCE_LIMIT  # [deadlines]: a returned case's re-routing

    def get(self, name: str) -> IndicatorRule | None:
        return next((i for i in self.indicators if i.name == name), None)


def _number(where: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(where, f"应为数字 / must be a number, got {value!r}")
    if value < minimum:
        raise InvalidInput(where, f"不能小于 {minimum:g} / must be >= {minimum:g}")
    return float(value)


def _indicator(name: str, table: Any) -> IndicatorRule:
    where = f"indicators.{name}"
    if name not in INDICATORS:
        raise InvalidInput(where, f"未知的指标 / unknown indicator; known: {', '.join(INDICATORS)}")
    if not isinstance(table, dict):
        raise InvalidInput(where, "应为表 / must be a table")
    kind = INDICATORS[name]
    if table.get("kind") != kind:
        raise InvalidInput(f"{where}.kind", f"应为 {kind!r} / must be {kind!r}")
    allowed = _KEYS[kind]
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", "未知的键 / unknown key")
    missing = sorted(allowed - _OPTIONAL - set(table))
    if missing:
        raise InvalidInput(f"{where}.{missing[0]}", "缺少该键 / key is missing")
    label = table["label"]
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput(f"{where}.label", "不能为空 / must be a non-empty string")
    if kind == "rate":
        lower = table.get("lower_is_better", False)
        if not isinstance(lower, bool):
            raise InvalidInput(f"{where}.lower_is_better", "应为 true/false / must be a boolean")
        return IndicatorRule(
            name,
            kind,
            label,
            weight=_number(f"{where}.weight", table["weight"]),
            lower_is_better=lower,
        )
    if kind == "count":
        return IndicatorRule(
            name,
            kind,
            label,
            points_each=_number(f"{where}.points_each", table["points_each"]),
            max_deduction=_number(f"{where}.max_deduction", table["max_deduction"]),
        )
    if kind == "satisfaction":

        def credit(key: str) -> float:
            value = _number(f"{where}.{key}", table[key])
            if value > 1:
                raise InvalidInput(f"{where}.{key}", "应在 0–1 之间 / must be between 0 and 1")
            return value

        return IndicatorRule(
            name,
            kind,
            label,
            weight=_number(f"{where}.weight", table["weight"]),
            credit_satisfied=credit("credit_satisfied"),
            credit_basically_satisfied=credit("credit_basically_satisfied"),
            credit_not_satisfied=credit("credit_not_satisfied"),
        )
    neutral = table["neutral"]
    if isinstance(neutral, bool) or not isinstance(neutral, int) or not 1 <= neutral <= 5:
        raise InvalidInput(f"{where}.neutral", "应为 1–5 的整数 / must be an integer 1–5")
    return IndicatorRule(
        name,
        kind,
        label,
        neutral=neutral,
        points_per_step=_number(f"{where}.points_per_step", table["points_per_step"]),
        max_deduction=_number(f"{where}.max_deduction", table["max_deduction"]),
        bonus_per_step=_number(f"{where}.bonus_per_step", table["bonus_per_step"]),
        max_bonus=_number(f"{where}.max_bonus", table["max_bonus"]),
    )


def parse_rules(text: str) -> Rules:
    """Rules from TOML text; ``InvalidInput`` names the first bad key and says why."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("rules", f"TOML 格式错误 / not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"version", "base_points", "min_cases", "indicators", "deadlines"})
    if unknown:
        raise InvalidInput(unknown[0], "未知的键 / unknown key")
    for key in ("version", "base_points", "min_cases"):
        if key not in data:
            raise InvalidInput(key, "缺少该键 / key is missing")
    version = data["version"]
    if not isinstance(version, str) or not version.strip():
        raise InvalidInput("version", "不能为空 / must be a non-empty string")
    min_cases = data["min_cases"]
    if isinstance(min_cases, bool) or not isinstance(min_cases, int) or min_cases < 1:
        raise InvalidInput("min_cases", "应为 >= 1 的整数 / must be an integer >= 1")
    base = _number("base_points", data["base_points"])
    if base <= 0:
        raise InvalidInput("base_points", "应大于 0 / must be > 0")
    tables = data.get("indicators", {})
    if not isinstance(tables, dict):
        raise InvalidInput("indicators", "应为表 / must be a table")
    indicators = tuple(_indicator(name, tables[name]) for name in INDICATORS if name in tables)
    for name in tables:
        if name not in INDICATORS:
            _indicator(name, tables[name])  # raises: unknown indicator
    return Rules(
        version=version,
        base_points=base,
        min_cases=min_cases,
        indicators=indicators,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        reroute_limit=_deadlines(data.get("deadlines", {})),
    )


def _deadlines(table: Any) -> TimeLimit:
    if not isinstance(table, dict):
        raise InvalidInput("deadlines", "应为表 / must be a table")
    unknown = sorted(set(table) - {"reroute_amount", "reroute_unit"})
    if unknown:
        raise InvalidInput(f"deadlines.{unknown[0]}", "未知的键 / unknown key")
    if not table:
        return ACCEPTANCE_LIMIT
    for key in ("reroute_amount", "reroute_unit"):
        if key not in table:
            raise InvalidInput(f"deadlines.{key}", "缺少该键 / key is missing")
    amount = table["reroute_amount"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput("deadlines.reroute_amount", "应为 >= 1 的整数 / must be an integer >= 1")
    unit = table["reroute_unit"]
    if unit not in {u.value for u in TimeUnit}:
        raise InvalidInput(
            "deadlines.reroute_unit",
            f"应为 {' 或 '.join(u.value for u in TimeUnit)} / must be one of these",
        )
    return TimeLimit(amount, TimeUnit(unit))


def load_rules(path: Path = RULES_PATH) -> Rules:
    return parse_rules(path.read_text(encoding="utf-8"))


def rules_as_dict(rules: Rules) -> dict[str, Any]:
    """A JSON-ready form, returned by the API and printed on the Excel export."""
    indicators = []
    for rule in rules.indicators:
        keys = sorted(_KEYS[rule.kind] - {"kind", "label"})
        indicators.append(
            {"name": rule.name, "kind": rule.kind, "label": rule.label}
            | {k: getattr(rule, k) for k in keys}
        )
    return {
        "version": rules.version,
        "base_points": rules.base_points,
        "min_cases": rules.min_cases,
        "digest": rules.digest,
        "deadlines": {
            "reroute_amount": rules.reroute_limit.amount,
            "reroute_unit": rules.reroute_limit.unit.value,
        },
        "indicators": indicators,
    }
