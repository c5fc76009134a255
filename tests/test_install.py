"""`pip install` of the wheel gives a working server and app, with nothing read from the checkout.

The wheel is built from a copy of the project's files (no stray build output in the checkout)
and installed into a fresh virtual environment in a temporary folder. The commands then run
from that folder with ``PYTHONPATH`` cleared, so the checkout is not on their path.

Why dependencies come from the suite's own environment: installing ~100 packages into a fresh
environment takes minutes and needs the registry. The new environment gets only the wheel
(``pip install --no-deps --no-index``) and one ``.pth`` line naming the suite's site-packages for
the dependencies. A path named in a ``.pth`` file is appended to ``sys.path`` without its own
``.pth`` files being run, so the checkout's editable install (a ``.pth`` and a finder there) is
not active: ``sync``, ``server`` and ``fieldapp`` can only come from the wheel, and
``check_the_installed_packages_are_the_wheels`` checks that they do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import site
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "sync", "server", "fieldapp", "assets")
START_TIMEOUT_S = 60
PIP = (sys.executable, "-m", "pip")
OFFLINE = ("-q", "--no-index", "--no-deps")  # nothing from a registry


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # the working directory of every command: outside the checkout
    env: dict[str, str]
    wheel: Path
    install_seconds: float

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            args, cwd=self.home, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout


def build_wheel(work: Path) -> Path:
    source = work / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    wheels = work / "wheels"
    subprocess.run(
        [*PIP, "wheel", *OFFLINE, "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True,
        cwd=work,
        timeout=300,
    )
    (wheel,) = wheels.glob("yixian-*.whl")
    return wheel


def install(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    assert not work.resolve().is_relative_to(ROOT)
    started = time.monotonic()
    wheel = build_wheel(work)
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", *OFFLINE, str(wheel)],
        check=True,
        cwd=work,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "yixian-test-dependencies.pth").write_text("\n".join(deps) + "\n")
    seconds = time.monotonic() - started
    home = work / "county"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "DATABASE_URL", "MIGRATION_DATABASE_URL", "VIRTUAL_ENV"}
        and not k.startswith(("YIXIAN_", "PYTEST_"))
    }
    env |= {
        "PATH": f"{env_dir / 'bin'}:{env.get('PATH', '')}",
        "YIXIAN_VAR_DIR": str(home / "var"),
        "FLET_FORCE_WEB_SERVER": "1",  # never look for a desktop browser
    }
    print(f"wheel built and installed in {seconds:.1f} s")
    return Installed(env_dir, home, env, wheel, seconds)


def check_the_wheel_holds_the_files_read_at_run_time(installed: Installed) -> None:
    import zipfile

    names = set(zipfile.ZipFile(installed.wheel).namelist())
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "yixian-server = server.__main__:main" in scripts
    assert "yixian-app = fieldapp.main:run" in scripts
    for needed in (
        "server/evaluation/rules.toml",
        "server/migrations/script.py.mako",
        "server/migrations/env.py",
        "fieldapp/assets/fonts/NotoSansSC-Subset.otf",
    ):
        assert needed in names, needed
    assets = {
        f"fieldapp/assets/{p.relative_to(ROOT / 'assets')}"
        for p in (ROOT / "assets").rglob("*")
        if p.is_file()
    }
    assert assets <= names, sorted(assets - names)
    versions = {p.name for p in (ROOT / "server/migrations/versions").glob("*.py")}
    assert {n.rsplit("/", 1)[-1] for n in names if "migrations/versions/" in n} == versions
    sources = {
        str(p.relative_to(ROOT))
        for d in ("sync", "server", "fieldapp")
        for p in (ROOT / d).rglob("*.py")
    }
    assert sources <= names, sorted(sources - names)[:5]


def check_the_installed_packages_are_the_wheels(installed: Installed) -> None:
    probe = (
        "import sync, server, fieldapp, fieldapp.photos as p, fieldapp.config as c;"
        "from server.evaluation.rules import RULES_PATH;"
        "print(sync.__file__, server.__file__, fieldapp.__file__, RULES_PATH,"
        " c.assets_dir(), p.FONT_DIR, sep='\\n')"
    )
    paths = [Path(line) for line in installed.run(installed.bin("python"), "-c", probe).split()]
    for path in paths:
        assert path.resolve().is_relative_to(installed.venv.resolve()), path
        assert not path.resolve().is_relative_to(ROOT), path
    assert paths[3].is_file() and (paths[5] / "NotoSansSC-Subset.otf").is_file()


def check_the_guides_install_command_resolves_with_the_release_constraints(
    installed: Installed,
) -> None:
    """docs/deploy.md installs ``"yixian-….whl[server,web]"`` with ``-c constraints.txt``: the
    extras and every pinned version resolve (from what is installed: nothing is downloaded)."""
    done = subprocess.run(
        [
            *PIP,
            "--python",
            installed.bin("python"),
            "install",
            "--dry-run",
            "-q",
            "--no-index",
            "-c",
            str(ROOT / "constraints.txt"),
            f"{installed.wheel}[server,web]",
        ],
        cwd=installed.home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "does not provide the extra" not in done.stderr, done.stderr


def launch(installed: Installed, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=installed.home,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopping it stops its children
        )


def wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or too busy starting to answer
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}: {log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Running:
    server_url: str
    app_url: str
    app_log: Path


@contextlib.contextmanager
def running_from(installed: Installed) -> Iterator[Running]:
    """`yixian-app` (started first: it needs no server to start), then `yixian-server migrate`,
    `load-demo` and `serve --workers 2` on SQLite in the county's folder."""
    server_port, app_port = free_port(), free_port()
    server_url = f"http://127.0.0.1:{server_port}"
    app_env = {
        "YIXIAN_APP_PORT": str(app_port),
        "YIXIAN_SERVER_URL": server_url,
        "YIXIAN_DATA_DIR": str(installed.home / "app"),
    }
    app_log = installed.home / "app.log"
    app = launch(
        Installed(**{**installed.__dict__, "env": installed.env | app_env}),
        [installed.bin("yixian-app")],
        app_log,
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        assert "migrated" in installed.run(installed.bin("yixian-server"), "migrate")
        loaded = installed.run(installed.bin("yixian-server"), "load-demo")
        assert "demo data loaded" in loaded
        server_log = installed.home / "server.log"
        server = launch(
            installed,
            [installed.bin("yixian-server"), "serve", "--port", str(server_port), "--workers", "2"],
            server_log,
        )
        wait_listening(server, server_port, server_log)
        wait_listening(app, app_port, app_log)
        yield Running(server_url, f"http://127.0.0.1:{app_port}", app_log)
    finally:
        stop(app)
        if server is not None:
            stop(server)


def check_the_installed_server_signs_in_and_lists_cases(running: Running) -> None:
    served = running.server_url
    assert requests.get(f"{served}/ready", timeout=10).json()["checks"]["migrations"]["ok"]
    login = requests.post(
        f"{served}/auth/login",
        json={"username": "supervisor", "password": "yixian-demo"},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    cases = requests.get(f"{served}/cases", headers=headers, timeout=30)
    assert cases.status_code == 200, cases.text
    assert cases.json()["items"], "the demo cases are listed"
    # the scoring rules are read from the package's rules.toml
    rules = requests.get(f"{served}/evaluation/rules", headers=headers, timeout=30)
    assert rules.status_code == 200 and rules.json(), rules.text


def check_the_installed_app_serves_its_page_and_its_font(running: Running) -> None:
    page = requests.get(f"{running.app_url}/", timeout=30)
    assert page.status_code == 200 and "flutter" in page.text.lower()
    font = requests.get(f"{running.app_url}/fonts/NotoSansSC-Subset.otf", timeout=30)
    assert font.status_code == 200
    assert font.content == (ROOT / "assets/fonts/NotoSansSC-Subset.otf").read_bytes()
    log = running.app_log.read_text(errors="replace")
    assert "Traceback" not in log, log


def check_the_installed_app_draws_its_sign_in_screen(running: Running) -> None:
    """The first frame, as a phone-sized browser sees it: the installed app's Python draws
    its sign-in screen (its page, its engine and its fonts all come from the wheel)."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, PHONE, open_app

    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: scripts/install_browser_deps.sh installs it")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_context(**PHONE).new_page()  # type: ignore[arg-type]
            open_app(page, running.app_url + "/login")
            expect(page.get_by_role("button", name="登录")).to_be_visible(timeout=30_000)
        finally:
            browser.close()
    log = running.app_log.read_text(errors="replace")
    assert "Traceback" not in log, log


def test_the_wheel_installed_outside_the_checkout_serves_and_runs_the_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One test, so that one worker builds, installs and starts everything once."""
    installed = install(tmp_path_factory)
    check_the_wheel_holds_the_files_read_at_run_time(installed)
    check_the_installed_packages_are_the_wheels(installed)
    check_the_guides_install_command_resolves_with_the_release_constraints(installed)
    with running_from(installed) as running:
        check_the_installed_server_signs_in_and_lists_cases(running)
        check_the_installed_app_serves_its_page_and_its_font(running)
        check_the_installed_app_draws_its_sign_in_screen(running)
