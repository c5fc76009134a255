"""Command line: ``python -m server migrate|load-demo|escalate|new-epoch|serve``."""

from __future__ import annotations

import argparse
import os

from server.config import settings_from_env
from server.db import make_engine, migrate


def _escalate(url: str, now_text: str | None, every: float) -> None:
    import time
    from datetime import UTC, datetime

    from server.services.escalation_job import run_escalation

    engine = make_engine(url)
    while True:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(UTC)
        if now.tzinfo is None:
            raise SystemExit("--now needs a time zone, e.g. 2026-11-05T10:00+08:00")
        result = run_escalation(engine, now)
        print(f"escalated {len(result.escalated)} levels, moved {result.disputes_moved} disputes")
        if every <= 0:
            return
        time.sleep(every)


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
    sub.add_parser(
        "new-epoch",
        help="after restoring the database from a backup: a new epoch, so every phone "
        "resynchronises (resends what the restored database lacks)",
    )
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default=os.environ.get("YIXIAN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("YIXIAN_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    settings = settings_from_env()
    if args.command == "migrate":
        migrate(settings.database_url)
        print(f"migrated {settings.database_url.split('@')[-1]}")
    elif args.command == "load-demo":
        from server.demo import demo_now, load_demo

        loaded = load_demo(make_engine(settings.database_url), now=demo_now())
        print("demo data loaded (演示数据)" if loaded else "database not empty: demo data skipped")
    elif args.command == "escalate":
        _escalate(settings.database_url, args.now, args.every)
    elif args.command == "new-epoch":
        print(f"new sync epoch {_new_epoch(settings.database_url)}: phones resynchronise")
    elif args.command == "serve":
        import uvicorn

        settings.photo_dir.mkdir(parents=True, exist_ok=True)
        _size_pools(settings.database_url, args.workers)
        uvicorn.run(
            "server.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )


if __name__ == "__main__":
    main()
