"""Function invocations kept with their logs: through the Engine, a Worker, ProcessFunctions
and a real store (SQLite and PostgreSQL), in memory, and when a step loses a race."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statewright import errors
from statewright.asl import parse
from statewright.asl.events import Event
from statewright.asl.resources import classify_resource
from statewright.asl.step import Invoke, TaskResult
from statewright.config import Settings
from statewright.functions.base import InvokeResult
from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import PythonFunctions
from statewright.functions.process import ProcessFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.sync import run_execution
from statewright.runtime.tasks import run_task
from statewright.runtime.worker import Worker
from statewright.store.base import (
    Applied,
    ApplyRequest,
    EventRecord,
    InvocationRecord,
    Store,
    StoreError,
)
from tests.store.helpers import wait_until

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

APP = """\
import sys
import time

def talk(event, context):
    print(f"hello {event}")
    print("and to stderr", file=sys.stderr)
    return {"said": event}

def fail(event, context):
    print("about to fail")
    raise ValueError("bad input")

def hang(event, context):
    print("going to sleep", flush=True)
    time.sleep(60)
"""


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", APP)
    return buffer.getvalue()


@pytest.fixture
def functions(store: Store, tmp_path: Path) -> Iterator[tuple[FunctionRegistry, ProcessFunctions]]:
    registry = FunctionRegistry(store, tmp_path / "code")
    with ProcessFunctions(registry.resolve) as invoker:
        yield registry, invoker
    registry.close()


def _engine(store: Store, functions: tuple[FunctionRegistry, ProcessFunctions],
            wait_scale: float = 0.0) -> Engine:
    registry, invoker = functions
    engine = Engine(store, Settings(wait_scale=wait_scale), invoker=invoker, functions=registry)
    code = _package()
    for name in ("talk", "fail", "hang"):
        engine.deploy_function(name, "python3.12", f"app.{name}", code, timeout=1)
    return engine


@pytest.fixture
def engine(store: Store, functions: tuple[FunctionRegistry, ProcessFunctions]) -> Engine:
    return _engine(store, functions)


def _run(engine: Engine, states: dict[str, Any], data: Any = None, name: str = "run"
         ) -> tuple[str, list[EventRecord], list[InvocationRecord]]:
    """Runs a one-machine execution to its end (or until it waits for a callback)."""
    machine = engine.create_state_machine(
        f"m-{name}", json.dumps({"StartAt": next(iter(states)), "States": states}))
    arn = engine.start_execution(machine.arn, json.dumps(data or {}), name).execution_arn
    _drain(engine)
    return arn, engine.get_history(arn, 1000).items, _invocations(engine, arn)


def _drain(engine: Engine) -> None:
    assert engine.invoker is not None
    worker = Worker(engine, engine.invoker, threads=4, poll_seconds=0.1)
    try:
        worker.drain(time.monotonic() + 60)
    finally:
        worker.stop()


def _invocations(engine: Engine, arn: str) -> list[InvocationRecord]:
    found: list[InvocationRecord] = []
    token = None
    while True:
        page = engine.list_invocations(arn, 2, token)  # small pages: exercises paging
        found += page.items
        token = page.next_token
        if token is None:
            return found


def _ids(events: list[EventRecord], kind: str) -> list[int]:
    return [e.id for e in events if e.type == kind]


def test_a_successful_invocation_keeps_its_logs_and_names_its_state_visit(engine: Engine
                                                                          ) -> None:
    arn, events, invocations = _run(engine, {
        "Talk": {"Type": "Task", "Resource": ARN + "talk", "End": True}}, {"n": 1})
    (call,) = invocations
    assert (call.execution_arn, call.state_name, call.function_name) == (arn, "Talk", "talk")
    assert (call.status, call.error_type) == ("Succeeded", None)
    assert "hello {'n': 1}\n" in call.logs and "and to stderr\n" in call.logs
    assert call.duration_ms > 0 and len(call.request_id) == 36
    assert call.event_id == _ids(events, "TaskStateEntered")[0]
    assert call.scheduled_event_id == _ids(events, "LambdaFunctionScheduled")[0]
    assert events[0].timestamp <= call.started_at <= events[-1].timestamp
    assert engine.store.get_invocation(call.id) == call


def test_a_retried_failure_has_one_invocation_per_attempt_in_one_visit(engine: Engine
                                                                       ) -> None:
    _, events, invocations = _run(engine, {"Fail": {
        "Type": "Task", "Resource": ARN + "fail", "End": True,
        "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2, "IntervalSeconds": 1}]}})
    assert [(i.status, i.error_type) for i in invocations] == [("Failed", "ValueError")] * 3
    assert all("about to fail\n" in i.logs and "bad input" in i.logs for i in invocations)
    assert {i.event_id for i in invocations} == set(_ids(events, "TaskStateEntered"))
    assert [i.scheduled_event_id for i in invocations] == _ids(events, "LambdaFunctionScheduled")
    assert len({i.request_id for i in invocations}) == 3


def test_a_function_that_times_out_keeps_what_it_printed(engine: Engine) -> None:
    _, events, invocations = _run(engine, {
        "Hang": {"Type": "Task", "Resource": ARN + "hang", "End": True}})
    (call,) = invocations
    assert (call.status, call.error_type) == ("TimedOut", None)  # Lambda's payload names none
    assert "going to sleep\n" in call.logs and "Task timed out after 1.0" in call.logs
    assert call.duration_ms >= 1000
    failed = json.loads(events[-1].details or "{}")
    assert failed["error"] == "Lambda.Unknown"


def test_a_task_timeout_is_a_timed_out_invocation(store: Store, functions: tuple[
        FunctionRegistry, ProcessFunctions]) -> None:
    engine = _engine(store, functions, wait_scale=1.0)  # TimeoutSeconds unscaled: 1 s
    engine.update_function_configuration("hang", timeout=30)
    _, events, invocations = _run(engine, {"Hang": {
        "Type": "Task", "Resource": ARN + "hang", "TimeoutSeconds": 1, "End": True}})
    (call,) = invocations
    assert (call.status, call.error_type) == ("TimedOut", "States.Timeout")
    assert call.event_id == _ids(events, "TaskStateEntered")[0]
    assert json.loads(events[-1].details or "{}")["error"] == "States.Timeout"


def test_each_map_iteration_has_its_own_invocation_and_state_visit(engine: Engine) -> None:
    _, events, invocations = _run(engine, {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "Talk", "States": {
            "Talk": {"Type": "Task", "Resource": ARN + "talk", "End": True}}}}},
        {"items": [1, 2, 3]})
    assert len(invocations) == 3 and {i.state_name for i in invocations} == {"Talk"}
    by_id = {e.id: e for e in events}
    for item in (1, 2, 3):
        (call,) = [i for i in invocations if f"hello {item}\n" in i.logs]
        entered = by_id[call.event_id]
        assert entered.type == "TaskStateEntered"
        assert json.loads(entered.details or "{}")["input"] == str(item)
        scheduled = by_id[call.scheduled_event_id]
        assert (scheduled.type, scheduled.previous_event_id) == (
            "LambdaFunctionScheduled", call.event_id)


def test_a_callback_tasks_function_is_recorded_when_it_is_submitted(engine: Engine) -> None:
    arn, events, invocations = _run(engine, {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "talk", "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}})
    (call,) = invocations
    assert (call.state_name, call.status, call.function_name) == ("Ask", "Succeeded", "talk")
    assert call.scheduled_event_id == _ids(events, "TaskScheduled")[0]
    assert "TaskSubmitted" in [e.type for e in events]
    scheduled = json.loads(events[call.scheduled_event_id - 1].details or "{}")
    engine.send_task_success(json.loads(scheduled["parameters"])["Payload"]["token"], "{}")
    assert engine.describe_execution(arn).status == "SUCCEEDED"
    assert _invocations(engine, arn) == [call]


def test_listing_an_unknown_execution_is_refused(engine: Engine) -> None:
    with pytest.raises(errors.ExecutionDoesNotExist):
        engine.list_invocations("arn:aws:states:us-east-1:123456789012:execution:m:none")


def test_an_invocation_outlived_by_its_execution_is_kept(store: Store) -> None:
    """The step applying the outcome of a Task stopped meanwhile changes nothing, but the
    function did run: its invocation is kept, under the visit the work item carries."""
    running, release = threading.Event(), threading.Event()

    def slow(event: Any, context: LambdaContext) -> Any:
        print("working")
        running.set()
        release.wait(10)
        return {}

    functions = PythonFunctions()
    functions.register("slow", slow)
    engine = Engine(store, Settings(wait_scale=0.0), invoker=functions)
    machine = engine.create_state_machine("m", json.dumps({"StartAt": "Slow", "States": {
        "Slow": {"Type": "Task", "Resource": ARN + "slow", "End": True}}}))
    arn = engine.start_execution(machine.arn).execution_arn
    worker = Worker(engine, functions, threads=2, poll_seconds=0.05)
    worker.start()
    try:
        assert running.wait(10)
        engine.stop_execution(arn)
        release.set()
        wait_until(lambda: bool(engine.list_invocations(arn).items))
    finally:
        release.set()
        worker.stop()
    events = engine.get_history(arn, 100).items
    assert events[-1].type == "ExecutionAborted"
    (call,) = engine.list_invocations(arn).items
    assert (call.state_name, call.status, call.logs) == ("Slow", "Succeeded", "working\n")
    assert call.event_id == _ids(events, "TaskStateEntered")[0]


class RacingStore:
    """A store where another writer changes the execution just before the first step that
    records an invocation commits, so that step loses the race (a Conflict) and is redone."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.raced = 0

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        for request in requests:
            if request.invocations and not self.raced:
                self.raced += 1
                current = self.store.get_execution(request.execution.arn)
                assert current is not None
                self.store.apply(current, current.version, [], [], [])
        return self.store.apply_many(requests)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_step_that_loses_a_race_records_its_invocation_once(
        store: Store, functions: tuple[FunctionRegistry, ProcessFunctions]) -> None:
    registry, invoker = functions
    racing = RacingStore(store)
    engine = Engine(racing, Settings(wait_scale=0.0), invoker=invoker,  # type: ignore[arg-type]
                    functions=registry)
    engine.deploy_function("talk", "python3.12", "app.talk", _package())
    arn, events, invocations = _run(engine, {
        "Talk": {"Type": "Task", "Resource": ARN + "talk", "End": True}})
    assert racing.raced == 1
    assert engine.describe_execution(arn).status == "SUCCEEDED"
    assert [e.type for e in events].count("LambdaFunctionSucceeded") == 1
    assert [i.status for i in invocations] == ["Succeeded"]  # the lost attempt wrote nothing


# ---------------------------------------------------------------------- in memory, run_task


def test_an_in_memory_run_keeps_its_invocations() -> None:
    functions = PythonFunctions()

    def shout(event: Any, context: LambdaContext) -> Any:
        print(f"item {event}")
        return event

    functions.register("shout", shout)
    definition = {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Shout", "States": {
            "Shout": {"Type": "Task", "Resource": ARN + "shout", "End": True}}}}}}
    result = run_execution(parse(json.dumps(definition)), [7, 8], functions, wait_scale=0)
    assert result.status == "SUCCEEDED"
    assert sorted(i.logs for i in result.invocations) == ["item 7\n", "item 8\n"]
    entered = {e.id for e in result.events if e.type == "TaskStateEntered"}
    assert {i.event_id for i in result.invocations} == entered
    assert all(i.execution_arn == result.info.execution_arn for i in result.invocations)


class Late:
    """An invoker whose function answers a little after the Task stopped waiting."""

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        time.sleep(0.1)
        return InvokeResult(b"{}", None, "printed before the end\n", "req-late", 100.0)


def _invoke(function_name: str | None, timeout: float | None) -> Invoke:
    resource = classify_resource(ARN + (function_name or "x"))
    return Invoke(resource, {}, function_name, {}, timeout, None, (),
                  Event("LambdaFunctionStarted"))


def test_a_task_timeout_keeps_the_logs_of_an_answer_that_comes_soon_after() -> None:
    outcome, call = run_task(Late(), _invoke("slow", 1.0), time_scale=0.01)
    assert not isinstance(outcome, TaskResult) and outcome.error == "States.Timeout"
    assert call is not None
    assert (call.status, call.error_type, call.request_id) == (
        "TimedOut", "States.Timeout", "req-late")
    assert call.logs == "printed before the end\n"


def test_no_invocation_when_no_function_ran() -> None:
    functions = PythonFunctions()
    outcome, call = run_task(functions, _invoke("missing", None))
    assert not isinstance(outcome, TaskResult)
    assert outcome.error == "Lambda.ResourceNotFoundException" and call is None
