"""``python -m bench [name ...]``: run every ``bench/bench_*.py`` that has ``run() -> list[dict]``
(or only the named ones), print the table and write ``var/bench.json``.

A module that fails to import or run is reported on stderr and makes the exit status 1; the
others still run and are reported.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import bench
from bench.report import normalise, report

Runner = Callable[[], list[dict[str, Any]]]

# The county-scale rows (100,000 cases seeded, the dashboard over them) take minutes each: they
# run when named — `make bench-scale` — and not in a plain `make bench` (under 15 minutes).
SCALE_ONLY = frozenset({"bench_scale", "bench_scale_dashboard"})


def discover(only: Sequence[str] = ()) -> list[str]:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        return [n for n in names if n in wanted]
    return [n for n in names if n not in SCALE_ONLY]


def _runner(name: str) -> Runner | None:
    module = importlib.import_module(f"bench.{name}")
    run = getattr(module, "run", None)
    return run if callable(run) else None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for name in discover(args):
        started = time.perf_counter()
        try:
            run = _runner(name)
            if run is None:
                print(f"[bench] {name}: no run() — skipped", file=sys.stderr)
                continue
            print(f"[bench] {name} …", file=sys.stderr, flush=True)
            results = [normalise(r) for r in run()]
        except Exception:
            failed.append(name)
            print(f"[bench] {name} FAILED:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        took = time.perf_counter() - started
        print(f"[bench] {name}: {len(results)} result(s) in {took:.1f} s", file=sys.stderr)
        for r in results:
            r.setdefault("module", name)
        rows.extend(results)
    report(rows)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
