"""Scoring runs, their reports and who may see what; hotspots and the dashboard's figures.

Supervisors, coordinators and administrators see every department; anyone else sees only
their own department's row and its drill-down. A run stores the rules text, the period, the
instant it scored up to (``as_of``) and the newest event id it saw: scoring the same events
with the same rules again gives the same numbers (``reproduce``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from server.data import evaluation as evaluation_data
from server.data import reference as reference_data
from server.db import begin_write
from server.evaluation import hotspots as hotspot_rules
from server.evaluation.budget import Deadline
from server.evaluation.excel import workbook_bytes
from server.evaluation.periods import period_of
from server.evaluation.rules import RULES_PATH, Rules, parse_rules
from server.evaluation.scoring import Period, Report, report_as_dict, score
from server.evaluation.timeline import bucket_edges, status_over_time
from server.models.evaluation import EvaluationRun
from server.services.boundary_cache import ReferenceSnapshot
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput, NotFound, NotPermitted
from sync.lifecycle import Actor
from sync.vocabulary import Role

OVERSIGHT = frozenset({Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN})


def sees_all(actor: Actor) -> bool:
    return actor.role in OVERSIGHT


def require_oversight(actor: Actor) -> None:
    if not sees_all(actor):
        raise NotPermitted(
            "仅督办、编办和管理员可查看全部部门 / only supervisors, coordinators and "
            "administrators see every department",
            code="role_not_allowed",
        )


def town_names(ref: ReferenceSnapshot) -> dict[str, str]:
    """Town code → name: what the computations need of the reference data (it pickles, for the
    compute pool, server/services/compute_pool.py)."""
    return {town.code: town.name for town in ref.towns}


def names_of(session: Session, towns: Mapping[str, str]) -> dict[str, str]:
    names = {d.code: d.name for d in reference_data.list_departments(session)}
    for code, name in towns.items():
        names.setdefault(f"town:{code}", name)
    return names


def department_names(session: Session, ref: ReferenceSnapshot) -> dict[str, str]:
    return names_of(session, town_names(ref))


def compute(
    session: Session,
    *,
    period: Period,
    rules: Rules,
    as_of: datetime,
    high_water_mark: int,
    departments: Mapping[str, str],
    deadline: Deadline,
) -> Report:
    """Score the events up to the mark. Run it in a read transaction: the events are read in
    batches while scoring, and the time limit stops both."""
    events = evaluation_data.scoring_events(
        session, before=min(as_of, period.end), high_water_mark=high_water_mark
    )
    return score(
        deadline.each(events),
        period=period,
        rules=rules,
        departments=sorted(departments),
        as_of=as_of,
        high_water_mark=high_water_mark,
        check=deadline.check,
    )


def _results(session: Session, report: Report, names: Mapping[str, str]) -> dict[str, Any]:
    results = report_as_dict(report)
    case_ids = [
        link["case_id"]
        for d in results["departments"]
        for i in d["indicators"]
        for link in i["links"]
    ]
    numbers = evaluation_data.case_numbers(session, case_ids)
    for d in results["departments"]:
        d["name"] = names.get(d["department"], d["department"])
        for i in d["indicators"]:
            for link in i["links"]:
                link["case_number"] = numbers.get(link["case_id"])
    return results


def score_period(
    session: Session,
    *,
    kind: str,
    year: int,
    number: int | None,
    rules_text: str,
    towns: Mapping[str, str],
    now: datetime,
    deadline: Deadline,
) -> dict[str, Any]:
    """The read half of a scoring run, in a read transaction (a compute-pool job): the newest
    event id, the instant scored up to and the results."""
    period = period_of(kind, year, number)
    hwm = evaluation_data.high_water_mark(session)
    as_of = min(period.end, now).astimezone(CHINA_TZ)  # stored results read in China time
    names = names_of(session, towns)
    report = compute(
        session,
        period=period,
        rules=parse_rules(rules_text),
        as_of=as_of,
        high_water_mark=hwm,
        departments=names,
        deadline=deadline,
    )
    return {"high_water_mark": hwm, "as_of": as_of, "results": _results(session, report, names)}


def start_run(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    year: int,
    number: int | None,
    towns: Mapping[str, str],
    now: datetime,
    compute_with: Callable[..., Any],
    rules_path: Path = RULES_PATH,
) -> EvaluationRun:
    """Score a period and store the run. The scoring (``score_period``) runs through
    ``compute_with`` (the compute pool: its own read transaction, holding no write lock); only
    storing the run is a (short) write. Commits the request's transaction so far; the caller
    commits the write."""
    require_oversight(actor)
    period = period_of(kind, year, number)
    if period.start >= now:
        raise InvalidInput("year", "该期间尚未开始 / this period has not started yet")
    rules_text = rules_path.read_text(encoding="utf-8")
    rules = parse_rules(rules_text)
    session.commit()  # end the request's transaction so far (signing in): scoring only reads
    scored = compute_with(
        score_period,
        kind=kind,
        year=year,
        number=number,
        rules_text=rules_text,
        towns=towns,
        now=now,
    )
    begin_write(session)
    run = EvaluationRun(
        period_kind=kind,
        period_label=period.label,
        period_start=period.start,
        period_end=period.end,
        as_of=scored["as_of"],
        high_water_mark=scored["high_water_mark"],
        rules_version=rules.version,
        rules_digest=rules.digest,
        rules_text=rules_text,
        created_by=actor.user_id,
        created_at=now,
        results=scored["results"],
    )
    return evaluation_data.add_run(session, run)


def get_run(session: Session, run_id: int) -> EvaluationRun:
    run = evaluation_data.get_run(session, run_id)
    if run is None:
        raise NotFound(f"评估 {run_id} 不存在 / evaluation run {run_id} not found")
    return run


def run_summary(run: EvaluationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "period_kind": run.period_kind,
        "period_label": run.period_label,
        "period_start": run.period_start.isoformat(),
        "period_end": run.period_end.isoformat(),
        "as_of": run.as_of.isoformat(),
        "high_water_mark": run.high_water_mark,
        "rules_version": run.rules_version,
        "rules_digest": run.rules_digest,
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
    }


def _brief(d: Mapping[str, Any]) -> dict[str, Any]:
    """A department's row without the case links (those are in the drill-down)."""
    return {
        **{k: v for k, v in d.items() if k != "indicators"},
        "indicators": [
            {k: v for k, v in i.items() if k != "links"} | {"cases": len(i["links"])}
            for i in d["indicators"]
        ],
    }


def visible_report(run: EvaluationRun, actor: Actor) -> dict[str, Any]:
    """The ranking table: every department for oversight, one's own department otherwise."""
    rows = run.results["departments"]
    if not sees_all(actor):
        rows = [d for d in rows if d["department"] == actor.department]
    return {
        **run_summary(run),
        "min_cases": run.results["min_cases"],
        "departments": [_brief(d) for d in rows],
    }


def may_see_department(actor: Actor, code: str) -> bool:
    """A department's scores: its own members and oversight see them."""
    return sees_all(actor) or code == actor.department


def department_detail(run: EvaluationRun, actor: Actor, code: str) -> dict[str, Any]:
    """One department's indicators with every case that cost (or earned) a point."""
    if not may_see_department(actor, code):
        raise NotFound(f"无权查看部门 {code} 的评估 / department {code} not visible to you")
    for d in run.results["departments"]:
        if d["department"] == code:
            return {**run_summary(run), "min_cases": run.results["min_cases"], **d}
    raise NotFound(f"本次评估没有部门 {code} / department {code} is not in this run")


def reproduce(
    session: Session, *, run_id: int, towns: Mapping[str, str], deadline: Deadline
) -> dict[str, Any]:
    """Score the run's events again with its stored rules; report any department that differs
    (a compute-pool job)."""
    run = get_run(session, run_id)
    period = Period(
        run.period_label, run.period_start.astimezone(CHINA_TZ), run.period_end.astimezone(CHINA_TZ)
    )
    names = names_of(session, towns)
    report = compute(
        session,
        period=period,
        rules=parse_rules(run.rules_text),
        as_of=run.as_of.astimezone(CHINA_TZ),
        high_water_mark=run.high_water_mark,
        departments=names,
        deadline=deadline,
    )
    again = _results(session, report, names)
    differ = [
        a["department"]
        for a, b in zip(again["departments"], run.results["departments"], strict=False)
        if a != b
    ]
    same = again == run.results
    return {"same": same, "differs_for": differ, "high_water_mark": run.high_water_mark}


def live_on_time(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    year: int,
    number: int | None,
    towns: Mapping[str, str],
    now: datetime,
    deadline: Deadline,
) -> dict[str, Any]:
    """On-time closure rate per department for a period, scored now (not stored; a
    compute-pool job)."""
    period = period_of(kind, year, number)
    rules = parse_rules(RULES_PATH.read_text(encoding="utf-8"))
    names = names_of(session, towns)
    report = compute(
        session,
        period=period,
        rules=rules,
        as_of=min(period.end, now),
        high_water_mark=evaluation_data.high_water_mark(session),
        departments=names,
        deadline=deadline,
    )
    rows: list[dict[str, Any]] = []
    for d in report.departments:
        if not sees_all(actor) and d.department != actor.department:
            continue
        ind = d.indicator("on_time_rate")
        if ind is None:
            continue
        if ind.sample == 0 and not ind.detail and d.department != actor.department:
            continue  # nothing due: no bar to draw
        rows.append(
            {
                "department": d.department,
                "name": names.get(d.department, d.department),
                "rate": ind.value,
                "sample": ind.sample,
                "late": ind.misses,
                "due": ind.detail.get("due", 0),
                "suspended": ind.detail.get("suspended", 0),
                "shared": ind.detail.get("shared", 0),
                "ranked": ind.ranked,
            }
        )
    rows.sort(key=lambda r: (not r["ranked"], -float(r["rate"] or 0.0), str(r["department"])))
    return {
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "min_cases": rules.min_cases,
        "departments": rows,
    }


def cases_over_time(
    session: Session, *, start: datetime, end: datetime, bucket: str, deadline: Deadline
) -> dict[str, Any]:
    """Cases in each status at the end of each bucket (a compute-pool job)."""
    edges = bucket_edges(start, end, bucket)
    transitions = evaluation_data.status_transitions(session, before=end)
    points = status_over_time(deadline.each(transitions), edges)
    statuses = sorted({s for p in points for s in p.counts})
    return {
        "bucket": bucket,
        "statuses": statuses,
        "buckets": [
            {"label": p.label, "end": p.at.isoformat(), "counts": p.counts} for p in points
        ],
    }


def _report_dict(r: hotspot_rules.PlacedReport) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "id": r.id,
        "case_id": r.case_id,
        "lat": r.point.lat,
        "lon": r.point.lon,
        "at": r.at.isoformat(),
        "department": r.department,
    }


def hotspots(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    category: str | None,
    radius_m: float,
    min_reports: int,
    limit: int,
    deadline: Deadline,
) -> dict[str, Any]:
    """Places where reports of one category cluster (a compute-pool job)."""
    reports = evaluation_data.placed_reports(session, start=start, end=end, category=category)
    session.commit()  # end the read: the clustering below holds no transaction
    found = hotspot_rules.hotspots(
        reports, radius_m=radius_m, min_reports=min_reports, check=deadline.check
    )
    return {
        "radius_m": radius_m,
        "min_reports": min_reports,
        "total": len(found),
        "hotspots": [
            {
                "category": h.category,
                "lat": h.centre.lat,
                "lon": h.centre.lon,
                "radius_m": round(h.radius_m, 1),
                "reports": len(h.reports),
                "cases": len(h.case_ids),
                "tickets": sum(1 for r in h.reports if r.kind == "ticket"),
                "first_at": h.first_at.isoformat(),
                "last_at": h.last_at.isoformat(),
                "departments": h.departments,
                "case_ids": h.case_ids,
                "items": [_report_dict(r) for r in h.reports],
            }
            for h in found[:limit]
        ],
    }


def repeat_complaints(
    session: Session,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    radius_m: float,
    window_days: int,
    towns: Mapping[str, str],
    deadline: Deadline,
) -> dict[str, Any]:
    """Closed cases in [start, end) whose problem came back, per department (a compute-pool
    job)."""
    names = names_of(session, towns)
    closed = evaluation_data.closed_cases(session, start=start, end=end)
    reports = evaluation_data.placed_reports(
        session, start=start, end=end + timedelta(days=window_days)
    )
    session.commit()  # end the read: the matching below holds no transaction
    per_department = hotspot_rules.repeat_complaints(
        closed, reports, radius_m=radius_m, window_days=window_days, check=deadline.check
    )
    out = []
    for department, repeats in per_department.items():
        if not sees_all(actor) and department != actor.department:
            continue
        out.append(
            {
                "department": department or None,
                "name": names.get(department, department) if department else None,
                "closed_cases": len(repeats),
                "repeats": sum(len(r.later) for r in repeats),
                "cases": [
                    {
                        "case_id": r.closed.case_id,
                        "case_number": r.closed.number,
                        "category": r.closed.category,
                        "closed_at": r.closed.closed_at.isoformat(),
                        "lat": r.closed.point.lat,
                        "lon": r.closed.point.lon,
                        "later": [
                            {**_report_dict(rep), "distance_m": round(d, 1)} for rep, d in r.later
                        ],
                    }
                    for r in repeats
                ],
            }
        )
    return {"radius_m": radius_m, "window_days": window_days, "departments": out}


def export_workbook(session: Session, *, run_id: int, deadline: Deadline) -> tuple[str, bytes]:
    """A stored run as an Excel workbook: (file name, bytes) (a compute-pool job; building the
    workbook has no steps to check the time limit between)."""
    del deadline
    run = get_run(session, run_id)
    data = workbook_bytes(run_summary(run), run.results, run.rules_text)
    return f"evaluation-{run.period_label}-{run.id}.xlsx", data
