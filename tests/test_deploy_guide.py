"""Every command docs/deploy.md names is run, against a sandbox folder and the test PostgreSQL.

The guide's fenced blocks say what they are (```sh, ```sql, ```ini file=…, ```nginx file=…,
```yaml file=…). The sandbox moves the guide's paths (/opt/yixian, /etc/yixian, /var/lib/yixian,
/var/backups/yixian, /etc/systemd/system, /run/yixian) into a temporary folder, its roles and
database to fresh ones, its ports to free ones; then:

- ```sql runs in psql as the PostgreSQL administrator;
- ```ini file=/etc/yixian/… are the settings the commands read;
- ```ini file=/etc/systemd/system/… are checked by ``systemd-analyze verify``; this container has
  no systemd running, so ``systemctl`` is a stand-in that starts a unit the way systemd would
  (its ``EnvironmentFile``, ``Environment`` and ``ExecStart``, output kept as the journal,
  ``journalctl -o cat`` reads it back) and checks that every unit it is asked for is one of
  the guide's;
- ```nginx is checked by ``nginx -t`` with a throwaway certificate (skipped when nginx is
  missing, with the reason);
- ```sh runs in bash (``set -euo pipefail``) with ``yixian-server`` / ``yixian-app`` running the
  checkout's code (the same entry points the wheel installs: tests/test_install.py runs those),
  and stand-ins for what needs root: ``useradd``, ``chown``, ``install -o/-g`` (owners dropped),
  ``sudo -u`` (runs as the test's user);
- ```sh install (build and install the wheel, upgrade): their ``pip wheel``, ``python3 -m venv``
  and ``pip install`` lines are what tests/test_install.py does in a fresh environment (with
  dependencies from the suite's environment instead of the registry); their other lines run here;
- ```sh backup (the restore drill) and the backup units run when ``yixian-server`` has the
  ``backup`` and ``restore`` commands, else they are skipped, saying so;
- ```sh phone: ``flet build`` needs the internet; each ``flet build`` line is parsed by flet-cli's
  own argument parser, the rest is checked by ``bash -n``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _pg_available
from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.M | re.S)
SUPPORT = ROOT / "tests" / "support" / "deploy_sandbox.py"


@dataclass(frozen=True)
class Block:
    kind: str
    tag: str  # "install", "backup", "phone", "file=/path", or ""
    body: str

    @property
    def file(self) -> str | None:
        return self.tag[len("file=") :] if self.tag.startswith("file=") else None


def guide_blocks() -> list[Block]:
    return [Block(m[1], m[2].strip(), m[3]) for m in FENCE.finditer(GUIDE)]


def commands_of(usage: str) -> set[str]:
    """The subcommands in argparse's usage line: ``{serve,migrate,…}``."""
    found = re.search(r"\{([a-z,-]+)\}", usage)
    return set(found[1].split(",")) if found else set()


def pip_or_venv(line: str) -> bool:
    return bool(re.search(r"(^|/)pip (install|wheel)\b|python3 -m (pip|venv)\b", line))


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]
    replacements: list[tuple[str, str]]
    has_backup: bool
    db: str
    roles: tuple[str, str]

    def rewrite(self, body: str) -> str:
        for old, new in self.replacements:
            body = body.replace(old, new)
        return body

    def journal(self) -> str:
        """The last lines each started unit wrote (what `journalctl -u` would show)."""
        logs = sorted((self.root / "journal").glob("*.log"))
        return "\n".join(
            f"== {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in logs
        )

    def bash(self, script: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + self.rewrite(script)],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _write_exe(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    path.chmod(0o755)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("county")
    tag = uuid.uuid4().hex[:8]
    db, owner, app = f"yx_guide_{tag}", f"yx_owner_{tag}", f"yx_app_{tag}"
    server_port, app_port = free_port(), free_port()
    replacements = [
        ("/etc/systemd/system", str(root / "units")),
        ("/etc/nginx/conf.d", str(root / "nginx/conf.d")),
        ("/opt/yixian", str(root / "opt/yixian")),
        ("/etc/yixian", str(root / "etc/yixian")),
        ("/var/lib/yixian", str(root / "var/lib/yixian")),
        ("/var/backups/yixian", str(root / "backups")),
        ("/run/yixian", str(root / "run/yixian")),
        ("yixian_owner", owner),
        ("yixian_app", app),
        ("yixian_drill", f"{db}_drill"),
        ("127.0.0.1:5432/yixian", f"127.0.0.1:5432/{db}"),
        ("CREATE DATABASE yixian ", f"CREATE DATABASE {db} "),
        ("8000", str(server_port)),
        ("8550", str(app_port)),
    ]
    python = sys.executable
    bin_dir = root / "opt/yixian/bin"
    for name, module in (("yixian-server", "server"), ("yixian-app", "fieldapp")):
        _write_exe(
            bin_dir / name,
            f"""
            #!/bin/sh
            PYTHONPATH={ROOT} exec {python} -m {module} "$@"
            """,
        )
    shims = root / "shims"
    _write_exe(shims / "useradd", '#!/bin/sh\necho useradd "$@" >> "$SANDBOX/root-actions"\n')
    _write_exe(shims / "chown", '#!/bin/sh\necho chown "$@" >> "$SANDBOX/root-actions"\n')
    _write_exe(
        shims / "install",
        """
        #!/bin/sh
        # install as root would, less the owner and group (the test's user owns everything)
        args=""
        while [ $# -gt 0 ]; do
          case "$1" in -o|-g) shift 2 ;; *) args="$args $1"; shift ;; esac
        done
        exec /usr/bin/install $args
        """,
    )
    _write_exe(
        shims / "sudo",
        """
        #!/bin/sh
        [ "$1" = "-u" ] && shift 2
        exec "$@"
        """,
    )
    for name in ("systemctl", "journalctl", "nginx"):
        _write_exe(shims / name, f'#!/bin/sh\nexec {python} {SUPPORT} {name} "$@"\n')
    (root / "units").mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("YIXIAN_", "PYTEST_"))
        and k not in {"DATABASE_URL", "MIGRATION_DATABASE_URL", "PYTHONPATH"}
    }
    pg_host = "127.0.0.1"
    env |= {
        "PATH": f"{shims}:{env.get('PATH', '')}",
        "SANDBOX": str(root),
        "PGHOST": pg_host,
        "PGUSER": "postgres",
        "SYSTEMD_UNITS": str(root / "units"),
        "YIXIAN_PYTHON": python,
    }
    usage = subprocess.run(
        [str(bin_dir / "yixian-server"), "--help"], capture_output=True, text=True, env=env
    ).stdout
    box = Sandbox(
        root,
        env,
        replacements,
        has_backup={"backup", "restore"} <= commands_of(usage),
        db=db,
        roles=(owner, app),
    )
    box.env["SANDBOX_HAS_BACKUP"] = "1" if box.has_backup else ""
    for block in guide_blocks():  # the settings and units, where the guide puts them
        if block.file and block.file.startswith(
            ("/etc/yixian/", "/etc/systemd/system/", "/etc/nginx/")
        ):
            target = Path(box.rewrite(block.file))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(box.rewrite(block.body))
    try:
        yield box
    finally:
        subprocess.run([python, str(SUPPORT), "stop-all"], env=box.env, timeout=60)
        if _pg_available() is None:  # drop what the guide created
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in (db, f"{db}_drill"):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                for role in (app, owner):
                    conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()


def test_the_guide_says_what_each_block_is() -> None:
    blocks = guide_blocks()
    known = {("sh", ""), ("sh", "install"), ("sh", "backup"), ("sh", "phone"), ("sql", "")}
    for block in blocks:
        assert (block.kind, block.tag) in known or block.file, block
    kinds = {(b.kind, b.tag.split("=")[0]) for b in blocks}
    assert {("sh", ""), ("sql", ""), ("ini", "file"), ("nginx", "file"), ("sh", "phone")} <= kinds


def test_the_systemd_units_are_valid(sandbox: Sandbox) -> None:
    units = sorted((sandbox.root / "units").iterdir())
    assert {u.name for u in units} >= {
        "yixian-server.service",
        "yixian-audit.service",
        "yixian-audit.timer",
        "yixian-backup.service",
        "yixian-backup.timer",
        "yixian-app.service",
    }
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        capture_output=True,
        text=True,
        env=sandbox.env,
        cwd=sandbox.root,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_nginx_configuration_is_accepted(sandbox: Sandbox) -> None:
    if shutil.which("nginx", path="/usr/sbin:/usr/bin") is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light): config not checked")
    done = subprocess.run(
        [sys.executable, str(SUPPORT), "nginx", "-t"],
        capture_output=True,
        text=True,
        env=sandbox.env,
        cwd=sandbox.root,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_prometheus_target_is_the_servers_port() -> None:
    (block,) = [b for b in guide_blocks() if b.kind == "yaml"]
    config = yaml.safe_load(block.body)
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    unit = next(b for b in guide_blocks() if b.file and b.file.endswith("yixian-server.service"))
    port = re.search(r"--port (\d+)", unit.body)
    assert port and targets == [f"127.0.0.1:{port[1]}"]


def test_the_install_steps_are_those_the_install_test_runs() -> None:
    lines = [
        line.strip()
        for b in guide_blocks()
        if b.kind == "sh" and b.tag == "install"
        for line in b.body.splitlines()
        if pip_or_venv(line)
    ]
    assert any("pip wheel --no-deps" in line for line in lines)
    assert any("python3 -m venv" in line for line in lines)
    installs = [line for line in lines if "pip install" in line]
    assert installs and all("-c constraints.txt" in line for line in installs)
    assert all("[server,web]" in line for line in installs)
    install_test = (ROOT / "tests" / "test_install.py").read_text()
    assert '"wheel"' in install_test and '"install"' in install_test


@pytest.mark.postgres
def test_every_command_of_the_guide_runs_in_order(sandbox: Sandbox) -> None:
    """The guide top to bottom: PostgreSQL roles, settings, migrate, services started and
    answering, nginx, the restore drill, an upgrade, logs and metrics."""
    reason = _pg_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be available when CI=true: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    skipped: list[str] = []
    for block in guide_blocks():
        if block.kind == "sql":
            done = subprocess.run(  # as `sudo -u postgres psql` reads it: one by one
                ["psql", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", "-"],
                input=sandbox.rewrite(block.body),
                capture_output=True,
                text=True,
                env=sandbox.env,
            )
            assert done.returncode == 0, done.stderr
        elif block.kind == "sh" and block.tag in ("", "install", "backup"):
            if block.tag == "backup" and not sandbox.has_backup:
                skipped.append("the restore drill: yixian-server has no backup/restore yet")
                continue
            script = "\n".join(
                f": skipped, run by tests/test_install.py: {line}" if pip_or_venv(line) else line
                for line in block.body.splitlines()
            )
            done = sandbox.bash(script)
            assert done.returncode == 0, (
                f"{block.body}\n---\n{done.stdout}\n{done.stderr[-3000:]}\n{sandbox.journal()}"
            )
            if block.tag == "backup":  # restored, then every chain checked, in the scratch db
                assert re.search(r"^restored .*^checked \d+ events", done.stdout, re.M | re.S), (
                    done.stdout
                )
    if sandbox.has_backup:  # the drill restored what the backup unit wrote from PostgreSQL
        backups = sorted((sandbox.root / "backups").glob("*/manifest.json"))
        assert len(backups) >= 2, backups  # the drill's and the upgrade's, one directory each
        manifest = json.loads(backups[0].read_text())
        assert manifest["database_kind"] == "postgresql", manifest
    log = (sandbox.root / "journal" / "yixian-server.service.log").read_text()
    assert '"route": "/ready"' in log or '"route":"/ready"' in log
    migrated = sandbox.bash(
        "(set -a; . /etc/yixian/migrate.env; /opt/yixian/bin/yixian-server migrate)"
    )
    assert f"granted to role {sandbox.roles[1]}" in migrated.stdout, migrated.stderr
    if skipped:
        print("\n".join(skipped))


def test_the_phone_build_commands_are_ones_flet_build_accepts() -> None:
    import argparse

    from flet_cli.commands.build import Command

    (block,) = [b for b in guide_blocks() if b.kind == "sh" and b.tag == "phone"]
    assert subprocess.run(["bash", "-n", "-c", block.body]).returncode == 0
    builds = [
        line.split("flet build", 1)[1].split()
        for line in block.body.splitlines()
        if "flet build" in line
    ]
    assert {args[0] for args in builds} >= {"apk", "aab", "ipa"}
    for args in builds:
        parser = argparse.ArgumentParser(exit_on_error=False)
        Command(parser)
        options, unknown = parser.parse_known_args(args)
        assert not unknown, unknown
        assert options.target_platform == args[0]
    # the check would see a misspelt option
    parser = argparse.ArgumentParser(exit_on_error=False)
    Command(parser)
    assert parser.parse_known_args(["apk", "--split-per-abl"])[1] == ["--split-per-abl"]
