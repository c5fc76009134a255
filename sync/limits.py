"""The limits of every text, list and id a user or a device sends: one set, in one place.

The REST bodies (``server/api``), the sync push's command payloads (``sync/commands.py``) and
the phone's outbox (``DeviceStore.enqueue``) all check through the field types below, so a
value one of them accepts is accepted by all, and a value one refuses is refused by all, under
the same field name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

# --- texts (characters, as sent: before any trimming) -----------------------------------------
MAX_DESCRIPTION = 4000  # a case's description (描述)
MAX_NOTE = 4000  # a note, a report-back's note (备注 / 反馈)
MAX_REASON = 1000  # a reason (退回、中止、异议、改派的理由); a suspension stores it in 1000
MAX_LEGAL_BASIS = 1000  # a legal basis (依据)
MAX_DUTY = 500  # one department's duty on a case (职责)
MAX_FACTS = 4000  # facts or a ruling's text (事实 / 认定意见)
MAX_TITLE = 200  # a title, a place, a label
MAX_CATEGORY = 60  # a matter category code
MAX_CODE = 40  # a department, town or site code
MAX_SOURCE = 20  # a case's intake channel code (its column: case_record.source)
MAX_EVIDENCE_TEXT = 200  # how a phone took a point (location source)

MAX_COMMENT = 1000  # a citizen's words on a call-back (回访意见)
MAX_HEADER = 100  # a column header an administrator maps (表头)
# a 12345 ticket's cells (their columns: hotline_ticket.*); a longer cell is refused, never cut
MAX_TICKET_NO = 60  # 工单编号
MAX_TICKET_CONTENT = 3500  # 诉求内容 (with the address it becomes a case's description)
MAX_TICKET_ADDRESS = 300  # 事发地址
MAX_TICKET_AREA = 100  # 所属区域 / 乡镇街道
MAX_TICKET_MATTER = 100  # 事项 as the file names it

# --- lists -------------------------------------------------------------------------------------
MAX_PHOTOS = 50  # photos on one note, action or report
MAX_ASSISTING = 50  # assisting departments on one case
MAX_DEPARTMENTS = 50  # departments called to a consultation or a joint session

# --- ids and coordinates -----------------------------------------------------------------------
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MIN_LAT, MAX_LAT = -90.0, 90.0
MIN_LON, MAX_LON = -180.0, 180.0
MAX_ACCURACY_M = 100_000.0
MAX_DB_INT = 2**63 - 1  # every integer a user or a device sends fits a 64-bit column
MIN_DB_INT = -(2**63)

# --- what no text may hold -----------------------------------------------------------------
# Control characters (NUL included) cannot be stored by PostgreSQL or written into a minute
# (.docx is XML); a lone surrogate cannot be encoded at all. Multi-line texts keep their line
# breaks and tabs; a one-line text (a code, a title, a query parameter) has none.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("[\t\n\r\x85\u2028\u2029]")
CONTROL_CHARACTER = "不能含控制字符 / must not contain control characters"
LONE_SURROGATE = "含无效字符（孤立代理项）/ contains an invalid character (a lone surrogate)"
LINE_BREAK = "须为一行，不能含换行或制表符 / must be one line (no line breaks or tabs)"
INT_RANGE = "超出范围（64 位整数）/ out of range (a 64-bit integer)"
NOT_FINITE = "须为有限数 / must be a finite number"


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` cannot be kept as a text (None: it can)."""
    if _SURROGATE.search(value):
        return LONE_SURROGATE
    if _NOT_TEXT.search(value):
        return CONTROL_CHARACTER
    if not multiline and _LINE_BREAK.search(value):
        return LINE_BREAK
    return None


def printable(name: str) -> str:
    """A field name made of what a user sent, safe to show and to store."""
    return _LINE_BREAK.sub("?", _NOT_TEXT.sub("?", _SURROGATE.sub("?", name)))


def value_problem(value: object, field: str = "") -> tuple[str, str] | None:
    """The first ``(field, reason)`` in a decoded JSON value that no database can keep: a text
    with control characters or a lone surrogate (keys included), an integer beyond 64 bits, a
    number that is not finite. Texts may span lines here; the typed one-line fields say more."""
    if isinstance(value, str):
        reason = text_problem(value)
        return None if reason is None else (field or "body", reason)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if MIN_DB_INT <= value <= MAX_DB_INT else (field or "body", INT_RANGE)
    if isinstance(value, float):
        return None if math.isfinite(value) else (field or "body", NOT_FINITE)
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{field}.{printable(str(key))}" if field else printable(str(key))
            if isinstance(key, str) and (reason := text_problem(key, multiline=False)):
                return name, reason
            if (found := value_problem(item, name)) is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if (found := value_problem(item, f"{field}[{i}]")) is not None:
                return found
    return None


def _checked(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        reason = text_problem(value, multiline=multiline)
        if reason is not None:
            raise PydanticCustomError("text_not_storable", "{reason}", {"reason": reason})
        return value

    return AfterValidator(check)


MultiLine = _checked(multiline=True)
OneLine = _checked(multiline=False)
DbInt = Annotated[int, Field(ge=MIN_DB_INT, le=MAX_DB_INT)]

# --- the field types ---------------------------------------------------------------------------
Description = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION), MultiLine]
Note = Annotated[str, StringConstraints(max_length=MAX_NOTE), MultiLine]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON), MultiLine]
LegalBasis = Annotated[str, StringConstraints(max_length=MAX_LEGAL_BASIS), MultiLine]
Duty = Annotated[str, StringConstraints(max_length=MAX_DUTY), MultiLine]
Facts = Annotated[str, StringConstraints(max_length=MAX_FACTS), MultiLine]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE), OneLine]
Category = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CATEGORY), OneLine]
Code = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE), OneLine]
Comment = Annotated[str, StringConstraints(max_length=MAX_COMMENT), MultiLine]
Header = Annotated[str, StringConstraints(max_length=MAX_HEADER), OneLine]
Source = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SOURCE), OneLine]
CaseId = Annotated[
    str,
    StringConstraints(pattern=UUID_PATTERN),
    Field(description="UUID, may be generated offline"),
]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
PhotoHash = Annotated[
    str, StringConstraints(pattern=SHA256_PATTERN), Field(description="sha256 of the photo, hex")
]
Photos = Annotated[list[PhotoHash], Field(max_length=MAX_PHOTOS)]
Departments = Annotated[list[Code], Field(max_length=MAX_DEPARTMENTS)]
Latitude = Annotated[float, Field(ge=MIN_LAT, le=MAX_LAT, examples=[35.7312])]
Longitude = Annotated[float, Field(ge=MIN_LON, le=MAX_LON, examples=[116.4887])]


def field_path(loc: Sequence[object]) -> str:
    """A validation error's location as the rules name fields: ("entries", 0, "x") →
    "entries[0].x" (the spelling ``InvalidInput`` uses on REST and on sync alike). The
    request parts FastAPI puts first ("body", "query", …) are not part of the name."""
    out = ""
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{printable(str(part))}" if out else printable(str(part))
    return out
