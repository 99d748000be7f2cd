"""Speed of the ASL core, side by side with a peer, in one run.

Run from the repository root::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/asl_core.py [--json FILE] [--budget SECONDS] [--no-peer] [--profile]

The peer is moto's Step Functions interpreter (derived from LocalStack's, see ``peer_moto.py``);
for JSONPath it is jsonpath-ng. Every row times ours and the peer's on the same input in the same
process, one after the other, and prints both with the ratio. bench/README.md explains the rows.

How a latency is measured: the call is warmed up, then timed in back-to-back batches (a batch
lasts about 20 µs, so the timer's own cost is negligible); each batch gives one sample of the
mean time per call, and the table shows the median and the 95th percentile of the samples.
Throughput rows run whole executions back to back for a time budget. The garbage collector stays
on (it is part of the real cost) and is run once before each measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

from jsonpath_ng.ext.parser import parse as jsonpath_ext_parse
from jsonpath_ng.parser import parse as jsonpath_parse

from statewright.asl import StateMachine, parse
from statewright.asl.context import Ctx
from statewright.asl.events import to_json
from statewright.asl.model import State
from statewright.asl.paths import compile_path
from statewright.asl.step import Decision, Invoke, TaskResult, Transition, complete, enter
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import run_execution

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ORDER_DEFINITION = REPO / "examples" / "order_processing" / "definition.json"
ORDER_FUNCTIONS = REPO / "examples" / "order_processing" / "functions"
PASS_CHOICE_DEFINITION = BENCH_DIR / "pass_choice.json"

ORDER_INPUT: dict[str, Any] = {"orderId": "1"}
PASS_INPUT: dict[str, Any] = {"orderId": "1", "items": [{"sku": "A-1", "quantity": 3}]}

#: What each order Task returns on the happy path: the peer's mocked Lambda responses, and the
#: fixed handlers we register for the like-for-like rows.
HAPPY_RESULTS: dict[str, dict[str, Any]] = {
    "Check Inventory": {"orderId": "1", "inStock": True},
    "Process Payment": {"orderId": "1", "paymentSuccessful": True},
    "Update Order Status": {"orderId": "1", "status": "Completed"},
}
FUNCTION_OF_STATE = {
    "Check Inventory": "checkInventory",
    "Process Payment": "processPayment",
    "Update Order Status": "updateOrderStatus",
}

#: The fork rows: a Map over N items whose iteration is one Pass (inline: every iteration in
#: the history; distributed EXPRESS: child executions, nothing of them in this history, as
#: the 10,000-item inline Map would pass AWS's 25,000-event history quota), and a Parallel
#: of 10 one-Pass branches.
MAP_ITEMS = (1_000, 10_000)


def map_definition(mode: str) -> str:
    processor: dict[str, Any] = {"Mode": mode}
    if mode == "DISTRIBUTED":
        processor["ExecutionType"] = "EXPRESS"
    return json.dumps({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"ProcessorConfig": processor, "StartAt": "Item",
                          "States": {"Item": {"Type": "Pass", "End": True}}},
    }}})


PARALLEL_DEFINITION = json.dumps({"StartAt": "Fan Out", "States": {"Fan Out": {
    "Type": "Parallel", "End": True,
    "Branches": [{"StartAt": f"Branch {i}", "States": {f"Branch {i}": {"Type": "Pass",
                                                                      "End": True}}}
                 for i in range(10)],
}}})

JSONPATH = "$.a.b[0].c"
JSONPATH_DATA: dict[str, Any] = {"a": {"b": [{"c": 42}, {"c": 43}], "x": 1}}

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
ACCOUNT_ARN = "arn:aws:states:us-east-1:123456789012"

#: A latency sample times a batch of calls lasting about this long.
SAMPLE_NS = 20_000
#: At least this many samples (or executions), whatever the budget, so p95 means something.
MIN_SAMPLES = 40
MAX_SAMPLES = 20_000
#: The handlers of the order example draw from the global random source; seeded, every run
#: takes the same mix of paths (about 81% reach "Update Order Status").
HANDLER_SEED = 2026


# ----------------------------------------------------------------------------- measurements


@dataclass(frozen=True, slots=True)
class Latency:
    """Time per call of one operation."""

    median_us: float
    """Median of the samples, microseconds per call."""
    p95_us: float
    """95th percentile of the samples, microseconds per call."""
    samples: int
    """Number of samples (batches) taken."""
    batch: int
    """Calls per sample."""


@dataclass(frozen=True, slots=True)
class Throughput:
    """Whole executions run back to back."""

    executions_per_s: float
    """Executions completed per second."""
    transitions_per_s: float
    """States entered (``*StateEntered`` events) per second."""
    transitions_per_execution: float
    """Mean states entered per execution (the paths may differ between runs)."""
    median_us: float
    """Median wall time of one execution, microseconds."""
    executions: int
    """Executions run."""
    cpu_us: float = 0.0
    """Mean CPU time of this process per execution, microseconds (less swayed than wall time
    by other load on the machine)."""


Measurement = Latency | Throughput


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: the same work done by ours and by a peer."""

    name: str
    """What is measured."""
    ours: Measurement
    """Our number."""
    peer: Measurement | None
    """The peer's number; None when the peer cannot do this work (see ``note``)."""
    peer_name: str
    """Which peer (moto, jsonpath-ng)."""
    note: str = ""
    """Why the peer is missing, or how its work differs."""

    def speedup(self) -> float | None:
        """How many times faster ours is (above 1: ours is faster)."""
        match self.ours, self.peer:
            case Latency() as ours, Latency() as peer:
                return peer.median_us / ours.median_us
            case Throughput() as ours, Throughput() as peer:
                return ours.transitions_per_s / peer.transitions_per_s
        return None


def time_calls(fn: Callable[[], object], budget_s: float) -> Latency:
    """Median and p95 time per call of ``fn``, sampling for about ``budget_s`` seconds."""
    fn()  # warm-up: lazy imports, caches, the first allocation of everything
    probe = time.perf_counter_ns()
    for _ in range(3):
        fn()
    per_call = max((time.perf_counter_ns() - probe) / 3, 1.0)
    batch = max(1, int(SAMPLE_NS // per_call))
    samples: list[float] = []
    gc.collect()
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    while len(samples) < MAX_SAMPLES and (
        len(samples) < MIN_SAMPLES or time.perf_counter_ns() < deadline
    ):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch / 1000)
    return Latency(statistics.median(samples), _p95(samples), len(samples), batch)


def run_for(execute: Callable[[], int], budget_s: float) -> Throughput:
    """Runs ``execute`` (one execution, returning its state transitions) for ``budget_s``."""
    execute()  # warm-up
    gc.collect()
    durations: list[int] = []
    transitions = 0
    cpu_start = time.process_time()
    start = time.perf_counter_ns()
    deadline = start + int(budget_s * 1e9)
    now = start
    while len(durations) < MIN_SAMPLES or now < deadline:
        before = now
        transitions += execute()
        now = time.perf_counter_ns()
        durations.append(now - before)
    elapsed_s = (now - start) / 1e9
    return Throughput(
        executions_per_s=len(durations) / elapsed_s,
        transitions_per_s=transitions / elapsed_s,
        transitions_per_execution=transitions / len(durations),
        median_us=statistics.median(durations) / 1000,
        executions=len(durations),
        cpu_us=(time.process_time() - cpu_start) / len(durations) * 1e6,
    )


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    """The example handlers print; keep that out of the report."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


# ----------------------------------------------------------------------------- our side


def order_ctx(state_name: str) -> Ctx:
    """The Context Object a driver would hand to a state of the order workflow."""
    return Ctx(
        now=NOW,
        context={
            "Execution": {
                "Id": f"{ACCOUNT_ARN}:execution:order:1",
                "Input": ORDER_INPUT,
                "Name": "1",
                "RoleArn": "arn:aws:iam::123456789012:role/statewright-bench",
                "StartTime": "2026-11-25T12:00:00.000Z",
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": f"{ACCOUNT_ARN}:stateMachine:order", "Name": "order"},
            "State": {
                "EnteredTime": "2026-11-25T12:00:00.000Z",
                "Name": state_name,
                "RetryCount": 0,
            },
        },
    )


def fixed_functions() -> PythonFunctions:
    """The order functions replaced by handlers returning the happy-path results."""
    functions = PythonFunctions()
    for state, name in FUNCTION_OF_STATE.items():
        functions.register(name, _returning(HAPPY_RESULTS[state]))
    return functions


def _returning(result: dict[str, Any]) -> Callable[[Any, Any], dict[str, Any]]:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return result

    return handler


def transitions(result_events: list[Any]) -> int:
    return sum(1 for event in result_events if event.type.endswith("StateEntered"))


def executor(
    machine: StateMachine | str, data: Any, functions: PythonFunctions, hidden: int | None = None,
) -> Callable[[], int]:
    """One of our executions; ``machine`` given as text is parsed every time. ``hidden`` (the
    fork rows, which must succeed): states entered that the history does not show (a
    Distributed Map's child executions)."""

    def execute() -> int:
        model = parse(machine) if isinstance(machine, str) else machine
        result = run_execution(model, data, functions, wait_scale=0)
        if hidden is None:
            return transitions(result.events)
        if result.status != "SUCCEEDED":
            raise SystemExit(f"the benchmark execution ended {result.status}: "
                             f"{result.failure}")
        return transitions(result.events) + hidden

    return execute


def state_of(machine: StateMachine, name: str) -> State:
    return machine.machine.states[name]


def expect(decision: Decision, kind: type, what: str) -> None:
    if not isinstance(decision, kind):
        raise SystemExit(f"{what}: expected {kind.__name__}, got {decision!r}")


# ----------------------------------------------------------------------------- the run


@dataclass(slots=True)
class Bench:
    """Everything one run needs: the inputs, parsed once, and the peer (if installed)."""

    budget_s: float
    """Time budget of one side of one latency row (throughput rows get twice this)."""
    peer: ModuleType | None
    """``peer_moto``, or None when moto is not installed or ``--no-peer``."""
    order_text: str
    """The order workflow's definition text."""
    pass_text: str
    """The Pass/Choice-only workflow's definition text."""
    order: StateMachine
    """The order workflow, parsed once."""
    pass_choice: StateMachine
    """The Pass/Choice-only workflow, parsed once."""
    divergences: list[str] = field(default_factory=list)
    """Where the peer's result differs from ours on the same input (reported, not timed)."""

    def latency_rows(self) -> list[Row]:
        return [self.parse_row(), *self.state_rows(), *self.jsonpath_rows()]

    def parse_row(self) -> Row:
        text, peer = self.order_text, self.peer
        ours = time_calls(lambda: parse(text), self.budget_s)
        theirs = time_calls(lambda: peer.parse(text), self.budget_s) if peer else None
        return Row("parse the order definition", ours, theirs, self.peer_name)

    def state_rows(self) -> list[Row]:
        peer = self.peer
        choice = state_of(self.order, "Is In Stock?")
        choice_input = {"orderId": "1", "inStock": True}
        choice_ctx = order_ctx(choice.name)
        expect(enter(choice, choice_input, choice_ctx), Transition, "Choice")

        shape = state_of(self.pass_choice, "Shape Order")
        shape_ctx = order_ctx(shape.name)
        expect(enter(shape, PASS_INPUT, shape_ctx), Transition, "Pass")

        task = state_of(self.order, "Check Inventory")
        task_ctx = order_ctx(task.name)
        task_result = TaskResult(payload=b'{"orderId": "1", "inStock": true}')
        expect(enter(task, ORDER_INPUT, task_ctx), Invoke, "Task enter")
        expect(complete(task, ORDER_INPUT, task_result, (), task_ctx), Transition, "Task complete")

        def task_both() -> Decision:
            enter(task, ORDER_INPUT, task_ctx)
            return complete(task, ORDER_INPUT, task_result, (), task_ctx)

        peer_choice = peer_shape = peer_task = None
        if peer is not None:
            order_program = peer.parse(self.order_text)
            pass_program = peer.parse(self.pass_text)
            mocks = peer.mock_lambda(HAPPY_RESULTS)
            peer_choice = peer.state_evaluator(order_program, choice.name, choice_input)
            peer_shape = peer.state_evaluator(pass_program, shape.name, PASS_INPUT)
            peer_task = peer.state_evaluator(order_program, task.name, ORDER_INPUT, mocks)
            for evaluate, wanted in (
                (peer_choice, "Process Payment"),
                (peer_shape, "Is Large?"),
                (peer_task, "Is In Stock?"),
            ):
                if (got := evaluate()) != wanted:
                    raise SystemExit(f"peer state went to {got!r}, expected {wanted!r}")

        budget = self.budget_s
        no_split = "the peer evaluates a Task in one call (next row)"
        return [
            Row(
                'Choice "Is In Stock?" enter',
                time_calls(lambda: enter(choice, choice_input, choice_ctx), budget),
                time_calls(peer_choice, budget) if peer_choice else None,
                self.peer_name,
            ),
            Row(
                "Pass with Parameters/ResultPath/OutputPath",
                time_calls(lambda: enter(shape, PASS_INPUT, shape_ctx), budget),
                time_calls(peer_shape, budget) if peer_shape else None,
                self.peer_name,
            ),
            Row(
                'Task "Check Inventory" enter (schedule)',
                time_calls(lambda: enter(task, ORDER_INPUT, task_ctx), budget),
                None,
                self.peer_name,
                no_split,
            ),
            Row(
                'Task "Check Inventory" complete(TaskResult)',
                time_calls(lambda: complete(task, ORDER_INPUT, task_result, (), task_ctx), budget),
                None,
                self.peer_name,
                no_split,
            ),
            Row(
                "Task enter + complete (peer: mocked Lambda)",
                time_calls(task_both, budget),
                time_calls(peer_task, budget) if peer_task else None,
                self.peer_name,
            ),
        ]

    def jsonpath_rows(self) -> list[Row]:
        data = JSONPATH_DATA
        ours_path = compile_path(JSONPATH)
        plain = jsonpath_parse(JSONPATH)
        extended = jsonpath_ext_parse(JSONPATH)
        for got in (ours_path.get(data), plain.find(data)[0].value, extended.find(data)[0].value):
            if got != 42:
                raise SystemExit(f"{JSONPATH} gave {got!r}, expected 42")
        budget = self.budget_s
        ours_compile_get = time_calls(lambda: compile_path(JSONPATH).get(data), budget)
        name = f"jsonpath-ng {version('jsonpath-ng')}"
        return [
            Row(
                f"JSONPath {JSONPATH}: compile + get",
                ours_compile_get,
                time_calls(lambda: jsonpath_parse(JSONPATH).find(data)[0].value, budget),
                name,
            ),
            Row(
                f"JSONPath {JSONPATH}: compile + get (ext parser)",
                ours_compile_get,
                time_calls(lambda: jsonpath_ext_parse(JSONPATH).find(data)[0].value, budget),
                name,
                "jsonpath_ng.ext.parse: what moto calls on every path read",
            ),
            Row(
                f"JSONPath {JSONPATH}: get, precompiled",
                time_calls(lambda: ours_path.get(data), budget),
                time_calls(lambda: plain.find(data)[0].value, budget),
                name,
            ),
        ]

    def throughput_rows(self) -> list[Row]:
        budget = 2 * self.budget_s
        fixed = fixed_functions()
        examples = PythonFunctions.from_directory(ORDER_FUNCTIONS)
        none = PythonFunctions()
        peer = self.peer_executors(fixed, none)

        def peer_run(key: str) -> Throughput | None:
            return run_for(peer[key], budget) if key in peer else None

        random.seed(HANDLER_SEED)
        with stdout_silenced():
            ours_examples = run_for(executor(self.order, ORDER_INPUT, examples), budget)
        return [
            Row(
                "order workflow, example Python handlers",
                ours_examples,
                None,
                self.peer_name,
                "moto runs a Lambda function only in Docker; the next row mocks it",
            ),
            Row(
                "order workflow, fixed Task results (happy path)",
                run_for(executor(self.order, ORDER_INPUT, fixed), budget),
                peer_run("order"),
                self.peer_name,
                "peer: moto's mocked Lambda responses; ours: handlers returning the same values",
            ),
            Row(
                "order workflow, parse + run every time",
                run_for(executor(self.order_text, ORDER_INPUT, fixed), budget),
                peer_run("order, parsed each time"),
                self.peer_name,
                "what moto's StartExecution does: it re-parses the definition per execution",
            ),
            Row(
                "Pass/Choice-only workflow (4 states)",
                run_for(executor(self.pass_choice, PASS_INPUT, none), budget),
                peer_run("pass/choice"),
                self.peer_name,
            ),
            *self.fork_rows(none, budget),
        ]

    def fork_rows(self, none: PythonFunctions, budget: float) -> list[Row]:
        """Map of 1,000 and 10,000 items and Parallel-10, in memory (as Express runs them)."""
        rows = []
        for mode in ("INLINE", "DISTRIBUTED"):
            for count in MAP_ITEMS:
                if mode == "INLINE" and count > 1_000:
                    continue  # 4 events per iteration: past the 25,000-event quota
                data = {"items": list(range(count))}
                hidden = count if mode == "DISTRIBUTED" else 0
                text = map_definition(mode)
                ours = run_for(executor(parse(text), data, none, hidden), budget)
                peer, note = self.peer_fork(text, data, mode)
                rows.append(Row(f"Map of {count:,} items ({mode.lower()}), one Pass each",
                                ours, peer, self.peer_name, note))
        parallel_data = {"orderId": "1"}
        ours = run_for(executor(parse(PARALLEL_DEFINITION), parallel_data, none), budget)
        peer, note = self.peer_fork(PARALLEL_DEFINITION, parallel_data, "PARALLEL")
        rows.append(Row("Parallel of 10 one-Pass branches", ours, peer, self.peer_name, note))
        return rows

    def peer_fork(self, text: str, data: Any, mode: str) -> tuple[Throughput | None, str]:
        """The peer on a fork row, when it runs it as we do."""
        peer = self.peer
        if peer is None:
            return None, ""
        if mode == "DISTRIBUTED":
            return None, "moto's interpreter needs S3 and child executions for a Distributed Map"
        program = peer.parse(text)
        steps = self.check_same(parse(text), program, data, PythonFunctions(), None,
                                ordered=False)
        budget = 2 * self.budget_s

        def run() -> int:
            peer.run_execution(program, data, None)
            return steps

        return run_for(run, budget), ""

    def peer_executors(
        self, fixed: PythonFunctions, none: PythonFunctions
    ) -> dict[str, Callable[[], int]]:
        """The peer's whole executions, checked against ours first; empty without a peer."""
        peer = self.peer
        if peer is None:
            return {}
        mocks = peer.mock_lambda(HAPPY_RESULTS)
        text = self.order_text
        order_program = peer.parse(text)
        pass_program = peer.parse(self.pass_text)
        order_steps = self.check_same(self.order, order_program, ORDER_INPUT, fixed, mocks)
        pass_steps = self.check_same(self.pass_choice, pass_program, PASS_INPUT, none, None)

        def order() -> int:
            peer.run_execution(order_program, ORDER_INPUT, mocks)
            return order_steps

        def order_parsed() -> int:
            peer.run_execution(peer.parse(text), ORDER_INPUT, mocks)
            return order_steps

        def pass_choice() -> int:
            peer.run_execution(pass_program, PASS_INPUT, None)
            return pass_steps

        return {
            "order": order,
            "order, parsed each time": order_parsed,
            "pass/choice": pass_choice,
        }

    def check_same(
        self,
        machine: StateMachine,
        program: Any,
        data: Any,
        functions: PythonFunctions,
        mocks: Any,
        ordered: bool = True,
    ) -> int:
        """Both sides must go through the same history; returns the transitions.

        ``ordered=False`` (forks): the same events in any order, as the peer runs each
        iteration or branch on a thread of its own. A different output is recorded in
        ``divergences`` (the work done is the same).
        """
        assert self.peer is not None
        ours = run_execution(machine, data, functions, wait_scale=0)
        theirs = self.peer.outcome(self.peer.run_execution(program, data, mocks))
        our_types = tuple(event.type for event in ours.events)
        their_types = theirs.event_types
        if not ordered:
            our_types, their_types = tuple(sorted(our_types)), tuple(sorted(their_types))
        if not theirs.succeeded or ours.status != "SUCCEEDED" or our_types != their_types:
            raise SystemExit(
                f"the executions differ\n  ours: {ours.status} {our_types[:40]}\n"
                f"  peer: {theirs.succeeded} {their_types[:40]}"
            )
        if ours.output != theirs.output:
            self.divergences.append(
                f"{machine.machine.start_at!r} workflow output: ours {to_json(ours.output)}, "
                f"peer {to_json(theirs.output)}"
            )
        return sum(1 for kind in theirs.event_types if kind.endswith("StateEntered"))

    @property
    def peer_name(self) -> str:
        return str(self.peer.NAME) if self.peer is not None else "moto (not run)"


def load_peer(enabled: bool) -> ModuleType | None:
    if not enabled:
        return None
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import peer_moto
    except ImportError as exc:
        print(f"peer not available ({exc}); install the bench extra", file=sys.stderr)
        return None
    return peer_moto


# ----------------------------------------------------------------------------- report


def _us(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _times(speedup: float | None) -> str:
    return "" if speedup is None else f"{speedup:,.1f}x"


def latency_table(rows: list[Row]) -> str:
    lines = [
        "| measurement (µs per call) | ours median | ours p95 | peer | peer median | peer p95 "
        "| ours faster by |",
        "|---|--:|--:|---|--:|--:|--:|",
    ]
    for row in rows:
        assert isinstance(row.ours, Latency)
        peer = row.peer if isinstance(row.peer, Latency) else None
        lines.append(
            f"| {row.name} | {_us(row.ours.median_us)} | {_us(row.ours.p95_us)} | {row.peer_name} "
            f"| {_us(peer.median_us) if peer else '-'} | {_us(peer.p95_us) if peer else '-'} "
            f"| {_times(row.speedup())} |"
        )
    return "\n".join(lines)


def throughput_table(rows: list[Row]) -> str:
    lines = [
        "| whole execution, in-process | ours exec/s | ours transitions/s | ours median µs "
        "| peer exec/s | peer transitions/s | peer median µs | ours faster by |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        assert isinstance(row.ours, Throughput)
        peer = row.peer if isinstance(row.peer, Throughput) else None
        theirs = (
            f"{peer.executions_per_s:,.0f} | {peer.transitions_per_s:,.0f} | {_us(peer.median_us)}"
            if peer
            else "- | - | -"
        )
        lines.append(
            f"| {row.name} | {row.ours.executions_per_s:,.0f} | "
            f"{row.ours.transitions_per_s:,.0f} | {_us(row.ours.median_us)} | {theirs} "
            f"| {_times(row.speedup())} |"
        )
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    return "\n".join(f"- {row.name}: {row.note}" for row in rows if row.note)


def environment() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "statewright": version("statewright"),
    }


def profile_executions(machine: StateMachine, count: int, top: int) -> str:
    """cProfile of ``count`` order executions with the example handlers.

    Two views: by cumulative time (where the time goes, wrappers first) and by own time.
    """
    execute = executor(machine, ORDER_INPUT, PythonFunctions.from_directory(ORDER_FUNCTIONS))
    random.seed(HANDLER_SEED)
    profiler = cProfile.Profile()
    with stdout_silenced():
        execute()
        profiler.enable()
        for _ in range(count):
            execute()
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top // 2)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="seconds per side of each latency row; throughput rows get twice (default 1)",
    )
    parser.add_argument("--no-peer", action="store_true", help="measure ours only")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of 2000 order executions (example handlers)",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="instead: the whole-execution rows of git revision REV (before) and of this tree "
        "(after), each in its own process, alternating for --rounds rounds",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --against (default 3)")
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.against:
        return compare(args.against, args.rounds, args.budget)

    started = time.perf_counter()
    order_text = ORDER_DEFINITION.read_text()
    pass_text = PASS_CHOICE_DEFINITION.read_text()
    bench = Bench(
        budget_s=args.budget,
        peer=load_peer(not args.no_peer),
        order_text=order_text,
        pass_text=pass_text,
        order=parse(order_text),
        pass_choice=parse(pass_text),
    )
    if args.throughput_only:  # one side of --against: the rows as JSON on stdout
        print(json.dumps([_row_json(row) for row in bench.throughput_rows()]))
        return 0
    env = environment()
    print(
        f"statewright {env['statewright']} @ {env['commit'] or '?'}"
        f"{' (+ uncommitted changes)' if env['uncommitted_changes'] else ''}, "
        f"Python {env['python']}, {env['cpus']} CPUs, {env['date']}"
    )
    latency = bench.latency_rows()
    throughput = bench.throughput_rows()
    print()
    print(latency_table(latency))
    print()
    print(throughput_table(throughput))
    print()
    print(notes(latency + throughput))
    for divergence in bench.divergences:
        print(f"- peer divergence: {divergence}")
    print(f"\n(total {time.perf_counter() - started:.1f} s)")

    if args.profile:
        print()
        print(profile_executions(bench.order, 2000, 25))
    if args.json:
        report = {
            "environment": env,
            "peer": bench.peer_name,
            "latency": [_row_json(row) for row in latency],
            "throughput": [_row_json(row) for row in throughput],
            "peer_divergences": bench.divergences,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def compare(revision: str, rounds: int, budget: float) -> int:
    """Before/after: the whole-execution rows of ``revision`` and of this tree, measured in
    turns (before, after, before, after...) so that both see the same load; each row keeps
    its best round per side."""
    sides: dict[str, list[list[dict[str, Any]]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="asl-core-before-") as folder:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "src"],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        paths = {"before": str(Path(folder) / "src"), "after": str(REPO / "src")}
        loads = [_loadavg()]
        for _ in range(rounds):
            for side, path in paths.items():
                done = subprocess.run(
                    [sys.executable, __file__, "--throughput-only", "--no-peer",
                     "--budget", str(budget)],
                    env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True,
                    check=True,
                )
                sides[side].append(json.loads(done.stdout))
        loads.append(_loadavg())
    env = environment()
    print(f"before: {revision}; after: this tree @ {env['commit']}"
          f"{' (+ uncommitted changes)' if env['uncommitted_changes'] else ''}; Python "
          f"{env['python']}, {env['cpus']} CPUs, {env['date']}; {rounds} rounds, best of each")
    print(f"load average (1, 5, 15 min) before the run: {loads[0]}; after: {loads[1]}\n")
    print("| whole execution, in-process | before transitions/s | after transitions/s "
          "| after/before | before CPU µs per execution | after CPU µs per execution "
          "| CPU before/after |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for index, first in enumerate(sides["before"][0]):
        before = max((r[index]["ours"] for r in sides["before"]),
                     key=lambda m: m["transitions_per_s"])
        after = max((r[index]["ours"] for r in sides["after"]),
                    key=lambda m: m["transitions_per_s"])
        cpu_before = min(r[index]["ours"]["cpu_us"] for r in sides["before"])
        cpu_after = min(r[index]["ours"]["cpu_us"] for r in sides["after"])
        print(f"| {first['name']} | {before['transitions_per_s']:,.0f} "
              f"| {after['transitions_per_s']:,.0f} "
              f"| {after['transitions_per_s'] / before['transitions_per_s']:.2f}x "
              f"| {_us(cpu_before)} | {_us(cpu_after)} | {cpu_before / cpu_after:.2f}x |")
    return 0


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "ours": asdict(row.ours),
        "peer": asdict(row.peer) if row.peer is not None else None,
        "peer_name": row.peer_name,
        "ours_faster_by": row.speedup(),
        "note": row.note,
    }


if __name__ == "__main__":
    sys.exit(main())
