"""New inspection: GPS accuracy rules, location fallbacks, duplicates within 50 m, the proposal."""

from __future__ import annotations

from fieldapp.viewmodels.new_inspection import NewInspectionViewModel, accuracy_quality
from fieldapp.viewmodels.records import StoredPhoto
from sync.boundary_types import Point
from sync.geo import distance_m
from tests.fieldapp.vm_fixtures import NOW, POINT, reference, snapshot


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
