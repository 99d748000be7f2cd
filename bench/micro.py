"""Micro-benchmarks with speed goals (they were timed tests once; goals live here, not in tests).

Run from the repository root::

    .venv/bin/python bench/micro.py

Each line gives the median time per call over 20 samples and ends with ``goal met`` or
``GOAL MISSED``; nothing fails when a number changes.

- ``validate(order workflow)``: goal well under a millisecond;
- ``compile_path("$.a.b").get``: a plain path is a direct lookup, not a parse at run time
  (goal under 2 µs; about 0.1 µs on CPython 3.11).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from statewright.asl.paths import compile_path
from statewright.asl.validate import validate

DEFINITION = Path(__file__).resolve().parents[1] / "examples/order_processing/definition.json"


def median_seconds(call: Callable[[], object], runs: int) -> float:
    call()  # warm up
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        for _ in range(runs):
            call()
        samples.append((time.perf_counter() - started) / runs)
    return statistics.median(samples)


def report(name: str, seconds: float, goal: float) -> None:
    verdict = "goal met" if seconds < goal else "GOAL MISSED"
    print(f"{name}: median {seconds * 1e6:.2f} µs per call (goal < {goal * 1e6:g} µs): "
          f"{verdict}")


def main() -> None:
    definition = json.loads(DEFINITION.read_text())
    report("validate(order workflow)", median_seconds(lambda: validate(definition), 200), 1e-3)
    path, data = compile_path("$.a.b"), {"a": {"b": 1}}
    report('compile_path("$.a.b").get', median_seconds(lambda: path.get(data), 50_000), 2e-6)


if __name__ == "__main__":
    main()
