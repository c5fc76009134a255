"""12345 hotline import benchmark.

- ``hotline_import_<n>k``: ``server.services.hotline.import_file`` of an n-row GBK CSV (default
  10,000; ``YIXIAN_BENCH_TICKETS=100000`` for the issue's full size) into a fresh SQLite database
  with the demo reference data: every row becomes a case (with its CaseCreated event) or joins
  one (with a HotlineTicketLinked event), in chunks of ``CHUNK_ROWS`` per transaction. Baseline:
  parsing the same file with ``csv`` alone, in the same run. After the import the bench checks
  that every row became exactly one ticket and every ticket left its event.

Run: ``.venv/bin/python -m bench hotline``.
"""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sync.clock import CHINA_TZ

TICKETS = int(os.environ.get("YIXIAN_BENCH_TICKETS", "10000"))


def hotline_csv(rows: int = TICKETS, seed: int = 12345) -> bytes:
    from server.demo_data import TOWNS

    rng = random.Random(seed)
    words = ["乱停车", "积水", "路灯不亮", "占道经营", "噪音扰民", "拖欠工资", "道路破损", "物业"]
    urban = [t for t in TOWNS if t.urban] or list(TOWNS)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["工单编号", "受理时间", "所属区域", "事发地址", "纬度", "经度", "诉求类别", "诉求内容"]
    )
    base = datetime(2026, 1, 1, 8, 0)
    for n in range(rows):
        town = rng.choice(urban)
        lats = [p.lat for p in town.polygon]
        lons = [p.lon for p in town.polygon]
        lat = rng.uniform(min(lats), max(lats))
        lon = rng.uniform(min(lons), max(lons))
        when = base + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        word = rng.choice(words)
        w.writerow(
            [
                f"RX{n:08d}",
                f"{when:%Y-%m-%d %H:%M}",
                town.name,
                "某路某号",
                f"{lat:.6f}",
                f"{lon:.6f}",
                word,
                f"市民反映{word}问题",
            ]
        )
    return out.getvalue().encode("gbk")


def bench_import(rows: int = TICKETS) -> dict[str, Any]:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from server.db import make_engine, migrate
    from server.demo import load_demo
    from server.models import CaseEvent, User
    from server.models.evaluation import HotlineTicket
    from server.services import hotline as hotline_service
    from server.services.auth import actor_of
    from server.services.boundary_cache import ReferenceCache
    from sync.events import CASE_CREATED, HOTLINE_TICKET_LINKED

    data = hotline_csv(rows)
    t0 = time.perf_counter()
    parsed = sum(1 for _ in csv.reader(io.StringIO(data.decode("gbk"), newline="")))
    baseline = time.perf_counter() - t0
    now = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        load_demo(engine, now=now, with_cases=False)
        with Session(engine, expire_on_commit=False) as session:
            user = session.exec(select(User).where(User.username == "supervisor")).one()
            actor = actor_of(user)
            ref = ReferenceCache().get(session)
            t0, c0 = time.perf_counter(), time.process_time()
            run = hotline_service.import_file(
                session, actor=actor, filename="bench.csv", data=data, ref=ref, now=now
            )
            value, cpu = time.perf_counter() - t0, time.process_time() - c0
            tickets = session.exec(select(func.count()).select_from(HotlineTicket)).one()
            kinds = dict(
                session.exec(
                    select(CaseEvent.kind, func.count())
                    .where(col(CaseEvent.actor_user_id) == user.id)
                    .group_by(col(CaseEvent.kind))
                ).all()
            )
        engine.dispose()
    assert run.total_rows == rows == parsed - 1
    assert tickets == run.created_cases + run.linked == rows - run.errors - run.duplicates
    assert kinds.get(CASE_CREATED, 0) == run.created_cases
    assert kinds.get(HOTLINE_TICKET_LINKED, 0) == run.linked
    return {
        "name": f"hotline_import_{rows // 1000}k",
        "value": value,
        "unit": "s/import",
        "baseline": f"csv_parse_only_{rows // 1000}k",
        "baseline_value": baseline,
        "ratio": value / baseline,
        "rows": rows,
        "rows_per_s": rows / value,
        "cpu_s": cpu,  # this process's CPU time: steadier than wall time on a shared machine
        "chunk_rows": hotline_service.CHUNK_ROWS,
        "created_cases": run.created_cases,
        "linked": run.linked,
        "errors": run.errors,
        "input_bytes": len(data),
    }


def run() -> list[dict[str, Any]]:
    return [bench_import()]


def main() -> None:
    for row in run():
        print(row)


if __name__ == "__main__":
    main()
