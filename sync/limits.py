"""The limits of every text, list and id a user or a device sends: one set, in one place.

The REST bodies (``server/api``), the sync push's command payloads (``sync/commands.py``) and
the phone's outbox (``DeviceStore.enqueue``) all check through the field types below, so a
value one of them accepts is accepted by all, and a value one refuses is refused by all, under
the same field name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, StringConstraints

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
MAX_SOURCE = 40  # a case's intake channel code
MAX_EVIDENCE_TEXT = 200  # how a phone took a point (location source)

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

# --- the field types ---------------------------------------------------------------------------
Description = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION)]
Note = Annotated[str, StringConstraints(max_length=MAX_NOTE)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON)]
LegalBasis = Annotated[str, StringConstraints(max_length=MAX_LEGAL_BASIS)]
Duty = Annotated[str, StringConstraints(max_length=MAX_DUTY)]
Facts = Annotated[str, StringConstraints(max_length=MAX_FACTS)]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CATEGORY)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE)]
Source = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SOURCE)]
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
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
