"""The demo data for 汶上县 hangs together: every code it refers to exists, the matters the
county's report names are there with the leads it gives, and places are where they say."""

from __future__ import annotations

import server.demo_data as demo
from server.demo_data import (
    BOUNDARY_V1,
    DEMO_MARK,
    DEMO_PASSWORD,
    DEMO_USERS,
    DEPARTMENTS,
    DEPARTMENTS_BY_CODE,
    JOINT_CONSULTATION_GROUP,
    SITES,
    TOWN_OFFICE_HERE,
    TOWNS,
    TOWNS_BY_CODE,
    is_town_office_code,
    town_office_code,
)
from sync.boundary_types import AreaKind, BoundaryEntry, Point
from sync.clock import CHINA_TZ
from sync.vocabulary import Role, TimeUnit


def _inside(point: Point, ring: tuple[Point, ...]) -> bool:
    """Even-odd ray casting (ray towards +lon); works whether or not the ring is closed."""
    inside = False
    n = len(ring)
    for i in range(n):
        a, b = ring[i - 1], ring[i]
        if (a.lat > point.lat) != (b.lat > point.lat):
            lon_at = a.lon + (point.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            if point.lon < lon_at:
                inside = not inside
    return inside


def _department_code_exists(code: str, *, allow_here: bool) -> bool:
    if code == TOWN_OFFICE_HERE:
        return allow_here
    if is_town_office_code(code):
        return code.removeprefix("town:") in TOWNS_BY_CODE
    return code in DEPARTMENTS_BY_CODE


def _entry(category: str) -> BoundaryEntry:
    matches = [e for e in BOUNDARY_V1.entries if e.category == category]
    assert len(matches) == 1, f"expected one entry for {category!r}, found {len(matches)}"
    return matches[0]


def _department_name(code: str) -> str:
    return DEPARTMENTS_BY_CODE[code].name


# --- marking -------------------------------------------------------------------------------


def test_module_is_marked_as_demo_data() -> None:
    assert DEMO_MARK == "演示数据"
    assert demo.__doc__ is not None and DEMO_MARK in demo.__doc__


def test_demo_users_are_visibly_demo_accounts() -> None:
    assert all("演示" in u.display_name for u in DEMO_USERS)
    assert DEMO_PASSWORD == "yixian-demo"


# --- departments ---------------------------------------------------------------------------


def test_there_are_48_departments_with_distinct_codes_and_names() -> None:
    assert len(DEPARTMENTS) == 48
    assert len({d.code for d in DEPARTMENTS}) == 48
    assert len({d.name for d in DEPARTMENTS}) == 48
    assert len({d.short_name for d in DEPARTMENTS}) == 48


def test_department_codes_are_ascii_and_never_look_like_town_offices() -> None:
    for d in DEPARTMENTS:
        assert d.code.isascii() and d.code.isidentifier(), d.code
        assert not is_town_office_code(d.code)


def test_department_kinds_are_department_office_or_group() -> None:
    assert {d.kind for d in DEPARTMENTS} == {"department", "office", "group"}


def test_departments_named_in_the_brief_have_their_codes() -> None:
    expected = {
        "zhzf": "综合行政执法局",
        "sw": "水务局",
        "zj": "住房和城乡建设局",
        "jt": "交通运输局",
        "rs": "人力资源和社会保障局",
        "shzl": "社会治理中心",
        "jwjw": "纪律检查委员会",
        "wbb": "机构编制委员会办公室",
        "sf": "司法局",
        "rx": "政务热线服务中心",
    }
    for code, name_part in expected.items():
        assert name_part in _department_name(code), code


def test_joint_consultation_group_is_the_five_units_of_the_report() -> None:
    assert len(JOINT_CONSULTATION_GROUP) == 5
    names = [_department_name(code) for code in JOINT_CONSULTATION_GROUP]
    for part in ("社会治理中心", "纪律检查委员会", "机构编制", "司法局", "政务热线服务中心"):
        assert sum(part in name for name in names) == 1, part


# --- towns ---------------------------------------------------------------------------------


def test_towns_have_distinct_ascii_codes_and_names() -> None:
    assert len({t.code for t in TOWNS}) == len(TOWNS)
    assert len({t.name for t in TOWNS}) == len(TOWNS)
    assert all(t.code.isascii() and t.code.isidentifier() for t in TOWNS)


def test_only_the_two_street_offices_are_urban() -> None:
    urban = {t.name for t in TOWNS if t.urban}
    streets = {t.name for t in TOWNS if t.kind == "street"}
    assert urban == streets == {"汶上街道", "中都街道"}
    assert {t.kind for t in TOWNS} == {"town", "street"}


def test_town_polygons_are_closed_rings() -> None:
    for t in TOWNS:
        assert len(t.polygon) >= 4, t.code
        assert t.polygon[0] == t.polygon[-1], t.code


def test_county_seat_lies_in_an_urban_street_office() -> None:
    seat = Point(35.73, 116.49)
    containing = [t for t in TOWNS if _inside(seat, t.polygon)]
    assert len(containing) == 1
    assert containing[0].urban


def test_town_polygons_do_not_overlap() -> None:
    # Offsets chosen so no sample falls exactly on a shared edge.
    hits = {t.code: 0 for t in TOWNS}
    for i in range(120):
        lat = 35.55031 + i * 0.00317
        for j in range(120):
            lon = 116.28047 + j * 0.00363
            point = Point(lat, lon)
            containing = [t.code for t in TOWNS if _inside(point, t.polygon)]
            assert len(containing) <= 1, (point, containing)
            for code in containing:
                hits[code] += 1
    # The sample actually covers every town, so the check above is not vacuous.
    assert all(count > 0 for count in hits.values()), hits


def test_towns_tile_the_area_around_the_county_seat_without_gaps() -> None:
    # ~10 km around the seat every point belongs to some town or street office.
    for i in range(21):
        for j in range(21):
            point = Point(35.6401 + i * 0.0089, 116.3803 + j * 0.0109)
            assert any(_inside(point, t.polygon) for t in TOWNS), point


# --- the boundary list ---------------------------------------------------------------------


def test_version_1_takes_effect_in_august_2026_county_time() -> None:
    assert BOUNDARY_V1.number == 1
    start = BOUNDARY_V1.effective_from
    assert start.tzinfo is not None
    local = start.astimezone(CHINA_TZ)
    assert (local.year, local.month) == (2026, 8)
    assert "认定意见" in BOUNDARY_V1.reason


def test_boundary_list_has_19_matters_with_distinct_categories() -> None:
    entries = BOUNDARY_V1.entries
    assert len(entries) == 19
    assert len({e.category for e in entries}) == 19
    assert len({e.matter for e in entries}) == 19
    assert all(e.category.isascii() and e.category.isidentifier() for e in entries)


def test_every_department_referenced_by_the_boundary_list_exists() -> None:
    for e in BOUNDARY_V1.entries:
        assert e.lead_department_code in DEPARTMENTS_BY_CODE, e.category
        for duty in e.assisting:
            assert _department_code_exists(duty.department_code, allow_here=True), (
                e.category,
                duty.department_code,
            )


def test_no_department_both_leads_and_assists_the_same_matter() -> None:
    for e in BOUNDARY_V1.entries:
        assisting = [d.department_code for d in e.assisting]
        assert e.lead_department_code not in assisting, e.category
        assert len(set(assisting)) == len(assisting), e.category


def test_every_entry_states_duties_legal_basis_and_source() -> None:
    for e in BOUNDARY_V1.entries:
        assert e.lead_duty and e.legal_basis.startswith("《"), e.category
        assert e.assisting, e.category
        assert all(d.duty for d in e.assisting), e.category
        assert e.source in {"认定意见第一批", "认定意见第二批"}, e.category
    assert {e.source for e in BOUNDARY_V1.entries} == {"认定意见第一批", "认定意见第二批"}


def test_time_limits_are_short_and_positive() -> None:
    for e in BOUNDARY_V1.entries:
        limit = e.time_limit
        if limit.unit is TimeUnit.WORKING_DAYS:
            assert 3 <= limit.amount <= 15, e.category
        else:
            assert limit.unit is TimeUnit.WORKING_HOURS
            assert 1 <= limit.amount <= 48, e.category


def test_matters_named_by_the_report_are_present() -> None:
    named = {
        "parking": "停车场",
        "drainage": "排水管网",
        "urban_river": "城区河道",
        "irrigation": "农业灌溉",
        "unpaid_wages": "农民工工资",
        "waterlogging": "积水",
    }
    for category, matter_part in named.items():
        assert matter_part in _entry(category).matter, category


def test_parking_is_led_by_the_comprehensive_law_enforcement_bureau() -> None:
    assert "综合行政执法局" in _department_name(_entry("parking").lead_department_code)


def test_wages_are_led_by_hr_with_industry_regulators_and_the_town_office_assisting() -> None:
    wages = _entry("unpaid_wages")
    assert "人力资源和社会保障局" in _department_name(wages.lead_department_code)
    assisting = {d.department_code for d in wages.assisting}
    assisting_names = {_department_name(c) for c in assisting if c in DEPARTMENTS_BY_CODE}
    for part in ("住房和城乡建设局", "交通运输局", "水务局"):
        assert any(part in name for name in assisting_names), part
    town_duty = next(d for d in wages.assisting if d.department_code == TOWN_OFFICE_HERE)
    assert "排查" in town_duty.duty and "调处" in town_duty.duty


def test_waterlogging_involves_the_joint_session_departments_and_is_urgent() -> None:
    entry = _entry("waterlogging")
    involved = {entry.lead_department_code} | {d.department_code for d in entry.assisting}
    assert {"zhzf", "sw", "zj", TOWN_OFFICE_HERE} <= involved
    assert entry.time_limit.unit is TimeUnit.WORKING_HOURS


def test_urban_matters_apply_to_the_urban_area_and_the_rest_county_wide() -> None:
    urban = {"urban_river", "waterlogging", "greening"}
    for e in BOUNDARY_V1.entries:
        expected = AreaKind.URBAN if e.category in urban else AreaKind.COUNTY
        assert e.area.kind is expected, e.category


def test_parking_lots_are_the_enforcement_bureaus_across_the_whole_county() -> None:
    # 认定意见: "针对全县停车场管理职责模糊…将县综合行政执法局明确为停车场管理部门"
    entry = _entry("parking")
    assert entry.lead_department_code == "zhzf"
    assert entry.area.kind is AreaKind.COUNTY
    assert "城区" not in entry.lead_duty


def test_drainage_networks_apply_county_wide_as_the_source_names_them() -> None:
    entry = _entry("drainage")
    assert entry.matter == "排水管网管理" and entry.lead_department_code == "sw"
    assert entry.area.kind is AreaKind.COUNTY


def test_matters_the_source_calls_urban_stay_urban() -> None:
    # 城区河道管理; "城区道路、胡同等下雨积水"; an invented 城区… matter by its own name
    for category in ("urban_river", "waterlogging", "greening"):
        entry = _entry(category)
        assert entry.matter.startswith("城区"), category
        assert entry.area.kind is AreaKind.URBAN, category


def test_no_county_wide_matter_is_named_for_the_urban_area() -> None:
    for e in BOUNDARY_V1.entries:
        if e.area.kind is AreaKind.COUNTY:
            assert not e.matter.startswith("城区"), e.matter


# --- sites ---------------------------------------------------------------------------------


def test_sites_have_distinct_codes_and_known_towns_and_categories() -> None:
    categories = {e.category for e in BOUNDARY_V1.entries}
    assert len({s.code for s in SITES}) == len(SITES)
    for s in SITES:
        assert s.town_code in TOWNS_BY_CODE, s.code
        assert s.category in categories, s.code
        assert s.radius_m > 0, s.code


def test_every_site_lies_inside_its_towns_polygon() -> None:
    for s in SITES:
        containing = [t.code for t in TOWNS if _inside(s.location, t.polygon)]
        assert containing == [s.town_code], (s.code, containing)


def test_sites_of_urban_matters_are_in_urban_towns() -> None:
    for s in SITES:
        entry = _entry(s.category or "")
        if entry.area.kind is AreaKind.URBAN:
            assert TOWNS_BY_CODE[s.town_code].urban, s.code


def test_the_demo_has_a_dozen_parking_lots_and_the_four_waterlogging_points() -> None:
    kinds = [s.kind for s in SITES]
    assert kinds.count("parking_lot") == 12
    assert kinds.count("waterlogging_point") == 4
    assert kinds.count("drain") >= 1 and kinds.count("river") >= 1


# --- users ---------------------------------------------------------------------------------


def test_every_role_has_a_demo_user() -> None:
    assert {u.role for u in DEMO_USERS} == set(Role)


def test_usernames_are_distinct_and_ascii() -> None:
    names = [u.username for u in DEMO_USERS]
    assert len(set(names)) == len(names)
    assert all(n.isascii() and n.isidentifier() for n in names)


def test_every_demo_user_belongs_to_an_existing_department_or_town_office() -> None:
    for u in DEMO_USERS:
        # a user belongs to one named office, never to "wherever the case is"
        assert _department_code_exists(u.department_code, allow_here=False), u.username


def test_the_worked_examples_departments_and_a_town_office_have_handlers() -> None:
    handler_departments = {u.department_code for u in DEMO_USERS if u.role is Role.HANDLER}
    assert {"zhzf", "sw", "zj", "rs", "jt"} <= handler_departments
    assert any(is_town_office_code(c) for c in handler_departments)


def test_town_office_codes_round_trip() -> None:
    code = town_office_code("nanwang")
    assert is_town_office_code(code)
    assert code.removeprefix("town:") == "nanwang"
    assert not is_town_office_code("zhzf")
