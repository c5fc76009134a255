"""The benchmark report: a table on stdout and ``var/bench.json``.

Every result is an object with ``name``, ``value``, ``unit``, ``baseline`` (what it is compared
with, measured in the same run), ``baseline_value`` and ``ratio`` = value ÷ baseline_value; a
module may add more keys (sizes, rounds, notes), which are kept in the JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REQUIRED = ("name", "value", "unit", "baseline", "baseline_value", "ratio")


class BadResult(ValueError):
    """A benchmark returned a result the report cannot use."""


def default_path() -> Path:
    return Path(os.environ.get("YIXIAN_VAR_DIR", "var")) / "bench.json"


def normalise(row: Mapping[str, Any]) -> dict[str, Any]:
    """Check one result and fill in ``ratio`` when only the two values are given."""
    out = dict(row)
    if "ratio" not in out and "value" in out and "baseline_value" in out:
        out["ratio"] = ratio(out["value"], out["baseline_value"])
    missing = [k for k in REQUIRED if k not in out]
    if missing:
        raise BadResult(f"result {out.get('name', '?')!r} lacks {', '.join(missing)}")
    for key in ("value", "baseline_value", "ratio"):
        if not isinstance(out[key], int | float) or isinstance(out[key], bool):
            raise BadResult(f"result {out['name']!r}: {key} must be a number")
    return out


def ratio(value: float, baseline_value: float) -> float:
    return value / baseline_value if baseline_value else math.inf


def _number(x: float) -> str:
    if x == 0 or math.isinf(x) or math.isnan(x):
        return str(x)
    magnitude = abs(x)
    if magnitude >= 100:
        return f"{x:,.0f}"
    if magnitude >= 1:
        return f"{x:.2f}"
    return f"{x:.4g}"


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    header = ("benchmark", "value", "unit", "baseline", "baseline value", "ratio")
    lines = [
        (
            str(r["name"]),
            _number(r["value"]),
            str(r["unit"]),
            str(r["baseline"]),
            _number(r["baseline_value"]),
            f"{r['ratio']:.4g}",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    numeric = {1, 4, 5}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def write_json(rows: Sequence[Mapping[str, Any]], path: Path | None = None) -> Path:
    target = path or default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return target


def report(rows: Sequence[Mapping[str, Any]], path: Path | None = None) -> Path:
    """Print the table and write the JSON; returns where the JSON went."""
    checked = [normalise(r) for r in rows]
    if checked:
        print(format_table(checked))
    target = write_json(checked, path)
    print(f"\nwrote {target}")
    return target
