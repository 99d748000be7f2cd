"""Lambda failures as Step Functions reports them: the function's errorType, or Lambda.Unknown
with AWS's cause when the payload names none (a timeout, a crash the runtime could not name)."""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

import pytest

from statewright.asl import parse
from statewright.functions.base import InvokeResult
from statewright.functions.inprocess import PythonFunctions
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


# --- issue 11: the results and failures of AWS's recordings -----------------------------------

NOT_FOUND = re.compile(
    r"Function not found: (?P<arn>\S+) \(Service: AWSLambda; Status Code: 404; Error Code: "
    r"ResourceNotFoundException; Request ID: [0-9a-f-]{36}; Proxy: null\)")


@pytest.mark.parametrize(("resource", "function_name", "arn"), [
    ("arn:aws:lambda:eu-west-1:111122223333:function:gone", None,
     "arn:aws:lambda:eu-west-1:111122223333:function:gone:$LATEST"),
    ("arn:aws:lambda:eu-west-1:111122223333:function:gone:live", None,
     "arn:aws:lambda:eu-west-1:111122223333:function:gone:live"),
    # lambda:invoke with a bare name: the execution's region and account
    (INVOKE, "gone", "arn:aws:lambda:us-east-1:123456789012:function:gone:$LATEST"),
    (INVOKE, "444455556666:function:gone",
     "arn:aws:lambda:us-east-1:444455556666:function:gone:$LATEST"),
    (INVOKE, "arn:aws:lambda:ap-south-1:111122223333:function:gone:7",
     "arn:aws:lambda:ap-south-1:111122223333:function:gone:7"),
])
def test_a_missing_function_is_named_by_its_full_qualified_arn(
        resource: str, function_name: str | None, arn: str) -> None:
    # What Step Functions reports (the issue's AWS observation): "Function not found:
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME:$LATEST (Service: AWSLambda; Status Code:
    # 404; Error Code: ResourceNotFoundException; Request ID: ...; Proxy: null)".
    definition = _task(resource)
    if function_name is not None:
        definition["States"]["Call"]["Parameters"]["FunctionName"] = function_name
    result = run_execution(parse(json.dumps(definition)), {}, PythonFunctions(), wait_scale=0)
    assert result.failure is not None
    assert result.failure.error == "Lambda.ResourceNotFoundException"
    found = NOT_FOUND.fullmatch(result.failure.cause or "")
    assert found is not None, result.failure.cause
    assert found["arn"] == arn


class Stuck:
    """An invoker whose function answers only once released."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        self.released.wait(30)
        return InvokeResult(b"{}")


@pytest.mark.parametrize("resource", [FUNCTION, INVOKE])
def test_the_tasks_own_timeout_is_states_timeout_with_an_empty_cause(resource: str) -> None:
    # As AWS records it; "Task timed out after N seconds" is the function's own timeout,
    # which Step Functions reports as Lambda.Unknown (above).
    definition = _task(resource, TimeoutSeconds=1)
    stuck = Stuck()
    try:
        result = run_execution(parse(json.dumps(definition)), {}, stuck, wait_scale=0.05)
    finally:
        stuck.released.set()
    assert result.failure is not None
    assert (result.failure.error, result.failure.cause) == ("States.Timeout", "")
    timed_out = [e for e in result.events if e.type.endswith("TimedOut")]
    assert [(e.details or {}).get("error") for e in timed_out] == ["States.Timeout"]
    assert [(e.details or {}).get("cause") for e in timed_out] == [""]


def test_lambda_invoke_with_log_type_tail_returns_the_log_result() -> None:
    functions = PythonFunctions()

    def chatty(event: Any, context: Any) -> Any:
        print("x" * 5000)
        print("the end")
        return "HelloWorld"

    functions.register("slow", chatty)
    definition = _task(INVOKE)
    definition["States"]["Call"]["Parameters"]["LogType"] = "Tail"
    result = run_execution(parse(json.dumps(definition)), {}, functions, wait_scale=0)
    assert result.status == "SUCCEEDED"
    output = result.output
    tail = base64.b64decode(output["LogResult"])
    assert len(tail) == 4096 and tail.endswith(b"x\nthe end\n")  # the last 4 KB
    assert output["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Log-Result"] == output["LogResult"]
    assert sorted(output) == ["ExecutedVersion", "LogResult", "Payload", "SdkHttpMetadata",
                              "SdkResponseMetadata", "StatusCode"]
    assert output["Payload"] == "HelloWorld"  # the value, not JSON text of it
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Length"] == str(len(b'"HelloWorld"'))
    # without LogType Tail, no LogResult (AWS's recorded results have none)
    del definition["States"]["Call"]["Parameters"]["LogType"]
    plain = run_execution(parse(json.dumps(definition)), {}, functions, wait_scale=0).output
    assert "LogResult" not in plain and "X-Amz-Log-Result" not in plain[
        "SdkHttpMetadata"]["HttpHeaders"]


@pytest.mark.parametrize("value", [0, True, "HelloWorld", {}, [], None, 1.5])
def test_lambda_invoke_payload_is_the_json_value(value: Any) -> None:
    functions = PythonFunctions()
    functions.register("slow", lambda event, context: value)
    result = run_execution(parse(json.dumps(_task(INVOKE))), {}, functions, wait_scale=0)
    payload = result.output["Payload"]
    assert payload == value and type(payload) is type(value)
    body = json.dumps(value).encode()
    assert result.output["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == str(len(body))
