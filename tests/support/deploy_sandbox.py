"""Stand-ins for systemctl, journalctl and nginx in tests/test_deploy_guide.py's sandbox.

    python deploy_sandbox.py systemctl daemon-reload|enable [--now]|start|restart|reload UNIT…
    python deploy_sandbox.py journalctl -u UNIT [ignored options]
    python deploy_sandbox.py nginx -t
    python deploy_sandbox.py stop-all

The container has no running systemd. ``systemctl`` starts a unit of ``$SYSTEMD_UNITS`` as
systemd would: the environment of its ``EnvironmentFile=`` and ``Environment=`` lines, its
``RuntimeDirectory=`` under ``$SANDBOX/run``, then ``ExecStart=`` (a ``Type=oneshot`` unit runs
to the end, then ``ExecStartPost=``; any other keeps running in its own process group, its
output in ``$SANDBOX/journal/UNIT.log``, which ``journalctl -u UNIT -o cat`` prints). Each command
line is read as systemd reads it: ``%%`` is ``%`` (any other specifier is refused), ``$$`` is
``$``, ``${NAME}`` and ``$NAME`` are the unit's variables. A unit the guide does not define is an
error (exit 5, as systemctl's "Unit not found").
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

SANDBOX = Path(os.environ.get("SANDBOX", "."))
UNITS = Path(os.environ.get("SYSTEMD_UNITS", "."))
SYSTEM_UNITS = {"nginx", "nginx.service", "postgresql", "postgresql.service"}


def read_unit(path: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file (a key may repeat, as ``Environment=`` does)."""
    keys: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def unit_environment(keys: dict[str, list[str]]) -> dict[str, str]:
    env = dict(os.environ)
    for env_file in keys.get("EnvironmentFile", []):
        for line in Path(env_file.lstrip("-")).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                env[name.strip()] = value.strip()
    for assignments in keys.get("Environment", []):
        for item in shlex.split(assignments):
            name, value = item.split("=", 1)
            env[name] = value
    return env


def command_line(line: str, env: dict[str, str]) -> list[str]:
    """An ``Exec*=`` line as systemd runs it: specifiers, then variables, then words."""

    def specifier(match: re.Match[str]) -> str:
        if match[0] != "%%":
            raise SystemExit(f"specifier {match[0]} in {line!r}: the sandbox knows only %%")
        return "%"

    def variable(match: re.Match[str]) -> str:
        return "$" if match[0] == "$$" else env.get(match[1] or match[2], "")

    line = re.sub(r"%.", specifier, line)
    line = re.sub(r"\$\$|\$\{(\w+)\}|\$(\w+)", variable, line)
    return shlex.split(line)


def pid_file(unit: str) -> Path:
    return SANDBOX / "run" / "pids" / f"{unit}.pid"


def stop(unit: str) -> None:
    path = pid_file(unit)
    if not path.exists():
        return
    pid = int(path.read_text())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        for _ in range(100):
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            subprocess.run(["sleep", "0.1"], check=False)
        else:
            continue
        break
    path.unlink()


def start(unit: str) -> int:
    keys = read_unit(UNITS / unit)
    exec_start = keys["ExecStart"][0]
    if " backup " in f" {exec_start} " and not os.environ.get("SANDBOX_HAS_BACKUP"):
        print(f"{unit}: skipped (yixian-server has no backup command yet)")
        return 0
    env = unit_environment(keys)
    for runtime in keys.get("RuntimeDirectory", []):
        (SANDBOX / "run" / runtime).mkdir(parents=True, exist_ok=True)
    journal = SANDBOX / "journal" / f"{unit}.log"
    journal.parent.mkdir(parents=True, exist_ok=True)
    if keys.get("Type", ["simple"])[0] == "oneshot":
        for command in [exec_start, *keys.get("ExecStartPost", [])]:
            with journal.open("ab") as out:
                done = subprocess.run(
                    command_line(command, env), env=env, stdout=out, stderr=subprocess.STDOUT
                )
            if done.returncode != 0:
                print(f"{unit}: {command} failed ({done.returncode}):\n{journal.read_text()}")
                return 3
        return 0
    stop(unit)
    with journal.open("ab") as out:
        process = subprocess.Popen(
            command_line(exec_start, env),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(unit).parent.mkdir(parents=True, exist_ok=True)
    pid_file(unit).write_text(str(process.pid))
    return 0


def systemctl(args: list[str]) -> int:
    verb, rest = args[0], [a for a in args[1:] if not a.startswith("--")]
    now = "--now" in args
    if verb == "daemon-reload":
        return 0
    for unit in rest:
        if unit in SYSTEM_UNITS:
            continue
        if not (UNITS / unit).is_file():
            print(f"Unit {unit} not found.", file=sys.stderr)
            return 5
        if unit.endswith(".timer"):
            service = unit.removesuffix(".timer") + ".service"
            if not (UNITS / service).is_file():
                print(f"{unit}: no {service}", file=sys.stderr)
                return 5
            continue
        if verb in ("start", "restart") or (verb == "enable" and now):
            code = start(unit)
            if code:
                return code
        elif verb not in ("enable", "reload", "stop"):
            print(f"systemctl {verb}: not known to the sandbox", file=sys.stderr)
            return 1
        if verb == "stop":
            stop(unit)
    return 0


def journalctl(args: list[str]) -> int:
    unit = args[args.index("-u") + 1]
    if not unit.endswith((".service", ".timer")):
        unit += ".service"
    sys.stdout.write((SANDBOX / "journal" / f"{unit}.log").read_text(errors="replace"))
    return 0


def nginx(args: list[str]) -> int:
    if args != ["-t"]:
        print(f"nginx {args}: only -t is known to the sandbox", file=sys.stderr)
        return 1
    real = "/usr/sbin/nginx"
    if not Path(real).exists():
        print("nginx is not installed here: configuration not checked")
        return 0
    here = SANDBOX / "nginx"
    tls = SANDBOX / "etc/yixian/tls"
    tls.mkdir(parents=True, exist_ok=True)
    if not (tls / "yixian.crt").exists():
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=yixian.example.gov.cn", "-keyout", str(tls / "yixian.key")),
                *("-out", str(tls / "yixian.crt")),
            ],
            check=True,
            capture_output=True,
        )
    main = here / "main.conf"
    main.write_text(
        f"pid {here}/nginx.pid;\nerror_log {here}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {here}/body;\n"
        f"  proxy_temp_path {here}/proxy;\n  include {here}/conf.d/*.conf;\n}}\n"
    )
    done = subprocess.run(
        [real, "-t", "-p", str(here), "-e", str(here / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
    )
    sys.stdout.write(done.stdout + done.stderr)
    return done.returncode


def stop_all() -> int:
    pids = SANDBOX / "run" / "pids"
    for path in pids.glob("*.pid") if pids.is_dir() else []:
        stop(path.name.removesuffix(".pid"))
    return 0


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "systemctl":
        return systemctl(args)
    if command == "journalctl":
        return journalctl(args)
    if command == "nginx":
        return nginx(args)
    if command == "stop-all":
        return stop_all()
    print(f"unknown stand-in {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
