"""12345 hotline: import an export (CSV or Excel), see imports and a case's tickets, map header
names, record call-back (回访) results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from server.api.deps import CurrentActor, NowDep, ReferenceDep, SessionDep
from server.data import hotline as hotline_data
from server.hotline.reader import CALL_BACK_COLUMNS, TICKET_COLUMNS
from server.models.evaluation import (
    HotlineCallBack,
    HotlineColumnAlias,
    HotlineImport,
    HotlineTicket,
)
from server.services import cases as case_service
from server.services import evaluation as evaluation_service
from server.services import hotline as hotline_service
from sync.errors import InvalidInput, NotFound
from sync.lifecycle import Actor
from sync.limits import Code, Comment, Header
from sync.vocabulary import Role

router = APIRouter(prefix="/hotline", tags=["hotline"])


def _may_view_imports(actor: Actor) -> bool:
    return hotline_service.may_import(actor) or evaluation_service.sees_all(actor)


def import_out(run: HotlineImport) -> dict[str, Any]:
    return {
        "id": run.id,
        "filename": run.filename,
        "file_sha256": run.file_sha256,
        "encoding": run.encoding,
        "imported_by": run.imported_by,
        "imported_at": run.imported_at.isoformat(),
        "total_rows": run.total_rows,
        "created_cases": run.created_cases,
        "linked": run.linked,
        "duplicates": run.duplicates,
        "errors": run.errors,
        "problems": run.problems,
    }


def ticket_out(t: HotlineTicket) -> dict[str, Any]:
    return {
        "ticket_no": t.ticket_no,
        "import_id": t.import_id,
        "row_number": t.row_number,
        "received_at": t.received_at.isoformat(),
        "area": t.area,
        "address": t.address,
        "lat": t.lat,
        "lon": t.lon,
        "town_code": t.town_code,
        "category": t.category,
        "matter": t.matter,
        "content": t.content,
        "department": t.department,
        "case_id": t.case_id,
        "outcome": t.outcome,
    }


@router.post(
    "/imports",
    status_code=201,
    summary="Import a 12345 export (CSV in UTF-8/GBK, or .xlsx); columns: docs/hotline-columns.md",
)
async def import_tickets(
    file: Annotated[UploadFile, File(description="the hotline export")],
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> dict[str, Any]:
    data = await file.read(hotline_service.MAX_FILE_BYTES + 1)
    if len(data) > hotline_service.MAX_FILE_BYTES:
        raise InvalidInput("file", "文件过大 / file too large")
    # commits chunk by chunk: a failure part-way keeps what was stored, and re-importing resumes
    run = hotline_service.import_file(
        session, actor=actor, filename=file.filename or "upload", data=data, ref=ref, now=now
    )
    return import_out(run)


@router.get("/imports", summary="Recent imports, newest first")
def list_imports(
    session: SessionDep, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    if not _may_view_imports(actor):
        raise NotFound("无权查看工单导入 / hotline imports are not visible to you")
    return [import_out(r) for r in hotline_data.list_imports(session, limit)]


@router.get("/imports/{import_id}", summary="One import: counts, problems by row, its tickets")
def get_import(import_id: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    run = hotline_data.get_import(session, import_id)
    if run is None or not _may_view_imports(actor):
        raise NotFound(f"导入 {import_id} 不存在 / import {import_id} not found")
    return {
        **import_out(run),
        "tickets": [ticket_out(t) for t in hotline_data.tickets_of_import(session, import_id)],
    }


@router.get("/cases/{case_id}/tickets", summary="The hotline tickets that became or joined a case")
def case_tickets(case_id: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    case_service.get_visible_case(session, case_id, actor)
    return [ticket_out(t) for t in hotline_data.tickets_of_case(session, case_id)]


# --- header names -------------------------------------------------------------------------


class ColumnAliasIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"header": "热线单号", "column": "ticket_no"}}
    )

    header: Header = Field(description="the header name as an export spells it")
    column: Code = Field(description="the column it means, e.g. received_at")


def alias_out(a: HotlineColumnAlias) -> dict[str, Any]:
    return {
        "header": a.header,
        "column": a.column,
        "set_by": a.set_by,
        "set_at": a.set_at.isoformat(),
    }


@router.get("/column-aliases", summary="Header names the imports accept: built in and mapped")
def column_aliases(session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    if not (_may_view_imports(actor) or actor.role == Role.ADMIN):
        raise NotFound("无权查看 / not visible to you")
    return {
        "tickets": {c: list(names) for c, names in TICKET_COLUMNS.items()},
        "call_backs": {c: list(names) for c, names in CALL_BACK_COLUMNS.items()},
        "mapped": [alias_out(a) for a in hotline_data.list_column_aliases(session)],
    }


@router.put("/column-aliases", summary="Map a header name to a column (administrators)")
def put_column_alias(
    body: ColumnAliasIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> dict[str, Any]:
    alias = hotline_service.set_column_alias(
        session, actor=actor, header=body.header, column=body.column, now=now
    )
    session.commit()
    return alias_out(alias)


@router.delete(
    "/column-aliases/{header}", status_code=204, summary="Remove a mapping (administrators)"
)
def delete_column_alias(header: str, session: SessionDep, actor: CurrentActor) -> Response:
    hotline_service.remove_column_alias(session, actor=actor, header=header)
    session.commit()
    return Response(status_code=204)


# --- call-backs (回访) ---------------------------------------------------------------------


class CallBackIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "ticket_no": "JN2026110100017",
                "result": "不满意",
                "comment": "车辆仍然乱停",
                "called_back_at": "2026-11-05T10:00:00+08:00",
            }
        }
    )

    ticket_no: str = Field(max_length=60, description="a ticket already imported")
    result: str = Field(
        max_length=40, description="满意 / 基本满意 / 不满意 (satisfied, basically_satisfied, …)"
    )
    comment: Comment = Field(default="", description="the citizen's words")
    called_back_at: AwareDatetime | None = Field(default=None, description="default: now")


def call_back_out(c: HotlineCallBack) -> dict[str, Any]:
    return {
        "id": c.id,
        "ticket_no": c.ticket_no,
        "case_id": c.case_id,
        "result": c.result,
        "comment": c.comment,
        "called_back_at": c.called_back_at.isoformat(),
        "recorded_by": c.recorded_by,
        "recorded_at": c.recorded_at.isoformat(),
        "reopened": c.reopened,
    }


@router.post("/call-backs", status_code=201, summary="Record one ticket's call-back (回访) result")
def record_call_back(
    body: CallBackIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> dict[str, Any]:
    call_back = hotline_service.record_call_back(
        session,
        actor=actor,
        ticket_no=body.ticket_no,
        result=body.result,
        comment=body.comment,
        called_back_at=body.called_back_at,
        now=now,
    )
    session.commit()
    return call_back_out(call_back)


@router.post(
    "/call-backs/imports",
    summary="Import call-back results (CSV/xlsx); columns: docs/hotline-columns.md",
)
async def import_call_backs(
    file: Annotated[UploadFile, File(description="the call-back results")],
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
) -> dict[str, Any]:
    data = await file.read(hotline_service.MAX_FILE_BYTES + 1)
    done = hotline_service.import_call_backs(session, actor=actor, data=data, now=now)
    return {
        "total_rows": done.total_rows,
        "recorded": done.recorded,
        "reopened": done.reopened,
        "duplicates": done.duplicates,
        "errors": done.errors,
        "problems": [
            {"row": p.row, "ticket_no": p.ticket_no, "kind": p.kind, "reason": p.reason}
            for p in done.problems
        ],
    }


@router.get("/cases/{case_id}/call-backs", summary="The call-back results counted on a case")
def case_call_backs(case_id: str, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    case_service.get_visible_case(session, case_id, actor)
    return [call_back_out(c) for c in hotline_data.call_backs_of_case(session, case_id)]
