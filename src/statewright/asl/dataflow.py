"""The JSONPath data flow shared by every state: InputPath, ResultPath, OutputPath, Assign,
``...Path`` fields, the Exited event, and AWS's text for runtime faults."""

from __future__ import annotations

from typing import Any

from statewright.asl import errors as err
from statewright.asl.context import Ctx
from statewright.asl.decisions import Finish, Transition
from statewright.asl.errors import Failure, StatesFailure
from statewright.asl.events import MAX_PAYLOAD_BYTES, Event, state_exited, to_json
from statewright.asl.model import DataState, Expr, State
from statewright.asl.paths import Path, PathNotFound


def effective_input(state: State, data: Any, ctx: Ctx) -> Any:
    """InputPath applied to the raw input."""
    path = state.input_path
    if path is None:
        return {}
    if path.keys == () and path.root == "input":  # "$", the default: the input itself
        return data
    return get_path(path, data, ctx)


def state_output(state: State, placed: Any, ctx: Ctx) -> Any:
    """OutputPath applied to the state's result-in-input."""
    path = state.output_path
    if path is None:
        return {}
    if path.keys == () and path.root == "input":  # "$", the default
        return placed
    return get_path(path, placed, ctx)


def get_path(path: Path, data: Any, ctx: Ctx) -> Any:
    try:
        return path.get(data, ctx)
    except PathNotFound as exc:
        raise StatesFailure(
            err.RUNTIME, f"Invalid path '{path.text}' : {exc}"
        ) from exc


def place_result(state: DataState, data: Any, result: Any) -> Any:
    """ResultPath: the result placed in the raw input."""
    if state.result_path is None:
        return data
    try:
        return state.result_path.set(data, result)
    except PathNotFound as exc:
        raise StatesFailure(
            err.RESULT_PATH_MATCH_FAILURE,
            f"Unable to apply ReferencePath {state.result_path.text} to input {to_json(data)}",
        ) from exc


def locate(failure: Failure, state: State, ctx: Ctx) -> Failure:
    """AWS prefixes the cause of a runtime fault with where it happened."""
    where = (
        f"An error occurred while executing the state '{state.name}' "
        f"(entered at the event id #{ctx.entered_event_id})."
    )
    cause = f"{where} {failure.cause}" if failure.cause else where
    return Failure(failure.error, cause)


def exited_event(
    state: State, output: Any, assigned: dict[str, Any] | None = None, ctx: Ctx | None = None
) -> Event:
    """The state's Exited event; an output over 256 KiB fails the state instead, as on AWS, and
    so do variables over their limits (``ctx`` holds the variables already in scope)."""
    event = state_exited(state.type, state.name, output, assigned,
                         ctx.encode if ctx is not None else to_json)
    assert event.details is not None
    if assigned:
        check_variable_sizes(event.details["assignedVariables"],
                             ctx.variables if ctx is not None else {})
    text = event.details["output"]
    if len(text) * 4 > MAX_PAYLOAD_BYTES and len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise StatesFailure(
            err.DATA_LIMIT_EXCEEDED,
            f"The state/task '{state.name}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )
    return event


#: Workflow variable limits (Step Functions developer guide, "Passing data between states with
#: variables"): 256 KiB per variable and per Assign, in UTF-8 bytes of the JSON text.
MAX_VARIABLE_BYTES = 262144
MAX_ASSIGN_BYTES = 262144
#: ... and 10 MiB for all of an execution's variables (here: those in the state's scope).
MAX_TOTAL_BYTES = 10 * 1024 * 1024


def check_variable_sizes(assigned_json: dict[str, str], scope: dict[str, Any]) -> None:
    """An assignment over AWS's limits fails the state (States.DataLimitExceeded, as for an
    output over 256 KiB; the wording is ours). ``scope``: the variables before the state."""
    total = 0
    for name, text in assigned_json.items():
        size = len(text.encode("utf-8"))
        total += size
        if size > MAX_VARIABLE_BYTES:
            raise StatesFailure(
                err.DATA_LIMIT_EXCEEDED,
                f"The value assigned to the variable '{name}' is {size} bytes, over the limit "
                f"of {MAX_VARIABLE_BYTES} bytes per variable.",
            )
    if total > MAX_ASSIGN_BYTES:
        raise StatesFailure(
            err.DATA_LIMIT_EXCEEDED,
            f"The variables assigned by one state are {total} bytes, over the limit of "
            f"{MAX_ASSIGN_BYTES} bytes per Assign.",
        )
    others = [value for name, value in scope.items() if name not in assigned_json]
    # Each variable holds at most 256 KiB: fewer than 40 cannot reach 10 MiB, so the sizes of
    # the others are measured only when there are more.
    if (len(others) + len(assigned_json)) * MAX_VARIABLE_BYTES <= MAX_TOTAL_BYTES:
        return
    total += sum(len(to_json(value).encode("utf-8")) for value in others)
    if total > MAX_TOTAL_BYTES:
        raise StatesFailure(
            err.DATA_LIMIT_EXCEEDED,
            f"The execution's variables would hold {total} bytes, over the limit of "
            f"{MAX_TOTAL_BYTES} bytes.",
        )


def leave(
    state: State, output: Any, assigned: dict[str, Any] | None, events: tuple[Event, ...]
) -> Transition | Finish:
    if state.next is not None:
        return Transition(state.next, output, events, assigned)
    return Finish(output, events, assigned)


def assigned_variables(state: State, value: Any, ctx: Ctx) -> dict[str, Any] | None:
    if state.assign is None:
        return None
    assigned = state.assign.evaluate(value, ctx)
    return assigned if isinstance(assigned, dict) else None


def expr_value(expr: Expr, data: Any, ctx: Ctx) -> Any:
    """The value of a literal-or-``...Path`` field."""
    if expr.path is not None:
        try:
            return expr.path.get(data, ctx)
        except PathNotFound as exc:
            raise StatesFailure(
                err.RUNTIME,
                f"The JSONPath '{expr.path.text}' specified for the field '{expr.field}' "
                f"could not be found in the input '{to_json(data)}'",
            ) from exc
    if expr.intrinsic is not None:
        return expr.intrinsic.evaluate(data, ctx)
    return expr.literal
