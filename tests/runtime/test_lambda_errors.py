"""Lambda failures as Step Functions reports them: the function's errorType, or Lambda.Unknown
with AWS's cause when the payload names none (a timeout, a crash the runtime could not name)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statewright.asl import parse
from statewright.functions.base import InvokeResult
from statewright.runtime.sync import ExecutionResult, run_execution

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:slow"
INVOKE = "arn:aws:states:::lambda:invoke"
TIMED_OUT = (b'{"errorMessage":"2025-03-01T10:00:03.004Z 6f1c3b0e-1d1b-4f7e-9c1a-2f0b5c9d8e7a '
             b'Task timed out after 3.00 seconds"}')
UNKNOWN_CAUSE = ("The cause could not be determined because Lambda did not return an error "
                 "type. Returned payload: " + TIMED_OUT.decode())


class Scripted:
    """An invoker answering each call with the next scripted result."""

    def __init__(self, *results: InvokeResult) -> None:
        self.results = list(results)
        self.calls = 0

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        self.calls += 1
        return self.results.pop(0)


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True, **fields}
    if resource == INVOKE:
        task["Parameters"] = {"FunctionName": "slow", "Payload.$": "$"}
    return {"StartAt": "Call", "States": {"Call": task}}


def _run(definition: dict[str, Any], invoker: Scripted) -> ExecutionResult:
    return run_execution(parse(json.dumps(definition)), {}, invoker, name="e", wait_scale=0,
                         seed=1)


@pytest.mark.parametrize("resource", [FUNCTION, INVOKE])
def test_a_payload_without_error_type_is_lambda_unknown_with_awss_cause(resource: str) -> None:
    result = _run(_task(resource), Scripted(InvokeResult(TIMED_OUT, "Unhandled")))
    assert result.status == "FAILED"
    assert result.failure is not None
    assert (result.failure.error, result.failure.cause) == ("Lambda.Unknown", UNKNOWN_CAUSE)


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"errorType": 7}', b"{}"])
def test_any_payload_that_names_no_error_type_is_lambda_unknown(payload: bytes) -> None:
    result = _run(_task(FUNCTION), Scripted(InvokeResult(payload, "Unhandled")))
    assert result.failure is not None
    assert result.failure.error == "Lambda.Unknown"
    assert result.failure.cause == (
        "The cause could not be determined because Lambda did not return an error type. "
        f"Returned payload: {payload.decode()}")


def test_a_named_error_type_is_the_error_and_the_payload_the_cause() -> None:
    payload = b'{"errorMessage": "no", "errorType": "ValueError", "stackTrace": []}'
    result = _run(_task(FUNCTION), Scripted(InvokeResult(payload, "Unhandled")))
    assert result.failure is not None
    assert (result.failure.error, result.failure.cause) == ("ValueError", payload.decode())


def test_lambda_unknown_is_retried_then_caught() -> None:
    definition = _task(FUNCTION, Retry=[{"ErrorEquals": ["Lambda.Unknown"], "MaxAttempts": 2,
                                         "IntervalSeconds": 1}],
                       Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled",
                               "ResultPath": "$.error"}])
    del definition["States"]["Call"]["End"]
    definition["States"]["Call"]["Next"] = "Never"
    definition["States"]["Never"] = {"Type": "Fail", "Error": "Unreachable"}
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    invoker = Scripted(*[InvokeResult(TIMED_OUT, "Unhandled")] * 3)
    result = _run(definition, invoker)
    assert invoker.calls == 3
    assert result.status == "SUCCEEDED"
    assert result.output == {"error": {"Error": "Lambda.Unknown", "Cause": UNKNOWN_CAUSE}}
