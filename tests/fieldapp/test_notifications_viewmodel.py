"""The notifications list: unread first, one language shown, a link to the case by number."""

from __future__ import annotations

from fieldapp.i18n import Lang
from fieldapp.viewmodels.notifications import (
    kind_title,
    mark_read_locally,
    notice_rows,
    text_in,
    unread_count,
)

NUMBER = "YX261102-ABCDEF0123"
RAW = [
    {
        "id": 1,
        "kind": "assist_task",
        "case_id": "c1",
        "text": f"协办任务 / assisting task: {NUMBER} — 泵站强排",
        "created_at": "2026-11-02T01:00:00+00:00",
        "read_at": "2026-11-02T02:00:00+00:00",
    },
    {
        "id": 2,
        "kind": "escalation_reminder",
        "case_id": "c2",
        "text": "已超期：催办 / overdue: reminder：案件 YX261102-0000000002",
        "created_at": "2026-11-03T01:00:00+00:00",
        "read_at": None,
    },
    {
        "id": 3,
        "kind": "joint_session",
        "case_id": None,
        "text": "联合办公：积水排查（老城区）/ joint session called",
        "created_at": "2026-11-03T02:00:00+00:00",
        "read_at": None,
    },
]


def test_unread_come_first_and_newest_first_within_each() -> None:
    rows = notice_rows(RAW, Lang.ZH)
    assert [(r.id, r.unread) for r in rows] == [(3, True), (2, True), (1, False)]
    assert unread_count(RAW) == 2


def test_only_the_ui_languages_half_of_the_servers_text_is_shown() -> None:
    assert text_in(RAW[0]["text"], Lang.ZH) == f"协办任务：{NUMBER} — 泵站强排"  # type: ignore[arg-type]
    assert text_in(RAW[0]["text"], Lang.EN) == f"assisting task: {NUMBER} — 泵站强排"  # type: ignore[arg-type]
    assert text_in("即将到期 / due soon：案件 N1", Lang.ZH) == "即将到期：案件 N1"
    assert (
        text_in("联合办公：积水（老城区）/ joint session called", Lang.ZH)
        == "联合办公：积水（老城区）"
    )
    assert (
        text_in("联合办公：积水（老城区）/ joint session called", Lang.EN) == "joint session called"
    )
    plain_english_tail = "案件 N 结案后30日内复发，已返工 / reported again: reopened as rework"
    assert text_in(plain_english_tail, Lang.ZH) == "案件 N 结案后30日内复发，已返工"
    assert text_in("no separator", Lang.ZH) == "no separator"


def test_a_case_is_linked_by_the_devices_number_else_the_one_in_the_text() -> None:
    rows = {r.id: r for r in notice_rows(RAW, Lang.ZH, number_of=lambda cid: None)}
    assert rows[1].case_id == "c1" and rows[1].case_number == NUMBER
    assert rows[3].case_id is None and rows[3].case_number is None
    known = {r.id: r for r in notice_rows(RAW, Lang.ZH, number_of=lambda cid: f"N-{cid}")}
    assert known[2].case_number == "N-c2"


def test_titles_come_from_the_kind_and_unknown_kinds_still_get_one() -> None:
    assert kind_title("assist_task", Lang.ZH) == "协办任务"
    assert kind_title("escalation_leadership", Lang.EN) == "Escalation"
    assert kind_title("escalation_due_soon", Lang.ZH) == "即将到期"
    assert kind_title("something_new", Lang.ZH) == "通知"


def test_tapping_marks_only_that_row_read_and_keeps_the_order() -> None:
    rows = notice_rows(RAW, Lang.ZH)
    after = mark_read_locally(rows, 2)
    assert [r.id for r in after] == [3, 2, 1]
    assert [r.unread for r in after] == [True, False, False]


def test_the_title_is_not_repeated_at_the_start_of_the_text() -> None:
    rows = {r.id: r for r in notice_rows(RAW, Lang.ZH)}
    assert rows[1].text == f"{NUMBER} — 泵站强排"
    english = {r.id: r for r in notice_rows(RAW, Lang.EN)}
    assert english[1].text == f"{NUMBER} — 泵站强排"
    assert rows[3].text == "积水排查（老城区）"
    assert rows[2].text == "已超期：催办：案件 YX261102-0000000002"  # title 催办督办: kept whole
