"""The cost of JSONata: the same work written in JSONata and in JSONPath, side by side.

Run from the repository root::

    .venv/bin/python bench/jsonata.py [--budget SECONDS]

Rows (bench/README.md, "JSONata"):

- a Pass state with one expression (``Output: "{% $states.input.a %}"``) against its JSONPath
  twin (``OutputPath: "$.a"``): ``step.enter`` of the state, µs per call;
- a Pass state building an object from three expressions against ``Parameters`` with three paths;
- a Choice state with one ``Condition`` against one ``NumericGreaterThan`` rule;
- parsing ``bench/pass_choice_jsonata.json`` against ``bench/pass_choice.json``;
- whole executions of those two workflows (4 states, no Task), executions per second.

Latencies are medians of back-to-back batches of about 20 µs each, as in ``asl_core.py``;
each row alternates the two sides over three rounds and keeps each side's quietest round.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statewright.asl import StateMachine, parse
from statewright.asl.context import Ctx
from statewright.asl.model import State
from statewright.asl.step import Transition, enter
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import run_execution

BENCH = Path(__file__).resolve().parent
INPUT: dict[str, Any] = {"orderId": "1", "a": 7, "items": [{"sku": "A-1", "quantity": 3}],
                         "note": "x" * 200}


def one_state(spec: dict[str, Any], language: str) -> State:
    definition = {"QueryLanguage": language, "StartAt": "S",
                  "States": {"S": spec, "Done": {"Type": "Succeed"}}}
    return parse(definition).machine.states["S"]


def latency(call: Callable[[], object], budget: float) -> tuple[float, float]:
    """(median, p95) µs per call."""
    for _ in range(200):
        call()
    start = time.perf_counter_ns()
    call()
    single = max(time.perf_counter_ns() - start, 1)
    batch = max(1, 20_000 // single)
    samples: list[float] = []
    gc.collect()
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline:
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            call()
        samples.append((time.perf_counter_ns() - t0) / batch / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def paired(ours: Callable[[], object], twin: Callable[[], object], budget: float
           ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both latencies, measured in three alternating rounds; each side's quietest round wins
    (on a shared machine the load changes between rounds, so alternating keeps it fair)."""
    rounds = [(latency(ours, budget / 3), latency(twin, budget / 3)) for _ in range(3)]
    return min(r[0] for r in rounds), min(r[1] for r in rounds)


def executions_per_second(machine: StateMachine, budget: float) -> float:
    functions = PythonFunctions()
    for _ in range(20):
        run_execution(machine, INPUT, functions, wait_scale=0)
    count, deadline = 0, time.perf_counter() + budget
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        result = run_execution(machine, INPUT, functions, wait_scale=0)
        assert result.status == "SUCCEEDED", result.failure
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    budget = parser.parse_args().budget
    ctx = Ctx(now=1.0, context={"Execution": {"Name": "bench"}}, variables={"v": 1})
    pairs = {
        "Pass, one expression": (
            one_state({"Type": "Pass", "Output": "{% $states.input.a %}", "Next": "Done"},
                      "JSONata"),
            one_state({"Type": "Pass", "OutputPath": "$.a", "Next": "Done"}, "JSONPath"),
        ),
        "Pass, object of three values": (
            one_state({"Type": "Pass", "Next": "Done", "Output": {
                "id": "{% $states.input.orderId %}",
                "q": "{% $states.input.items[0].quantity %}", "v": "{% $v %}"}}, "JSONata"),
            one_state({"Type": "Pass", "Next": "Done", "Parameters": {
                "id.$": "$.orderId", "q.$": "$.items[0].quantity", "v.$": "$v"}}, "JSONPath"),
        ),
        "Choice, one rule": (
            one_state({"Type": "Choice", "Default": "Done", "Choices": [
                {"Condition": "{% $states.input.a > 5 %}", "Next": "Done"}]}, "JSONata"),
            one_state({"Type": "Choice", "Default": "Done", "Choices": [
                {"Variable": "$.a", "NumericGreaterThan": 5, "Next": "Done"}]}, "JSONPath"),
        ),
    }
    print(f"{'row (µs per call, median / p95)':<36} {'JSONata':>17} {'JSONPath':>17} {'ratio':>7}")
    for label, (jsonata_state, jsonpath_state) in pairs.items():
        for state in (jsonata_state, jsonpath_state):
            assert isinstance(enter(state, INPUT, ctx), Transition), label
        ours, twin = paired(lambda s=jsonata_state: enter(s, INPUT, ctx),  # type: ignore[misc]
                            lambda s=jsonpath_state: enter(s, INPUT, ctx),  # type: ignore[misc]
                            budget)
        print(f"{label:<36} {ours[0]:>8.1f} / {ours[1]:>6.1f} {twin[0]:>8.1f} / {twin[1]:>6.1f}"
              f" {ours[0] / twin[0]:>6.1f}x")
    jsonata_text = (BENCH / "pass_choice_jsonata.json").read_text()
    jsonpath_text = (BENCH / "pass_choice.json").read_text()
    ours, twin = paired(lambda: parse(jsonata_text), lambda: parse(jsonpath_text), budget)
    print(f"{'parse the pass/choice workflow':<36} {ours[0]:>8.1f} / {ours[1]:>6.1f} "
          f"{twin[0]:>8.1f} / {twin[1]:>6.1f} {ours[0] / twin[0]:>6.1f}x")
    jsonata_machine, jsonpath_machine = parse(jsonata_text), parse(jsonpath_text)
    functions = PythonFunctions()
    same = (run_execution(jsonata_machine, INPUT, functions, wait_scale=0).output
            == run_execution(jsonpath_machine, INPUT, functions, wait_scale=0).output)
    rates = [(executions_per_second(jsonata_machine, budget / 2),
              executions_per_second(jsonpath_machine, budget / 2)) for _ in range(4)]
    ours_rate, twin_rate = max(r[0] for r in rates), max(r[1] for r in rates)
    print(f"{'pass/choice executions per second':<36} {ours_rate:>17,.0f} {twin_rate:>17,.0f} "
          f"{twin_rate / ours_rate:>6.1f}x  (same output: {same})")


if __name__ == "__main__":
    main()
