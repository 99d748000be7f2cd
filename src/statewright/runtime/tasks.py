"""Carrying out a Task's ``Invoke``: resolve the resource to a local function and call it."""

from __future__ import annotations

import threading

from statewright.asl.errors import TIMEOUT, Failure
from statewright.asl.step import Invoke, TaskResult
from statewright.functions.base import FunctionNotFound, Invoker


def run_task(invoker: Invoker, invoke: Invoke, time_scale: float = 1.0
             ) -> TaskResult | Failure:
    """Calls the function behind ``invoke``; never raises for user-caused faults.

    The Task's TimeoutSeconds (times ``time_scale``) bounds the wait for the outcome: past it
    the Task fails with ``States.Timeout``. The handler itself may run on (an in-process
    handler cannot be killed; process runners kill theirs at the function's own timeout).
    """
    if invoke.function_name is None:
        return Failure(
            "States.Runtime",
            f"The resource '{invoke.resource.arn}' is not supported yet (only Lambda functions "
            "and arn:aws:states:::lambda:invoke are)",
        )
    if invoke.timeout_seconds is None:
        return _call(invoker, invoke)
    outcome: list[TaskResult | Failure] = []
    thread = threading.Thread(
        target=lambda: outcome.append(_call(invoker, invoke)), daemon=True,
        name=f"statewright-task-{invoke.function_name}",
    )
    thread.start()
    thread.join(invoke.timeout_seconds * time_scale if time_scale > 0 else None)
    if not outcome:
        return Failure(TIMEOUT, f"Task timed out after {invoke.timeout_seconds:g} seconds")
    return outcome[0]


def _call(invoker: Invoker, invoke: Invoke) -> TaskResult | Failure:
    assert invoke.function_name is not None
    try:
        result = invoker.invoke(
            invoke.function_name, invoke.function_payload, invoke.timeout_seconds
        )
    except FunctionNotFound as exc:
        return Failure(
            "Lambda.ResourceNotFoundException",
            f"Function not found: {exc.name} (Service: AWSLambda; Status Code: 404; "
            "Error Code: ResourceNotFoundException)",
        )
    return TaskResult(result.payload, result.function_error)
