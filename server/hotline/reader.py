"""Read a 12345 hotline export (CSV or Excel) into rows keyed by the documented column names.

Accepted files: ``.xlsx`` (the first sheet; recognised by its zip signature) or CSV encoded in
UTF-8 (with or without BOM) or GBK (tried in that order). The first non-empty row is the header.
A header name is normalised (Unicode NFKC, so full-width brackets and letters read as ASCII;
spaces and a trailing ``*`` removed; case-insensitive) and matched against the accepted names of
a ``Layout``'s columns, then against the names an administrator mapped (``aliases``).
``TICKETS`` is the ticket export's layout and ``CALL_BACKS`` the call-back (回访) file's; the
names each column accepts are ``TICKET_COLUMNS`` and ``CALL_BACK_COLUMNS`` below, documented in
docs/hotline-columns.md.

Other columns are ignored and listed in the import report. A file missing required columns is
refused whole by one ``InvalidInput("file")`` that names EVERY missing column; so is an empty
file or an unreadable Excel file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sync.errors import InvalidInput

# column → accepted header names: the documented Chinese names first, then the names hotline
# platforms' exports use, then the English column name.
TICKET_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "ticket_no": ("工单编号", "工单号", "工单编码", "受理编号", "受理单号", "ticket_no"),
    "received_at": (
        "受理时间",
        "来电时间",
        "登记时间",
        "来电日期",
        "受理日期",
        "诉求时间",
        "创建时间",
        "received_at",
    ),
    "area": (
        "所属区域",
        "来电区域",
        "乡镇街道",
        "所属乡镇",
        "所属街道",
        "所属镇街",
        "所属乡镇(街道)",
        "乡镇(街道)",
        "镇街",
        "事发区域",
        "area",
    ),
    "address": ("事发地址", "地址", "诉求地址", "事发地点", "详细地址", "问题地址", "address"),
    "lat": ("纬度", "lat"),
    "lon": ("经度", "lon"),
    "category": (
        "诉求类别",
        "类别",
        "诉求类型",
        "诉求分类",
        "问题类型",
        "问题分类",
        "工单分类",
        "业务类型",
        "category",
    ),
    "matter": ("事项", "事项名称", "诉求事项", "matter"),
    "content": ("诉求内容", "内容", "来电内容", "问题描述", "诉求描述", "工单内容", "content"),
    "caller": ("来电人", "来电人姓名", "诉求人", "诉求人姓名", "联系人", "caller"),
    "phone": ("联系电话", "来电号码", "联系方式", "手机号码", "电话", "phone"),
    "time_limit": ("办理时限", "办结时限", "处理时限", "time_limit"),
}
CALL_BACK_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "ticket_no": TICKET_COLUMNS["ticket_no"],
    "result": ("回访结果", "满意度", "回访满意度", "满意度评价", "评价结果", "result"),
    "comment": ("回访意见", "回访内容", "回访说明", "群众意见", "comment"),
    "called_back_at": ("回访时间", "回访日期", "called_back_at"),
}


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of file: accepted names, the required ones, and groups of which
    at least one is needed."""

    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...] = ()


TICKETS = Layout(TICKET_COLUMNS, ("ticket_no", "received_at", "content"), (("category", "matter"),))
CALL_BACKS = Layout(CALL_BACK_COLUMNS, ("ticket_no", "result", "called_back_at"))
# kept for callers that name the ticket layout's parts
COLUMNS = TICKET_COLUMNS
REQUIRED = TICKETS.required
ONE_OF = TICKETS.one_of[0]


def normalise_header(name: str) -> str:
    """The form header names are compared in (also the key of an administrator's mapping)."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(text.split())  # every space, inside too ("工单 编号")
    return text.rstrip("*").lower()


def _accepted(layout: Layout) -> dict[str, str]:
    return {
        normalise_header(alias): name
        for name, aliases in layout.columns.items()
        for alias in aliases
    }


def builtin_column_of(header: str) -> str | None:
    """The column a header name already means in either layout, if any."""
    key = normalise_header(header)
    return _accepted(TICKETS).get(key) or _accepted(CALL_BACKS).get(key)


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


def _describe(layout: Layout, column: str) -> str:
    names = "/".join(layout.columns[column][:2])
    return f"{names} ({column})"


def _header(
    cells: list[Any], layout: Layout, aliases: Mapping[str, str]
) -> tuple[dict[int, str], tuple[str, ...]]:
    accepted = _accepted(layout)
    found: dict[int, str] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None else ""
        key = normalise_header(name)
        column = accepted.get(key)
        if column is None and aliases.get(key) in layout.columns:
            column = aliases[key]
        if column is not None and column not in found.values():
            found[i] = column
        elif name:
            ignored.append(name)
    present = set(found.values())
    missing = [_describe(layout, c) for c in layout.required if c not in present]
    missing += [
        " 或 / or ".join(_describe(layout, c) for c in group)
        for group in layout.one_of
        if not present & set(group)
    ]
    if missing:
        raise InvalidInput(
            "file",
            f"缺少必需的列 / missing required columns: {'；'.join(missing)}"
            "（管理员可在 /hotline/column-aliases 映射其他列名 / an administrator can map "
            "other header names at /hotline/column-aliases）",
            code="missing_columns",
        )
    return found, tuple(ignored)


def _rows_of(
    cells_iter: Iterator[tuple[int, list[Any]]],
    encoding: str,
    layout: Layout,
    aliases: Mapping[str, str],
) -> Sheet:
    header: tuple[dict[int, str], tuple[str, ...]] | None = None
    rows: list[RawRow] = []
    for number, cells in cells_iter:
        if _is_blank(cells):
            continue
        if header is None:
            header = _header(cells, layout, aliases)
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
        if not workbook.worksheets:
            raise InvalidInput("file", "Excel 文件没有工作表 / the Excel file has no sheet")
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        number = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a damaged sheet fails while it is read
                raise InvalidInput(
                    "file",
                    f"Excel 文件第 {number + 1} 行无法读取 / cannot read row {number + 1} of the "
                    f"Excel file: {type(exc).__name__}",
                ) from None
            number += 1
            yield number, list(cells)
    finally:
        workbook.close()


def read_sheet(
    data: bytes, *, layout: Layout = TICKETS, aliases: Mapping[str, str] | None = None
) -> Sheet:
    """Rows of a hotline file, keyed by the layout's column names. ``aliases``: an
    administrator's header names (normalised) → column."""
    if not data.strip():
        raise InvalidInput("file", "文件为空 / the file is empty")
    if data.startswith(_XLSX_SIGNATURE):
        return _rows_of(_xlsx_cells(data), "xlsx", layout, aliases or {})
    text, encoding = decode_text(data)
    return _rows_of(_csv_cells(text), encoding, layout, aliases or {})
