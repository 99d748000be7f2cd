"""Run-time faults are the execution's: a ``*Path`` value of the wrong type or range fails the
execution with ``States.Runtime`` and AWS's cause, in the state that read it, in ``run`` (in
memory) and through the Engine and a Worker (the server) alike; never a Python exception.

Cause texts: AWS's recordings kept in LocalStack's snapshot tests and the interpreter that
reproduces them (see ``statewright/asl/values.py``): ``The SecondsPath parameter cannot be parsed
as a long value``, ``... references a negative value``, ``The MaxConcurrencyPath field refers to
value "x" which is not a valid integer``, ``ToleratedFailurePercentage must be between 0 and
100.``, ``ToleratedFailureCount cannot be negative.``; the TimestampPath text is in the shared
conformance cases (``test_wait_timestamp_path_*``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from statewright.asl import parse
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.sync import run_execution
from statewright.runtime.worker import Worker
from tests.conftest import open_backend
from tests.runtime.helpers import history

ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
WHERE = "An error occurred while executing the state 'S' (entered at the event id #2). "


def _wait(field: str) -> dict[str, Any]:
    return {"Type": "Wait", field: "$.v", "End": True}


def _map(field: str) -> dict[str, Any]:
    return {"Type": "Map", "ItemsPath": "$.items", field: "$.v", "End": True,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}


def _task(field: str) -> dict[str, Any]:
    return {"Type": "Task", "Resource": ARN, field: "$.v", "End": True}


# (state, value at $.v, the cause after WHERE; None: the value is accepted and the run succeeds)
CASES: list[tuple[dict[str, Any], Any, str | None]] = [
    # Wait SecondsPath: a non-negative integer, nothing else (AWS parses a long).
    (_wait("SecondsPath"), 0, None),
    (_wait("SecondsPath"), 3, None),
    (_wait("SecondsPath"), 1.5,
     "The SecondsPath parameter cannot be parsed as a long value: $.v == 1.5"),
    (_wait("SecondsPath"), "3",
     "The SecondsPath parameter cannot be parsed as a long value: $.v == 3"),
    (_wait("SecondsPath"), None,
     "The SecondsPath parameter cannot be parsed as a long value: $.v == null"),
    (_wait("SecondsPath"), True,
     "The SecondsPath parameter cannot be parsed as a long value: $.v == true"),
    (_wait("SecondsPath"), {"a": 1},
     'The SecondsPath parameter cannot be parsed as a long value: $.v == {"a":1}'),
    (_wait("SecondsPath"), -1,
     "The SecondsPath parameter references a negative value: $.v == -1"),
    ({"Type": "Wait", "SecondsPath": "$.missing", "End": True}, 1,
     "The SecondsPath parameter does not reference an input value: $.missing"),
    # Wait TimestampPath: an RFC 3339 string with an offset.
    (_wait("TimestampPath"), "2016-03-14T01:59:00Z", None),
    (_wait("TimestampPath"), 12, "The TimestampPath parameter does not reference a valid "
     "ISO-8601 extended offset date-time format string: $.v == 12"),
    (_wait("TimestampPath"), None, "The TimestampPath parameter does not reference a valid "
     "ISO-8601 extended offset date-time format string: $.v == null"),
    (_wait("TimestampPath"), "2016-13-05T21:29:29Z", "The TimestampPath parameter does not "
     "reference a valid ISO-8601 extended offset date-time format string: $.v == "
     "2016-13-05T21:29:29Z"),
    # Map MaxConcurrencyPath: a non-negative integer (a string holding one is read).
    (_map("MaxConcurrencyPath"), 0, None),
    (_map("MaxConcurrencyPath"), "2", None),
    (_map("MaxConcurrencyPath"), 1.5,
     'The MaxConcurrencyPath field refers to value "1.5" which is not a valid integer: $.v'),
    (_map("MaxConcurrencyPath"), "many",
     'The MaxConcurrencyPath field refers to value "many" which is not a valid integer: $.v'),
    (_map("MaxConcurrencyPath"), None,
     'The MaxConcurrencyPath field refers to value "null" which is not a valid integer: $.v'),
    (_map("MaxConcurrencyPath"), [1],
     'The MaxConcurrencyPath field refers to value "[1]" which is not a valid integer: $.v'),
    (_map("MaxConcurrencyPath"), -1,
     "Expected non-negative integer for MaxConcurrency, got '-1' instead."),
    # Map ToleratedFailureCountPath.
    (_map("ToleratedFailureCountPath"), 1, None),
    (_map("ToleratedFailureCountPath"), "1", None),
    (_map("ToleratedFailureCountPath"), False, 'The ToleratedFailureCountPath field refers to '
     'value "false" which is not a valid integer: $.v'),
    (_map("ToleratedFailureCountPath"), 0.5, 'The ToleratedFailureCountPath field refers to '
     'value "0.5" which is not a valid integer: $.v'),
    (_map("ToleratedFailureCountPath"), -2, "ToleratedFailureCount cannot be negative."),
    # Map ToleratedFailurePercentagePath: a number from 0 to 100 (the bug: float() raised).
    (_map("ToleratedFailurePercentagePath"), 0, None),
    (_map("ToleratedFailurePercentagePath"), 100, None),
    (_map("ToleratedFailurePercentagePath"), 12.5, None),
    (_map("ToleratedFailurePercentagePath"), "50", None),
    (_map("ToleratedFailurePercentagePath"), "lots", 'The ToleratedFailurePercentagePath field '
     'refers to value "lots" which is not a valid float: $.v'),
    (_map("ToleratedFailurePercentagePath"), None, 'The ToleratedFailurePercentagePath field '
     'refers to value "null" which is not a valid float: $.v'),
    (_map("ToleratedFailurePercentagePath"), {"p": 1}, 'The ToleratedFailurePercentagePath '
     'field refers to value "{"p":1}" which is not a valid float: $.v'),
    (_map("ToleratedFailurePercentagePath"), -1,
     "ToleratedFailurePercentage must be between 0 and 100."),
    (_map("ToleratedFailurePercentagePath"), 100.1,
     "ToleratedFailurePercentage must be between 0 and 100."),
    # Task TimeoutSecondsPath / HeartbeatSecondsPath: a positive integer.
    (_task("TimeoutSecondsPath"), 5, None),
    (_task("TimeoutSecondsPath"), 0,
     "The TimeoutSecondsPath parameter does not reference a valid positive integer: 0"),
    (_task("TimeoutSecondsPath"), 2.5,
     "The TimeoutSecondsPath parameter does not reference a valid positive integer: 2.5"),
    (_task("TimeoutSecondsPath"), "5",
     'The TimeoutSecondsPath parameter does not reference a valid positive integer: "5"'),
    (_task("HeartbeatSecondsPath"), 5, None),
    (_task("HeartbeatSecondsPath"), None,
     "The HeartbeatSecondsPath parameter does not reference a valid positive integer: null"),
]


def _definition(state: dict[str, Any]) -> str:
    return json.dumps({"StartAt": "S", "States": {"S": state}})


def _data(value: Any) -> dict[str, Any]:
    return {"v": value, "items": [1, 2]}


def _functions() -> PythonFunctions:
    functions = PythonFunctions()
    functions.register("echo", lambda event, context: event)
    return functions


def _ids(case: tuple[dict[str, Any], Any, str | None]) -> str:
    state, value, _ = case
    field = next(k for k, v in state.items() if str(v).startswith("$."))
    return f"{field}={json.dumps(value)}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_run_fails_the_execution_with_awss_cause(
    case: tuple[dict[str, Any], Any, str | None]
) -> None:
    state, value, cause = case
    result = run_execution(parse(_definition(state)), _data(value), _functions(),
                           name="e", wait_scale=0, seed=1)
    if cause is None:
        assert result.status == "SUCCEEDED", result.failure
        return
    assert result.status == "FAILED"
    assert result.failure is not None
    assert (result.failure.error, result.failure.cause) == ("States.Runtime", WHERE + cause)
    # In the same step: the state was entered, then the execution failed.
    types = [e.type for e in result.events]
    assert types == ["ExecutionStarted", f"{state['Type']}StateEntered", "ExecutionFailed"]


# The server path: StartExecution runs the first step itself, so a bad value in the first state
# answered 500 before. Every kind of field, through a real store and a worker.
SERVER_CASES = [c for c in CASES if c[2] is not None and c[1] in (1.5, "lots", -1, None)]


@pytest.mark.parametrize("case", SERVER_CASES, ids=[_ids(c) for c in SERVER_CASES])
def test_the_server_fails_the_execution_the_same_way(
    case: tuple[dict[str, Any], Any, str | None], request: pytest.FixtureRequest
) -> None:
    state, value, cause = case
    store = open_backend("sqlite", request)
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", _definition(state))
    started = engine.start_execution(machine.arn, json.dumps(_data(value)), "e")
    worker = Worker(engine, _functions(), threads=2, poll_seconds=0.1)
    try:
        worker.drain(time.monotonic() + 30)
    finally:
        worker.stop()
    record = engine.describe_execution(started.execution_arn)
    assert (record.status, record.error, record.cause) == (
        "FAILED", "States.Runtime", WHERE + str(cause))
    types = [e.type for e in history(engine, started.execution_arn)]
    assert types == ["ExecutionStarted", f"{state['Type']}StateEntered", "ExecutionFailed"]


def test_statewright_run_prints_the_failure_not_a_traceback(tmp_path: Path) -> None:
    """The issue's case: ``statewright run`` printed a Python traceback for this definition."""
    definition = tmp_path / "map.json"
    definition.write_text(_definition(_map("ToleratedFailurePercentagePath")))
    done = subprocess.run(
        [sys.executable, "-m", "statewright.cli", "run", str(definition), "--input",
         json.dumps(_data({"not": "a number"}))],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the execution FAILED
    assert "Traceback" not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")
    assert result["cause"] == WHERE + ('The ToleratedFailurePercentagePath field refers to '
                                       'value "{"not":"a number"}" which is not a valid float: $.v')
