"""Benchmarks: each module has ``run() -> list[dict]`` and runs with ``python -m bench.<name>``."""
