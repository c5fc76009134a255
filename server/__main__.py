"""Command line: ``python -m server migrate|load-demo|serve``."""

from __future__ import annotations

import argparse
import os

from server.config import settings_from_env
from server.db import make_engine, migrate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description="一线 Yixian server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema to the newest migration")
    sub.add_parser("load-demo", help="load the 汶上县 demo data into an empty database")
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
    elif args.command == "serve":
        import uvicorn

        settings.photo_dir.mkdir(parents=True, exist_ok=True)
        uvicorn.run(
            "server.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )


if __name__ == "__main__":
    main()
