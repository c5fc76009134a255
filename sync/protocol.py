"""The sync protocol: numbered commands up, changes down. Shared by the server and the device.

A device keeps an outbox of commands numbered 1, 2, 3… (per device). ``POST /sync/push`` applies
a batch in one transaction: an id already applied is answered with its stored result; a gap
stops the batch; every command gets a stored result (applied, rejected with the rule's reason,
or conflict). ``POST /sync/pull`` returns the changes since a cursor that the user may see.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Yixian-Protocol"
MAX_BATCH = 500  # commands in one push (422 naming ``commands`` beyond)
# the largest push body the server reads (413 beyond); the phone pages its outbox under both
MAX_PUSH_BYTES = 4 * 1024 * 1024
PULL_PAGE = 200


class CommandType(StrEnum):
    CREATE_CASE = "CreateCase"
    EDIT_CASE = "EditCase"
    TRANSITION_CASE = "TransitionCase"
    ADD_NOTE = "AddNote"
    ADD_PHOTO = "AddPhoto"
    REPORT_ASSIST_TASK = "ReportAssistTask"  # 协办反馈: an assisting department's part
    RATE_ASSIST_TASK = "RateAssistTask"  # 协办评价: the lead rates an assisting department


class ResultStatus(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"  # the rules refused it: the reason reaches the user
    CONFLICT = "conflict"  # applied in part: someone else changed a field meanwhile
    # the id was already used by a different command (a phone restored from an old backup):
    # nothing was applied; the phone renumbers its unsent commands after ``last_applied``
    RENUMBER = "renumber"


def command_hash(type_: str, payload: dict[str, Any]) -> str:
    """A command's content: sha256 of the canonical JSON of its type and payload (sorted keys,
    no spaces, UTF-8). Binds a command id to what it carries: the server answers a different
    command under a used id with ``renumber`` instead of the other command's result."""
    canonical = json.dumps(
        {"type": str(type_), "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    # surrogatepass: a hostile payload (a lone surrogate) still has a hash, and is then rejected
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class Command(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 1,
                "type": "CreateCase",
                "created_at": "2026-11-02T09:00:00+08:00",
                "payload": {
                    "case_id": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11",
                    "category": "waterlogging",
                    "description": "路口积水",
                    "location": {"lat": 35.735, "lon": 116.483},
                },
            }
        }
    )
    id: int = Field(ge=1, le=2**63 - 1)  # a 64-bit column
    type: CommandType
    created_at: datetime  # the device's clock: kept as evidence, never trusted for order
    payload: dict[str, Any]  # read per command by sync/commands.py: a bad one refuses that command
    # command_hash(type, payload); absent from older apps (legacy: not checked)
    hash: str | None = Field(default=None, max_length=64)


class PushRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "protocol": PROTOCOL_VERSION,
                "commands": [
                    {
                        "id": 1,
                        "type": "CreateCase",
                        "created_at": "2026-11-02T09:00:00+08:00",
                        "payload": {
                            "case_id": "6f1c2a4e-8a51-4e37-9c53-2b8f8f0b8d11",
                            "category": "waterlogging",
                            "description": "路口积水",
                            "location": {"lat": 35.735, "lon": 116.483},
                        },
                    }
                ],
            }
        }
    )
    protocol: int = PROTOCOL_VERSION
    commands: list[Command] = Field(max_length=MAX_BATCH)
    # the device's clock when it sent the request: the server estimates the device's clock
    # offset from it (sync/clock_rules.py), to place the commands' on-the-spot times
    device_time: datetime | None = None
    # commands waiting in the device's outbox when it sent this batch (the server's
    # yixian_device_outbox_pending gauge); optional: older apps do not send it
    outbox_pending: int | None = Field(default=None, ge=0, le=10_000_000)
    # the server epoch the phone last saw: another one (a restored database) applies nothing
    epoch: str | None = Field(default=None, max_length=64)


class CommandResult(BaseModel):
    id: int
    status: ResultStatus
    code: str | None = None
    reason: str | None = None
    case_id: str | None = None
    detail: dict[str, Any] | None = None


class PushResponse(BaseModel):
    last_applied: int
    results: list[CommandResult]
    stopped_at_gap: int | None = None  # the first id not applied because an earlier one is missing
    # identifies the server's database; a new one after a restore (the phone resynchronises)
    epoch: str | None = None


class PullRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "protocol": PROTOCOL_VERSION,
                "cursor": None,
                "results_after": 0,
                "limit": 200,
            }
        }
    )
    protocol: int = PROTOCOL_VERSION
    cursor: str | None = None
    results_after: int = Field(default=0, ge=0, le=2**63 - 1)  # the device's newest command id
    # whose result it has shown
    limit: int = Field(default=PULL_PAGE, ge=1, le=PULL_PAGE)
    device_time: datetime | None = None  # the device's clock when it sent the request


class PullResponse(BaseModel):
    cursor: str
    reset: bool  # the cursor was unknown or expired: the device must replace its copy
    more: bool  # another page follows: pull again with the new cursor
    cases: list[dict[str, Any]]  # case snapshots, each with its "events"
    reference: dict[str, Any] | None = None  # departments, towns, sites, boundary versions
    last_applied: int
    results: list[CommandResult]
    gone: list[str] = []  # cases this user no longer sees (their department was withdrawn)
    epoch: str | None = None


class DeviceRegistration(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"client_id": "0b9f5c1e-3d2a-4c1b-9a8e-7f6d5c4b3a21", "name": "巡查员的手机"}
        }
    )
    client_id: str = Field(min_length=8, max_length=64)
    name: str = Field(default="", max_length=100)


class DeviceToken(BaseModel):
    device_id: str
    device_token: str
    last_applied: int  # the phone numbers its commands after it, never at or below
    user_id: str | None = None  # the user this device acts for
    epoch: str | None = None


def is_outdated(protocol: int) -> bool:
    return protocol < MIN_PROTOCOL_VERSION
