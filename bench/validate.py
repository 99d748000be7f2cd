"""How long ``validate`` takes on the order workflow (was a timed test; speed goals live here).

Run from the repository root::

    .venv/bin/python bench/validate.py [--runs N]

The goal is well under a millisecond per call (the line ends with ``goal met`` or ``GOAL MISSED``);
nothing fails when the number changes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from statewright.asl.validate import validate

DEFINITION = Path(__file__).resolve().parents[1] / "examples/order_processing/definition.json"
GOAL_SECONDS = 0.001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="calls per sample (default 200)")
    args = parser.parse_args()
    definition = json.loads(DEFINITION.read_text())
    validate(definition)  # warm up
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        for _ in range(args.runs):
            validate(definition)
        samples.append((time.perf_counter() - started) / args.runs)
    median = statistics.median(samples)
    verdict = "goal met" if median < GOAL_SECONDS else "GOAL MISSED"
    print(f"validate(order workflow): median {median * 1e6:.1f} µs per call over 20 samples of "
          f"{args.runs} (goal < {GOAL_SECONDS * 1e3:g} ms): {verdict}")


if __name__ == "__main__":
    main()
