"""Browser-test harness: the field app in web mode, driven by headless Debian Chromium.

Fixtures
    api_server_url  module; the API server the app is pointed at. Default: a closed port
                    (the app is offline). A test module overrides it to use a stub or
                    the real server.
    app_server      module; ``python -m fieldapp`` in its own process group, on a free port,
                    with a temp ``YIXIAN_DATA_DIR``; the whole group is killed at teardown.
    browser         module; headless ``/usr/bin/chromium`` (never ``playwright install``).
    new_device      function; a factory of fresh phone-like pages (390×844 @2x, touch, a
                    fixed position in 汶上县, non-loopback requests aborted). Each one is a
                    separate browser context: its own storage, i.e. its own device.
                    ``new_device(viewport=(1280, 800))`` is a desktop browser instead.
    page            function; one such page.

Helpers
    open_app(page, url)  load, wait for the first frame, switch on Flutter's semantics tree.
    shot(page, name)     screenshot to tests/browser/screenshots/ (git-ignored); main screens
                         also go to docs/screenshots/ when YIXIAN_DOCS_SCREENSHOTS=1.

Run: ``.venv/bin/pytest -m browser tests/browser`` (needs chromium + fonts-noto-cjk:
``scripts/install_browser_deps.sh``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Geolocation,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)
from playwright.sync_api import (
    Error as PlaywrightError,
)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("YIXIAN_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT_DIR = REPO / "tests" / "browser" / "screenshots"
DOCS_SCREENSHOT_DIR = REPO / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
WENSHANG: Geolocation = {"latitude": 35.7312, "longitude": 116.4887, "accuracy": 10.0}  # 汶上县
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
APP_START_TIMEOUT_S = 30.0
FIRST_FRAME_TIMEOUT_MS = 60_000
UI_TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the app exited with {process.returncode} before serving:\n{log.read_text()}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the app did not open port {port} in {timeout} s:\n{log.read_text()}")


@dataclass
class RunningApp:
    url: str
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]
    started_in_s: float  # from spawn to the port accepting connections


def start_app(
    workdir: Path,
    server_url: str,
    extra_env: dict[str, str] | None = None,
    *,
    port: int | None = None,
) -> RunningApp:
    """Start the app in ``workdir``. Pass the ``port`` of a stopped app to restart it on the same
    origin, so the browser keeps that device's id and session (localStorage is per origin); the
    log is appended to, so a restart keeps the first run's log."""
    port = port or free_port()
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = workdir / "app.log"
    env = {
        **os.environ,
        "YIXIAN_APP_PORT": str(port),
        "YIXIAN_SERVER_URL": server_url,
        "YIXIAN_DATA_DIR": str(data_dir),
        "FLET_FORCE_WEB_SERVER": "1",  # never try to open a desktop browser
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    started = time.monotonic()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fieldapp"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown kills every child
        )
    app = RunningApp(f"http://127.0.0.1:{port}", port, data_dir, log, process, 0.0)
    try:
        wait_for_port(port, process, log, APP_START_TIMEOUT_S)
    except BaseException:
        stop_app(app)
        raise
    app.started_in_s = time.monotonic() - started
    return app


def stop_app(app: RunningApp) -> None:
    """Terminate the app's whole process group (a child may be serving the port)."""
    pgid = app.process.pid  # start_new_session: the group id is the leader's pid
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        try:
            app.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; make sure no member of its group survives
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break


@pytest.fixture(scope="module")
def api_server_url() -> str:
    """A port nothing listens on: by default the app runs offline."""
    return f"http://127.0.0.1:{free_port()}"


def app_fixture(scope: str = "module") -> Any:
    """The ``app_server`` fixture of the given scope (see ``demo_server_fixtures``)."""

    @pytest.fixture(scope=scope, name="app_server")  # type: ignore[call-overload]
    def _app_server(
        api_server_url: str, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[RunningApp]:
        app = start_app(tmp_path_factory.mktemp("fieldapp"), api_server_url)
        try:
            yield app
        finally:
            stop_app(app)

    return _app_server


app_server = app_fixture()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: run scripts/install_browser_deps.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


def desktop(width: int, height: int) -> dict[str, object]:
    return {
        "viewport": {"width": width, "height": height},
        "device_scale_factor": 1,
        "is_mobile": False,
        "has_touch": False,
    }


def _only_loopback(route: Route) -> None:
    if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
        route.continue_()
    else:  # e.g. the Rive wasm the Flutter client asks a CDN for
        route.abort()


@pytest.fixture
def new_device(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def make(viewport: tuple[int, int] | None = None) -> Page:
        """A phone; with ``viewport=(width, height)`` a desktop browser of that size."""
        screen = PHONE if viewport is None else {**PHONE, **desktop(*viewport)}
        context = browser.new_context(
            **screen,  # type: ignore[arg-type]
            geolocation=WENSHANG,
            permissions=["geolocation", "camera"],
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.route("**/*", _only_loopback)
        contexts.append(context)
        return context.new_page()  # one page per context: a second tab screenshots blank

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_device: Callable[[], Page]) -> Page:
    return new_device()


def open_app(page: Page, url: str) -> float:
    """Load ``url``; wait for the first frame; enable the semantics tree. Returns the seconds
    from navigation to the first frame (``#loading`` detached)."""
    started = time.monotonic()
    page.goto(url)
    page.wait_for_selector("#loading", state="detached", timeout=FIRST_FRAME_TIMEOUT_MS)
    first_frame = time.monotonic() - started
    enable_semantics(page)
    return first_frame


def enable_semantics(page: Page) -> None:
    """Flutter builds its accessibility DOM only after this hidden button is activated. It
    sits outside the viewport, so it is clicked by a dispatched event."""
    placeholder = page.locator("flt-semantics-placeholder")
    placeholder.wait_for(state="attached")
    placeholder.dispatch_event("click")
    page.wait_for_selector("flt-semantics", state="attached")


def settled_screenshot(page: Page, timeout_s: float = 5.0) -> bytes:
    """A screenshot once two in a row are identical. The semantics DOM updates at once, but
    the canvas may still show a route transition or the previous frame."""
    deadline = time.monotonic() + timeout_s
    previous = page.screenshot()
    while time.monotonic() < deadline:
        page.wait_for_timeout(150)
        current = page.screenshot()
        if current == previous:
            return current
        previous = current
    return previous  # still moving (e.g. a progress ring): the latest frame


def shot(page: Page, name: str, *, docs: bool = False) -> Path:
    """Save a settled screenshot; ``docs=True`` marks a main screen shown in the README."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.mouse.move(0, 0)  # end any hover, so a tapped tab's tooltip fades out
    path.write_bytes(settled_screenshot(page))
    if docs and os.environ.get("YIXIAN_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT_DIR / path.name)
    return path


def field(page: Page, label: str) -> Locator:
    """The text input of ``ft.TextField(label=label)`` (a textarea when multiline)."""
    return page.locator(f'input[aria-label="{label}"], textarea[aria-label="{label}"]')


VIEW_TOP, VIEW_BOTTOM_MARGIN = 90, 110  # the app bar above, the navigation bar below


def reveal(page: Page, target: Locator, tries: int = 15) -> dict[str, float]:
    """Scroll the screen with the mouse wheel, as a user would, until the middle of ``target``
    sits inside the visible area; return its box. Playwright's own scroll-into-view moves only
    the semantics DOM: Flutter's canvas stays put and the tap lands on whatever is drawn there."""
    viewport = page.viewport_size or {"width": 390, "height": 844}
    bottom = viewport["height"] - VIEW_BOTTOM_MARGIN
    page.mouse.move(viewport["width"] / 2, viewport["height"] / 2)
    seen: list[float | None] = []
    for _ in range(tries):
        box = target.bounding_box()
        middle = None if box is None else box["y"] + box["height"] / 2
        seen.append(middle)
        if box is not None and middle is not None and VIEW_TOP <= middle <= bottom:
            return box
        delta = 300.0 if middle is None else middle - (VIEW_TOP + bottom) / 2
        page.mouse.wheel(0, delta)
        page.wait_for_timeout(400)
    failed = shot(page, "reveal-failed")
    raise AssertionError(
        f"could not scroll {target} into view; its middle was at {seen} (see {failed})"
    )


def tap(page: Page, target: Locator) -> None:
    """Tap ``target`` as Flutter sees it. A node with a tap action (``flt-tappable``, on it or
    its first such descendant) gets a dispatched click, which Flutter turns into that action
    wherever the canvas has it: once Playwright has scrolled the semantics DOM on an earlier
    screen, its boxes no longer match what is drawn, and a click at those coordinates lands
    on whatever is drawn there (or on the navigation bar). Other controls (a Dropdown's field)
    take pointer events only: scrolled into view by wheel (``reveal``), then clicked."""
    target.wait_for(state="attached")
    if target.get_attribute("flt-tappable") is not None:
        target.dispatch_event("click")
        return
    inner = target.locator("[flt-tappable]")
    if inner.count():
        inner.first.dispatch_event("click")
        return
    box = reveal(page, target)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def type_into(page: Page, label: str, text: str, *, replace: bool = False) -> None:
    """Type like a user: Flutter ignores Playwright's ``fill`` (no key events reach it).

    Waits for the field to have focus before the first key, then checks what it holds and
    types again if a key was lost (seen on a loaded machine: "hangsan" for "zhangsan").
    The field is a real DOM input, and a click on it usually gives Flutter the focus. But when
    the semantics DOM has drifted from the canvas, the DOM input can hold the focus while the
    keys reach no field: then the field is tapped where the canvas draws it (``tap``), and at
    last focused directly."""
    locator = field(page, label)
    wanted: str | None = None
    held = ""
    for focus in (locator.click, lambda: tap(page, locator), locator.focus):
        try:
            focus()
            expect(locator).to_be_focused(timeout=3000)
        except (AssertionError, PlaywrightError):  # not focused, or the tap found no spot
            continue
        if wanted is None:
            wanted = text if replace else locator.input_value() + text
        for _ in range(2):
            page.keyboard.press("Control+A")
            page.keyboard.press("Backspace")
            page.keyboard.type(wanted)
            held = locator.input_value()
            if held == wanted:
                return
    raise AssertionError(f"{label}: typed {wanted!r}, the field holds {held!r}")


def read_field(page: Page, label: str) -> str:
    """The text in a field. Flutter fills the DOM ``<input>`` only once it has focus, so this
    taps the field first (its value can lag behind a later programmatic change)."""
    locator = field(page, label)
    locator.click()
    expect(locator).to_be_focused()
    return locator.input_value()
