"""The step budget: runs of Pass/Choice states end in the StartExecution that started them
(durable: history, cursor and result committed before it answers), while a long loop stops
after ``Settings.step_budget`` state entries per branch and goes on on a worker, in steps of
that many states, with the same history it would have had in one go."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import Worker
from statewright.store.base import Store
from tests.runtime.helpers import history

SHORT = {
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Parameters": {"id.$": "$.id", "source": "test"},
                  "Next": "Big?"},
        "Big?": {"Type": "Choice", "Default": "Small",
                 "Choices": [{"Variable": "$.id", "NumericGreaterThan": 10, "Next": "Done"}]},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def loop(iterations: int) -> dict[str, Any]:
    """A Pass/Choice loop counting ``$.n`` up to ``iterations`` (4 events per iteration)."""
    return {
        "StartAt": "Count",
        "States": {
            "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                      "Next": "More?"},
            "More?": {"Type": "Choice", "Default": "Done",
                      "Choices": [{"Variable": "$.n", "NumericLessThan": iterations,
                                   "Next": "Count"}]},
            "Done": {"Type": "Succeed"},
        },
    }


def _drain(engine: Engine, seconds: float = 60) -> None:
    worker = Worker(engine, PythonFunctions(), threads=4, poll_seconds=0.2)
    try:
        worker.drain(time.monotonic() + seconds)
    finally:
        worker.stop()


def _events(engine: Engine, arn: str) -> list[tuple[int, int, str, Any]]:
    """The history without timestamps."""
    return [(e.id, e.previous_event_id, e.type, e.details and json.loads(e.details))
            for e in history(engine, arn)]


def test_a_short_pass_workflow_ends_in_the_start(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.0, step_budget=100))
    machine = engine.create_state_machine("short", json.dumps(SHORT))
    started = engine.start_execution(machine.arn, '{"id": 3}', "s-1")
    # No worker ran: StartExecution's own transaction holds the whole execution.
    record = engine.describe_execution(started.execution_arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "") == {"id": 3, "source": "test", "size": "small"}
    assert [e[2] for e in _events(engine, started.execution_arn)] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered",
        "ChoiceStateExited", "PassStateEntered", "PassStateExited", "SucceedStateEntered",
        "SucceedStateExited", "ExecutionSucceeded"]
    assert store.next_due() is None  # nothing left for a worker


def test_a_loop_stops_at_the_budget_and_ends_on_a_worker(store: Store) -> None:
    budget, iterations = 7, 50
    engine = Engine(store, Settings(wait_scale=0.0, step_budget=budget))
    machine = engine.create_state_machine("loop", json.dumps(loop(iterations)))
    started = engine.start_execution(machine.arn, '{"n": 0}', "l-1")
    arn = started.execution_arn
    # The start entered exactly `budget` states (2 events each) and left the rest to a worker.
    assert engine.describe_execution(arn).status == "RUNNING"
    first = _events(engine, arn)
    assert len(first) == 1 + 2 * budget
    assert first[-1][2] == "PassStateExited"  # the 7th state (Count) ended, More? not entered
    assert store.next_due() is not None

    _drain(engine)
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    assert json.loads(record.output or "") == {"n": iterations}

    # The same history, event for event, as the execution run with no budget to speak of.
    whole = Engine(store, Settings(wait_scale=0.0, step_budget=100_000))
    again = whole.start_execution(machine.arn, '{"n": 0}', "l-2").execution_arn
    assert whole.describe_execution(again).status == "SUCCEEDED"
    assert _events(engine, arn) == _events(whole, again)
    assert len(_events(engine, arn)) == 1 + 4 * iterations + 2 + 1  # Done: 2, the end: 1


def test_map_iterations_that_loop_each_go_on_as_their_own_work(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.0, step_budget=5))
    definition = {
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Map", "ItemsPath": "$.starts", "End": True,
                           "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                           "ItemProcessor": loop(20)}},
    }
    machine = engine.create_state_machine("fan", json.dumps(definition))
    started = engine.start_execution(machine.arn, '{"starts": [0, 5, 18, 19]}', "f-1")
    assert engine.describe_execution(started.execution_arn).status == "RUNNING"
    _drain(engine)
    record = engine.describe_execution(started.execution_arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    assert json.loads(record.output or "") == [{"n": 20}] * 4
    types = [e[2] for e in _events(engine, started.execution_arn)]
    assert types.count("MapIterationSucceeded") == 4
    assert [e[0] for e in _events(engine, started.execution_arn)] == list(
        range(1, len(types) + 1))


def test_a_loop_past_the_history_quota_fails_there_as_on_aws(store: Store) -> None:
    # 10,000 iterations write 40,000 events: AWS fails the execution at event 25,000
    # (MAX_HISTORY_EVENTS in runtime/driver.py); through the budget's steps as in one go.
    engine = Engine(store, Settings(wait_scale=0.0, step_budget=1000))
    machine = engine.create_state_machine("endless", json.dumps(loop(10_000)))
    started = engine.start_execution(machine.arn, '{"n": 0}', "e-1")
    _drain(engine, 120)
    record = engine.describe_execution(started.execution_arn)
    assert (record.status, record.error) == ("FAILED", "States.Runtime")
    assert "maximum number of history events (25000)" in (record.cause or "")
    events = history(engine, started.execution_arn)
    assert len(events) == 25000 and events[-1].type == "ExecutionFailed"


def test_the_budget_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEWRIGHT_STEP_BUDGET", "25")
    assert Settings().step_budget == 25
    for bad in ("0", "-3", "many", "1.5"):
        monkeypatch.setenv("STATEWRIGHT_STEP_BUDGET", bad)
        with pytest.raises(ValueError, match="STATEWRIGHT_STEP_BUDGET"):
            Settings()
