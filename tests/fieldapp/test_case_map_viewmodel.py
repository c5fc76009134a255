"""Where the problem is: what the maps draw and what the case screen says about the place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.config import TIANDITU_VECTOR, AppConfig, ConfigError, tile_source
from fieldapp.viewmodels.case_map import (
    NEARBY_M,
    Level,
    around_me_map,
    case_map,
    inspection_map,
    open_cases_near,
    place_of,
    tiles_unavailable,
)
from sync.boundary_types import Point
from sync.device_store import DeviceStore
from sync.geo import bounding_box, distance_m
from tests.fieldapp.vm_fixtures import NOW, POINT, reference, snapshot

HERE = Point(POINT[0] - 0.0029, POINT[1])  # ~320 m south of the case
CASE = Point(*POINT)


def at(d_north_m: float, d_east_m: float = 0.0) -> dict[str, float]:
    """A point ``d_north_m`` north and ``d_east_m`` east of the case (small offsets)."""
    return {"lat": POINT[0] + d_north_m / 110_950.0, "lon": POINT[1] + d_east_m / 90_200.0}


def iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def other(case_id: str, **fields: Any) -> dict[str, Any]:
    return snapshot(id=case_id, number=f"YX-{case_id}", **{**at(100), **fields})


OVERDUE = other(
    "late",
    status="handling",
    assigned_at=iso(NOW - timedelta(days=5)),
    due_at=iso(NOW - timedelta(hours=1)),
)
DUE_SOON = other(  # 24 working hours granted, 1 left
    "soon",
    status="accepted",
    assigned_at=iso(NOW - timedelta(days=4)),
    due_at=iso(NOW + timedelta(hours=1)),
    **at(-200),
)
NORMAL = other(
    "fine",
    status="assigned",
    assigned_at=iso(NOW),
    due_at=iso(NOW + timedelta(days=10)),
    **at(0, 300),
)


def test_other_open_cases_nearby_are_coloured_overdue_due_soon_or_normal() -> None:
    pins = open_cases_near(
        [OVERDUE, DUE_SOON, NORMAL], CASE, now=NOW, calendar=reference().calendar
    )
    assert {p.case_id: p.level for p in pins} == {
        "late": Level.OVERDUE,
        "soon": Level.DUE_SOON,
        "fine": Level.NORMAL,
    }
    assert [p.case_id for p in pins] == ["late", "soon", "fine"]  # nearest first


def test_a_suspended_overdue_case_is_not_shown_as_overdue() -> None:
    paused = {**OVERDUE, "suspended": True}
    (pin,) = open_cases_near([paused], CASE, now=NOW, calendar=reference().calendar)
    assert pin.level is Level.NORMAL


def test_closed_far_and_pointless_cases_and_the_case_itself_are_left_off() -> None:
    closed = other("done", status="closed")
    far = other("far", status="assigned", **at(NEARBY_M + 50))
    pointless = other("nowhere", status="assigned", lat=None, lon=None)
    this = snapshot(status="assigned")
    model = case_map(this, reference(), [this, closed, far, pointless, NORMAL], here=HERE, now=NOW)
    assert [p.case_id for p in model.others] == ["fine"]


def test_the_case_map_draws_the_point_its_site_its_town_and_the_phone() -> None:
    model = case_map(snapshot(status="assigned"), reference(), [], here=HERE, now=NOW)
    assert model.subject == CASE and model.here == HERE
    assert [s.code for s in model.sites] == ["W01"]  # the registered site in reach
    assert [t.name for t in model.outlines] == ["汶上街道"]
    assert model.outlines[0].polygon  # its outline, from the reference data
    assert model.center == CASE
    assert CASE in model.fit


def test_a_case_named_site_and_town_win_over_the_nearest_ones() -> None:
    far_away = snapshot(lat=35.80, lon=116.60, site_code="W01", town_code="wenshang")
    model = case_map(far_away, reference(), [], here=None, now=NOW)
    assert [s.code for s in model.sites] == ["W01"]
    assert [t.code for t in model.outlines] == ["wenshang"]


def test_a_case_without_a_point_has_nothing_to_centre_on_and_no_distance() -> None:
    pointless = snapshot(lat=None, lon=None)
    model = case_map(pointless, reference(), [NORMAL], here=HERE, now=NOW)
    assert model.subject is None and model.others == () and model.sites == ()
    place = place_of(pointless, reference(), HERE)
    assert place.distance_m is None and place.coordinates is None
    assert place.site is None and place.town is None


def test_the_place_in_words_site_town_address_distance_and_coordinates() -> None:
    ticket = {"kind": "HotlineTicketLinked", "data": {"address": "中都大街 88 号"}}
    case = snapshot(events=[ticket])
    place = place_of(case, reference(), HERE)
    assert place.site == "老城区胡同积水点"
    assert place.town == "汶上街道"
    assert place.address == "中都大街 88 号"
    assert place.distance_m == 320  # ~322 m, rounded to 10 m as people are told
    assert abs(distance_m(HERE, CASE) - 320) < 10
    assert place.coordinates == "35.735000, 116.483000"


def test_without_a_fix_the_distance_is_unknown_not_zero() -> None:
    assert place_of(snapshot(), reference(), None).distance_m is None


def test_the_new_inspection_map_follows_the_fix() -> None:
    site = reference().sites[0]
    model = inspection_map(reference(), [NORMAL], fix=HERE, site=site, now=NOW)
    assert model.subject == HERE and model.here == HERE
    assert [t.code for t in model.outlines] == ["wenshang"]
    assert [p.case_id for p in model.others] == ["fine"]
    assert inspection_map(reference(), [], fix=None, site=None, now=NOW).is_empty


def test_around_me_shows_nearby_cases_and_my_far_ones() -> None:
    far_mine = other("mine", status="assigned", **at(5000))
    model = around_me_map(
        reference(), [OVERDUE, NORMAL, far_mine], here=CASE, now=NOW, mine=["mine"]
    )
    assert {p.case_id for p in model.others} == {"late", "fine", "mine"}
    assert [s.code for s in model.sites] == ["W01"]
    assert [t.code for t in model.outlines] == ["wenshang"]


def test_around_me_without_a_fix_shows_every_town_and_only_my_cases() -> None:
    model = around_me_map(reference(), [OVERDUE, NORMAL], here=None, now=NOW, mine=["late"])
    assert [p.case_id for p in model.others] == ["late"]
    assert model.outlines == reference().towns
    assert model.center is not None  # the county's towns


@pytest.mark.parametrize(
    ("configured", "failed", "unavailable"),
    [(False, False, True), (True, True, True), (True, False, False)],
)
def test_the_map_says_tiles_are_unavailable_when_none_are_set_or_they_fail(
    configured: bool, failed: bool, unavailable: bool
) -> None:
    assert tiles_unavailable(configured, failed) is unavailable


def test_no_tile_server_by_default_and_a_county_may_set_tianditu_with_its_key() -> None:
    config = AppConfig.from_env({})
    assert tile_source(config.tile_url, config.tile_key) is None
    config = AppConfig.from_env({"YIXIAN_TILE_URL": TIANDITU_VECTOR, "YIXIAN_TILE_KEY": " k1 "})
    source = tile_source(config.tile_url, config.tile_key)
    assert source is not None and source.key == "k1"
    assert source.subdomains == [str(i) for i in range(8)]  # t0…t7.tianditu.gov.cn


@pytest.mark.parametrize(
    "url", ["tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn/{z}/{x}.png"]
)
def test_a_tile_url_that_cannot_work_is_refused_at_start_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match="YIXIAN_TILE_URL"):
        AppConfig.from_env({"YIXIAN_TILE_URL": url})
    assert tile_source(url) is None  # and from settings it is not used


def test_the_local_store_finds_the_open_cases_around_a_point(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "device.db")
    with store.transaction() as s:
        for snap in (OVERDUE, NORMAL, other("done", status="closed"), other("far", **at(3000))):
            store.put_local_case(s, {**snap, "updated_at": iso(NOW)}, from_server=True)
    found = store.cases_in_box(bounding_box(CASE, NEARBY_M), statuses=["handling", "assigned"])
    assert sorted(c["id"] for c in found) == ["fine", "late"]


def test_a_map_opens_on_everything_it_draws_and_the_phone_only_when_near() -> None:
    near = case_map(snapshot(status="assigned"), reference(), [NORMAL], here=HERE, now=NOW)
    site = reference().sites[0].location
    assert {CASE, site, HERE, Point(NORMAL["lat"], NORMAL["lon"])} <= set(near.fit)
    far_phone = Point(POINT[0] + 0.1, POINT[1])  # ~11 km away
    far = case_map(snapshot(status="assigned"), reference(), [], here=far_phone, now=NOW)
    assert far_phone not in far.fit and far.here == far_phone
