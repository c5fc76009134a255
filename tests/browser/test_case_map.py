"""Where the problem is: the lead department's handler opens a case and sees its place in words
(registered site, town/street, distance from the phone, coordinates to copy) and on a map that
draws the case's point, its site, the town outline, another open case nearby and the phone —
with the tile server unreachable (the app is pointed at a loopback port nothing serves, as a
phone offline is), so the map says that tiles are unavailable and still draws everything."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from server.demo_data import SITES
from sync.boundary_types import Point
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.geo import distance_to_tell
from sync.protocol import CommandType
from tests.browser.conftest import (
    WENSHANG,
    RunningApp,
    free_port,
    reveal,
    settled_screenshot,
    shot,
    start_app,
    stop_app,
    tap,
)
from tests.browser.demo_server import demo_server_fixtures
from tests.browser.test_loop import case_card, shown, sign_in, wait_synced
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser
live, api_server_url = demo_server_fixtures("function")

WATER = next(s for s in SITES if s.kind == "waterlogging_point" and s.town_code == "wenshang")
NEIGHBOUR = Point(WATER.location.lat + 0.0012, WATER.location.lon + 0.0010)  # ~160 m away
CASE_PURPLE = (0x6A, 0x1B, 0x9A)  # fieldapp/screens/case_map.py CASE_COLOR
SITE_TEAL = (0x00, 0x83, 0x8F)  # SITE_COLOR
HERE_BLUE = (0x15, 0x65, 0xC0)  # HERE_COLOR


@pytest.fixture
def app_server(
    api_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """The app with a tile server configured that cannot be reached."""
    tiles = f"http://127.0.0.1:{free_port()}/tiles/{{z}}/{{x}}/{{y}}.png"
    app = start_app(tmp_path_factory.mktemp("fieldapp"), api_server_url, {"YIXIAN_TILE_URL": tiles})
    try:
        yield app
    finally:
        stop_app(app)


def record_and_assign(live: LiveServer, tmp: Path) -> str:
    """The hotline centre records two waterlogging cases (one at the registered point, one
    ~160 m away) and routes both by the list; returns the first one's number."""
    hotline = SyncClient(DeviceStore(tmp / "rx.db"), live.base_url, sleep=lambda _s: None)
    hotline.register(live.login("rx_handler"), "seed")
    at = datetime.now(UTC)
    ids = []
    for point, text in (
        (WATER.location, "12345 市民反映：路口积水没过脚踝"),
        (NEIGHBOUR, "12345 市民反映：小区门口积水"),
    ):
        case_id = str(uuid.uuid4())
        ids.append(case_id)
        where = {"lat": point.lat, "lon": point.lon}
        hotline.store.enqueue(
            CommandType.CREATE_CASE,
            {
                "case_id": case_id,
                "category": "waterlogging",
                "description": text,
                "source": "hotline",
                "location": where,
            },
            now=at,
        )
        hotline.store.enqueue(
            CommandType.TRANSITION_CASE,
            {"case_id": case_id, "action": "assign", "photos": [], "where": where},
            now=at,
        )
    report = hotline.sync_once()
    assert report.applied == 4, report
    snap = hotline.store.case(ids[0])
    assert snap is not None and snap["lead_department"] == "zhzf"
    return str(snap["number"])


def colour_near(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
    """How many pixels of ``image`` are within ``tolerance`` of ``rgb`` on every channel."""
    pixels = image.convert("RGB").getdata()
    return sum(
        1
        for p in pixels
        if all(abs(int(c) - int(w)) <= tolerance for c, w in zip(p, rgb, strict=True))
    )


def test_a_case_shows_where_it_is_in_words_and_on_a_map_without_tiles(
    new_device: Callable[[], Page], app_server: RunningApp, live: LiveServer, tmp_path: Path
) -> None:
    number = record_and_assign(live, tmp_path)
    handler = new_device()
    sign_in(handler, app_server, "zhzf_handler")
    wait_synced(handler)
    case_card(handler, number).click()

    section = handler.locator("[flt-semantics-identifier=case-map]")
    reveal(handler, section)
    here = Point(WENSHANG["latitude"], WENSHANG["longitude"])
    told = distance_to_tell(here, WATER.location)
    assert told is not None and 0 < told < 1000
    expect(shown(handler, f"距您 {told} 米")).to_be_visible()
    expect(shown(handler, WATER.name)).to_be_visible()  # the registered site
    expect(shown(handler, "汶上街道")).to_be_visible()  # the town/street
    expect(shown(handler, f"{WATER.location.lat:.6f}, {WATER.location.lon:.6f}")).to_be_visible()
    expect(handler.get_by_role("button", name="复制坐标")).to_be_visible()
    expect(shown(handler, "底图不可用，仅显示边界和位置")).to_be_visible(timeout=20_000)
    expect(shown(handler, "已超期").or_(shown(handler, "未到期"))).to_be_visible()  # legend

    reveal(handler, handler.locator("[flt-semantics-identifier=map-no-tiles]"))
    shot(handler, "case-map", docs=True)
    box = section.bounding_box()
    assert box is not None and box["height"] >= 200, box
    drawn = Image.open(io.BytesIO(settled_screenshot(handler)))
    scale = drawn.width / (handler.viewport_size or {"width": 390})["width"]
    the_map = drawn.crop(
        (
            int(box["x"] * scale),
            int(box["y"] * scale),
            int((box["x"] + box["width"]) * scale),
            int((box["y"] + box["height"]) * scale),
        )
    )
    # the case's pin, its registered site and the phone are drawn with no tiles at all
    assert colour_near(the_map, CASE_PURPLE) > 100, "the case's point is not drawn"
    assert colour_near(the_map, SITE_TEAL) > 50, "the registered site is not drawn"
    assert colour_near(the_map, HERE_BLUE) > 50, "the phone's position is not drawn"

    # 复制坐标 puts the coordinates on the phone's clipboard
    handler.context.grant_permissions(["clipboard-read", "clipboard-write"])
    tap(handler, handler.get_by_role("button", name="复制坐标"))
    expect(shown(handler, "坐标已复制")).to_be_visible()
    copied = handler.evaluate("navigator.clipboard.readText()")
    assert copied == f"{WATER.location.lat:.6f}, {WATER.location.lon:.6f}"

    # the 附近/我的案件 map: both open cases around the phone, by urgency
    handler.get_by_role("tab", name="首页").click()
    tap(handler, handler.get_by_role("button", name="地图", exact=True))
    expect(shown(handler, "地图上 2 件未结案件")).to_be_visible()
    expect(handler.locator("[flt-semantics-identifier=nearby-map]")).to_be_attached()
    shot(handler, "map-nearby", docs=True)

    # the new inspection's map, around the fix
    handler.get_by_role("tab", name="上报").click()
    expect(handler.locator("[flt-semantics-identifier=inspection-map]")).to_be_attached(
        timeout=20_000
    )
