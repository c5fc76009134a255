"""The payload of every sync command, as a typed message with the limits of ``sync/limits.py``.

A phone sends ``Command(type, payload)``; the payload is read with ``decode_payload`` into the
model of its type. The same models are the REST bodies' bases (``server/api/schemas.py``) and
are checked by the phone before it queues a command (``DeviceStore.enqueue``), so the phone,
REST and the sync push agree on every limit, under the same field names.

A payload that does not fit is refused *for that command* with ``InvalidInput`` naming the
first wrong field (``photos[3]``, ``location.lat`` …); the push goes on with the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sync.errors import InvalidInput
from sync.lifecycle import Action
from sync.limits import (
    MAX_ASSISTING,
    MAX_EVIDENCE_TEXT,
    UUID_PATTERN,
    CaseId,
    Category,
    Code,
    Description,
    Duty,
    Latitude,
    LegalBasis,
    Longitude,
    Note,
    PhotoHash,
    Photos,
    Reason,
    Source,
    field_path,
    value_problem,
)
from sync.protocol import Command, CommandType

MAX_FIELD_NAME = 100  # of a field named in a refusal


class Message(BaseModel):
    """Fields a newer phone adds are ignored by an older server (the protocol's rule)."""

    model_config = ConfigDict(extra="ignore")


class GeoPoint(Message):
    lat: Latitude
    lon: Longitude


class AssistingDutyMsg(Message):
    department_code: Code
    duty: Duty = ""


Assisting = list[AssistingDutyMsg]


# --- what REST bodies and command payloads share -----------------------------------------------


class NewCaseFields(Message):
    """A case as recorded (发现), on REST (``POST /cases``, with ``id``) and on sync
    (``CreateCase``, with ``case_id``)."""

    category: Category
    description: Description
    source: Source = "inspection"
    location: GeoPoint | None = None
    town_code: Code | None = None
    site_code: Code | None = None
    # 首问部门: the recording user's own department (default); a supervisor may name another,
    # with first_contact_reason (sync/first_contact.py)
    first_contact_department: Code | None = None
    first_contact_reason: Reason = ""
    recorded_at: AwareDatetime | None = None


class ActionFields(Message):
    """What every case action may carry: a reason, a note, photos, where it was done."""

    reason: Reason = ""
    note: Note = ""
    where: GeoPoint | None = None
    photos: Photos = Field(default_factory=list)


class AssignFields(ActionFields):
    """交办: the proposal's departments, or an override with its reason."""

    lead_department: Code | None = None
    assisting: Assisting | None = Field(default=None, max_length=MAX_ASSISTING)
    override_reason: Reason = ""


class MergeFields(ActionFields):
    duplicate_of: CaseId


class DisputeFields(ActionFields):
    legal_basis: LegalBasis = ""  # required: the rules refuse a blank one


class NoteFields(Message):
    note: Note = ""
    photos: Photos = Field(default_factory=list)
    where: GeoPoint | None = None


# --- the command payloads ----------------------------------------------------------------------


class CreateCase(NewCaseFields):
    case_id: CaseId
    # evidence of how the phone took the point (kept with the command as sent)
    location_accuracy_m: float | None = Field(default=None, ge=0)
    location_source: str | None = Field(default=None, max_length=MAX_EVIDENCE_TEXT)
    location_reason: Reason | None = None


class TransitionCase(AssignFields, DisputeFields):
    """Any lifecycle action; the fields an action does not use are left at their defaults."""

    case_id: CaseId
    action: Action
    duplicate_of: CaseId | None = None
    claimed_responsible: Code | None = None


class AddNote(NoteFields):
    case_id: CaseId


class AddPhoto(Message):
    case_id: CaseId
    sha256: PhotoHash


class AssistReportFields(Message):
    """协办反馈: what an assisting department did (说明 and/or photos), and where."""

    note: Note = ""
    photos: Photos = Field(default_factory=list)
    where: GeoPoint | None = None


class AssistRatingFields(Message):
    """协办评价: 1–5 (``sync.workflow.check_rating``: a comment for 2 or less)."""

    rating: int = Field(ge=1, le=5)
    comment: Reason = ""


class ReportAssistTask(AssistReportFields):
    case_id: CaseId
    department: Code


class RateAssistTask(AssistRatingFields):
    case_id: CaseId
    department: Code


class FieldEdit(Message):
    base: Any = None  # the value the device saw when the user edited
    value: Any = None


class DescriptionEdit(FieldEdit):
    base: str | None = None
    value: Description


class CategoryEdit(FieldEdit):
    base: str | None = None
    value: Category


class EditableFields(BaseModel):
    """The fields a case's recorder may still edit; any other name is refused."""

    model_config = ConfigDict(extra="forbid")
    description: DescriptionEdit | None = None
    category: CategoryEdit | None = None

    @model_validator(mode="after")
    def _something(self) -> EditableFields:
        if self.description is None and self.category is None:
            raise ValueError("没有要修改的字段 / nothing to edit")
        return self

    def edits(self) -> dict[str, tuple[Any, Any]]:
        """``{field: (base, value)}`` for the fields sent."""
        out: dict[str, tuple[Any, Any]] = {}
        if self.description is not None:
            out["description"] = (self.description.base, self.description.value)
        if self.category is not None:
            out["category"] = (self.category.base, self.category.value)
        return out


class EditCase(Message):
    case_id: CaseId
    fields: EditableFields


Payload = (
    CreateCase | TransitionCase | AddNote | AddPhoto | EditCase | ReportAssistTask | RateAssistTask
)

PAYLOAD_MODELS: Mapping[CommandType, type[Payload]] = {
    CommandType.CREATE_CASE: CreateCase,
    CommandType.TRANSITION_CASE: TransitionCase,
    CommandType.ADD_NOTE: AddNote,
    CommandType.ADD_PHOTO: AddPhoto,
    CommandType.EDIT_CASE: EditCase,
    CommandType.REPORT_ASSIST_TASK: ReportAssistTask,
    CommandType.RATE_ASSIST_TASK: RateAssistTask,
}


# --- reading -----------------------------------------------------------------------------------


def reason_of(error: Mapping[str, Any]) -> str:
    """Why a value was refused, Chinese first: the same words on REST and on sync."""
    ctx = error.get("ctx") or {}
    kind = error.get("type")
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return f"不能超过 {n} 字 / at most {n} characters"
    if kind == "string_too_short":
        return "不能为空 / must not be empty"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"最多 {n} 项 / at most {n} items"
    if kind == "too_short":
        return "不能为空 / must not be empty"
    if kind == "missing":
        return "缺少此项 / is required"
    if kind == "string_pattern_mismatch":
        return "格式不符 / wrong format"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"超出范围 / out of range ({error.get('msg')})"
    if kind == "enum":
        return f"未知的值 / unknown value ({ctx.get('expected', '')})"
    if kind == "extra_forbidden":
        return "不可修改或未知的字段 / not a field that can be sent"
    if kind == "text_not_storable":
        return str(ctx.get("reason", ""))
    if kind == "timezone_aware":
        return "须带时区 / must include a time zone"
    return f"格式错误 / {error.get('msg')}"


def invalid_input(error: ValidationError) -> InvalidInput:
    """The first wrong field of ``error`` as the rules' ``InvalidInput``."""
    first = error.errors()[0]
    field = field_path(first["loc"]) or "payload"
    if len(field) > MAX_FIELD_NAME:  # a made-up key names itself: keep the stored refusal short
        field = field[:MAX_FIELD_NAME] + "…"
    return InvalidInput(field, reason_of(first))


def decode_payload(type_: CommandType, payload: Mapping[str, Any]) -> Payload:
    """``payload`` read as its command's message; ``InvalidInput`` naming the first wrong field
    (anywhere in the payload, unknown fields included: a text no database can keep, an integer
    beyond 64 bits)."""
    found = value_problem(dict(payload))
    if found is not None:
        field, reason = found
        raise InvalidInput(field[:MAX_FIELD_NAME], reason)
    try:
        return PAYLOAD_MODELS[type_].model_validate(payload)
    except ValidationError as error:
        raise invalid_input(error) from None


def decode_command(cmd: Command) -> Payload:
    """A command's payload read as its message, its queue time checked too (a time without a
    zone cannot be placed on any clock): ``InvalidInput`` naming the field."""
    if cmd.created_at.tzinfo is None:
        raise InvalidInput("created_at", "须带时区 / must include a time zone")
    return decode_payload(cmd.type, cmd.payload)


def unexpected_fault() -> InvalidInput:
    """The refusal of a command that failed in a way the rules did not foresee (the server
    logs the fault; the phone shows the reason and goes on with its other commands)."""
    return InvalidInput(
        "payload",
        "服务器无法处理此操作，已跳过；请检查内容后重新提交 / the server could not apply this "
        "command: it was skipped — check it and submit it again",
        code="command_failed",
    )


def case_id_of(payload: Mapping[str, Any]) -> str | None:
    """The case a payload names, if it names one well-formed (a refusal is stored with it)."""
    value = payload.get("case_id")
    if isinstance(value, str) and re.fullmatch(UUID_PATTERN, value):
        return value
    return None
