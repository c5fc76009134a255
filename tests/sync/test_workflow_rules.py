"""The pure workflow rules the phone applies offline: time nodes, repeats, dispute path,
escalation levels."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sync.boundary_types import Point, TimeLimit
from sync.call_backs import parse_call_back_result
from sync.clock import CHINA_TZ
from sync.disputes import Stage, lost_by, next_stage
from sync.errors import InvalidInput, RuleViolation
from sync.escalation import Level, levels_reached
from sync.vocabulary import CallBackResult, CaseStatus, TimeUnit
from sync.workflow import (
    ClosedCase,
    assisting_due_at,
    call_back_counts_as_repeat,
    check_rating,
    find_repeat,
    within_repeat_window,
)
from tests.support.work_calendar import SEEDED

MON = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)
DAYS = TimeUnit.WORKING_DAYS


def test_an_assisting_time_node_falls_a_working_day_before_the_leads_deadline() -> None:
    # 5 working days from Mon → due Mon 9 Nov 17:30; assisting: 4 days → Fri 6 Nov 17:30
    due = assisting_due_at(assigned_at=MON, lead_limit=TimeLimit(5, DAYS), calendar=SEEDED)
    assert due == datetime(2026, 11, 6, 17, 30, tzinfo=CHINA_TZ)
    one_day = assisting_due_at(assigned_at=MON, lead_limit=TimeLimit(1, DAYS), calendar=SEEDED)
    assert one_day == datetime(2026, 11, 3, 17, 30, tzinfo=CHINA_TZ)


def test_a_low_rating_needs_a_comment_and_an_early_rating_is_refused() -> None:
    later = MON + timedelta(days=3)
    with pytest.raises(InvalidInput):
        check_rating(
            rating=1, comment="", task_reported=True, due_at=later, already_rated=False, now=MON
        )
    with pytest.raises(RuleViolation):
        check_rating(
            rating=4, comment="", task_reported=False, due_at=later, already_rated=False, now=MON
        )
    check_rating(
        rating=4,
        comment="",
        task_reported=False,
        due_at=later,
        already_rated=False,
        now=later + timedelta(minutes=1),
    )


def test_a_repeat_is_the_same_category_and_place_within_30_days() -> None:
    closed = ClosedCase("a", "parking", MON, None, Point(35.74, 116.478))
    near = Point(35.7402, 116.478)  # about 22 m away
    day = timedelta(days=1)
    assert (
        find_repeat([closed], category="parking", site_code=None, point=near, now=MON + 30 * day)
        == closed
    )
    assert (
        find_repeat([closed], category="parking", site_code=None, point=near, now=MON + 31 * day)
        is None
    )
    assert (
        find_repeat([closed], category="drainage", site_code=None, point=near, now=MON + day)
        is None
    )
    far = Point(35.745, 116.478)
    assert (
        find_repeat([closed], category="parking", site_code=None, point=far, now=MON + day) is None
    )


def test_the_dispute_path_ends_at_the_ruling_and_a_county_leader_coordinates_once() -> None:
    assert next_stage(Stage.CONSULTATION, needs_county_leader=False) == Stage.COORDINATION
    assert next_stage(Stage.COORDINATION, needs_county_leader=False) == Stage.RULING
    with pytest.raises(RuleViolation):
        next_stage(Stage.RULING, needs_county_leader=False)
    with pytest.raises(RuleViolation):
        next_stage(Stage.COORDINATION, needs_county_leader=True)


def test_only_a_department_that_said_not_ours_and_was_ruled_responsible_lost() -> None:
    assert lost_by(["zj", "zhzf"], "zj") == ["zj"]
    assert lost_by(["zj"], "sw") == []


def test_escalation_levels_follow_working_time_past_the_due_time() -> None:
    due = datetime(2026, 11, 5, 10, 30, tzinfo=CHINA_TZ)  # Thursday

    def reached(now: datetime) -> list[Level]:
        return levels_reached(
            assigned_at=MON,
            due_at=due,
            now=now,
            suspended=False,
            accepted=True,
            acceptance_due_at=None,
            calendar=SEEDED,
        )

    assert reached(due - timedelta(hours=2)) == [Level.DUE_SOON]
    assert reached(due + timedelta(minutes=1)) == [Level.REMINDER]
    # Thu 10:30 → Fri 10:30 is one working day
    assert reached(due + timedelta(days=1)) == [Level.REMINDER, Level.SUPERVISOR]
    # the weekend does not count: Mon 10:29 is still under 3 working days late
    assert Level.LEADERSHIP not in reached(datetime(2026, 11, 9, 10, 29, tzinfo=CHINA_TZ))
    assert Level.LEADERSHIP in reached(datetime(2026, 11, 10, 10, 30, tzinfo=CHINA_TZ))
    assert (
        levels_reached(
            assigned_at=MON,
            due_at=due,
            now=due + timedelta(days=9),
            suspended=True,
            accepted=True,
            acceptance_due_at=None,
            calendar=SEEDED,
        )
        == []
    )


@pytest.mark.parametrize(
    ("result", "status", "after", "counts"),
    [
        (CallBackResult.NOT_SATISFIED, CaseStatus.CLOSED, timedelta(days=30), True),
        (CallBackResult.NOT_SATISFIED, CaseStatus.CLOSED, timedelta(days=31), False),
        (CallBackResult.NOT_SATISFIED, CaseStatus.CLOSED, -timedelta(hours=1), False),
        (CallBackResult.NOT_SATISFIED, CaseStatus.HANDLING, timedelta(days=1), False),
        (CallBackResult.BASICALLY_SATISFIED, CaseStatus.CLOSED, timedelta(days=1), False),
        (CallBackResult.SATISFIED, CaseStatus.CLOSED, timedelta(days=1), False),
    ],
)
def test_an_unsatisfied_call_back_on_a_closed_case_is_a_repeat_report_within_its_window(
    result: CallBackResult, status: CaseStatus, after: timedelta, counts: bool
) -> None:
    assert (
        call_back_counts_as_repeat(
            result=result, status=status, closed_at=MON, called_back_at=MON + after
        )
        is counts
    )
    # the same window as a new report at the place of the closed case
    closed = ClosedCase("c", "parking", MON, None, Point(35.73, 116.48))
    repeated = find_repeat(
        [closed], category="parking", site_code=None, point=Point(35.73, 116.48), now=MON + after
    )
    assert (repeated is not None) is within_repeat_window(MON, MON + after)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("满意", CallBackResult.SATISFIED),
        (" 基本满意 ", CallBackResult.BASICALLY_SATISFIED),
        ("不满意", CallBackResult.NOT_SATISFIED),
        ("Not_Satisfied", CallBackResult.NOT_SATISFIED),
    ],
)
def test_call_back_results_read_in_chinese_or_english(text: str, result: CallBackResult) -> None:
    assert parse_call_back_result(text) is result


def test_a_call_back_result_that_is_none_of_the_three_is_refused_naming_the_field() -> None:
    for bad in ("还行", "", 3):
        with pytest.raises(InvalidInput) as caught:
            parse_call_back_result(bad)
        assert caught.value.field == "result"
