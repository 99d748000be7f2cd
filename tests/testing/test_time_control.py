"""Time control in the durable runtime (Engine + Worker over real SQLite and PostgreSQL):
with waits scaled, per server or per state machine (its ``statewright:wait-scale`` tag, fixed
for each execution when it starts), the history still shows the waits AWS would record."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import WAIT_SCALE_TAG, Engine
from statewright.runtime.mocks import parse_mock_config
from statewright.runtime.worker import Worker
from statewright.store.base import Store
from tests.runtime.helpers import history

WAITS = {"StartAt": "Nap", "States": {
    "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
    "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
             "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 3,
                        "BackoffRate": 2}],
             "End": True},
}}
MOCKS = parse_mock_config({
    "StateMachines": {"waits": {"TestCases": {"Flaky": {"Call": "FlakyThenOk"}}}},
    "MockedResponses": {"FlakyThenOk": {
        "0-2": {"Throw": {"Error": "Flaky", "Cause": "again"}},
        "3": {"Return": {"StatusCode": 200, "Payload": {"done": True}}}}},
})


def _run(engine: Engine, arn: str) -> tuple[dict[str, float], list[float], float]:
    """Runs the execution to its end; the Wait's and the retries' history timestamps and
    DescribeExecution's stop date."""
    worker = Worker(engine, PythonFunctions(), threads=2)
    worker.drain(time.monotonic() + 60)
    worker.stop()
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    events = history(engine, arn)
    times = {e.type: e.timestamp for e in events if e.type.startswith("WaitState")}
    scheduled = [e.timestamp for e in events if e.type == "LambdaFunctionScheduled"]
    assert record.stop_date == events[-1].timestamp
    return times, [b - a for a, b in itertools.pairwise(scheduled)], events[-1].timestamp


def test_a_server_wait_scale_of_0_keeps_aws_times_in_the_history(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.0), mock_config=MOCKS)
    machine = engine.create_state_machine("waits", json.dumps(WAITS))
    began = time.time()
    arn = engine.start_execution(machine.arn + "#Flaky", "{}").execution_arn
    waited, backoff, end = _run(engine, arn)
    assert waited["WaitStateExited"] - waited["WaitStateEntered"] == pytest.approx(3600, abs=1)
    assert [round(gap) for gap in backoff] == [2, 4, 8]
    assert end - began == pytest.approx(3614, abs=5)


def test_a_state_machine_tag_sets_its_executions_wait_scale(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=1.0), mock_config=MOCKS)
    machine = engine.create_state_machine("waits", json.dumps(WAITS),
                                          tags={WAIT_SCALE_TAG: "0"})
    arn = engine.start_execution(machine.arn + "#Flaky", "{}").execution_arn
    waited, backoff, _ = _run(engine, arn)  # drain() would give up were the hour real
    assert waited["WaitStateExited"] - waited["WaitStateEntered"] == pytest.approx(3600, abs=1)
    assert [round(gap) for gap in backoff] == [2, 4, 8]


def test_the_tag_must_be_a_scale(store: Store) -> None:
    engine = Engine(store, Settings())
    with pytest.raises(errors.ValidationException, match="must be a number >= 0"):
        engine.create_state_machine("waits", json.dumps(WAITS), tags={WAIT_SCALE_TAG: "-1"})
    machine = engine.create_state_machine("waits", json.dumps(WAITS))
    with pytest.raises(errors.ValidationException, match="not 'fast'"):
        engine.tag_resource(machine.arn, {WAIT_SCALE_TAG: "fast"})


def test_a_scaled_execution_timeout_is_recorded_at_its_full_length(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("slow", json.dumps({
        "TimeoutSeconds": 100, "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}))
    arn = engine.start_execution(machine.arn, "{}").execution_arn
    worker = Worker(engine, PythonFunctions(), threads=2)
    worker.drain(time.monotonic() + 60)
    worker.stop()
    record = engine.describe_execution(arn)
    assert record.status == "TIMED_OUT"
    events = history(engine, arn)
    assert events[-1].type == "ExecutionTimedOut"
    assert events[-1].timestamp - events[0].timestamp == pytest.approx(100, abs=1)
    assert record.stop_date == events[-1].timestamp
