"""The pull's reference JSON decodes into the boundary types the offline rules run on."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from sync.assignment import propose_assignment
from sync.boundary_types import AreaKind, Point
from sync.errors import InvalidInput
from sync.reference_codec import EMPTY_REFERENCE, decode_reference
from sync.vocabulary import TimeUnit
from tests.fieldapp.vm_fixtures import POINT, REFERENCE_JSON


def test_the_reference_decodes_into_typed_values() -> None:
    ref = decode_reference(REFERENCE_JSON)
    entry = ref.versions[0].entries[0]
    assert entry.area.kind is AreaKind.URBAN
    assert entry.time_limit.amount == 24 and entry.time_limit.unit is TimeUnit.WORKING_HOURS
    assert ref.versions[0].effective_from == datetime(2026, 8, 14, 16, tzinfo=UTC)
    assert ref.sites[0].location == Point(*POINT) and ref.sites[0].radius_m == 60.0
    assert ref.towns[0].polygon[0] == Point(35.70, 116.45)
    assert ref.department_name("town:wenshang") == "汶上街道"
    assert ref.department_name("zhzf") == "综合执法局"


def test_the_decoded_list_drives_the_offline_proposal() -> None:
    ref = decode_reference(REFERENCE_JSON)
    at = datetime(2026, 11, 4, 2, tzinfo=UTC)
    proposal = propose_assignment(
        versions=ref.versions,
        towns=ref.towns,
        sites=ref.sites,
        category="waterlogging",
        recorded_at=at,
        assigned_at=at,
        calendar=ref.calendar,
        point=Point(*POINT),
    )
    assert proposal.lead_department == "zhzf" and proposal.place.site is not None


def test_categories_follow_the_version_in_force() -> None:
    ref = decode_reference(REFERENCE_JSON)
    assert ref.categories(datetime(2026, 11, 1, tzinfo=UTC)) == [
        ("waterlogging", "城区积水点治理"),
        ("unlisted", "清单未列事项"),  # a matter the list does not name: 属地管理
    ]
    assert ref.categories(datetime(2026, 1, 1, tzinfo=UTC)) == []


def test_nothing_known_yet_is_an_empty_reference() -> None:
    assert decode_reference(None) == EMPTY_REFERENCE


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("boundary_versions", 0, "entries", 0, "time_unit"), "fortnights", "time_unit"),
        (("boundary_versions", 0, "effective_from"), "2026-08-14T16:00:00", "effective_from"),
        (("sites", 0, "lat"), "north", "sites[0].lat"),
    ],
)
def test_malformed_reference_names_the_field(
    path: tuple[object, ...], value: object, field: str
) -> None:
    raw = copy.deepcopy(REFERENCE_JSON)
    target: object = raw
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(InvalidInput) as caught:
        decode_reference(raw)
    assert field in caught.value.field


def test_intake_channels_decode_with_their_chinese_and_english_names() -> None:
    raw = copy.deepcopy(REFERENCE_JSON)
    raw["intake_channels"] = [
        {"code": "grid", "name_zh": "属地管理网格", "name_en": "Local grid", "position": 2},
        {
            "code": "hotline",
            "name_zh": "12345 政务服务热线",
            "name_en": "12345 hotline",
            "position": 1,
        },
    ]
    ref = decode_reference(raw)
    assert [c.code for c in ref.intake_channels] == ["hotline", "grid"]  # in the list's order
    assert ref.intake_channel_label("grid") == "属地管理网格 / Local grid"
    assert ref.intake_channel_label("carrier_pigeon") == "carrier_pigeon"
    raw["intake_channels"][0]["name_zh"] = 5
    with pytest.raises(InvalidInput) as caught:
        decode_reference(raw)
    assert caught.value.field == "intake_channels[0].name_zh"
