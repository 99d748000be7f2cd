"""Carrying out a Task's ``Invoke``: resolve the resource to a local function and call it."""

from __future__ import annotations

from statewright.asl.errors import Failure
from statewright.asl.step import Invoke, TaskResult
from statewright.functions.base import FunctionNotFound, Invoker


def run_task(invoker: Invoker, invoke: Invoke) -> TaskResult | Failure:
    """Calls the function behind ``invoke``; never raises for user-caused faults."""
    if invoke.function_name is None:
        return Failure(
            "States.Runtime",
            f"The resource '{invoke.resource.arn}' is not supported yet (only Lambda functions "
            "and arn:aws:states:::lambda:invoke are)",
        )
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
