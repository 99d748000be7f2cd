"""Whole executions in memory: every state type, data flow, Retry/Catch, forks, history shape."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from statewright.asl import parse
from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import ExecutionResult, run_execution

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class Boom(Exception):
    """A handler's own error type."""


def _functions(**handlers: Callable[[Any, LambdaContext], Any]) -> PythonFunctions:
    functions = PythonFunctions()
    for name, handler in handlers.items():
        functions.register(name, handler)
    return functions


def _run(definition: dict[str, Any], data: Any = None, functions: PythonFunctions | None = None,
         ) -> ExecutionResult:
    return run_execution(
        parse(json.dumps(definition)), {} if data is None else data,
        functions or PythonFunctions(), name="exec-1", wait_scale=0, seed=7,
    )


def _machine(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"StartAt": states[0][0], "States": dict(states)}


def _types(result: ExecutionResult) -> list[str]:
    return [e.type for e in result.events]


def _assert_well_formed(result: ExecutionResult) -> None:
    ids = [e.id for e in result.events]
    assert ids == list(range(1, len(ids) + 1))
    assert all(e.previous_event_id < e.id for e in result.events)
    terminal = [e for e in result.events if e.type.startswith("Execution") and
                e.type != "ExecutionStarted"]
    assert len(terminal) == 1 and terminal[0] is result.events[-1]


# ----------------------------------------------------------------------------- Pass data flow

PASS_CASES = [
    # (pass state fields, input, expected output)
    ({}, {"a": 1}, {"a": 1}),
    ({"Result": {"x": 1}}, {"a": 1}, {"x": 1}),
    ({"Result": {"x": 1}, "ResultPath": "$.r"}, {"a": 1}, {"a": 1, "r": {"x": 1}}),
    ({"Result": {"x": 1}, "ResultPath": "$.r.s"}, {"a": 1}, {"a": 1, "r": {"s": {"x": 1}}}),
    ({"Result": {"x": 1}, "ResultPath": "$.a.b"}, {"a": {"c": 2}}, {"a": {"c": 2, "b": {"x": 1}}}),
    ({"Result": {"x": 1}, "ResultPath": None}, {"a": 1}, {"a": 1}),
    ({"InputPath": "$.a"}, {"a": {"b": 2}}, {"b": 2}),
    ({"InputPath": None}, {"a": 1}, {}),
    ({"OutputPath": None}, {"a": 1}, {}),
    ({"OutputPath": "$.a"}, {"a": {"b": 2}}, {"b": 2}),
    ({"Parameters": {"k.$": "$.a", "lit": "v", "n": {"m.$": "$.b"}}}, {"a": 1, "b": 2},
     {"k": 1, "lit": "v", "n": {"m": 2}}),
    ({"Parameters": {"id.$": "$$.Execution.Name"}}, {}, {"id": "exec-1"}),
    ({"Parameters": {"s.$": "$$.State.Name"}}, {}, {"s": "P"}),
    ({"InputPath": "$.in", "Parameters": {"v.$": "$.v"}, "ResultPath": "$.in.out",
      "OutputPath": "$.in"}, {"in": {"v": 3}}, {"v": 3, "out": {"v": 3}}),
]


@pytest.mark.parametrize(("fields", "data", "expected"), PASS_CASES)
def test_pass_data_flow(fields: dict[str, Any], data: Any, expected: Any) -> None:
    result = _run(_machine(("P", {"Type": "Pass", "End": True, **fields})), data)
    assert result.status == "SUCCEEDED", result.failure
    assert result.output == expected
    assert _types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                              "ExecutionSucceeded"]
    _assert_well_formed(result)


def test_input_path_not_found_fails_with_awss_cause() -> None:
    # Recorded on AWS: test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_INPUTPATH].
    result = _run(_machine(("pass", {"Type": "Pass", "InputPath": "$.NoSuchInputPath",
                                     "End": True})))
    assert result.status == "FAILED"
    assert result.failure is not None
    assert result.failure.error == "States.Runtime"
    assert result.failure.cause == (
        "An error occurred while executing the state 'pass' (entered at the event id #2). "
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )
    assert _types(result) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]


# ----------------------------------------------------------------------------- Choice, Fail


CHOICE = _machine(
    ("C", {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        {"And": [{"Variable": "$.s", "IsPresent": True},
                 {"Variable": "$.s", "StringMatches": "a*"}], "Next": "A"},
    ], "Default": "Other"}),
    ("Big", {"Type": "Pass", "Result": "big", "End": True}),
    ("A", {"Type": "Pass", "Result": "a", "End": True}),
    ("Other", {"Type": "Succeed"}),
)


@pytest.mark.parametrize(("data", "expected"), [
    ({"n": 11}, "big"), ({"n": 1, "s": "abc"}, "a"), ({"n": 1, "s": "b"}, {"n": 1, "s": "b"}),
])
def test_choice_routes(data: Any, expected: Any) -> None:
    result = _run(CHOICE, data)
    assert result.status == "SUCCEEDED"
    assert result.output == expected


def test_choice_without_match_or_default_fails() -> None:
    definition = _machine(
        ("C", {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericEquals": 1, "Next": "D"}]}),
        ("D", {"Type": "Succeed"}),
    )
    result = _run(definition, {"n": 2})
    assert result.status == "FAILED"
    assert result.failure is not None and result.failure.error == "States.NoChoiceMatched"


@pytest.mark.parametrize(("fields", "data", "error", "cause"), [
    ({"Error": "E", "Cause": "C"}, {}, "E", "C"),
    ({"ErrorPath": "$.e", "CausePath": "$.c"}, {"e": "error string", "c": "cause string"},
     "error string", "cause string"),
    ({}, {}, None, None),
])
def test_fail_state(fields: dict[str, Any], data: Any, error: str | None, cause: str | None
                    ) -> None:
    result = _run(_machine(("F", {"Type": "Fail", **fields})), data)
    assert result.status == "FAILED"
    assert result.failure is not None
    assert (result.failure.error, result.failure.cause) == (error, cause)
    assert _types(result) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]


# ----------------------------------------------------------------------------- Wait


@pytest.mark.parametrize(("fields", "data"), [
    ({"Seconds": 30}, {}),
    ({"SecondsPath": "$.s"}, {"s": 30}),
])
def test_wait_advances_the_clock_without_sleeping(fields: dict[str, Any], data: Any) -> None:
    result = _run(_machine(("W", {"Type": "Wait", "End": True, **fields})), data)
    assert result.status == "SUCCEEDED"
    entered, exited = result.events[1], result.events[2]
    assert (entered.type, exited.type) == ("WaitStateEntered", "WaitStateExited")
    assert exited.timestamp - entered.timestamp == pytest.approx(30, abs=0.5)


def test_wait_until_a_past_timestamp_goes_on_at_once() -> None:
    result = _run(_machine(("W", {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z",
                                  "End": True})))
    assert result.status == "SUCCEEDED"


def test_wait_timestamp_path_rejects_a_missing_offset() -> None:
    # Recorded on AWS: test_wait_timestamp_path[NO_Z].
    result = _run(_machine(("WaitUntil", {"Type": "Wait", "TimestampPath": "$.t",
                                          "End": True})), {"t": "2016-12-05T21:29:29"})
    assert result.failure is not None
    assert result.failure.cause == (
        "An error occurred while executing the state 'WaitUntil' (entered at the event id #2). "
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        "date-time format string: $.t == 2016-12-05T21:29:29"
    )


# ----------------------------------------------------------------------------- Task, Retry, Catch


def test_task_calls_the_function_named_by_the_arn() -> None:
    seen: list[Any] = []

    def double(event: Any, context: LambdaContext) -> Any:
        seen.append((event, context.function_name))
        return {"v": event["v"] * 2}

    definition = _machine(("T", {"Type": "Task", "Resource": ARN + "double",
                                 "ResultPath": "$.r", "End": True}))
    result = _run(definition, {"v": 21}, _functions(double=double))
    assert result.output == {"v": 21, "r": {"v": 42}}
    assert seen == [({"v": 21}, "double")]
    assert _types(result) == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded",
    ]
    _assert_well_formed(result)


def test_lambda_invoke_integration_wraps_the_result() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
        "ResultSelector": {"p.$": "$.Payload", "code.$": "$.StatusCode"}, "End": True}))
    result = _run(definition, {"x": 1}, _functions(echo=lambda e, c: e))
    assert result.output == {"p": {"x": 1}, "code": 200}
    assert "TaskScheduled" in _types(result) and "TaskSucceeded" in _types(result)


def _flaky(failures: int) -> Callable[[Any, LambdaContext], Any]:
    calls = {"n": 0}

    def handler(event: Any, context: LambdaContext) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise Boom(f"attempt {calls['n']}")
        return {"attempts": calls["n"]}

    return handler


def test_retry_backs_off_then_succeeds() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": ARN + "flaky", "End": True,
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3,
                   "MaxAttempts": 3}]}))
    result = _run(definition, {}, _functions(flaky=_flaky(2)))
    assert result.output == {"attempts": 3}
    scheduled = [e.timestamp for e in result.events if e.type == "LambdaFunctionScheduled"]
    gaps = [b - a for a, b in itertools.pairwise(scheduled)]
    assert gaps == [pytest.approx(2, abs=0.5), pytest.approx(6, abs=0.5)]


def test_retry_max_delay_caps_the_backoff() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": ARN + "flaky", "End": True,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10,
                   "MaxDelaySeconds": 15, "MaxAttempts": 3}]}))
    result = _run(definition, {}, _functions(flaky=_flaky(3)))
    scheduled = [e.timestamp for e in result.events if e.type == "LambdaFunctionScheduled"]
    gaps = [b - a for a, b in itertools.pairwise(scheduled)]
    assert gaps == [pytest.approx(10, abs=0.5), pytest.approx(15, abs=0.5),
                    pytest.approx(15, abs=0.5)]


def test_full_jitter_stays_below_the_computed_delay() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": ARN + "flaky", "End": True,
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 100, "MaxAttempts": 1,
                   "JitterStrategy": "FULL"}]}))
    result = _run(definition, {}, _functions(flaky=_flaky(1)))
    scheduled = [e.timestamp for e in result.events if e.type == "LambdaFunctionScheduled"]
    assert 0 <= scheduled[1] - scheduled[0] < 100


def test_max_attempts_zero_never_retries_and_catch_takes_over() -> None:
    definition = _machine(
        ("T", {"Type": "Task", "Resource": ARN + "flaky", "Next": "Done",
               "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 0}],
               "Catch": [{"ErrorEquals": ["Other"], "Next": "Done"},
                         {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err",
                          "Next": "Handled"}]}),
        ("Done", {"Type": "Succeed"}),
        ("Handled", {"Type": "Pass", "End": True}),
    )
    result = _run(definition, {"in": 1}, _functions(flaky=_flaky(5)))
    assert result.status == "SUCCEEDED"
    assert result.output["in"] == 1
    assert result.output["err"]["Error"] == "Boom"
    cause = json.loads(result.output["err"]["Cause"])
    assert cause["errorMessage"] == "attempt 1" and cause["errorType"] == "Boom"
    assert _types(result).count("LambdaFunctionScheduled") == 1


def test_retriers_count_separately_and_the_first_match_decides() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": ARN + "flaky", "End": True,
        "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1},
                  {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5, "IntervalSeconds": 1}]}))
    result = _run(definition, {}, _functions(flaky=_flaky(2)))
    # Boom matched the first retrier, which had one attempt: the second is never consulted.
    assert result.status == "FAILED"
    assert result.failure is not None and result.failure.error == "Boom"
    assert _types(result).count("LambdaFunctionScheduled") == 2


def test_retry_count_is_in_the_context_object() -> None:
    definition = _machine(("T", {
        "Type": "Task", "Resource": ARN + "flaky", "End": True,
        "Parameters": {"retry.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]}))
    payloads: list[Any] = []
    inner = _flaky(2)

    def record(event: Any, context: LambdaContext) -> Any:
        payloads.append(event["retry"])
        return inner(event, context)

    assert _run(definition, {}, _functions(flaky=record)).status == "SUCCEEDED"
    assert payloads == [0, 1, 2]


def test_an_unknown_function_is_a_lambda_error() -> None:
    result = _run(_machine(("T", {"Type": "Task", "Resource": ARN + "nope", "End": True})))
    assert result.status == "FAILED"
    assert result.failure is not None
    assert result.failure.error == "Lambda.ResourceNotFoundException"


def test_result_over_256_kib_is_data_limit_exceeded_and_catchable_by_all() -> None:
    # Recorded on AWS: test_task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response
    definition = _machine(
        ("T", {"Type": "Task", "Resource": ARN + "big", "Next": "X",
               "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}]}),
        ("X", {"Type": "Pass", "End": True}),
    )
    result = _run(definition, {}, _functions(big=lambda e, c: ("a" * 263000).encode()))
    assert result.output == {
        "Error": "States.DataLimitExceeded",
        "Cause": f"The state/task '{ARN}big' returned a result with a size exceeding the "
                 "maximum number of bytes service limit.",
    }


# ----------------------------------------------------------------------------- Parallel, Map


def test_parallel_results_in_branch_order() -> None:
    definition = _machine(("P", {"Type": "Parallel", "End": True, "Branches": [
        _machine(("A", {"Type": "Wait", "Seconds": 5, "Next": "A2"}),
                 ("A2", {"Type": "Pass", "Result": "a", "End": True})),
        _machine(("B", {"Type": "Pass", "Result": "b", "End": True})),
    ]}))
    result = _run(definition)
    assert result.output == ["a", "b"]
    assert _types(result)[-3:] == ["ParallelStateSucceeded", "ParallelStateExited",
                                   "ExecutionSucceeded"]
    _assert_well_formed(result)


def test_parallel_branch_failure_aborts_siblings_and_is_caught() -> None:
    definition = _machine(
        ("P", {"Type": "Parallel", "Next": "Done", "Branches": [
            _machine(("Slow", {"Type": "Wait", "Seconds": 100, "End": True})),
            _machine(("Bad", {"Type": "Fail", "Error": "Nope", "Cause": "why"})),
        ], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]}),
        ("Done", {"Type": "Pass", "End": True}),
    )
    result = _run(definition)
    assert result.output == {"Error": "Nope", "Cause": "why"}
    types = _types(result)
    assert "WaitStateAborted" in types and "WaitStateExited" not in types
    assert types.index("ParallelStateFailed") < types.index("ParallelStateExited")
    # the clock never waited for the aborted branch
    assert result.events[-1].timestamp - result.events[0].timestamp < 50


def test_map_with_item_selector_and_context() -> None:
    definition = _machine(("M", {
        "Type": "Map", "End": True, "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value",
                         "k.$": "$.k"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "X",
                          "States": {"X": {"Type": "Pass", "End": True}}}}))
    result = _run(definition, {"items": ["a", "b"], "k": 0})
    assert result.output == [{"i": 0, "v": "a", "k": 0}, {"i": 1, "v": "b", "k": 0}]
    assert _types(result) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]
    started = [e for e in result.events if e.type == "MapStateStarted"]
    assert started[0].details == {"length": 2}


def test_a_fault_in_a_map_iteration_names_the_entered_event_it_really_got() -> None:
    # Iterations write their events interleaved, so the id is known only once it is written.
    definition = _machine(("M", {"Type": "Map", "End": True, "ItemProcessor": _machine(
        ("T", {"Type": "Task", "Resource": ARN + "echo", "OutputPath": "$.missing",
               "End": True}))}))
    result = _run(definition, [1, 2], _functions(echo=lambda event, context: {"v": event}))
    assert result.failure is not None and result.failure.error == "States.Runtime"
    entered = [e.id for e in result.events if e.type == "TaskStateEntered"]
    assert f"(entered at the event id #{entered[0]})" in (result.failure.cause or "")


def test_map_runs_up_to_max_concurrency_at_once() -> None:
    inner = _machine(("W", {"Type": "Wait", "Seconds": 10, "End": True}))
    definition = _machine(("M", {"Type": "Map", "End": True, "MaxConcurrency": 2,
                                 "Iterator": inner}))
    result = _run(definition, [1, 2, 3, 4])
    assert result.output == [1, 2, 3, 4]
    # four 10-second iterations two at a time: 20 seconds of virtual time
    elapsed = result.events[-1].timestamp - result.events[0].timestamp
    assert elapsed == pytest.approx(20, abs=1)


def test_map_tolerated_failures() -> None:
    processor = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2,
                                              "Next": "F"}], "Default": "OK"},
        "F": {"Type": "Fail", "Error": "Two"},
        "OK": {"Type": "Succeed"}}}
    tolerant = _machine(("M", {"Type": "Map", "End": True, "ToleratedFailureCount": 1,
                               "ItemProcessor": processor}))
    result = _run(tolerant, [1, 2, 3])
    assert result.status == "SUCCEEDED"
    assert result.output == [1, {"Error": "Two"}, 3]
    strict = _machine(("M", {"Type": "Map", "End": True, "ItemProcessor": processor}))
    failed = _run(strict, [1, 2, 3])
    assert failed.failure is not None and failed.failure.error == "Two"
    assert "MapIterationFailed" in _types(failed) and "MapStateFailed" in _types(failed)


def test_map_retry_starts_the_map_again() -> None:
    # Recorded on AWS: test_map_state_retry_legacy (MapStateStarted again per attempt).
    definition = _machine(("M", {
        "Type": "Map", "End": True, "MaxConcurrency": 1,
        "Iterator": _machine(("F", {"Type": "Fail", "Error": "E", "Cause": "C"})),
        "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2}]}))
    result = _run(definition, [1])
    assert _types(result) == [
        "ExecutionStarted", "MapStateEntered",
        "MapStateStarted", "MapIterationStarted", "FailStateEntered", "MapIterationFailed",
        "MapStateStarted", "MapIterationStarted", "FailStateEntered", "MapIterationFailed",
        "MapStateStarted", "MapIterationStarted", "FailStateEntered", "MapIterationFailed",
        "MapStateFailed", "ExecutionFailed",
    ]


# ----------------------------------------------------------------------------- variables, timeout


def test_assign_and_read_variables_across_states_and_scopes() -> None:
    definition = _machine(
        ("A", {"Type": "Pass", "Result": {"n": 5}, "Assign": {"n.$": "$.n", "k": "lit"},
               "Next": "M"}),
        ("M", {"Type": "Map", "ItemsPath": "$.xs", "Next": "B",
               "Parameters": {"x.$": "$$.Map.Item.Value", "n.$": "$n"},
               "Iterator": _machine(("I", {"Type": "Pass", "End": True}))}),
        ("B", {"Type": "Pass", "Parameters": {"n.$": "$n", "k.$": "$k", "r.$": "$"},
               "End": True}),
    )
    result = _run(definition, {})
    assert result.status == "FAILED"  # ItemsPath $.xs is missing from Pass A's output
    result = _run({**definition, "States": {**definition["States"], "A": {
        "Type": "Pass", "Result": {"n": 5, "xs": [1, 2]}, "Assign": {"n.$": "$.n", "k": "lit"},
        "Next": "M"}}})
    assert result.output == {"n": 5, "k": "lit", "r": [{"x": 1, "n": 5}, {"x": 2, "n": 5}]}
    exited = next(e for e in result.events if e.type == "PassStateExited")
    assert exited.details is not None
    assert exited.details["assignedVariables"] == {"n": "5", "k": '"lit"'}


def test_execution_timeout() -> None:
    definition = {"StartAt": "W", "TimeoutSeconds": 5,
                  "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    result = _run(definition)
    assert result.status == "TIMED_OUT"
    assert _types(result)[-1] == "ExecutionTimedOut"


def test_task_timeout_fails_with_states_timeout_and_can_be_caught() -> None:
    import threading

    release = threading.Event()

    def slow(event: Any, context: LambdaContext) -> Any:
        release.wait(5)
        return {}

    definition = _machine(
        ("T", {"Type": "Task", "Resource": ARN + "slow", "TimeoutSeconds": 1, "Next": "Ok",
               "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}]}),
        ("Ok", {"Type": "Succeed"}),
        ("TimedOut", {"Type": "Pass", "End": True}),
    )
    result = run_execution(parse(json.dumps(definition)), {}, _functions(slow=slow),
                           wait_scale=0.05)
    release.set()
    assert result.output["Error"] == "States.Timeout"
    assert "LambdaFunctionTimedOut" in _types(result)


def test_an_execution_fails_at_the_25000th_history_event() -> None:
    # AWS docs, "Avoid reaching the history quota": event 25,000 is ExecutionSucceeded or the
    # execution fails there.
    definition = _machine(
        ("Loop", {"Type": "Choice", "Default": "Loop",
                  "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "End"}]}),
        ("End", {"Type": "Succeed"}),
    )
    result = _run(definition)
    assert result.status == "FAILED"
    assert result.failure is not None and result.failure.error == "States.Runtime"
    assert "maximum number of history events (25000)" in (result.failure.cause or "")
    assert len(result.events) == 25000
    assert result.events[-1].type == "ExecutionFailed"
    _assert_well_formed(result)


def test_a_jsonata_state_runs_with_jsonata_rules() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $states.input.x + 1 %}", "End": True}}}
    result = _run(definition, {"x": 1})
    assert result.status == "SUCCEEDED"
    assert result.output == 2


def test_a_distributed_map_with_an_item_reader_fails_clearly() -> None:
    definition = _machine(("M", {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                              "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}))
    result = _run(definition, [])
    assert result.failure is not None and "ItemReader" in (result.failure.cause or "")
