"""The field app: its first frame in headless Chromium, and listing 50 cases from a device DB.

- ``app_first_frame``: navigation → Flutter's first frame (``#loading`` detached) of the app
  served by ``python -m fieldapp`` (web mode, no CDN), fresh browser context each round.
  Baseline: a static HTML page served on loopback by ``http.server``, same browser, same run.
- ``app_list_50_of_10k``: ``DeviceStore.cases(limit=50)`` (SQLModel, newest first, JSON
  decoded) on a device database of 10,000 cases. Baseline: a raw ``sqlite3`` SELECT of the same
  50 rows (JSON left undecoded).
- ``app_open_case_with_map_10k``: opening a case with its map on a device database of 10,000
  cases spread over the county (a grid ~330 m apart): the case read, its detail view-model
  (actions, timeline), the open cases around it (``cases_in_box``), the map's model and the
  place in words (``fieldapp.viewmodels.case_map``) and the flet-map control tree
  (``build_map``), with the 汶上县 demo towns and sites. Baseline: opening the same case without
  the map (the read and the detail view-model), same run. Rendering in the browser is not
  included (the browser test draws it).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sync.device_store import DeviceStore

FRAME_ROUNDS = 3
LIST_ROUNDS = 30
CASES = 10_000


def _seed(store: DeviceStore, n: int) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with store.transaction() as s:
        for i in range(n):
            at = (start + timedelta(minutes=i)).isoformat()
            store.put_local_case(
                s,
                {
                    "id": f"case-{i:05d}",
                    "number": f"YX261101-{i:06X}",
                    "status": "assigned" if i % 3 else "handling",
                    "category": "waterlogging",
                    "description": f"积水点 {i}",
                    "lat": 35.73 + i * 1e-6,
                    "lon": 116.48,
                    "due_at": at,
                    "updated_at": at,
                    "events": [{"kind": "CaseCreated", "at": at, "data": {"photos": []}}],
                },
                from_server=True,
            )


def list_rows() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "device.db"
        store = DeviceStore(path)
        _seed(store, CASES)
        store.cases(limit=50)  # warm-up
        raw = sqlite3.connect(path)
        query = "SELECT id, status, data FROM local_case ORDER BY updated_at DESC LIMIT 50"
        raw.execute(query).fetchall()
        ours: list[float] = []
        base: list[float] = []
        for i in range(LIST_ROUNDS):
            for which in (0, 1) if i % 2 else (1, 0):
                t0 = time.perf_counter()
                if which == 0:
                    got = store.cases(limit=50)
                    assert len(got) == 50
                    ours.append(time.perf_counter() - t0)
                else:
                    rows = raw.execute(query).fetchall()
                    assert len(rows) == 50
                    base.append(time.perf_counter() - t0)
        raw.close()
        store.close()
    value, baseline = statistics.median(ours), statistics.median(base)
    return [
        {
            "name": "app_list_50_of_10k",
            "value": value,
            "unit": "s/list",
            "baseline": "raw_sqlite3_select_50",
            "baseline_value": baseline,
            "ratio": value / baseline,
            "cases": CASES,
            "rounds": LIST_ROUNDS,
        }
    ]


MAP_ROUNDS = 30
GRID = 100  # cases per row of the grid


def _seed_county(store: DeviceStore, n: int) -> list[str]:
    """``n`` cases on a grid over the county (~330 m apart), a third of them closed."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids: list[str] = []
    with store.transaction() as s:
        for i in range(n):
            at = (start + timedelta(minutes=i)).isoformat()
            case_id = f"case-{i:05d}"
            ids.append(case_id)
            store.put_local_case(
                s,
                {
                    "id": case_id,
                    "number": f"YX261101-{i:06X}",
                    "status": ("assigned", "handling", "closed")[i % 3],
                    "category": "waterlogging",
                    "description": f"积水点 {i}",
                    "lat": 35.60 + (i % GRID) * 0.003,
                    "lon": 116.35 + (i // GRID) * 0.003,
                    "lead_department": "zhzf",
                    "assigned_at": at,
                    "due_at": (start + timedelta(days=3, minutes=i)).isoformat(),
                    "updated_at": at,
                    "events": [{"kind": "CaseCreated", "at": at, "data": {"photos": []}}],
                },
                from_server=True,
            )
    return ids


def map_rows() -> list[dict[str, Any]]:
    from fieldapp.screens.case_map import build_map, nearby_snapshots
    from fieldapp.viewmodels.case_detail import CaseDetailViewModel
    from fieldapp.viewmodels.case_map import case_map, place_of, point_of
    from server.demo_data import SITES, TOWNS
    from sync.boundary_types import Point
    from sync.lifecycle import Actor
    from sync.reference_codec import Reference
    from sync.vocabulary import Role

    reference = Reference(departments=(), towns=TOWNS, sites=SITES, versions=())
    actor = Actor(user_id="u-zhzf", role=Role.HANDLER, department="zhzf")
    now = datetime(2026, 11, 4, 2, tzinfo=UTC)
    here = Point(35.7312, 116.4887)
    with tempfile.TemporaryDirectory() as tmp:
        store = DeviceStore(Path(tmp) / "device.db")
        ids = _seed_county(store, CASES)
        # a case in the county seat (汶上街道), among its neighbours
        case_id = ids[(GRID * 46) + 43]

        def without_map() -> int:
            snap = store.case(case_id)
            assert snap is not None
            vm = CaseDetailViewModel(snap, actor, reference, now=now)
            return len(vm.actions()) + len(vm.timeline())

        def with_map() -> int:
            snap = store.case(case_id)
            assert snap is not None
            vm = CaseDetailViewModel(snap, actor, reference, now=now)
            shown = len(vm.actions()) + len(vm.timeline())
            model = case_map(
                snap, reference, nearby_snapshots(store, point_of(snap)), here=here, now=now
            )
            place_of(snap, reference, here)
            build_map(model, None, lambda: None)
            return shown + len(model.others)

        nearby = with_map() - without_map()
        assert nearby > 0, "the benchmark's case has no neighbours"
        ours: list[float] = []
        base: list[float] = []
        for i in range(MAP_ROUNDS):
            for which in (0, 1) if i % 2 else (1, 0):
                t0 = time.perf_counter()
                (with_map if which == 0 else without_map)()
                (ours if which == 0 else base).append(time.perf_counter() - t0)
        store.close()
    value, baseline = statistics.median(ours), statistics.median(base)
    return [
        {
            "name": "app_open_case_with_map_10k",
            "value": value,
            "unit": "s/open",
            "baseline": "open_same_case_without_map",
            "baseline_value": baseline,
            "ratio": value / baseline,
            "cases": CASES,
            "open_cases_on_map": nearby,
            "rounds": MAP_ROUNDS,
        }
    ]


def _static_server(root: Path) -> ThreadingHTTPServer:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def frame_rows() -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import (
        CHROMIUM,
        CHROMIUM_FLAGS,
        FIRST_FRAME_TIMEOUT_MS,
        PHONE,
        start_app,
        stop_app,
    )

    if not CHROMIUM.exists():
        return []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "static").mkdir()
        (root / "static" / "index.html").write_text(
            "<!doctype html><meta charset=utf-8><title>static</title><h1>一线</h1>",
            encoding="utf-8",
        )
        static = _static_server(root / "static")
        app = start_app(root / "app", "http://127.0.0.1:9")  # no server: the sign-in screen
        ours: list[float] = []
        painted: list[float] = []  # the loading state's first contentful paint
        base: list[float] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
                )
                static_url = f"http://127.0.0.1:{static.server_address[1]}/index.html"
                for _ in range(FRAME_ROUNDS):
                    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
                    context.route(
                        "**/*",
                        lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort(),
                    )
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(app.url + "/login")
                    page.wait_for_selector(
                        "#loading", state="detached", timeout=FIRST_FRAME_TIMEOUT_MS
                    )
                    ours.append(time.perf_counter() - t0)
                    painted.append(
                        page.evaluate(
                            "() => performance.getEntriesByName('first-contentful-paint')[0]"
                            ".startTime"
                        )
                        / 1000
                    )
                    context.close()
                    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(static_url)
                    page.wait_for_selector("h1")
                    base.append(time.perf_counter() - t0)
                    context.close()
                browser.close()
        finally:
            stop_app(app)
            static.shutdown()
    value, baseline = statistics.median(ours), statistics.median(base)
    paint = statistics.median(painted)
    return [
        {
            "name": "app_loading_state_first_paint",
            "value": paint,
            "unit": "s",
            "baseline": "static_html_loopback",
            "baseline_value": baseline,
            "ratio": paint / baseline,
            "rounds": FRAME_ROUNDS,
            "aim": "the loading state within 1 s of opening the page",
        },
        {
            "name": "app_first_frame",
            "value": value,
            "unit": "s",
            "baseline": "static_html_loopback",
            "baseline_value": baseline,
            "ratio": value / baseline,
            "rounds": FRAME_ROUNDS,
        }
    ]


def run() -> list[dict[str, Any]]:
    return [*frame_rows(), *list_rows(), *map_rows()]


def main() -> None:
    for row in run():
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
