"""The boundary list: which version is in force, where a case is, who leads and assists there."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from sync.boundary import (
    entries_for,
    locate,
    resolve,
    resolve_in_version,
    validate_version,
    version_in_force,
    version_numbered,
)
from sync.boundary_types import (
    Area,
    AreaKind,
    AssistingDuty,
    BoundaryEntry,
    BoundaryVersion,
    Point,
    Resolution,
    Site,
    TimeLimit,
    Town,
)
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput, NotFound, RuleViolation
from sync.vocabulary import TimeUnit

# --- a small hand-made county near 汶上县 (35.72N 116.49E) -------------------------------------


def square(lat0: float, lon0: float, lat1: float, lon1: float) -> tuple[Point, ...]:
    return (Point(lat0, lon0), Point(lat0, lon1), Point(lat1, lon1), Point(lat1, lon0))


ZHONGDU = Town("zhongdu", "中都街道", "street", True, square(35.70, 116.47, 35.72, 116.49))
WENSHANG = Town("wenshang", "汶上街道", "street", True, square(35.72, 116.47, 35.74, 116.49))
NANZHAN = Town("nanzhan", "南站镇", "town", False, square(35.70, 116.49, 35.74, 116.51))
TOWNS = (ZHONGDU, WENSHANG, NANZHAN)

LOT = Site("P-001", "中都停车场", "parking_lot", "parking", "zhongdu", Point(35.71, 116.48), 80.0)
# A waterlogging point on 南站镇's eastern border (lon 116.51) whose reach spills outside it.
PUDDLE = Site(
    "W-001", "南站积水点", "waterlogging_point", "drainage", "nanzhan", Point(35.705, 116.51), 150.0
)
SITES = (LOT, PUDDLE)

DEPARTMENTS = {"zfj", "zjj", "swj", "rsj", "jtj", "wenshang_jd"}


def t(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CHINA_TZ)


def entry(
    category: str,
    lead: str,
    area: Area,
    *,
    assisting: tuple[AssistingDuty, ...] = (),
    days: int = 5,
    source: str = "认定意见第一批",
) -> BoundaryEntry:
    return BoundaryEntry(
        matter={"parking": "停车场监管", "drainage": "排水管网管理", "wages": "农民工工资"}.get(
            category, category
        ),
        category=category,
        lead_department_code=lead,
        lead_duty="牵头处置",
        assisting=assisting,
        legal_basis="三定规定",
        area=area,
        time_limit=TimeLimit(days, TimeUnit.WORKING_DAYS),
        source=source,
    )


COUNTY = Area(AreaKind.COUNTY)
URBAN = Area(AreaKind.URBAN)

V1 = BoundaryVersion(
    number=1,
    effective_from=t(2026, 1, 1),
    reason="认定意见第一批",
    entries=(
        entry("parking", "jtj", COUNTY),
        entry("parking", "zjj", URBAN, assisting=(AssistingDuty("zfj", "查处违停"),)),
        entry("parking", "wenshang_jd", Area(AreaKind.TOWNS, ("wenshang",))),
        entry("drainage", "swj", URBAN, assisting=(AssistingDuty("zjj", "管网改造"),)),
    ),
)
# A ruling: urban parking lots go to 综合行政执法局; unpaid wages join the list.
V2 = BoundaryVersion(
    number=2,
    effective_from=t(2026, 3, 1),
    reason="裁决 R-2026-003：城区停车场由综合行政执法局主办",
    entries=(
        entry("parking", "jtj", COUNTY),
        entry(
            "parking",
            "zfj",
            URBAN,
            assisting=(AssistingDuty("zjj", "配建停车场验收"),),
            source="裁决 R-2026-003",
        ),
        entry("parking", "wenshang_jd", Area(AreaKind.TOWNS, ("wenshang",))),
        entry("drainage", "swj", URBAN, assisting=(AssistingDuty("zjj", "管网改造"),)),
        entry("wages", "rsj", COUNTY, assisting=(AssistingDuty("zjj", "监管建筑业欠薪"),)),
    ),
)
VERSIONS = (V2, V1)  # deliberately out of order

IN_ZHONGDU = Point(35.715, 116.475)
IN_WENSHANG = Point(35.73, 116.48)
IN_NANZHAN = Point(35.72, 116.50)
OUTSIDE_COUNTY = Point(35.90, 116.90)


def resolve_at(
    category: str,
    at: datetime,
    point: Point | None = None,
    *,
    town_code: str | None = None,
    site_code: str | None = None,
) -> Resolution:
    return resolve(
        versions=VERSIONS,
        towns=TOWNS,
        sites=SITES,
        category=category,
        at=at,
        point=point,
        town_code=town_code,
        site_code=site_code,
    )


# --- version in force -------------------------------------------------------------------------


def test_case_before_a_ruling_gets_the_old_list_and_after_it_the_new_one() -> None:
    before = resolve_at("parking", t(2026, 2, 15), IN_ZHONGDU)
    after = resolve_at("parking", t(2026, 3, 2), IN_ZHONGDU)
    assert (before.list_version, before.entry.lead_department_code) == (1, "zjj")
    assert (after.list_version, after.entry.lead_department_code) == (2, "zfj")


def test_new_version_applies_from_the_first_moment_of_its_effective_date() -> None:
    assert version_in_force(VERSIONS, t(2026, 3, 1)).number == 2
    assert version_in_force(VERSIONS, t(2026, 3, 1) - timedelta(seconds=1)).number == 1


def test_effective_date_is_compared_as_an_instant_whatever_the_zone() -> None:
    # 2026-02-28 16:00 UTC is 2026-03-01 00:00 in the county.
    assert version_in_force(VERSIONS, datetime(2026, 2, 28, 16, tzinfo=UTC)).number == 2
    assert version_in_force(VERSIONS, datetime(2026, 2, 28, 15, tzinfo=UTC)).number == 1


def test_two_versions_effective_at_once_the_higher_number_wins() -> None:
    v3 = dataclasses.replace(V2, number=3, reason="更正")
    assert version_in_force((V1, V2, v3), t(2026, 3, 5)).number == 3


def test_no_list_in_force_before_the_first_version() -> None:
    with pytest.raises(RuleViolation) as err:
        version_in_force(VERSIONS, t(2025, 12, 31, 23))
    assert "no boundary list in force" in err.value.reason
    assert "2025-12-31T23:00" in err.value.reason


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        version_in_force(VERSIONS, datetime(2026, 3, 1))
    assert err.value.field == "at"


def test_case_keeps_the_version_it_was_assigned_under_after_a_ruling() -> None:
    kept = version_numbered(VERSIONS, 1)
    result = resolve_in_version(
        kept, towns=TOWNS, sites=SITES, category="parking", point=IN_ZHONGDU
    )
    assert (result.list_version, result.entry.lead_department_code) == (1, "zjj")


def test_unknown_version_number_is_not_found() -> None:
    with pytest.raises(NotFound):
        version_numbered(VERSIONS, 9)


# --- locating a place -------------------------------------------------------------------------


def test_point_in_a_town_near_a_site_finds_both() -> None:
    near_lot = Point(35.7103, 116.48)  # ~33 m north of the lot
    place = locate(point=near_lot, town_code=None, site_code=None, towns=TOWNS, sites=SITES)
    assert place.town_code == "zhongdu"
    assert place.site == LOT
    assert place.site_distance_m is not None and 30 < place.site_distance_m < 36


def test_point_in_a_town_far_from_any_site_finds_only_the_town() -> None:
    place = locate(point=IN_WENSHANG, town_code=None, site_code=None, towns=TOWNS, sites=SITES)
    assert (place.town_code, place.site, place.site_distance_m) == ("wenshang", None, None)


def test_point_just_outside_every_polygon_takes_the_town_of_a_site_in_reach() -> None:
    east_of_border = Point(35.705, 116.5105)  # ~45 m east of 南站镇's eastern edge
    place = locate(point=east_of_border, town_code=None, site_code=None, towns=TOWNS, sites=SITES)
    assert place.town_code == "nanzhan"
    assert place.site == PUDDLE


def test_point_far_outside_the_county_has_no_town() -> None:
    place = locate(point=OUTSIDE_COUNTY, town_code=None, site_code=None, towns=TOWNS, sites=SITES)
    assert (place.town_code, place.site) == (None, None)


def test_explicit_site_gives_the_site_and_its_town() -> None:
    place = locate(point=None, town_code=None, site_code="W-001", towns=TOWNS, sites=SITES)
    assert (place.town_code, place.site, place.site_distance_m) == ("nanzhan", PUDDLE, None)


def test_explicit_site_wins_over_a_point_elsewhere_and_reports_how_far_it_is() -> None:
    place = locate(point=IN_WENSHANG, town_code=None, site_code="P-001", towns=TOWNS, sites=SITES)
    assert place.town_code == "zhongdu"
    assert place.site_distance_m is not None and place.site_distance_m > 1_000


def test_explicit_town_wins_over_the_point() -> None:
    place = locate(point=IN_ZHONGDU, town_code="nanzhan", site_code=None, towns=TOWNS, sites=SITES)
    assert place.town_code == "nanzhan"


def test_site_in_another_town_than_the_one_given_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        locate(point=None, town_code="wenshang", site_code="P-001", towns=TOWNS, sites=SITES)
    assert err.value.field == "town_code"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"town_code": "nowhere", "site_code": None}, "town_code"),
        ({"town_code": None, "site_code": "X-404"}, "site_code"),
    ],
)
def test_unknown_town_or_site_names_the_field(kw: dict[str, str | None], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        locate(point=None, towns=TOWNS, sites=SITES, **kw)  # type: ignore[arg-type]
    assert err.value.field == field


def test_impossible_gps_point_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        locate(point=Point(135.0, 116.0), town_code=None, site_code=None, towns=TOWNS, sites=SITES)
    assert err.value.field == "point"


# --- resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "lead", "kind"),
    [
        (IN_WENSHANG, "wenshang_jd", AreaKind.TOWNS),  # named town beats urban and county
        (IN_ZHONGDU, "zfj", AreaKind.URBAN),  # urban beats county
        (IN_NANZHAN, "jtj", AreaKind.COUNTY),  # rural town: only the county entry covers it
    ],
)
def test_most_specific_area_covering_the_place_wins(
    point: Point, lead: str, kind: AreaKind
) -> None:
    result = resolve_at("parking", t(2026, 4, 1), point)
    assert result.entry.lead_department_code == lead
    assert result.entry.area.kind is kind


def test_entry_order_does_not_decide_specificity() -> None:
    reversed_v2 = dataclasses.replace(V2, entries=tuple(reversed(V2.entries)))
    for point, lead in ((IN_WENSHANG, "wenshang_jd"), (IN_ZHONGDU, "zfj"), (IN_NANZHAN, "jtj")):
        result = resolve_in_version(
            reversed_v2, towns=TOWNS, sites=SITES, category="parking", point=point
        )
        assert result.entry.lead_department_code == lead


def test_resolution_gives_lead_assisting_duties_time_limit_version_and_place() -> None:
    result = resolve_at("parking", t(2026, 4, 1), site_code="P-001")
    assert result.list_version == 2
    assert result.entry.lead_department_code == "zfj"
    assert result.entry.assisting == (AssistingDuty("zjj", "配建停车场验收"),)
    assert result.entry.time_limit == TimeLimit(5, TimeUnit.WORKING_DAYS)
    assert result.entry.source == "裁决 R-2026-003"
    assert result.place.site == LOT and result.place.town_code == "zhongdu"


def test_explicit_town_code_resolves_without_a_point() -> None:
    result = resolve_at("parking", t(2026, 4, 1), town_code="wenshang")
    assert result.entry.lead_department_code == "wenshang_jd"


def test_no_place_at_all_resolves_to_the_county_entry() -> None:
    result = resolve_at("parking", t(2026, 4, 1))
    assert result.entry.area.kind is AreaKind.COUNTY
    assert result.place.town_code is None


def test_no_place_at_all_is_refused_when_only_urban_entries_exist() -> None:
    with pytest.raises(RuleViolation) as err:
        resolve_at("drainage", t(2026, 4, 1))
    assert "drainage" in err.value.reason


def test_category_with_no_entry_for_the_place_says_which_category_and_place() -> None:
    with pytest.raises(RuleViolation) as err:
        resolve_at("drainage", t(2026, 4, 1), IN_NANZHAN)
    assert "drainage" in err.value.reason
    assert "nanzhan" in err.value.reason


def test_unknown_category_names_the_category_field() -> None:
    with pytest.raises(InvalidInput) as err:
        resolve_at("ufo_sighting", t(2026, 4, 1), IN_ZHONGDU)
    assert err.value.field == "category"
    assert "ufo_sighting" in err.value.why


def test_blank_category_names_the_category_field() -> None:
    with pytest.raises(InvalidInput) as err:
        resolve_at("  ", t(2026, 4, 1), IN_ZHONGDU)
    assert err.value.field == "category"


def test_category_added_by_a_later_ruling_is_not_in_force_before_it() -> None:
    with pytest.raises(RuleViolation) as err:
        resolve_at("wages", t(2026, 2, 1), IN_ZHONGDU)
    assert "wages" in err.value.reason and "v1" in err.value.reason
    later = resolve_at("wages", t(2026, 3, 1), IN_ZHONGDU)
    assert later.entry.lead_department_code == "rsj"


def test_entries_for_lists_a_categorys_entries_in_list_order() -> None:
    assert [e.area.kind for e in entries_for(V1, "parking")] == [
        AreaKind.COUNTY,
        AreaKind.URBAN,
        AreaKind.TOWNS,
    ]
    assert entries_for(V1, "wages") == []


# --- validating a new version -----------------------------------------------------------------


def with_entry(index: int, **changes: object) -> BoundaryVersion:
    entries = list(V2.entries)
    entries[index] = dataclasses.replace(entries[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(V2, entries=tuple(entries))


def test_well_formed_versions_pass() -> None:
    validate_version(None, V1, department_codes=DEPARTMENTS, town_codes={t.code for t in TOWNS})
    validate_version(V1, V2, department_codes=DEPARTMENTS, town_codes={t.code for t in TOWNS})


def test_same_effective_date_as_the_previous_version_is_allowed() -> None:
    same_day = dataclasses.replace(V2, effective_from=V1.effective_from)
    validate_version(V1, same_day, department_codes=DEPARTMENTS)


@pytest.mark.parametrize(
    ("previous", "new", "field"),
    [
        (None, dataclasses.replace(V1, number=2), "number"),
        (V1, dataclasses.replace(V2, number=3), "number"),
        (V1, dataclasses.replace(V2, number=1), "number"),
        (V1, dataclasses.replace(V2, effective_from=t(2025, 12, 1)), "effective_from"),
        (V1, dataclasses.replace(V2, effective_from=datetime(2026, 3, 1)), "effective_from"),
        (V1, dataclasses.replace(V2, reason="   "), "reason"),
        (V1, dataclasses.replace(V2, entries=()), "entries"),
        (V1, with_entry(3, lead_department_code="nobody"), "entries[3].lead_department_code"),
        (
            V1,
            with_entry(4, assisting=(AssistingDuty("ghost", "x"),)),
            "entries[4].assisting[0].department_code",
        ),
        (
            V1,
            with_entry(1, assisting=(AssistingDuty("zjj", "x"), AssistingDuty("zfj", "y"))),
            "entries[1].assisting[1].department_code",  # zfj leads entries[1]
        ),
        (
            V1,
            with_entry(1, assisting=(AssistingDuty("zjj", "x"), AssistingDuty("zjj", "y"))),
            "entries[1].assisting[1].department_code",  # listed twice
        ),
        (V1, with_entry(1, assisting=(AssistingDuty("zjj", ""),)), "entries[1].assisting[0].duty"),
        (
            V1,
            with_entry(2, time_limit=TimeLimit(0, TimeUnit.WORKING_HOURS)),
            "entries[2].time_limit.amount",
        ),
        (
            V1,
            with_entry(2, time_limit=TimeLimit(-4, TimeUnit.WORKING_DAYS)),
            "entries[2].time_limit.amount",
        ),
        (V1, with_entry(0, matter=""), "entries[0].matter"),
        (V1, with_entry(0, source=""), "entries[0].source"),
        (V1, with_entry(0, legal_basis=" "), "entries[0].legal_basis"),
        (V1, with_entry(0, area=Area(AreaKind.TOWNS, ())), "entries[0].area.town_codes"),
        (V1, with_entry(0, area=Area(AreaKind.COUNTY, ("nanzhan",))), "entries[0].area.town_codes"),
        (V1, with_entry(4, area=URBAN, category="drainage"), "entries[4].area"),  # dup of [3]
        (
            V1,
            with_entry(4, category="parking", area=Area(AreaKind.TOWNS, ("nanzhan", "wenshang"))),
            "entries[4].area.town_codes",  # wenshang already named for parking by entries[2]
        ),
        (
            V1,
            with_entry(2, area=Area(AreaKind.TOWNS, ("atlantis",))),
            "entries[2].area.town_codes",
        ),
    ],
)
def test_bad_new_version_is_refused_naming_the_field(
    previous: BoundaryVersion | None, new: BoundaryVersion, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_version(
            previous, new, department_codes=DEPARTMENTS, town_codes={t.code for t in TOWNS}
        )
    assert err.value.field == field


def test_same_towns_in_another_order_is_the_same_area() -> None:
    two_towns = Area(AreaKind.TOWNS, ("nanzhan", "zhongdu"))
    swapped = Area(AreaKind.TOWNS, ("zhongdu", "nanzhan"))
    new = dataclasses.replace(
        V2,
        entries=(
            entry("wages", "rsj", two_towns),
            entry("wages", "zjj", swapped),
        ),
    )
    with pytest.raises(InvalidInput) as err:
        validate_version(V1, new, department_codes=DEPARTMENTS)
    assert err.value.field == "entries[1].area"


def test_unknown_town_is_not_checked_when_no_town_list_is_given() -> None:
    new = with_entry(2, area=Area(AreaKind.TOWNS, ("atlantis",)))
    validate_version(V1, new, department_codes=DEPARTMENTS)
