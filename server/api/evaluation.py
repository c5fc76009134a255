"""Evaluation (职能运行评估): the rules, scoring runs with drill-down and Excel export, hotspots,
"fast reply, no real fix", and the figures of the supervisor dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import CurrentActor, NowDep, ReferenceDep, SessionDep, SettingsDep
from server.data import evaluation as evaluation_data
from server.evaluation.rules import load_rules, rules_as_dict
from server.services import evaluation as evaluation_service
from server.services.compute_pool import Compute, ComputePool
from sync.bodies import CasesOverTimeOut, HotspotsOut, OnTimeOut
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput

router = APIRouter(prefix="/evaluation", tags=["evaluation"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RunIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"kind": "month", "year": 2026, "number": 11}}
    )
    kind: Literal["month", "quarter", "year"]
    year: int = Field(ge=2000, le=2100)
    number: int | None = Field(default=None, description="month 1–12 or quarter 1–4")


def _aware(value: datetime | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    if value.tzinfo is None:
        raise InvalidInput(name, "须带时区 / must include a time zone")
    return value


# The bounds of the expensive requests (README "Availability limits").
MIN_RADIUS_M = 10.0  # a smaller radius makes the grid search walk millions of empty cells
MAX_RADIUS_M = 5000.0
MAX_WINDOW_DAYS = 366  # hotspots, repeat complaints, and a day-by-day series
MAX_SERIES_DAYS = 3660  # a week-by-week or month-by-month series: ten years
MAX_REPEAT_WINDOW_DAYS = 366

RadiusM = Annotated[
    float,
    Query(
        ge=MIN_RADIUS_M,
        le=MAX_RADIUS_M,
        description=f"metres, {MIN_RADIUS_M:g} to {MAX_RADIUS_M:g}",
    ),
]


def _window(
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    days: int,
    max_days: int = MAX_WINDOW_DAYS,
) -> tuple[datetime, datetime]:
    end_ = _aware(end, "end", now)
    start_ = _aware(start, "start", end_ - timedelta(days=days))
    if end_ <= start_:
        raise InvalidInput("end", "结束须晚于开始 / end must be after start")
    if end_ - start_ > timedelta(days=max_days):
        raise InvalidInput(
            "start", f"时间范围不能超过 {max_days} 天 / the period may span at most {max_days} days"
        )
    return start_, end_


def get_compute(request: Request, session: SessionDep, settings: SettingsDep) -> Compute:
    """The request's way to an expensive computation: in the compute pool, with the time limit
    of Settings.compute_seconds (server/services/compute_pool.py)."""
    pool: ComputePool = request.app.state.compute_pool
    return Compute(pool, session, settings.compute_seconds)


ComputeDep = Annotated[Compute, Depends(get_compute)]


@router.get("/rules", summary="The scoring rules in force (server/evaluation/rules.toml)")
def rules(_actor: CurrentActor) -> dict[str, Any]:
    return rules_as_dict(load_rules())


@router.post("/runs", status_code=201, summary="Score a month, quarter or year (oversight only)")
def start_run(
    body: RunIn,
    session: SessionDep,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
    compute: ComputeDep,
) -> dict[str, Any]:
    run = evaluation_service.start_run(
        session,
        actor=actor,
        kind=body.kind,
        year=body.year,
        number=body.number,
        towns=evaluation_service.town_names(ref),
        now=now,
        compute_with=compute,
    )
    session.commit()
    return evaluation_service.visible_report(run, actor)


@router.get("/runs", summary="Stored runs, newest first")
def list_runs(
    session: SessionDep, _actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    return [evaluation_service.run_summary(r) for r in evaluation_data.list_runs(session, limit)]


@router.get("/runs/{run_id}", summary="A run's ranking table (a handler sees its own department)")
def get_run(run_id: int, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return evaluation_service.visible_report(evaluation_service.get_run(session, run_id), actor)


@router.get(
    "/runs/{run_id}/departments/{code}",
    summary="Drill-down: one department's indicators and the cases behind every point",
)
def department_detail(
    run_id: int, code: str, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    run = evaluation_service.get_run(session, run_id)
    return evaluation_service.department_detail(run, actor, code)


@router.get(
    "/runs/{run_id}/reproduce",
    summary="Score the run's events again with its rules: are the numbers the same?",
)
def reproduce(
    run_id: int, actor: CurrentActor, ref: ReferenceDep, compute: ComputeDep
) -> dict[str, Any]:
    evaluation_service.require_oversight(actor)
    return compute(
        evaluation_service.reproduce, run_id=run_id, towns=evaluation_service.town_names(ref)
    )


@router.get(
    "/runs/{run_id}/export.xlsx",
    summary="The report as Excel: ranking, deductions by case, rules (oversight only)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def export_run(run_id: int, actor: CurrentActor, compute: ComputeDep) -> Response:
    evaluation_service.require_oversight(actor)
    name, data = compute(evaluation_service.export_workbook, run_id=run_id)
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/hotspots",
    response_model=HotspotsOut,
    summary="Places where reports of one category cluster (oversight only)",
)
def hotspots(
    actor: CurrentActor,
    now: NowDep,
    compute: ComputeDep,
    start: datetime | None = None,
    end: datetime | None = None,
    category: str | None = None,
    radius_m: RadiusM = 100.0,
    min_reports: Annotated[int, Query(ge=2, le=1000)] = 3,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    evaluation_service.require_oversight(actor)
    start_, end_ = _window(start, end, now, 365)
    return compute(
        evaluation_service.hotspots,
        start=start_,
        end=end_,
        category=category,
        radius_m=radius_m,
        min_reports=min_reports,
        limit=limit,
    )


@router.get(
    "/repeat-complaints",
    summary='"Fast reply, no real fix": closed cases whose problem came back, per department',
)
def repeat_complaints(
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
    compute: ComputeDep,
    start: datetime | None = None,
    end: datetime | None = None,
    radius_m: RadiusM = 100.0,
    window_days: Annotated[int, Query(ge=1, le=MAX_REPEAT_WINDOW_DAYS)] = 90,
) -> dict[str, Any]:
    start_, end_ = _window(start, end, now, 365)
    return compute(
        evaluation_service.repeat_complaints,
        actor=actor,
        start=start_,
        end=end_,
        radius_m=radius_m,
        window_days=window_days,
        towns=evaluation_service.town_names(ref),
    )


@router.get(
    "/dashboard/cases-over-time",
    response_model=CasesOverTimeOut,
    summary="Cases in each status at the end of each day/week/month (oversight only)",
)
def cases_over_time(
    actor: CurrentActor,
    now: NowDep,
    compute: ComputeDep,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: Literal["day", "week", "month"] = "day",
) -> dict[str, Any]:
    evaluation_service.require_oversight(actor)
    longest = MAX_WINDOW_DAYS if bucket == "day" else MAX_SERIES_DAYS
    start_, end_ = _window(start, end, now, 30, longest)
    return compute(evaluation_service.cases_over_time, start=start_, end=end_, bucket=bucket)


@router.get(
    "/dashboard/on-time",
    response_model=OnTimeOut,
    summary="On-time closure rate per department, scored now (default: this month)",
)
def on_time(
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
    compute: ComputeDep,
    kind: Literal["month", "quarter", "year"] = "month",
    year: int | None = None,
    number: int | None = None,
) -> dict[str, Any]:
    local = now.astimezone(CHINA_TZ)
    if year is None:
        year = local.year
        number = {"month": local.month, "quarter": (local.month - 1) // 3 + 1, "year": None}[kind]
    return compute(
        evaluation_service.live_on_time,
        actor=actor,
        kind=kind,
        year=year,
        number=number,
        towns=evaluation_service.town_names(ref),
        now=now,
    )
