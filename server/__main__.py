"""Command line: ``python -m server migrate|load-demo|escalate|audit verify|new-epoch|serve``,
and ``backup|restore`` (server/backup.py)."""

from __future__ import annotations

import argparse
import os
import time

from server import backup as backup_cli
from server.config import settings_from_env
from server.db import make_engine, migrate


def _escalate(url: str, now_text: str | None, every: float) -> None:
    from datetime import UTC, datetime

    from server.observability import logs
    from server.services.escalation_job import RunResult, run_escalation
    from server.services.scheduler import ESCALATION_JOB, Outcome, PeriodicJob, escalation_job

    engine = make_engine(url)
    if now_text:
        fixed = datetime.fromisoformat(now_text)
        if fixed.tzinfo is None:
            raise SystemExit("--now needs a time zone, e.g. 2026-11-05T10:00+08:00")
    logs.configure()  # JSON lines on stderr

    def clock() -> datetime:
        return fixed if now_text else datetime.now(UTC)

    if every > 0:  # on a schedule: one process at a time, failed runs retried with backoff
        escalation_job(engine, clock, every=every).run(_sleep)
        return
    # once (a timer, catch-up, tests): under the same lock, recorded for /ready
    results: list[RunResult] = []
    job = PeriodicJob(
        ESCALATION_JOB, lambda: results.append(run_escalation(engine, clock())), engine, every=60
    )
    outcome = job.tick(force=True)
    if outcome == Outcome.FAILED:
        raise SystemExit("escalation failed: see the log above")
    result = results[0] if results else RunResult(escalated=[], disputes_moved=0)
    busy = " (another process was running it)" if outcome == Outcome.BUSY else ""
    print(f"escalated {len(result.escalated)} levels, moved {result.disputes_moved} disputes{busy}")


def _sleep(delay: float) -> bool:
    time.sleep(delay)
    return False  # until the process is stopped


def _serve(host: str, port: int, workers: int) -> None:
    import shutil
    from pathlib import Path

    multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc:  # prometheus_client's multiprocess mode: start from an empty directory
        shutil.rmtree(multiproc, ignore_errors=True)
        Path(multiproc).mkdir(parents=True, exist_ok=True)

    import uvicorn

    from server.observability.logs import log_config

    uvicorn.run(
        "server.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(os.environ.get("YIXIAN_LOG_LEVEL", "INFO")),
        access_log=False,  # one JSON line per request on yixian.access instead
        server_header=False,  # no "server: uvicorn" banner
    )


def _audit_verify(url: str) -> int:
    from sqlmodel import Session

    from server.services.audit import verify_chains

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            report = verify_chains(session)
    finally:
        engine.dispose()
    for found in report.breaks:
        print(f"BROKEN {found.describe()}")
    verdict = "intact" if report.intact else f"{len(report.breaks)} broken"
    print(f"checked {report.events} events of {report.cases} cases: {verdict}")
    return 0 if report.intact else 1


def _new_epoch(url: str) -> str:
    from sqlmodel import Session

    from server.data import sync as sync_data

    engine = make_engine(url)
    with Session(engine) as session:
        value = sync_data.new_epoch(session)
        session.commit()
    engine.dispose()
    return value


def _size_pools(url: str, workers: int) -> None:
    """Each worker's pool, so all of them stay within PostgreSQL's ``max_connections``
    (passed to the worker processes through the environment they inherit)."""
    from server.db import max_connections, pool_for_workers

    limit = max_connections(url)
    if limit is None:
        return
    pool = pool_for_workers(workers, limit)
    os.environ.setdefault("YIXIAN_DB_POOL_SIZE", str(pool.size))
    os.environ.setdefault("YIXIAN_DB_MAX_OVERFLOW", str(pool.overflow))
    print(
        f"{workers} worker(s) × pool {pool.size}+{pool.overflow} connections "
        f"(max_connections {limit})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description="一线 Yixian server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema to the newest migration")
    sub.add_parser("load-demo", help="load the 汶上县 demo data into an empty database")
    esc = sub.add_parser("escalate", help="run the supervision job (due soon, overdue levels)")
    esc.add_argument("--now", help="ISO time with zone (default: the clock; for catch-up/tests)")
    esc.add_argument("--every", type=float, default=0, help="repeat every N seconds (0: once)")
    audit = sub.add_parser("audit", help="check the case histories' hash chains")
    audit.add_argument("action", choices=["verify"], help="verify: check every case's chain")
    sub.add_parser(
        "new-epoch",
        help="after restoring the database from a backup: a new epoch, so every phone "
        "resynchronises (resends what the restored database lacks)",
    )
    backup_cli.add_parsers(sub)  # backup DEST, restore SRC [--force]
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default=os.environ.get("YIXIAN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("YIXIAN_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    settings = settings_from_env()
    if args.command == "migrate":
        owner_url = settings.migration_database_url or settings.database_url
        migrate(owner_url, app_role=settings.app_role)
        granted = f", granted to role {settings.app_role}" if settings.app_role else ""
        print(f"migrated {owner_url.split('@')[-1]}{granted}")
    elif args.command == "load-demo":
        from server.demo import demo_now, load_demo

        loaded = load_demo(make_engine(settings.database_url), now=demo_now())
        print("demo data loaded (演示数据)" if loaded else "database not empty: demo data skipped")
    elif args.command == "audit":
        raise SystemExit(_audit_verify(settings.database_url))
    elif args.command == "escalate":
        _escalate(settings.database_url, args.now, args.every)
    elif args.command == "new-epoch":
        print(f"new sync epoch {_new_epoch(settings.database_url)}: phones resynchronise")
    elif args.command in backup_cli.COMMANDS:
        raise SystemExit(backup_cli.run(args, settings))
    elif args.command == "serve":
        settings.photo_dir.mkdir(parents=True, exist_ok=True)
        _size_pools(settings.database_url, args.workers)
        _serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
