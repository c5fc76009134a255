"""A stored run's report as an Excel workbook (openpyxl): ranking, deductions, rules.

Sheets: "排名 Ranking" (one row per department, in ranking order, one value and one points
column per indicator), "扣分明细 Deductions" (one row per case link: department, indicator,
case number and id, points, reason), "规则 Rules" (the period, the events seen, the rules).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

RANKING_SHEET = "排名 Ranking"
DEDUCTIONS_SHEET = "扣分明细 Deductions"
RULES_SHEET = "规则 Rules"


def _fmt_value(indicator: Mapping[str, Any]) -> float | int | None:
    value = indicator["value"]
    if value is None:
        return None
    if indicator["kind"] == "count":
        return int(value)
    return round(float(value), 4)


def workbook_bytes(
    summary: Mapping[str, Any], results: Mapping[str, Any], rules_text: str
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ranking = wb.active
    assert ranking is not None
    ranking.title = RANKING_SHEET
    departments = results["departments"]
    labels = [(i["name"], i["label"]) for i in departments[0]["indicators"]] if departments else []
    header = [
        "排名 rank",
        "部门代码 code",
        "部门 department",
        "得分 score",
        "参与排名 ranked",
        "样本 sample",
    ]
    for _, label in labels:
        header += [label, f"{label} 扣分/加分 points"]
    ranking.append(header)
    for d in departments:
        row: list[Any] = [
            d["rank"],
            d["department"],
            d.get("name", d["department"]),
            d["score"],
            "是 yes" if d["ranked"] else "否 no",
            d["sample"],
        ]
        for indicator in d["indicators"]:
            row += [_fmt_value(indicator), indicator["points"]]
        ranking.append(row)
    ranking.freeze_panes = "D2"

    links = wb.create_sheet(DEDUCTIONS_SHEET)
    links.append(
        [
            "部门代码 code",
            "部门 department",
            "指标 indicator",
            "案件编号 case number",
            "案件 case id",
            "分值 points",
            "说明 reason",
            "事件 event id",
        ]
    )
    for d in departments:
        for indicator in d["indicators"]:
            for link in indicator["links"]:
                links.append(
                    [
                        d["department"],
                        d.get("name", d["department"]),
                        indicator["label"],
                        link.get("case_number"),
                        link["case_id"],
                        link["points"],
                        link["note"],
                        link["event_id"],
                    ]
                )
    links.freeze_panes = "A2"

    rules = wb.create_sheet(RULES_SHEET)
    for key in (
        "period_label",
        "period_start",
        "period_end",
        "as_of",
        "high_water_mark",
        "rules_version",
        "rules_digest",
        "created_at",
    ):
        rules.append([key, summary.get(key)])
    rules.append(["min_cases", results.get("min_cases")])
    rules.append([])
    rules.append(["rules.toml"])
    for line in rules_text.splitlines():
        rules.append([line])

    for sheet in (ranking, links, rules):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = min(max(10, width + 2), 60)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
