"""The dashboard view-model: series, rates, labels short enough for a phone, empty data, and
the calls that fetch it (against a fake client)."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.api_client import ServerFault
from fieldapp.dashboard_api import fetch_dashboard, fetch_notifications
from fieldapp.i18n import Lang
from fieldapp.viewmodels.dashboard import (
    MAX_AXIS_LABELS,
    abbreviate,
    axis_indices,
    bar_label_chars,
    bars,
    board_rows,
    build_dashboard,
    hotspot_rows,
    may_see_dashboard,
    nice_max,
    percent,
    rate_rows,
    reference_namer,
    short_bucket_label,
    time_chart,
)
from tests.fieldapp.vm_fixtures import POINT, reference

OVER_TIME = {
    "bucket": "day",
    "statuses": ["assigned", "closed", "accepted"],
    "buckets": [
        {"label": "2026-11-01", "end": "2026-11-01T16:00:00+00:00", "counts": {"assigned": 2}},
        {
            "label": "2026-11-02",
            "end": "2026-11-02T16:00:00+00:00",
            "counts": {"assigned": 1, "accepted": 1},
        },
        {
            "label": "2026-11-03",
            "end": "2026-11-03T16:00:00+00:00",
            "counts": {"accepted": 1, "closed": 1},
        },
    ],
}
ON_TIME = {
    "period": {
        "label": "2026-11",
        "start": "2026-10-31T16:00:00+00:00",
        "end": "2026-11-30T16:00:00+00:00",
    },
    "min_cases": 3,
    "departments": [
        {
            "department": "sw",
            "name": "汶上县水务局",
            "rate": 1.0,
            "sample": 2,
            "late": 0,
            "ranked": False,
        },
        {
            "department": "zhzf",
            "name": "汶上县综合行政执法局",
            "rate": 2 / 3,
            "sample": 3,
            "late": 0,
            "ranked": True,
        },
        {
            "department": "zj",
            "name": "汶上县住房和城乡建设局",
            "rate": None,
            "sample": 0,
            "late": 0,
            "ranked": False,
        },
    ],
}


def test_a_line_per_status_in_lifecycle_order_with_zero_where_a_status_is_absent() -> None:
    chart = time_chart(OVER_TIME, Lang.ZH)
    assert [s.status for s in chart.series] == ["assigned", "accepted", "closed"]
    assert [s.label for s in chart.series] == ["已交办", "已签收", "已结案"]
    assert chart.series[0].points == (2, 1, 0)
    assert chart.series[2].latest == 1
    assert chart.x_labels == ((0, "11-01"), (1, "11-02"), (2, "11-03"))
    assert not chart.empty


def test_no_buckets_or_only_zeros_is_an_empty_chart() -> None:
    assert time_chart({"bucket": "day", "statuses": [], "buckets": []}, Lang.ZH).empty
    zeros = {"bucket": "week", "buckets": [{"label": "2026-W45", "counts": {}}]}
    assert time_chart(zeros, Lang.EN).empty


def test_a_month_of_days_gets_at_most_six_axis_labels_first_and_last_included() -> None:
    picked = axis_indices(30)
    assert len(picked) <= MAX_AXIS_LABELS and picked[0] == 0 and picked[-1] == 29
    assert axis_indices(0) == [] and axis_indices(3) == [0, 1, 2]


def test_bucket_labels_are_short_and_in_the_ui_language() -> None:
    assert short_bucket_label("2026-11-05", "day", Lang.ZH) == "11-05"
    assert short_bucket_label("2026-W45", "week", Lang.ZH) == "45周"
    assert short_bucket_label("2026-W45", "week", Lang.EN) == "W45"
    assert short_bucket_label("2026-11", "month", Lang.ZH) == "11月"
    assert short_bucket_label("2026-11", "month", Lang.EN) == "Nov"
    assert short_bucket_label("odd", "week", Lang.ZH) == "odd"


def test_the_count_axis_tops_at_a_round_number() -> None:
    assert nice_max(0) == 4
    assert nice_max(3) == 4
    assert nice_max(7) == 8
    assert nice_max(13) == 20
    assert nice_max(41) == 80


def test_rates_show_on_time_out_of_scored_and_departments_without_a_rate_are_left_out() -> None:
    rows = rate_rows(ON_TIME, reference_namer(reference()))
    assert [r.department for r in rows] == ["sw", "zhzf"]
    zhzf = rows[1]
    assert (zhzf.name, zhzf.on_time, zhzf.sample, zhzf.percent) == ("综合执法局", 3, 3, "66.7%")
    assert rows[0].percent == "100%"
    assert [r.department for r in bars(rows)] == ["sw", "zhzf"]


def test_names_missing_from_the_reference_come_from_the_server_without_the_county() -> None:
    namer = reference_namer(reference(), {"zj": "汶上县住房和城乡建设局"})
    assert namer("zj") == "住房和城乡建设局"
    assert namer("sw") == "水务局"
    assert namer("nobody") == "nobody"


def test_bar_labels_shrink_with_more_bars_but_never_below_two_characters() -> None:
    assert bar_label_chars(3) == 4
    assert bar_label_chars(12) == 2
    assert abbreviate("综合执法局", 4) == "综合执法"
    assert abbreviate("汶上县水务局", 4) == "水务局"
    assert abbreviate("社会治理中心", 4) == "社会治理"
    assert abbreviate("住房和城乡建设局", 2) == "住房"


def test_percent_rounds_to_one_decimal_and_drops_a_zero_decimal() -> None:
    assert percent(0.5) == "50%"
    assert percent(1 / 3) == "33.3%"
    assert percent(None) == "—"


def test_a_hotspot_is_named_by_the_registered_site_it_sits_on_else_by_coordinates() -> None:
    data = {
        "hotspots": [
            {
                "category": "waterlogging",
                "lat": POINT[0],
                "lon": POINT[1],
                "radius_m": 20,
                "reports": 4,
                "cases": 3,
                "tickets": 1,
            },
            {
                "category": "waterlogging",
                "lat": 35.0,
                "lon": 116.0,
                "radius_m": 20,
                "reports": 3,
                "cases": 3,
                "tickets": 0,
            },
        ]
    }
    rows = hotspot_rows(data, reference(), Lang.ZH)
    assert rows[0].place == "老城区胡同积水点" and rows[0].reports == 4
    assert rows[1].place == "坐标 35.0000, 116.0000"
    assert hotspot_rows({"total": 0, "hotspots": []}, reference(), Lang.ZH) == []


def test_the_board_keeps_the_servers_order_and_names_departments() -> None:
    rows = board_rows(
        [{"key": "zhzf", "overdue": 2, "due_soon": 1, "disputed_overdue": 1}],
        reference_namer(reference()),
    )
    assert rows[0].name == "综合执法局" and (rows[0].overdue, rows[0].due_soon) == (2, 1)


def notification(id_: int, text: str) -> dict[str, Any]:
    """A notification as the server answers it (``sync.bodies.NotificationOut``)."""
    return {
        "id": id_,
        "recipient": "dept:sw",
        "kind": "assist_task",
        "case_id": None,
        "text": text,
        "data": {},
        "created_at": "2026-11-02T01:00:00+00:00",
        "read_at": None,
    }


def test_a_garbled_notification_is_the_servers_fault_naming_the_field() -> None:
    client = FakeClient({"/notifications": [[{"id": 1, "text": "x"}]]})
    with pytest.raises(ServerFault, match="recipient"):
        fetch_notifications(client)


class FakeClient:
    def __init__(self, lists: dict[str, list[list[Any]]] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any] | None]] = []
        self.lists = lists or {}

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((path, params))
        if path.endswith("on-time"):
            return ON_TIME
        if path.endswith("cases-over-time"):
            return OVER_TIME
        return {"radius_m": 100.0, "min_reports": 3, "total": 0, "hotspots": []}

    def get_json_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        self.calls.append((path, params))
        pages = self.lists.get(path) or [[]]
        return pages.pop(0) if pages else []

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return {}


def test_the_dashboard_window_starts_where_the_servers_period_starts() -> None:
    row = {"key": "sw", "overdue": 1, "due_soon": 0, "disputed_overdue": 0}
    client = FakeClient({"/supervision/overdue-board": [[row]]})
    payload = fetch_dashboard(client, "quarter")
    assert client.calls[0] == ("/evaluation/dashboard/on-time", {"kind": "quarter"})
    over_time = client.calls[1]
    assert over_time[1] == {"start": ON_TIME["period"]["start"], "bucket": "week"}
    dash = build_dashboard(
        period="quarter",
        on_time=payload.on_time,
        over_time=payload.over_time,
        hotspots=payload.hotspots,
        board=payload.board,
        reference=reference(),
        lang=Lang.ZH,
    )
    assert dash.period_label == "2026-11"
    assert dash.board[0].name == "水务局" and dash.hotspots == []


def test_notifications_are_read_page_by_page_until_a_short_page() -> None:
    first = [notification(i, "x") for i in (1, 2)]
    client = FakeClient({"/notifications": [first, [notification(3, "y")]]})
    got = fetch_notifications(client, page_size=2)
    assert [n["id"] for n in got] == [1, 2, 3]
    assert client.calls[1] == ("/notifications", {"after_id": 2, "limit": 2})


def test_only_oversight_roles_may_see_the_dashboard() -> None:
    assert all(may_see_dashboard(r) for r in ("supervisor", "coordinator", "admin"))
    assert not any(may_see_dashboard(r) for r in ("handler", "inspector", None, "boss"))


def test_the_dashboard_tab_is_there_for_a_supervisor_and_not_for_a_handler() -> None:
    from fieldapp.shell import DASHBOARD_TAB, nav_tabs, selected_tab

    assert DASHBOARD_TAB not in nav_tabs("handler") and DASHBOARD_TAB not in nav_tabs(None)
    tabs = nav_tabs("supervisor")
    assert tabs[-2] == DASHBOARD_TAB and tabs[-1].route == "/settings"
    assert selected_tab({"/dashboard": True}, tabs) == len(tabs) - 2
