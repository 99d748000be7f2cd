"""Executions through the Engine, a Worker and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import Worker
from statewright.store.base import EventRecord, Store
from tests.runtime.helpers import history

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

ORDERISH = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Task", "Resource": ARN + "check", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 2, "Next": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results",
                "MaxConcurrency": 2, "Next": "Done",
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Task", "Resource": ARN + "double", "End": True,
                               "Retry": [{"ErrorEquals": ["States.ALL"],
                                          "IntervalSeconds": 1}]}}}},
        "Done": {"Type": "Succeed"},
    },
}


def _functions() -> PythonFunctions:
    functions = PythonFunctions()
    functions.register("check", lambda event, context: {**event, "checked": True})
    attempts: dict[int, int] = {}
    lock = threading.Lock()

    def double(event: Any, context: LambdaContext) -> Any:
        with lock:  # the first call for each value fails once: exercises Retry through the store
            attempts[event] = attempts.get(event, 0) + 1
            if attempts[event] == 1:
                raise RuntimeError("flaky")
        return event * 2

    functions.register("double", double)
    return functions


@pytest.fixture
def engine(store: Store) -> Engine:
    return Engine(store, Settings(wait_scale=0.0))


def _drain(engine: Engine, functions: PythonFunctions, seconds: float = 30) -> None:
    worker = Worker(engine, functions, threads=4, poll_seconds=0.2)
    try:
        worker.drain(time.monotonic() + seconds)
    finally:
        worker.stop()


def _assert_complete(events: list[EventRecord]) -> None:
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    terminal = [e for e in events if e.type in (
        "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")]
    assert len(terminal) == 1 and terminal[0] is events[-1]


def test_an_execution_runs_to_its_end_through_the_store(engine: Engine) -> None:
    machine = engine.create_state_machine("orders", json.dumps(ORDERISH))
    started = engine.start_execution(machine.arn, json.dumps({"items": [1, 2, 3]}), "o-1")
    assert engine.describe_execution(started.execution_arn).status == "RUNNING"
    _drain(engine, _functions())
    done = engine.describe_execution(started.execution_arn)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert json.loads(done.output or "") == {"items": [1, 2, 3], "checked": True,
                                             "results": [2, 4, 6]}
    events = history(engine, started.execution_arn, 7)
    _assert_complete(events)
    types = [e.type for e in events]
    assert types.count("MapIterationSucceeded") == 3
    assert types.count("LambdaFunctionFailed") == 3  # one retried failure per item
    reverse = engine.get_history(started.execution_arn, 3, None, True).items
    assert [e.id for e in reverse] == [len(events), len(events) - 1, len(events) - 2]


def test_start_execution_is_idempotent_while_running(engine: Engine) -> None:
    machine = engine.create_state_machine("waits", json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}))
    first = engine.start_execution(machine.arn, '{"a": 1}', "same")
    again = engine.start_execution(machine.arn, '{"a": 1}', "same")
    assert again == first
    with pytest.raises(errors.ExecutionAlreadyExists):
        engine.start_execution(machine.arn, '{"a": 2}', "same")


def test_stop_execution_aborts_and_its_work_is_dropped(engine: Engine) -> None:
    machine = engine.create_state_machine("stoppable", json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
                                    "P": {"Type": "Pass", "End": True}}}))
    started = engine.start_execution(machine.arn, "{}", "s-1")
    engine.stop_execution(started.execution_arn, "Stopped", "by the test")
    _drain(engine, PythonFunctions())
    record = engine.describe_execution(started.execution_arn)
    assert (record.status, record.error, record.cause) == ("ABORTED", "Stopped", "by the test")
    events = history(engine, started.execution_arn, 7)
    _assert_complete(events)
    assert [e.type for e in events] == ["ExecutionStarted", "WaitStateEntered",
                                        "ExecutionAborted"]
    assert engine.store.next_due() is None


def test_execution_timeout(store: Store) -> None:
    # A scale above 0 keeps the order of due times (timeout at 0.05 s, wake-up at 0.6 s).
    engine = Engine(store, Settings(wait_scale=0.01))
    machine = engine.create_state_machine("slow", json.dumps(
        {"StartAt": "W", "TimeoutSeconds": 5,
         "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}))
    started = engine.start_execution(machine.arn, "{}", "t-1")
    _drain(engine, PythonFunctions())
    record = engine.describe_execution(started.execution_arn)
    assert record.status == "TIMED_OUT"
    _assert_complete(history(engine, started.execution_arn, 7))


def test_waiting_executions_hold_rows_not_threads(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=1.0))
    machine = engine.create_state_machine("sleepers", json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}))
    threads_before = {t.ident for t in threading.enumerate()}
    for i in range(300):
        engine.start_execution(machine.arn, "{}", f"w-{i}")
    worker = Worker(engine, PythonFunctions(), threads=2)
    assert worker.run_once() == 0  # nothing is due for an hour
    assert {t.ident for t in threading.enumerate()} - threads_before == set()
    worker.stop()
    due = store.next_due()
    assert due is not None and due > time.time() + 3500
    page = engine.list_executions(machine.arn, "RUNNING", 1000)
    assert len(page.items) == 300


def test_a_conflicting_writer_is_redone_not_lost(engine: Engine) -> None:
    """Two workers race on one execution's parallel branches: every step lands exactly once."""
    branches = [{"StartAt": f"T{i}", "States": {f"T{i}": {
        "Type": "Task", "Resource": ARN + "check", "End": True}}} for i in range(8)]
    machine = engine.create_state_machine("fan", json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                          "Branches": branches}}}))
    started = engine.start_execution(machine.arn, '{"n": 1}', "f-1")
    functions = _functions()
    workers = [Worker(engine, functions, threads=4, poll_seconds=0.2) for _ in range(2)]
    deadline = time.monotonic() + 30
    runners = [threading.Thread(target=w.drain, args=(deadline,)) for w in workers]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    for worker in workers:
        worker.stop()
    record = engine.describe_execution(started.execution_arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "") == [{"n": 1, "checked": True}] * 8
    events = history(engine, started.execution_arn, 7)
    _assert_complete(events)
    assert [e.type for e in events].count("LambdaFunctionSucceeded") == 8


CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 60, "TimeoutSeconds": 600, "Next": "Done",
                "Catch": [{"ErrorEquals": ["Rejected"], "Next": "Rejected"}]},
        "Done": {"Type": "Succeed"},
        "Rejected": {"Type": "Pass", "End": True},
    },
}


def _token(engine: Engine, arn: str) -> str:
    scheduled = next(e for e in history(engine, arn, 7) if e.type == "TaskScheduled")
    parameters = json.loads(json.loads(scheduled.details or "")["parameters"])
    token: str = parameters["MessageBody"]["token"]
    return token


@pytest.fixture
def real_time_engine(store: Store) -> Engine:
    """Timers at their real length: the callback tests' 60 s heartbeat never fires."""
    return Engine(store, Settings(wait_scale=1.0))


def test_wait_for_task_token_resumes_on_send_task_success(real_time_engine: Engine) -> None:
    engine = real_time_engine
    machine = engine.create_state_machine("callback", json.dumps(CALLBACK))
    arn = engine.start_execution(machine.arn, "{}", "c-1").execution_arn
    _drain(engine, PythonFunctions(), seconds=0.5)  # submits, then waits for the callback
    assert engine.describe_execution(arn).status == "RUNNING"
    token = _token(engine, arn)
    engine.send_task_heartbeat(token)
    engine.send_task_success(token, '{"approved": true}')
    _drain(engine, PythonFunctions(), seconds=0.5)
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "") == {"approved": True}
    assert [e.type for e in history(engine, arn, 7)] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
        "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "SucceedStateEntered",
        "SucceedStateExited", "ExecutionSucceeded"]
    with pytest.raises(errors.TaskTimedOut):  # the task is closed: the token is spent
        engine.send_task_success(token, "{}")
    with pytest.raises(errors.InvalidToken):
        engine.send_task_success("not a token", "{}")
    with pytest.raises(errors.InvalidOutput):
        engine.send_task_success(token, "{not json")


def test_send_task_failure_is_caught(real_time_engine: Engine) -> None:
    engine = real_time_engine
    machine = engine.create_state_machine("callback", json.dumps(CALLBACK))
    arn = engine.start_execution(machine.arn, '{"in": 1}', "c-2").execution_arn
    _drain(engine, PythonFunctions(), seconds=0.5)
    engine.send_task_failure(_token(engine, arn), "Rejected", "no budget")
    _drain(engine, PythonFunctions(), seconds=0.5)
    record = engine.describe_execution(arn)
    assert json.loads(record.output or "") == {"Error": "Rejected", "Cause": "no budget"}
    assert "TaskFailed" in [e.type for e in history(engine, arn, 7)]


def test_a_missed_heartbeat_times_the_task_out(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.005))  # heartbeat 60 s -> 0.3 s
    machine = engine.create_state_machine("callback", json.dumps(CALLBACK))
    arn = engine.start_execution(machine.arn, "{}", "c-3").execution_arn
    _drain(engine, PythonFunctions(), seconds=20)
    record = engine.describe_execution(arn)
    assert (record.status, record.error) == ("FAILED", "States.HeartbeatTimeout")
    types = [e.type for e in history(engine, arn, 7)]
    assert types[-2:] == ["TaskTimedOut", "ExecutionFailed"]


def test_lambda_invoke_wait_for_task_token_returns_the_callback_output(
        real_time_engine: Engine) -> None:
    engine = real_time_engine
    tokens: list[str] = []
    functions = PythonFunctions()
    functions.register("notify", lambda event, context: tokens.append(event["token"]))
    machine = engine.create_state_machine("lambda-callback", json.dumps({
        "StartAt": "Notify", "States": {"Notify": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True}}}))
    arn = engine.start_execution(machine.arn, "{}", "lc-1").execution_arn
    _drain(engine, functions, seconds=0.5)
    assert len(tokens) == 1
    engine.send_task_success(tokens[0], '{"x": 1}')
    _drain(engine, functions, seconds=0.5)
    record = engine.describe_execution(arn)
    # AWS: the Task's result is SendTaskSuccess's output, not Lambda's Invoke response.
    assert json.loads(record.output or "") == {"x": 1}
