"""How fast ``statewright.testing`` runs test executions (bench/README.md, "Testing").

    .venv/bin/python bench/testing.py [--budget SECONDS]

Rows: executions per second of the order workflow with its Tasks mocked (every path in turn),
through ``Workflow.run`` (definition parsed once) and ``testing.run`` (one call per
execution, as a plain script writes it); then the example suite's own time
(``pytest examples/order_processing/tests``, as pytest reports it, excluding start-up).
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from statewright import testing

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "order_processing"
ORDER = {"orderId": "order-1001"}
IN_STOCK = testing.result({"orderId": "order-1001", "inStock": True})
PATHS: list[dict[str, Any]] = [
    {"Check Inventory": IN_STOCK,
     "Process Payment": testing.result({"orderId": "1", "paymentSuccessful": True}),
     "Update Order Status": testing.result({"orderId": "1", "status": "Completed"})},
    {"Check Inventory": testing.result({"orderId": "1", "inStock": False})},
    {"Check Inventory": IN_STOCK,
     "Process Payment": testing.result({"orderId": "1", "paymentSuccessful": False})},
]


def _rate(run: Any, budget: float) -> tuple[float, float]:
    """Executions per second over ``budget`` seconds, and the median µs of one."""
    for mocks in PATHS:  # warm up
        run(mocks)
    times: list[float] = []
    began = time.perf_counter()
    for mocks in itertools.cycle(PATHS):
        start = time.perf_counter()
        run(mocks)
        times.append(time.perf_counter() - start)
        if time.perf_counter() - began > budget:
            break
    return len(times) / (time.perf_counter() - began), statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per row")
    args = parser.parse_args()
    definition = EXAMPLE / "definition.json"
    workflow = testing.Workflow(definition, handlers=EXAMPLE / "functions")
    rows = [
        ("Workflow.run, mocked Tasks", _rate(lambda m: workflow.run(ORDER, mocks=m),
                                             args.budget)),
        ("testing.run, mocked Tasks", _rate(
            lambda m: testing.run(definition, ORDER, handlers=EXAMPLE / "functions", mocks=m),
            args.budget)),
    ]
    print("| row | executions/s | median µs |\n|---|---|---|")
    for name, (rate, median) in rows:
        print(f"| {name} | {rate:,.0f} | {median:,.0f} |")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLE / "tests"), "-q", "-o", "addopts=",
         "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=REPO, check=False)
    found = re.search(r"(\d+) passed in ([0-9.]+)s", done.stdout)
    print(f"\nexample suite: {found.group(1)} tests passed in {found.group(2)} s"
          if found else f"\nexample suite did not pass:\n{done.stdout}")


if __name__ == "__main__":
    main()
