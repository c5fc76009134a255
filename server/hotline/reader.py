"""Read a 12345 hotline export (CSV or Excel) into rows keyed by the documented column names.

Accepted files: ``.xlsx`` (the first sheet; recognised by its zip signature) or CSV encoded in
UTF-8 (with or without BOM) or GBK (tried in that order). The first non-empty row is the header.
Header names are matched after trimming spaces, case-insensitively, against these columns
(Chinese name first, then accepted aliases):

- ``ticket_no`` (required) — 工单编号, 工单号, ticket_no: the unique ticket number.
- ``received_at`` (required) — 受理时间, 来电时间, received_at: ``2026-11-02 09:30[:00]``,
  ``2026/11/02 09:30``, ``2026-11-02``, ``2026年11月2日 9:30``, ISO 8601 or an Excel date;
  China time unless it carries a zone; not in the future.
- ``area`` — 所属区域, 来电区域, 乡镇街道, area: a town/street name or code.
- ``address`` — 事发地址, 地址, address: the street address, kept as text.
- ``lat``, ``lon`` — 纬度, 经度 (lat, lon): WGS-84 degrees, both or neither; 0, 0 is "none".
- ``category`` / ``matter`` (one of them required) — 诉求类别, 类别, category / 事项, 事项名称,
  matter: a category key (``parking``), a matter name (停车场监管) or a common word (乱停车, 积水…).
- ``content`` (required) — 诉求内容, 内容, content: the citizen's request.
- ``caller``, ``phone`` — 来电人, 联系电话: accepted, never stored.

Other columns are ignored and listed in the import report. A missing required column refuses
the whole file (``InvalidInput`` naming the column); so does an empty file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sync.errors import InvalidInput

COLUMNS: Mapping[str, tuple[str, ...]] = {
    "ticket_no": ("工单编号", "工单号", "ticket_no"),
    "received_at": ("受理时间", "来电时间", "received_at"),
    "area": ("所属区域", "来电区域", "乡镇街道", "area"),
    "address": ("事发地址", "地址", "address"),
    "lat": ("纬度", "lat"),
    "lon": ("经度", "lon"),
    "category": ("诉求类别", "类别", "category"),
    "matter": ("事项", "事项名称", "matter"),
    "content": ("诉求内容", "内容", "content"),
    "caller": ("来电人", "caller"),
    "phone": ("联系电话", "phone"),
}
REQUIRED: tuple[str, ...] = ("ticket_no", "received_at", "content")
ONE_OF: tuple[str, ...] = ("category", "matter")

_ALIAS_TO_COLUMN = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
_XLSX_SIGNATURE = b"PK\x03\x04"

Cell = str | datetime | date | time | float | int | None


@dataclass(frozen=True)
class RawRow:
    number: int  # the row number a person sees in the file (header = its own row number)
    values: dict[str, Cell]  # documented column → cell


@dataclass(frozen=True)
class Sheet:
    encoding: str  # "utf-8", "gbk" or "xlsx"
    columns: tuple[str, ...]  # documented columns found
    ignored_columns: tuple[str, ...]
    rows: list[RawRow]


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (BOM allowed) first, then GBK (as GB18030, its
    superset, so rare characters a GBK export may hold still decode)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise InvalidInput(
            "file", "无法识别编码，应为 UTF-8 或 GBK / encoding must be UTF-8 or GBK"
        ) from None


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _header(cells: list[Any]) -> tuple[dict[int, str], tuple[str, ...]]:
    found: dict[int, str] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None else ""
        column = _ALIAS_TO_COLUMN.get(name.lower())
        if column is not None and column not in found.values():
            found[i] = column
        elif name:
            ignored.append(name)
    present = set(found.values())
    for column in REQUIRED:
        if column not in present:
            names = "/".join(COLUMNS[column][:2])
            raise InvalidInput("file", f"缺少必需的列 {names} / missing required column {column}")
    if not present & set(ONE_OF):
        raise InvalidInput(
            "file", "缺少列 诉求类别 或 事项 / missing column: category or matter (one is needed)"
        )
    return found, tuple(ignored)


def _rows_of(cells_iter: Iterator[tuple[int, list[Any]]], encoding: str) -> Sheet:
    header: tuple[dict[int, str], tuple[str, ...]] | None = None
    rows: list[RawRow] = []
    for number, cells in cells_iter:
        if _is_blank(cells):
            continue
        if header is None:
            header = _header(cells)
            continue
        mapping = header[0]
        values: dict[str, Cell] = {
            column: (cells[i] if i < len(cells) else None) for i, column in mapping.items()
        }
        rows.append(RawRow(number, values))
    if header is None:
        raise InvalidInput("file", "文件为空 / the file is empty")
    return Sheet(encoding, tuple(header[0].values()), header[1], rows)


def _csv_cells(text: str) -> Iterator[tuple[int, list[Any]]]:
    # Row numbers count records, as a spreadsheet shows them (a quoted line break stays in one).
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        yield number, list(cells)


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # server-only dependency, loaded on demand

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise InvalidInput(
            "file", f"无法读取 Excel 文件 / cannot read the Excel file: {exc}"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def read_sheet(data: bytes) -> Sheet:
    """Rows of a hotline export, keyed by the documented column names."""
    if not data.strip():
        raise InvalidInput("file", "文件为空 / the file is empty")
    if data.startswith(_XLSX_SIGNATURE):
        return _rows_of(_xlsx_cells(data), "xlsx")
    text, encoding = decode_text(data)
    return _rows_of(_csv_cells(text), encoding)
