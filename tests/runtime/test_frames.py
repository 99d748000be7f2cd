"""Frames as rows (migration 0009): a step reads and writes only the frames it touches, so a
Map of many items costs a step what one of few does; forks keep their bookkeeping through the
store (MaxConcurrency, failures cancelling siblings, results collected once); several workers
share one execution; the 25,000-event history cap ends a durable execution as AWS does."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from statewright.config import Settings
from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import Worker
from statewright.store.base import Applied, ApplyRequest, Store, StoreError
from tests.conftest import open_backend
from tests.runtime.helpers import history

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def _map(items_processor: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True, **extra,
        "ItemProcessor": items_processor}}})


ECHO_MAP = {"StartAt": "Echo", "States": {"Echo": {
    "Type": "Task", "Resource": ARN + "echo", "End": True}}}


def _functions() -> PythonFunctions:
    functions = PythonFunctions()
    functions.register("echo", lambda event, context: event)

    def boom(event: Any, context: LambdaContext) -> Any:
        raise ValueError(f"item {event['n']}")

    functions.register("boom", boom)
    return functions


@dataclass
class Recording:
    """A store that records what each step wrote and which frame rows were read."""

    store: Store
    requests: list[ApplyRequest] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        self.requests += requests
        return self.store.apply_many(requests)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if name.startswith(("get_frame", "get_child_frames", "get_fork")):
            def counted(*args: Any) -> Any:
                self.reads[name] = self.reads.get(name, 0) + 1
                return attribute(*args)
            return counted
        return attribute


def _step_bytes(request: ApplyRequest) -> int:
    """What a step writes besides its events, work and invocations: the cursor and frames."""
    frames = request.frames
    written = len(request.execution.cursor)
    if frames is not None:
        written += sum(len(data) for _, _, data in frames.put)
        written += sum(len(value) for _, _, value in frames.inputs + frames.outputs)
    return written


def _run_map(store: Store, size: int, **extra: Any) -> tuple[Recording, Engine, str]:
    recording = Recording(store)
    engine = Engine(recording, Settings(wait_scale=0.0))  # type: ignore[arg-type]
    machine = engine.create_state_machine(f"m{size}", _map(ECHO_MAP, **extra))
    data = json.dumps({"items": [{"n": i % 10} for i in range(size)]})
    arn = engine.start_execution(machine.arn, data, "e").execution_arn
    worker = Worker(engine, _functions(), threads=4, poll_seconds=0.05)
    try:
        worker.drain(time.monotonic() + 120)
    finally:
        worker.stop()
    return recording, engine, arn


@pytest.mark.parametrize("extra", [{}, {"MaxConcurrency": 3}], ids=["unlimited", "max3"])
def test_a_step_writes_the_same_whatever_the_map_size(store: Store, extra: dict[str, Any]
                                                      ) -> None:
    written = {}
    for size in (10, 300):
        recording, engine, arn = _run_map(store, size, **extra)
        record = engine.describe_execution(arn)
        assert record.status == "SUCCEEDED"
        assert json.loads(record.output or "null") == [{"n": i % 10} for i in range(size)]
        # Every step but the last (which reads the N outputs once and writes the result) and
        # the first (the fork, which writes each child once) writes a bounded amount.
        middle = recording.requests[:-1]
        written[size] = max(_step_bytes(r) for r in middle)
        # The outputs are read once, when the last child ends; frames are not read back
        # (the worker keeps the driver it committed).
        assert recording.reads.get("get_fork_outputs", 0) == 1
        assert recording.reads.get("get_frame", 0) <= 2
    # Counters grow by a few digits, nothing else: a step does not grow with N.
    assert written[300] <= written[10] + 20


def test_a_restarted_worker_reads_the_frames_back_from_their_rows(store: Store) -> None:
    """A second engine (another process) has nothing in memory: it loads the frames the
    first one stored, one at a time, and finishes the Map."""
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", _map(ECHO_MAP, MaxConcurrency=2))
    data = json.dumps({"items": [{"n": i} for i in range(6)]})
    arn = engine.start_execution(machine.arn, data, "e").execution_arn
    recording = Recording(store)
    fresh = Engine(recording, Settings(wait_scale=0.0))  # type: ignore[arg-type]
    worker = Worker(fresh, _functions(), threads=2, poll_seconds=0.05)
    try:
        worker.drain(time.monotonic() + 60)
    finally:
        worker.stop()
    record = fresh.describe_execution(arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == [{"n": i} for i in range(6)]
    assert recording.reads["get_frame"] >= 2  # the two running iterations and their parent
    # Items 2-5 started from their rows, and the Map's own input came back from its row at
    # the end (the fresh engine never held it).
    assert recording.reads["get_fork_input"] == 5


def test_a_failing_iteration_cancels_its_stored_siblings(store: Store) -> None:
    processor = {"StartAt": "Which", "States": {
        "Which": {"Type": "Choice", "Default": "Nap",
                  "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Boom"}]},
        "Boom": {"Type": "Task", "Resource": ARN + "boom", "End": True},
        "Nap": {"Type": "Wait", "Seconds": 3600, "End": True},
    }}
    engine = Engine(store, Settings(wait_scale=1.0))
    machine = engine.create_state_machine("m", _map(processor))
    data = json.dumps({"items": [{"n": i} for i in range(5)]})
    arn = engine.start_execution(machine.arn, data, "e").execution_arn
    # A second engine (another process): it holds no frame, so the siblings it cancels are
    # the ones it reads from their rows.
    fresh = Engine(store, Settings(wait_scale=1.0))
    worker = Worker(fresh, _functions(), threads=2, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while engine.describe_execution(arn).status == "RUNNING":
            assert time.monotonic() < deadline, "the failure did not end the execution"
            store.wait_for_work(0.05)
    finally:
        worker.stop()
    record = engine.describe_execution(arn)
    assert (record.status, record.error) == ("FAILED", "ValueError")
    types = [e.type for e in history(engine, arn)]
    assert types.count("MapIterationFailed") == 1
    assert types.count("MapIterationAborted") == 4
    assert types.count("WaitStateAborted") == 4
    assert types[-1] == "ExecutionFailed"
    assert store.get_child_frames(arn, 0) == []  # an ended execution keeps no frame rows
    assert store.get_frame(arn, 0) is None


def test_two_workers_of_two_processes_share_one_map(request: pytest.FixtureRequest) -> None:
    """Two engines on one database (as two worker processes): their steps on the same
    execution race, a lost race is redone on the newer rows, none is applied twice."""
    stores = [open_backend("sqlite", request), open_backend("sqlite", request)]
    engines = [Engine(s, Settings(wait_scale=0.0)) for s in stores]
    machine = engines[0].create_state_machine("m", _map(ECHO_MAP, MaxConcurrency=20))
    size = 120
    data = json.dumps({"items": [{"n": i} for i in range(size)]})
    arn = engines[0].start_execution(machine.arn, data, "e").execution_arn
    workers = [Worker(e, _functions(), threads=4, poll_seconds=0.05) for e in engines]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 120
        while engines[0].describe_execution(arn).status == "RUNNING":
            assert time.monotonic() < deadline
            stores[0].wait_for_work(0.05)
    finally:
        for worker in workers:
            worker.stop()
    record = engines[0].describe_execution(arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == [{"n": i} for i in range(size)]
    events = history(engines[0], arn)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert all(e.previous_event_id < e.id for e in events)
    types = [e.type for e in events]
    assert types.count("MapIterationSucceeded") == size
    assert types.count("LambdaFunctionSucceeded") == size  # each invoked once


def test_a_standard_execution_fails_at_the_25000th_history_event(
        request: pytest.FixtureRequest) -> None:
    # AWS, "Avoid reaching the history quota" (docs.aws.amazon.com/step-functions/latest/dg/
    # bp-history-limit.html): "a hard quota of 25,000 entries in the execution event
    # history... If the event number 25,000 isn't ExecutionSucceeded, the ExecutionFailed
    # event is logged and the state machine execution fails because of reaching the history
    # limit." The page names no error or cause; statewright's are the driver's (States.Runtime,
    # the same as its in-memory runs: tests/runtime/test_executions.py).
    store = open_backend("sqlite", request)
    processor = {"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": ARN + "echo", "Next": "P1"},
        **{f"P{i}": {"Type": "Pass", "Next": f"P{i + 1}"} for i in range(1, 6)},
        "P6": {"Type": "Pass", "End": True},
    }}
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", _map(processor, MaxConcurrency=50))
    # 5 Task events + 12 Pass events + 2 iteration events = 19 per item: 1,400 items would
    # write about 26,600 events.
    data = json.dumps({"items": [{"n": i} for i in range(1400)]})
    arn = engine.start_execution(machine.arn, data, "e").execution_arn
    worker = Worker(engine, _functions(), threads=4, poll_seconds=0.05)
    try:
        worker.drain(time.monotonic() + 300)
    finally:
        worker.stop()
    record = engine.describe_execution(arn)
    assert record.status == "FAILED"
    assert record.error == "States.Runtime"
    assert "maximum number of history events (25000)" in (record.cause or "")
    last = engine.get_history(arn, 1, None, reverse=True).items[0]
    assert (last.id, last.type) == (25000, "ExecutionFailed")
    assert engine.get_history(arn, 1000, None, reverse=False).items[0].id == 1
    assert store.get_frame(arn, 0) is None  # its frame rows are gone with it
