"""New inspection: GPS accuracy rules, location fallbacks, duplicates within 50 m, the proposal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldapp.viewmodels.new_inspection import NewInspectionViewModel, accuracy_quality
from fieldapp.viewmodels.records import StoredPhoto
from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.geo import distance_m
from sync.reference_codec import decode_reference
from tests.fieldapp.vm_fixtures import NOW, POINT, REFERENCE_JSON, reference, snapshot


def vm() -> NewInspectionViewModel:
    return NewInspectionViewModel(reference(), inspector_name="张三", now=NOW, case_id="new-1")


def photo(exif: tuple[float, float] | None) -> StoredPhoto:
    return StoredPhoto("ab" * 32, "/x.jpg", "/x.thumb.jpg", 10, exif)


def test_accuracy_thresholds_are_10_50_and_100_metres() -> None:
    assert [accuracy_quality(a) for a in (10, 10.1, 50, 50.1, 100, 100.1, None)] == [
        "good",
        "fair",
        "fair",
        "poor",
        "poor",
        "bad",
        "bad",
    ]


def test_a_fix_within_10_m_is_taken_at_once() -> None:
    model = vm()
    assert model.offer_gps(*POINT, 8.0) is True
    assert model.fix is not None and model.fix.source == "gps" and not model.warn_accuracy


def test_a_rough_fix_waits_and_the_best_one_is_taken_when_waiting_stops() -> None:
    model = vm()
    assert model.offer_gps(POINT[0] + 0.001, POINT[1], 80.0) is False
    assert model.offer_gps(*POINT, 30.0) is False
    assert model.offer_gps(POINT[0] - 0.001, POINT[1], 60.0) is False
    assert model.fix is None
    model.take_best()
    assert model.fix is not None and model.fix.accuracy_m == 30.0


def test_beyond_50_m_warns_and_beyond_100_m_a_reason_is_required() -> None:
    model = vm()
    model.offer_gps(*POINT, 70.0)
    model.take_best()
    assert model.warn_accuracy and not model.needs_location_reason
    model = vm()
    model.offer_gps(*POINT, 150.0)
    model.take_best()
    model.category, model.description, model.photos = "waterlogging", "积水", [photo(None)]
    assert model.needs_location_reason
    assert not model.validate() and "location_reason" in model.errors
    model.location_reason = "信号被高楼遮挡，人在积水点旁"
    assert model.validate()
    assert "高楼" in model.record(NOW).location_reason


def test_without_gps_the_photos_exif_point_is_used_then_a_typed_point() -> None:
    model = vm()
    model.photos = [photo(None), photo((35.72, 116.47))]
    assert model.take_best() is True
    assert model.fix is not None and model.fix.source == "exif"
    assert model.fix.point == Point(35.72, 116.47)

    typed = vm()
    assert typed.take_best() is False
    typed.manual_lat, typed.manual_lon = "91", "116.4"
    assert typed.set_manual() is False and typed.errors["manual"]
    typed.manual_lat = "35.73"
    assert typed.set_manual() is True and typed.fix is not None and typed.fix.source == "manual"


def test_open_cases_of_the_same_category_within_50_m_are_offered_as_duplicates() -> None:
    model = vm()
    model.offer_gps(*POINT, 5.0)
    model.category = "waterlogging"
    near = snapshot(id="near", lat=POINT[0] + 0.0003, lon=POINT[1])  # ~33 m north
    far = snapshot(id="far", lat=POINT[0] + 0.0006, lon=POINT[1])  # ~67 m north
    other_kind = snapshot(id="other", category="parking")
    closed = snapshot(id="closed", status="closed")
    found = model.duplicates([far, near, other_kind, closed])
    assert [d.case_id for d in found] == ["near"]
    assert 30 < found[0].distance_m < 50
    assert distance_m(Point(*POINT), Point(far["lat"], far["lon"])) > 50


def test_the_nearest_registered_site_is_suggested_and_can_be_declined() -> None:
    model = vm()
    model.offer_gps(POINT[0] + 0.0002, POINT[1], 5.0)
    site = model.site()
    assert site is not None and site[0].code == "W01" and site[1] < 30
    model.site_declined = True
    assert model.site() is None


def test_the_proposal_names_lead_assisting_with_duties_basis_version_and_deadline() -> None:
    model = vm()
    model.offer_gps(*POINT, 5.0)
    model.category = "waterlogging"
    proposal = model.propose(NOW)
    assert proposal is not None
    assert proposal.lead_department == "zhzf" and proposal.list_version == 1
    assert [(a.department_code, a.duty) for a in proposal.assisting] == [
        ("sw", "泵站强排"),
        ("town:wenshang", "群众疏导"),  # "where the case is" made concrete
    ]
    assert proposal.legal_basis.startswith("《城镇排水")
    assert proposal.deadline.due_at > NOW


def test_an_override_needs_a_reason_and_drops_the_new_lead_from_assisting() -> None:
    model = vm()
    model.offer_gps(*POINT, 5.0)
    model.category = "waterlogging"
    model.propose(NOW)
    assert model.assignment() is not None and not model.assignment().overridden  # type: ignore[union-attr]
    model.routing.choose_lead("sw")
    assert model.assignment() is None and "override_reason" in model.routing.errors
    model.routing.override_reason = "现场为泵站故障"
    chosen = model.assignment()
    assert chosen is not None and chosen.overridden and chosen.lead_department == "sw"
    assert "sw" not in [a.department_code for a in chosen.assisting]


NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 0, tzinfo=CHINA_TZ)  # Thursday afternoon


def proposal_on_new_years_eve(reference_json: dict[str, Any]) -> NewInspectionViewModel:
    model = NewInspectionViewModel(
        decode_reference(reference_json), inspector_name="张三", now=NEW_YEARS_EVE, case_id="n"
    )
    model.offer_gps(*POINT, 5.0)
    model.category = "waterlogging"  # 24 working hours: runs into January 2027
    assert model.propose(NEW_YEARS_EVE) is not None
    return model


def test_the_proposal_says_when_next_years_calendar_is_not_entered() -> None:
    model = proposal_on_new_years_eve(REFERENCE_JSON)  # the phone's copy ends with 2026
    assert model.deadline_note is not None
    assert "2027年节假日未录入" in model.deadline_note
    within_2026 = vm()
    within_2026.offer_gps(*POINT, 5.0)
    within_2026.category = "waterlogging"
    assert within_2026.propose(NOW) is not None
    assert within_2026.deadline_note is None  # a deadline inside 2026: nothing missing


def test_the_proposal_counts_new_year_2027_as_a_holiday_once_the_phone_has_2027() -> None:
    without = proposal_on_new_years_eve(REFERENCE_JSON)
    with_2027 = {
        **REFERENCE_JSON,
        "work_calendar": [
            *REFERENCE_JSON["work_calendar"],
            {"year": 2027, "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"], "workdays": []},
        ],
    }
    entered = proposal_on_new_years_eve(with_2027)
    assert entered.deadline_note is None
    assert without.routing.proposal is not None and entered.routing.proposal is not None
    # 24 working hours from Thu 31 Dec 15:00: 2.5 h that day, then 7.5 h a day. With 元旦 a
    # working day: Fri 1, Mon 4, Tue 5 Jan 16:30. With 2027 entered: Mon 4, Tue 5, Wed 6 16:30.
    assert without.routing.proposal.deadline.due_at == datetime(2027, 1, 5, 16, 30, tzinfo=CHINA_TZ)
    assert entered.routing.proposal.deadline.due_at == datetime(2027, 1, 6, 16, 30, tzinfo=CHINA_TZ)


def test_a_matter_the_list_does_not_name_is_proposed_to_the_town_office_offline() -> None:
    model = vm()
    model.offer_gps(*POINT, 5.0)
    assert ("unlisted", "清单未列事项") in model.reference.categories(NOW)
    model.category = "unlisted"
    proposal = model.propose(NOW)
    assert proposal is not None and model.unlisted
    assert proposal.lead_department == "town:wenshang"  # 属地管理: the office of the place
    chosen = model.assignment()
    assert chosen is not None and chosen.lead_department == "town:wenshang"
    assert not chosen.overridden


def test_an_unlisted_matter_with_no_place_needs_a_lead_chosen_with_a_reason() -> None:
    model = vm()
    model.category = "unlisted"
    assert model.propose(NOW) is not None and model.unlisted
    assert model.assignment() is None
    routing = model.routing  # the assignment choice shared with the case screen
    assert routing.errors["override_lead"] == "assign.error.lead_required" and routing.override
    routing.choose_lead("sw")
    assert model.assignment() is None and "override_reason" in routing.errors
    routing.override_reason = "热线反映，位置待核实"
    chosen = model.assignment()
    assert chosen is not None and chosen.lead_department == "sw" and chosen.overridden
