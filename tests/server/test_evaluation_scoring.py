"""Scoring indicators against hand-computed fixtures (pure: no database)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest

from server.evaluation.periods import period_of
from server.evaluation.rules import RULES_PATH, load_rules, parse_rules
from server.evaluation.scoring import EventFact, Report, score
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput

NOV = period_of("month", 2026, 11)
RULES = parse_rules(
    """
version = "test"
base_points = 100.0
min_cases = 2
[indicators.on_time_rate]
kind = "rate"
label = "on time"
weight = 30.0
[indicators.closure_rate]
kind = "rate"
label = "closure"
weight = 20.0
[indicators.rework_rate]
kind = "rate"
label = "rework"
weight = 10.0
lower_is_better = true
[indicators.returns]
kind = "count"
label = "returns"
points_each = 1.0
max_deduction = 3.0
[indicators.disputes_lost]
kind = "count"
label = "disputes lost"
points_each = 2.0
max_deduction = 10.0
[indicators.ruling_refusals]
kind = "count"
label = "refusals"
points_each = 5.0
max_deduction = 20.0
[indicators.repeat_reports]
kind = "count"
label = "repeats"
points_each = 1.0
max_deduction = 10.0
[indicators.assisting_rating]
kind = "rating"
label = "ratings"
neutral = 3
points_per_step = 1.0
max_deduction = 10.0
bonus_per_step = 0.5
max_bonus = 1.0
"""
)


def nov(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=CHINA_TZ)


class Log:
    """Builds an event log in id order, the way the server appends it."""

    def __init__(self) -> None:
        self.events: list[EventFact] = []
        self._ids = itertools.count(1)

    def add(self, case: str, kind: str, at: datetime, dept: str = "x", **data: Any) -> None:
        self.events.append(EventFact(next(self._ids), case, kind, at, dept, data))

    def assign(
        self, case: str, at: datetime, lead: str, due: datetime, assisting: tuple[str, ...] = ()
    ) -> None:
        self.add(
            case,
            "CaseAssigned",
            at,
            lead_department=lead,
            assisting=[{"department_code": a, "duty": "d"} for a in assisting],
            due_at=due.isoformat(),
            list_version=1,
        )

    def score(self, **kw: Any) -> Report:
        return score(
            sorted(self.events, key=lambda e: e.id),
            period=NOV,
            rules=RULES,
            departments=kw.pop("departments", ()),
            **kw,
        )


def indicator(report: Report, dept: str, name: str) -> Any:
    d = report.department(dept)
    assert d is not None, f"{dept} missing"
    ind = d.indicator(name)
    assert ind is not None
    return ind


def test_on_time_rate_leaves_suspended_cases_out_of_the_denominator() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10))
    log.add("A", "CaseClosed", nov(8))  # on time
    log.assign("B", nov(2), "sw", due=nov(12))
    log.add("B", "CaseClosed", nov(14))  # late
    log.assign("C", nov(3), "sw", due=nov(13))
    log.add("C", "CaseSuspended", nov(5))  # clock stopped at the period end: not counted
    log.assign("D", nov(3), "sw", due=nov(16))  # never closed: late
    ind = indicator(log.score(), "sw", "on_time_rate")
    # due = 4 (A, B, C, D); suspended = 1 (C) → denominator 3; on time 1 (A)
    assert (ind.detail["due"], ind.detail["suspended"], ind.detail["on_time"]) == (4, 1, 1)
    assert ind.sample == 3 and ind.value == pytest.approx(1 / 3)
    # 30 points × 2 misses / 3 = 20, 10 for each late case
    assert ind.points == pytest.approx(-20.0)
    assert {link.case_id: link.points for link in ind.links} == pytest.approx({"B": -10, "D": -10})


def test_a_resumed_case_is_judged_against_its_extended_deadline() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10))
    log.add("A", "CaseSuspended", nov(4))
    log.add("A", "CaseResumed", nov(6), due_at=nov(12).isoformat())
    log.add("A", "CaseClosed", nov(11))  # after the first deadline, before the extended one
    log.assign("B", nov(2), "sw", due=nov(9))
    log.add("B", "CaseClosed", nov(9, 9))
    ind = indicator(log.score(), "sw", "on_time_rate")
    assert ind.value == 1.0 and ind.points == 0


def test_overdue_during_an_open_dispute_counts_against_lead_and_every_assisting_department() -> (
    None
):
    log = Log()
    log.assign("D", nov(3), "sw", due=nov(16), assisting=("zj", "jt"))
    log.add("D", "DisputeRaised", nov(4), "zj")  # never ruled before the deadline
    log.assign("E", nov(3), "zj", due=nov(17))
    log.add("E", "CaseClosed", nov(10))
    report = log.score()
    assert indicator(report, "sw", "on_time_rate").points == pytest.approx(-30.0)
    zj = indicator(report, "zj", "on_time_rate")
    # zj: its own case E on time, plus the shared late case D → 1 of 2, 15 points lost for D
    assert (zj.sample, zj.detail["shared"]) == (2, 1)
    assert [(link.case_id, link.points) for link in zj.links] == [("D", pytest.approx(-15.0))]
    jt = indicator(report, "jt", "on_time_rate")
    assert jt.sample == 1 and jt.points == pytest.approx(-30.0)
    assert "dispute" in jt.links[0].note


def test_a_dispute_ruled_before_the_deadline_leaves_the_late_case_to_the_lead_alone() -> None:
    log = Log()
    log.assign("D", nov(3), "sw", due=nov(16), assisting=("zj",))
    log.add("D", "DisputeRaised", nov(4), "zj")
    log.add("D", "DisputeRuled", nov(6), "wbb", responsible_department="sw", lost_by=["zj"])
    report = log.score()
    assert indicator(report, "sw", "on_time_rate").points == pytest.approx(-30.0)
    assert indicator(report, "zj", "on_time_rate").sample == 0
    lost = indicator(report, "zj", "disputes_lost")
    assert lost.points == -2.0 and [link.case_id for link in lost.links] == ["D"]


def test_closing_after_the_period_end_is_late_for_that_period() -> None:
    log = Log()
    log.assign("A", nov(20), "sw", due=nov(30))
    log.add("A", "CaseClosed", datetime(2026, 12, 1, 9, tzinfo=CHINA_TZ))
    ind = indicator(log.score(), "sw", "on_time_rate")
    assert ind.misses == 1 and indicator(log.score(), "sw", "closure_rate").misses == 1


def test_a_running_period_counts_only_deadlines_already_passed() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(5))  # passed, open: late
    log.assign("B", nov(2), "sw", due=nov(25))  # not due yet at as_of
    ind = indicator(log.score(as_of=nov(10)), "sw", "on_time_rate")
    assert ind.sample == 1 and ind.misses == 1


def test_closure_rate_is_closed_over_assigned_in_the_period() -> None:
    log = Log()
    for case, closed in (("A", True), ("B", True), ("C", False), ("D", False)):
        log.assign(case, nov(2), "zhzf", due=datetime(2027, 1, 5, tzinfo=CHINA_TZ))
        if closed:
            log.add(case, "CaseClosed", nov(20))
    log.assign("X", datetime(2026, 10, 20, tzinfo=CHINA_TZ), "zhzf", due=nov(1))  # October
    log.add("Y", "CaseCancelled", nov(1))
    log.assign("Z", nov(3), "zhzf", due=nov(30))
    log.add("Z", "CaseCancelled", nov(4))  # cancelled: not counted
    ind = indicator(log.score(), "zhzf", "closure_rate")
    assert (ind.sample, ind.misses) == (4, 2)
    assert ind.value == 0.5 and ind.points == pytest.approx(-10.0)  # 20 × 2/4


def test_rework_rate_is_reworked_cases_over_reported_back_cases() -> None:
    log = Log()
    for case in "ABCD":
        log.assign(case, nov(2), "sw", due=nov(30))
        log.add(case, "CaseReportedBack", nov(5))
    log.add("A", "CaseSentBack", nov(6), "zfb")
    log.add("A", "CaseReportedBack", nov(7))
    log.add("A", "CaseSentBack", nov(8), "zfb")  # twice: still one reworked case
    ind = indicator(log.score(), "sw", "rework_rate")
    assert (ind.sample, ind.misses, ind.value) == (4, 1, 0.25)
    assert ind.points == pytest.approx(-2.5)  # 10 × 1/4
    assert [link.case_id for link in ind.links] == ["A"]


def test_returns_refusals_and_repeats_cost_points_each_up_to_the_cap() -> None:
    log = Log()
    for i in range(5):
        case = f"R{i}"
        log.assign(case, nov(2), "jt", due=nov(20))
        log.add(case, "CaseReturned", nov(3), "jt", returned_by="jt")
    log.add("F", "RulingRefused", nov(9), "zj", department="zj")
    log.assign("G", nov(2), "sw", due=nov(20))
    log.add("G", "CaseClosed", nov(5))
    log.add("G", "RepeatReported", nov(15), "rx")
    report = log.score()
    returns = indicator(report, "jt", "returns")
    # 5 returns × 1 point, capped at 3: every return is still listed
    assert returns.value == 5 and returns.points == -3.0
    assert [link.points for link in returns.links] == [-1, -1, -1, 0, 0]
    assert indicator(report, "zj", "ruling_refusals").points == -5.0
    assert indicator(report, "sw", "repeat_reports").links[0].case_id == "G"


def test_a_returned_case_counts_for_the_department_it_was_reassigned_to() -> None:
    log = Log()
    log.assign("A", nov(2), "jt", due=nov(10))
    log.add("A", "CaseReturned", nov(3), "jt", returned_by="jt")
    log.assign("A", nov(4), "zj", due=nov(12))
    report = log.score()
    assert indicator(report, "zj", "on_time_rate").misses == 1
    assert indicator(report, "jt", "on_time_rate").sample == 0
    assert indicator(report, "jt", "returns").points == -1.0


def test_lead_ratings_deduct_below_neutral_and_earn_a_capped_bonus_above() -> None:
    log = Log()
    log.add("A", "AssistingRated", nov(5), "sw", department="zj", rating=1)  # −2
    log.add("B", "AssistingRated", nov(5), "sw", department="zj", rating=3)  # 0
    log.add("C", "AssistingRated", nov(5), "sw", department="zj", rating=5)  # +1
    log.add("D", "AssistingRated", nov(5), "sw", department="zj", rating=5)  # +1, cap 1 → 0
    log.add("E", "AssistingRated", nov(5), "sw", department="zj", rating=9)  # not a rating
    ind = indicator(log.score(), "zj", "assisting_rating")
    assert ind.sample == 4 and ind.value == pytest.approx(14 / 4)
    assert ind.points == pytest.approx(-1.0)
    assert {(link.case_id, link.points) for link in ind.links} == {
        ("A", -2.0),
        ("C", 1.0),
        ("D", 0.0),
    }


def test_a_department_below_the_minimum_sample_is_not_ranked_even_with_a_perfect_record() -> None:
    log = Log()
    log.assign("A", nov(2), "tiny", due=nov(10))
    log.add("A", "CaseClosed", nov(3))
    for case in ("B", "C"):
        log.assign(case, nov(2), "big", due=nov(10))
        log.add(case, "CaseClosed", nov(3))
    log.assign("D", nov(2), "big", due=nov(10))  # late: big loses points
    report = log.score(departments=["idle"])
    tiny, big = report.department("tiny"), report.department("big")
    assert tiny is not None and big is not None
    assert tiny.score == 100.0 and big.score < 100.0
    assert (big.rank, big.ranked) == (1, True)
    assert (tiny.rank, tiny.ranked) == (None, False)
    assert [d.department for d in report.departments] == ["big", "idle", "tiny"]
    assert not indicator(report, "tiny", "on_time_rate").ranked


def test_ties_share_a_rank() -> None:
    log = Log()
    for dept in ("a", "b", "c"):
        for i in range(2):
            log.assign(f"{dept}{i}", nov(2), dept, due=nov(10))
            log.add(f"{dept}{i}", "CaseClosed", nov(3))
    log.assign("c9", nov(2), "c", due=nov(10))
    ranks = {d.department: d.rank for d in log.score().departments}
    assert ranks == {"a": 1, "b": 1, "c": 3}


def test_every_point_lost_is_linked_to_a_case_and_the_links_add_up_to_the_score() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10), assisting=("zj",))
    log.add("A", "DisputeRaised", nov(3), "zj")
    log.add("A", "CaseReportedBack", nov(4))
    log.add("A", "CaseSentBack", nov(5), "zfb")
    log.assign("B", nov(2), "sw", due=nov(10))
    log.add("B", "CaseReturned", nov(3), "sw", returned_by="sw")
    log.add("C", "AssistingRated", nov(5), "sw", department="zj", rating=2)
    for d in log.score().departments:
        links = [link for i in d.indicators for link in i.links]
        assert all(link.case_id for link in links)
        assert 100.0 + sum(link.points for link in links) == pytest.approx(d.score)


def test_the_same_events_give_the_same_report_whatever_order_they_arrive_in_per_case() -> None:
    log = Log()
    for i in range(30):
        lead = ("sw", "zj", "jt")[i % 3]
        log.assign(f"c{i}", nov(1 + i % 20), lead, due=nov(2 + i % 25), assisting=("ga",))
        if i % 4:
            log.add(f"c{i}", "CaseClosed", nov(3 + i % 20))
        if i % 5 == 0:
            log.add(f"c{i}", "DisputeRaised", nov(1 + i % 20, 11), "ga")
    first = log.score()
    again = score(list(log.events), period=NOV, rules=RULES, departments=())
    assert [(d.department, d.score, d.rank) for d in first.departments] == [
        (d.department, d.score, d.rank) for d in again.departments
    ]


def test_the_rules_file_in_the_repository_loads_and_names_every_indicator() -> None:
    rules = load_rules(RULES_PATH)
    assert {i.name for i in rules.indicators} == {
        "on_time_rate",
        "closure_rate",
        "rework_rate",
        "returns",
        "disputes_lost",
        "ruling_refusals",
        "repeat_reports",
        "assisting_rating",
        "citizen_satisfaction",
    }
    assert rules.min_cases >= 2


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('version = "v"\nbase_points = 100\nmin_cases = 0', "min_cases"),
        ('version = "v"\nbase_points = 100\nmin_cases = 3\nspeed = 1', "speed"),
        (
            'version = "v"\nbase_points = 100\nmin_cases = 3\n[indicators.on_time_rate]\n'
            'kind = "count"\nlabel = "x"\nweight = 1',
            "indicators.on_time_rate.kind",
        ),
        (
            'version = "v"\nbase_points = 100\nmin_cases = 3\n[indicators.returns]\n'
            'kind = "count"\nlabel = "x"\npoints_each = 1',
            "indicators.returns.max_deduction",
        ),
        (
            'version = "v"\nbase_points = 100\nmin_cases = 3\n[indicators.speed]\nkind="rate"',
            "indicators.speed",
        ),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_key(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_rules(text)
    assert err.value.field == field


def test_periods_are_china_time_months_quarters_and_years() -> None:
    q4 = period_of("quarter", 2026, 4)
    assert (q4.label, q4.start, q4.end) == (
        "2026-Q4",
        datetime(2026, 10, 1, tzinfo=CHINA_TZ),
        datetime(2027, 1, 1, tzinfo=CHINA_TZ),
    )
    dec = period_of("month", 2026, 12)
    assert dec.end - dec.start == timedelta(days=31)
    with pytest.raises(InvalidInput):
        period_of("quarter", 2026, 5)


def test_a_repeat_report_reopens_the_case_against_its_fresh_deadline() -> None:
    log = Log()
    log.assign("A", nov(2), "sw", due=nov(10))
    log.add("A", "CaseClosed", nov(5))
    log.add("A", "RepeatReported", nov(12), "rx", due_at=nov(20).isoformat())
    report = log.score()
    on_time = indicator(report, "sw", "on_time_rate")
    assert on_time.misses == 1 and on_time.links[0].case_id == "A"  # not closed by 20 Nov
    assert indicator(report, "sw", "repeat_reports").points == -1.0
    assert indicator(report, "sw", "rework_rate").sample == 0


CALL_BACK_RULES = parse_rules(
    """
version = "test"
base_points = 100.0
min_cases = 2
[indicators.repeat_reports]
kind = "count"
label = "repeats"
points_each = 1.0
max_deduction = 10.0
[indicators.citizen_satisfaction]
kind = "satisfaction"
label = "群众诉求解决情况"
weight = 10.0
credit_satisfied = 1.0
credit_basically_satisfied = 0.8
credit_not_satisfied = 0.0
"""
)


def call_back(log: Log, case: str, at: datetime, result: str, responsible: str = "rx") -> int:
    log.add(case, "CallBackRecorded", at, "rx", result=result, responsible_department=responsible)
    return log.events[-1].id


def test_citizens_requests_resolved_counts_each_call_back_against_the_lead_linked_to_it() -> None:
    log = Log()
    log.assign("A", nov(2), "zhzf", due=nov(10))
    log.assign("B", nov(2), "zhzf", due=nov(10))
    call_back(log, "A", nov(11), "satisfied")
    basically = call_back(log, "A", nov(12), "basically_satisfied")
    unsatisfied = call_back(log, "B", nov(12), "not_satisfied")
    call_back(log, "B", nov(13), "satisfied")
    call_back(log, "B", datetime(2026, 12, 1, 9, tzinfo=CHINA_TZ), "not_satisfied")  # December
    report = score(log.events, period=NOV, rules=CALL_BACK_RULES, departments=())
    ind = indicator(report, "zhzf", "citizen_satisfaction")
    # 4 call-backs in November: 10 points ÷ 4 = 2.5 each; 基本满意 keeps 0.8 of it, 不满意 none
    assert (ind.sample, ind.misses) == (4, 2)
    assert ind.value == pytest.approx((1 + 0.8 + 0 + 1) / 4)
    assert ind.points == pytest.approx(-(2.5 * 0.2 + 2.5))
    assert {(link.case_id, link.event_id): link.points for link in ind.links} == pytest.approx(
        {("A", basically): -0.5, ("B", unsatisfied): -2.5}
    )
    assert "不满意" in next(link.note for link in ind.links if link.event_id == unsatisfied)
    assert ind.detail == {"satisfied": 2, "basically_satisfied": 1, "not_satisfied": 1}
    assert report.department("rx") is None  # the hotline centre only recorded them


def test_a_call_back_while_nobody_leads_counts_for_the_department_the_event_names() -> None:
    log = Log()
    log.add("A", "CaseCreated", nov(2), "rx")
    call_back(log, "A", nov(3), "not_satisfied", responsible="rx")
    report = score(log.events, period=NOV, rules=CALL_BACK_RULES, departments=())
    assert indicator(report, "rx", "citizen_satisfaction").points == pytest.approx(-10.0)


def test_satisfaction_credits_outside_0_to_1_are_refused_naming_the_key() -> None:
    text = """
version = "v"
base_points = 100
min_cases = 1
[indicators.citizen_satisfaction]
kind = "satisfaction"
label = "x"
weight = 10
credit_satisfied = 1.5
credit_basically_satisfied = 0.8
credit_not_satisfied = 0
"""
    with pytest.raises(InvalidInput) as caught:
        parse_rules(text)
    assert caught.value.field == "indicators.citizen_satisfaction.credit_satisfied"
