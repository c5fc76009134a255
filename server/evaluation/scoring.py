"""Department scores from the case event log: pure, reproducible (same events → same report).

The input is every event of the cases involved, as ``EventFact`` values in id order (the data
layer stops at a run's high-water mark). Each case's events are replayed up to ``as_of`` (the
period's end, or now for a running period) to learn, at every moment, its lead, assisting
departments, deadline, suspension, disputes and closure. Then, per department:

- **on-time closure rate** = on-time closed ÷ (due − suspended). *Due*: the case's deadline
  falls in [period start, as_of). *Suspended*: its clock is stopped at ``as_of`` (not counted).
  *On time*: closed at ``as_of`` and closed no later than the deadline. Scores follow
  responsibility over time (``sync/responsibility.py``): the case counts for the department
  responsible **at the deadline** — after a ruling, an agreed settlement or a return and
  reassignment, the new lead owns it from then on, and the department that lost it is not
  charged. A joint session's time node, when set, is the deadline. A case late while a
  dispute was open at its deadline (DisputeRaised with no DisputeRuled yet) is a miss for the
  lead **and** every assisting department (shared responsibility): it joins their samples too.
  Each miss links to the event that made the department responsible (assignment or ruling).
- **closure rate** = closed at ``as_of`` ÷ cases whose (last) assignment fell in the period,
  not cancelled, merged or suspended; counted for the department responsible at ``as_of``.
- **rework rate** = cases sent back or reopened in the period ÷ cases reported back in the
  period, both while the department led them (lower is better).
- **returns** (CaseReturned, against ``returned_by``), **disputes lost** (DisputeRuled, each
  department in ``lost_by``), **ruling refusals** (RulingRefused, ``department``), **repeat
  reports** (RepeatReported, against the lead at that moment): counted when they happen in the
  period. A RepeatReported also reopens the case with the fresh deadline in its data (it is
  not counted again in the rework rate).
- **assisting rating**: each AssistingRated in the period, for its ``department``.
- **citizens' requests resolved** (群众诉求解决情况): each CallBackRecorded in the period, against
  the lead at that moment (or the ``responsible_department`` it names while nobody leads);
  value = mean credit of the results; each call-back costs weight ÷ call-backs × (1 − credit).
  An unsatisfied call-back on a closed case is also recorded as a RepeatReported (the repeat
  rule of ``sync.workflow``), counted above like any repeat report.

Every deduction or bonus is a list of ``CaseLink`` values whose points add up to it exactly.
Departments whose sample (distinct cases in any rate) is below ``min_cases`` are not ranked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.evaluation.budget import no_limit
from server.evaluation.rules import IndicatorRule, Rules
from sync.events import (
    ASSISTING_RATED,
    CALL_BACK_RECORDED,
    DISPUTE_RULED,
    EVENT_FOR_ACTION,
    REPEAT_REPORTED,
    RULING_REFUSED,
)
from sync.lifecycle import Action
from sync.responsibility import INITIAL, advance, responsible_at

# The event names, from the one list (sync.events).
ASSIGNED = EVENT_FOR_ACTION[Action.ASSIGN]
RETURNED = EVENT_FOR_ACTION[Action.RETURN]
REPORTED_BACK = EVENT_FOR_ACTION[Action.REPORT_BACK]
CLOSED = EVENT_FOR_ACTION[Action.CLOSE]
SENT_BACK = EVENT_FOR_ACTION[Action.SEND_BACK]
REOPENED = EVENT_FOR_ACTION[Action.REOPEN]
CANCELLED = EVENT_FOR_ACTION[Action.CANCEL]
MERGED = EVENT_FOR_ACTION[Action.MERGE]
SUSPENDED = EVENT_FOR_ACTION[Action.SUSPEND]
RESUMED = EVENT_FOR_ACTION[Action.RESUME]
DISPUTE_RAISED = EVENT_FOR_ACTION[Action.RAISE_DISPUTE]

NOTE_LATE = "逾期或未按时办结 / not closed by the deadline"
NOTE_SHARED = "异议期间逾期，共同担责 / late while a dispute was open: shared"
NOTE_NOT_CLOSED = "未办结 / not closed"
NOTE_REWORK = "返工 / sent back or reopened"


@dataclass(frozen=True)
class EventFact:
    """One case event as scoring needs it (a plain copy of a ``case_event`` row)."""

    id: int
    case_id: str
    kind: str
    at: datetime
    actor_department: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Period:
    label: str  # "2026-11", "2026-Q4", "2026"
    start: datetime
    end: datetime  # exclusive


@dataclass(frozen=True)
class CaseLink:
    """Points lost (negative) or won (positive) because of one case."""

    case_id: str
    points: float
    note: str
    event_id: int | None = None


@dataclass
class IndicatorResult:
    name: str
    label: str
    kind: str
    value: float | None  # the rate, the count, or the mean rating; None: no sample
    sample: int  # rate: its denominator; count/rating: number of events
    misses: int  # rate: cases that cost points; count: events; rating: ratings below neutral
    ranked: bool  # rate: sample >= min_cases
    points: float  # <= 0 deduction, > 0 bonus
    links: list[CaseLink]
    detail: dict[str, int] = field(default_factory=dict)


@dataclass
class DepartmentScore:
    department: str
    score: float
    sample: int
    ranked: bool
    rank: int | None
    indicators: list[IndicatorResult]

    def indicator(self, name: str) -> IndicatorResult | None:
        return next((i for i in self.indicators if i.name == name), None)


@dataclass
class Report:
    period: Period
    as_of: datetime
    rules_version: str
    rules_digest: str
    high_water_mark: int
    min_cases: int
    departments: list[DepartmentScore]  # ranked by score first, then the unranked

    def department(self, code: str) -> DepartmentScore | None:
        return next((d for d in self.departments if d.department == code), None)


@dataclass
class _RateTally:
    sample: dict[str, None] = field(default_factory=dict)  # ordered set of case ids
    misses: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # id → note, event
    extra: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Tallies:
    rates: dict[str, dict[str, _RateTally]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(_RateTally))
    )
    counts: dict[str, dict[str, list[tuple[str, int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    ratings: dict[str, list[tuple[str, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    seen: set[str] = field(default_factory=set)
    call_backs: dict[str, list[tuple[str, str, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # department → (case id, result, event id)


def _replay_case(
    case_id: str, events: Sequence[EventFact], p: Period, as_of: datetime, t: _Tallies
) -> None:
    resp = INITIAL  # who has the case, as sync/responsibility.py defines it
    assigned_at: datetime | None = None
    suspended = False
    closed_at: datetime | None = None
    finished = False  # cancelled or merged
    reported_by: dict[str, int] = {}  # lead → event id of a report-back in the period
    reworked_by: dict[str, int] = {}
    start = p.start
    seen: list[EventFact] = []
    for e in events:
        if e.at >= as_of:
            break
        seen.append(e)
        lead = resp.lead  # the lead just before this event
        resp = advance(resp, e)
        in_period = e.at >= start
        kind = e.kind
        if kind == ASSIGNED:
            assigned_at = e.at
        elif kind == RETURNED:
            returned_by = e.data.get("returned_by") or lead or e.actor_department
            if in_period:
                t.counts["returns"][returned_by].append((case_id, e.id))
            assigned_at = None
        elif kind == REPORTED_BACK:
            if in_period and lead is not None:
                reported_by.setdefault(lead, e.id)
        elif kind == CLOSED:
            closed_at = e.at
        elif kind in (SENT_BACK, REOPENED):
            closed_at = None
            if in_period and lead is not None:
                reworked_by.setdefault(lead, e.id)
        elif kind in (CANCELLED, MERGED):
            finished = True
        elif kind == SUSPENDED:
            suspended = True
        elif kind == RESUMED:
            suspended = False
        elif kind == DISPUTE_RULED:
            if in_period:
                for dept in e.data.get("lost_by") or ():
                    t.counts["disputes_lost"][dept].append((case_id, e.id))
        elif kind == RULING_REFUSED:
            dept = e.data.get("department") or e.actor_department
            if in_period:
                t.counts["ruling_refusals"][dept].append((case_id, e.id))
        elif kind == REPEAT_REPORTED:  # reopened as rework, with a fresh deadline
            if in_period and lead is not None:
                t.counts["repeat_reports"][lead].append((case_id, e.id))
            closed_at = None
        elif kind == CALL_BACK_RECORDED:
            dept = lead or e.data.get("responsible_department")
            result = e.data.get("result")
            if in_period and isinstance(dept, str) and isinstance(result, str):
                t.call_backs[dept].append((case_id, result, e.id))
        elif kind == ASSISTING_RATED:
            dept = e.data.get("department")
            rating = e.data.get("rating")
            if (
                in_period
                and isinstance(dept, str)
                and isinstance(rating, int)
                and not isinstance(rating, bool)
                and 1 <= rating <= 5
            ):
                t.ratings[dept].append((case_id, rating, e.id))

    for dept, _ in reported_by.items():
        tally = t.rates["rework_rate"][dept]
        tally.sample[case_id] = None
        if dept in reworked_by:
            tally.misses[case_id] = (NOTE_REWORK, reworked_by[dept])
    if finished:
        return
    lead = resp.lead
    if lead is not None and assigned_at is not None and start <= assigned_at < as_of:
        if suspended:
            t.rates["closure_rate"][lead].extra["suspended"] += 1
        else:
            tally = t.rates["closure_rate"][lead]
            tally.sample[case_id] = None
            if closed_at is None:
                tally.misses[case_id] = (NOTE_NOT_CLOSED, resp.since_event_id)
    due_at = resp.due_at
    if lead is None or due_at is None or not (start <= due_at < as_of):
        return
    # scores follow responsibility: the department that had the case at its deadline
    at_due = responsible_at(seen, due_at)
    owner = at_due.lead or lead
    on_time = t.rates["on_time_rate"]
    on_time[owner].extra["due"] += 1
    if suspended:
        on_time[owner].extra["suspended"] += 1
        return
    on_time[owner].sample[case_id] = None
    if closed_at is not None and closed_at <= due_at:
        on_time[owner].extra["on_time"] += 1
        return
    on_time[owner].misses[case_id] = (NOTE_LATE, at_due.since_event_id)
    for dept in at_due.sharing:
        if dept == owner:
            continue
        on_time[dept].extra["shared"] += 1
        on_time[dept].sample[case_id] = None
        on_time[dept].misses[case_id] = (NOTE_SHARED, at_due.since_event_id)


def _rate_result(rule: IndicatorRule, tally: _RateTally | None, min_cases: int) -> IndicatorResult:
    tally = tally or _RateTally()
    sample = len(tally.sample)
    misses = len(tally.misses)
    if sample == 0:
        value: float | None = None
        links: list[CaseLink] = []
    else:
        value = (misses if rule.lower_is_better else sample - misses) / sample
        each = rule.weight / sample
        links = [
            CaseLink(case_id, -each, note, event_id)
            for case_id, (note, event_id) in tally.misses.items()
        ]
    return IndicatorResult(
        name=rule.name,
        label=rule.label,
        kind=rule.kind,
        value=value,
        sample=sample,
        misses=misses,
        ranked=sample >= min_cases,
        points=sum(link.points for link in links),
        links=links,
        detail=dict(tally.extra),
    )


def _capped(links: list[CaseLink], cap: float, sign: float) -> list[CaseLink]:
    """Keep each link's points until the total reaches ``cap``; later links carry 0."""
    out: list[CaseLink] = []
    left = cap
    for link in links:
        take = min(abs(link.points), max(left, 0.0))
        left -= take
        note = link.note if take == abs(link.points) else f"{link.note}（已达上限 / cap reached）"
        out.append(CaseLink(link.case_id, sign * take, note, link.event_id))
    return out


def _count_result(rule: IndicatorRule, items: list[tuple[str, int]]) -> IndicatorResult:
    raw = [CaseLink(case_id, -rule.points_each, rule.label, eid) for case_id, eid in items]
    links = _capped(raw, rule.max_deduction, -1.0)
    return IndicatorResult(
        name=rule.name,
        label=rule.label,
        kind=rule.kind,
        value=float(len(items)),
        sample=len(items),
        misses=len(items),
        ranked=True,
        points=sum(link.points for link in links),
        links=links,
    )


def _rating_result(rule: IndicatorRule, items: list[tuple[str, int, int]]) -> IndicatorResult:
    low = [
        CaseLink(cid, -(rule.neutral - r) * rule.points_per_step, f"评分 {r} / rated {r}", eid)
        for cid, r, eid in items
        if r < rule.neutral
    ]
    high = [
        CaseLink(cid, (r - rule.neutral) * rule.bonus_per_step, f"评分 {r} / rated {r}", eid)
        for cid, r, eid in items
        if r > rule.neutral
    ]
    links = _capped(low, rule.max_deduction, -1.0) + _capped(high, rule.max_bonus, 1.0)
    return IndicatorResult(
        name=rule.name,
        label=rule.label,
        kind=rule.kind,
        value=sum(r for _, r, _ in items) / len(items) if items else None,
        sample=len(items),
        misses=len(low),
        ranked=len(items) >= 1,
        points=sum(link.points for link in links),
        links=links,
    )


_CALL_BACK_NOTES: Mapping[str, str] = {
    "satisfied": "回访满意 / call-back: satisfied",
    "basically_satisfied": "回访基本满意 / call-back: basically satisfied",
    "not_satisfied": "回访不满意 / call-back: not satisfied",
}


def _satisfaction_result(
    rule: IndicatorRule, items: list[tuple[str, str, int]], min_cases: int
) -> IndicatorResult:
    sample = len(items)
    links: list[CaseLink] = []
    for case_id, result, event_id in items:
        lost = rule.weight / sample * (1.0 - rule.credit(result))
        if lost > 0:
            note = _CALL_BACK_NOTES.get(result, result)
            links.append(CaseLink(case_id, -lost, note, event_id))
    detail: dict[str, int] = defaultdict(int)
    for _, result, _ in items:
        detail[result] += 1
    return IndicatorResult(
        name=rule.name,
        label=rule.label,
        kind=rule.kind,
        value=sum(rule.credit(r) for _, r, _ in items) / sample if sample else None,
        sample=sample,
        misses=len(links),
        ranked=sample >= min_cases,
        points=sum(link.points for link in links),
        links=links,
        detail=dict(detail),
    )


def _rank(departments: list[DepartmentScore]) -> list[DepartmentScore]:
    def on_time(d: DepartmentScore) -> float:
        ind = d.indicator("on_time_rate")
        return ind.value if ind is not None and ind.value is not None else -1.0

    ranked = sorted(
        (d for d in departments if d.ranked),
        key=lambda d: (-round(d.score, 6), -on_time(d), d.department),
    )
    previous: tuple[float, int] | None = None
    for position, d in enumerate(ranked, start=1):
        key = round(d.score, 6)
        d.rank = previous[1] if previous is not None and previous[0] == key else position
        previous = (key, d.rank)
    unranked = sorted((d for d in departments if not d.ranked), key=lambda d: d.department)
    return ranked + unranked


def score(
    events: Iterable[EventFact],
    *,
    period: Period,
    rules: Rules,
    departments: Iterable[str],
    as_of: datetime | None = None,
    high_water_mark: int = 0,
    check: Callable[[], None] = no_limit,
) -> Report:
    """The report of one period. ``events`` must be in id order; ``departments`` are listed even
    with nothing to score (any other department met in the events is added). ``check`` is
    called between cases (server/evaluation/budget.py: the time limit)."""
    cutoff = min(period.end, as_of) if as_of is not None else period.end
    by_case: dict[str, list[EventFact]] = defaultdict(list)
    for e in events:
        by_case[e.case_id].append(e)
    tallies = _Tallies()
    for case_id, case_events in by_case.items():
        check()
        _replay_case(case_id, case_events, period, cutoff, tallies)

    codes = dict.fromkeys(departments)
    for rate in tallies.rates.values():
        codes.update(dict.fromkeys(rate))
    for count in tallies.counts.values():
        codes.update(dict.fromkeys(count))
    codes.update(dict.fromkeys(tallies.ratings))
    codes.update(dict.fromkeys(tallies.call_backs))

    scores: list[DepartmentScore] = []
    for code in codes:
        results: list[IndicatorResult] = []
        sample_cases: set[str] = set()
        for rule in rules.indicators:
            if rule.kind == "rate":
                tally = tallies.rates.get(rule.name, {}).get(code)
                if tally is not None:
                    sample_cases.update(tally.sample)
                results.append(_rate_result(rule, tally, rules.min_cases))
            elif rule.kind == "count":
                results.append(_count_result(rule, tallies.counts.get(rule.name, {}).get(code, [])))
            elif rule.kind == "satisfaction":
                called = tallies.call_backs.get(code, [])
                sample_cases.update(case_id for case_id, _, _ in called)
                results.append(_satisfaction_result(rule, called, rules.min_cases))
            else:
                results.append(_rating_result(rule, tallies.ratings.get(code, [])))
        total = rules.base_points + sum(r.points for r in results)
        scores.append(
            DepartmentScore(
                department=code,
                score=total,
                sample=len(sample_cases),
                ranked=len(sample_cases) >= rules.min_cases,
                rank=None,
                indicators=results,
            )
        )
    return Report(
        period=period,
        as_of=cutoff,
        rules_version=rules.version,
        rules_digest=rules.digest,
        high_water_mark=high_water_mark,
        min_cases=rules.min_cases,
        departments=_rank(scores),
    )


def report_as_dict(report: Report) -> dict[str, Any]:
    """The JSON form stored with a run and served by the API (points rounded to 4 places)."""
    return {
        "period": {
            "label": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "as_of": report.as_of.isoformat(),
        "rules_version": report.rules_version,
        "rules_digest": report.rules_digest,
        "high_water_mark": report.high_water_mark,
        "min_cases": report.min_cases,
        "departments": [department_as_dict(d) for d in report.departments],
    }


def department_as_dict(d: DepartmentScore) -> dict[str, Any]:
    return {
        "department": d.department,
        "score": round(d.score, 4),
        "rank": d.rank,
        "ranked": d.ranked,
        "sample": d.sample,
        "indicators": [
            {
                "name": i.name,
                "label": i.label,
                "kind": i.kind,
                "value": None if i.value is None else round(i.value, 6),
                "sample": i.sample,
                "misses": i.misses,
                "ranked": i.ranked,
                "points": round(i.points, 4),
                "detail": i.detail,
                "links": [
                    {
                        "case_id": link.case_id,
                        "points": round(link.points, 4),
                        "note": link.note,
                        "event_id": link.event_id,
                    }
                    for link in i.links
                ],
            }
            for i in d.indicators
        ],
    }
