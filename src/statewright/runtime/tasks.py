"""Carrying out a Task's ``Invoke``: resolve the resource to a local function and call it.

Besides the outcome the ASL core sees (a ``TaskResult`` or a ``Failure``), a call that reached
a function yields an ``Invocation``: what the host keeps about the call (request id, timing,
status, what the function printed), recorded with the step that applies the outcome.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from statewright.asl.errors import TIMEOUT, Failure
from statewright.asl.frozen import fast_init
from statewright.asl.resources import Resource
from statewright.asl.step import Invoke, TaskResult
from statewright.functions.base import FunctionNotFound, Invoker, InvokeResult, Throttled

InvocationStatus = Literal["Succeeded", "Failed", "TimedOut"]

#: Past a Task's TimeoutSeconds, how long to wait on for the function's own answer, only to
#: keep what it printed: a process runner stops the function at the same deadline and answers
#: moments later. The Task fails with States.Timeout either way.
LOG_GRACE_SECONDS = 0.5
#: Lambda's LogType Tail: the last 4 KB of the invocation's log.
LOG_TAIL_BYTES = 4096
#: Where a function named without an ARN lives when the execution does not say.
DEFAULT_REGION, DEFAULT_ACCOUNT = "us-east-1", "123456789012"


@fast_init
@dataclass(frozen=True, slots=True)
class Invocation:
    """A function call made for a Task, as the host records it beside the Task's outcome."""

    function_name: str
    """The function called."""
    request_id: str
    """Its request id ("" when the invoker did not answer in time to say)."""
    started_at: float
    """Epoch seconds, on the host's clock, when the call was made."""
    duration_ms: float
    """How long it ran: the invoker's measure, else how long the host waited for it."""
    status: InvocationStatus
    """Succeeded; Failed (the function's error); TimedOut (its own timeout or the Task's)."""
    error_type: str | None
    """The function's errorType; ``States.Timeout`` when the Task's TimeoutSeconds ran out."""
    logs: str
    """What the function printed (stdout and stderr)."""


def unsupported_resource(resource: Resource) -> str | None:
    """Why a Task with this resource cannot run here yet, or None. ``run_task`` fails such a
    Task at run time; ``statewright validate`` warns about it (one check for both)."""
    if resource.kind in ("lambda_function", "activity"):
        return None
    if resource.service == "lambda" and resource.api == "invoke":
        return None
    if resource.pattern == "wait_for_task_token":
        return None  # the server waits for SendTaskSuccess/Failure with the token
    return (f"The resource '{resource.arn}' is not supported yet (only Lambda functions, "
            "arn:aws:states:::lambda:invoke and activities are)")


def run_task(
    invoker: Invoker, invoke: Invoke, time_scale: float = 1.0,
    clock: Callable[[], float] = time.time, execution_arn: str = "",
    authorize: Callable[[str, str | None], Failure | None] | None = None,
) -> tuple[TaskResult | Failure, Invocation | None]:
    """Calls the function behind ``invoke``; never raises for user-caused faults. Returns the
    Task's outcome and the invocation (None when no function was called).

    The Task's TimeoutSeconds (times ``time_scale``) bounds the wait for the outcome: past it
    the Task fails with ``States.Timeout``. The handler itself may run on (an in-process
    handler cannot be killed; process runners kill theirs at the function's own timeout).
    ``execution_arn`` gives the region and account of a function named without an ARN.
    ``authorize`` (the state machine role's IAM check) may refuse the call: its failure is
    the Task's, and the function is not called.
    """
    name = invoke.function_name
    if name is None:
        return Failure("States.Runtime", unsupported_resource(invoke.resource) or ""), None
    denial = authorize(name, _function_resource(invoke)) if authorize is not None else None
    if denial is not None:
        return denial, None
    started_at, began = clock(), time.monotonic()
    if invoke.timeout_seconds is None:
        return _finish(invoke, _call(invoker, invoke, execution_arn), started_at, began)
    answers: list[InvokeResult | Failure] = []
    thread = threading.Thread(
        target=lambda: answers.append(_call(invoker, invoke, execution_arn)), daemon=True,
        name=f"statewright-task-{name}",
    )
    thread.start()
    thread.join(invoke.timeout_seconds * time_scale if time_scale > 0 else None)
    if answers:
        return _finish(invoke, answers[0], started_at, began)
    # AWS records a Task's own timeout during a Lambda call as States.Timeout with an empty
    # cause ("Task timed out after N seconds" is the function's own timeout: Lambda.Unknown).
    failure = Failure(TIMEOUT, "")
    thread.join(LOG_GRACE_SECONDS)
    late = answers[0] if answers else None
    if isinstance(late, Failure):  # the function was never found: nothing ran
        return failure, None
    return failure, _invocation(name, late, started_at, began, task_timed_out=True)


def _function_resource(invoke: Invoke) -> str | None:
    """The function ARN as the definition names it (what IAM checks on AWS: a policy for the
    definition's ARNs matches), None when it gives only a name."""
    if invoke.resource.kind == "lambda_function":
        return invoke.resource.arn
    named = invoke.payload.get("FunctionName") if isinstance(invoke.payload, dict) else None
    return named if isinstance(named, str) and named.startswith("arn:") else None


def _call(invoker: Invoker, invoke: Invoke, execution_arn: str) -> InvokeResult | Failure:
    assert invoke.function_name is not None
    try:
        return invoker.invoke(
            invoke.function_name, invoke.function_payload, invoke.timeout_seconds
        )
    except Throttled:
        # Lambda refused the call at its concurrency limit: the Task fails with the SDK's
        # exception name, which a Retry can name ("When Lambda hits the maximum number of
        # invocations, the error is Lambda.TooManyRequestsException": Step Functions' best
        # practices, bp-lambda-serviceexception.html), worded as the Java SDK words it.
        return Failure(
            "Lambda.TooManyRequestsException",
            "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: "
            f"TooManyRequestsException; Request ID: {uuid.uuid4()}; Proxy: null)",
        )
    except FunctionNotFound:
        # Lambda's answer as the Step Functions service's Java SDK words it.
        return Failure(
            "Lambda.ResourceNotFoundException",
            f"Function not found: {_qualified_arn(invoke, execution_arn)} (Service: AWSLambda; "
            "Status Code: 404; Error Code: ResourceNotFoundException; "
            f"Request ID: {uuid.uuid4()}; Proxy: null)",
        )


def _qualified_arn(invoke: Invoke, execution_arn: str) -> str:
    """The function's full ARN with its qualifier (``$LATEST`` unless one was given)."""
    written = invoke.resource.arn if invoke.resource.kind == "lambda_function" else (
        invoke.payload.get("FunctionName") if isinstance(invoke.payload, dict) else None)
    parts = str(written or "").split(":")
    if len(parts) >= 7 and parts[0] == "arn":
        region, account, qualifier = parts[3], parts[4], parts[7] if len(parts) > 7 else None
    else:
        home = execution_arn.split(":")
        region, account = (home[3], home[4]) if len(home) > 4 else (
            DEFAULT_REGION, DEFAULT_ACCOUNT)
        if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
            account = parts[0]
            qualifier = parts[3] if len(parts) > 3 else None
        else:  # NAME[:QUALIFIER]
            qualifier = parts[1] if len(parts) > 1 else None
    return (f"arn:aws:lambda:{region}:{account}:function:{invoke.function_name}:"
            f"{qualifier or '$LATEST'}")


def _finish(invoke: Invoke, answer: InvokeResult | Failure, started_at: float, began: float
            ) -> tuple[TaskResult | Failure, Invocation | None]:
    assert invoke.function_name is not None
    if isinstance(answer, Failure):
        return answer, None
    log_tail = None
    if isinstance(invoke.payload, dict) and invoke.payload.get("LogType") == "Tail" and (
            invoke.resource.kind == "service"):
        # lambda:invoke with LogType Tail: Lambda's LogResult, the log's last 4 KB in base64.
        log_tail = base64.b64encode(answer.logs.encode("utf-8")[-LOG_TAIL_BYTES:]).decode()
    return (TaskResult(answer.payload, answer.function_error, log_tail),
            _invocation(invoke.function_name, answer, started_at, began))


def _invocation(name: str, result: InvokeResult | None, started_at: float, began: float,
                task_timed_out: bool = False) -> Invocation:
    """The record of a call; ``result`` is None when the Task stopped waiting before it came."""
    waited_ms = (time.monotonic() - began) * 1000
    if result is None:
        return Invocation(name, "", started_at, waited_ms, "TimedOut", TIMEOUT, "")
    status: InvocationStatus = "Succeeded"
    error_type = None
    if task_timed_out:
        status, error_type = "TimedOut", TIMEOUT
    elif result.function_error is not None:
        status = "TimedOut" if result.timed_out else "Failed"
        error_type = _error_type(result.payload)
    duration_ms = waited_ms if result.duration_ms is None else result.duration_ms
    return Invocation(name, result.request_id, started_at, duration_ms, status, error_type,
                      result.logs)


def _error_type(payload: bytes) -> str | None:
    """The errorType of a function's error payload, None when it names none (as Lambda's
    timeout payload does)."""
    try:
        error = json.loads(payload)
    except (ValueError, RecursionError):  # any bytes may come back; none may fail the step
        return None
    value = error.get("errorType") if isinstance(error, dict) else None
    return value if isinstance(value, str) and value else None
