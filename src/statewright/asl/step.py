"""States as pure functions around effects: ``enter``/``attempt``/``complete`` -> Decision.

The driver (``statewright.runtime``) owns time, storage and running user code. It calls:

- ``enter(state, data, ctx)`` when a state is entered with ``data`` as its raw input;
- ``attempt(state, data, ctx)`` when a ``RetryLater`` falls due (Task, Parallel, Map);
- ``complete(state, data, outcome, retry_counts, ctx)`` when an effect ends: a Task's
  ``TaskResult`` or ``Failure``, a Wait's wake-up (``None``), or a fork's child results.

Each returns one Decision carrying the history events it implies. Runtime faults never raise:
they become a ``Fail`` (or go through Retry/Catch) with AWS's error name and cause text.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import Any, Literal

from statewright.asl import errors as err
from statewright.asl.context import Ctx
from statewright.asl.errors import Failure, StatesFailure
from statewright.asl.events import (
    MAX_PAYLOAD_BYTES,
    Event,
    error_details,
    payload_details,
    state_entered,
    state_exited,
    to_json,
)
from statewright.asl.model import (
    ChoiceState,
    DataState,
    Expr,
    FailState,
    Machine,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from statewright.asl.paths import Path, PathNotFound
from statewright.asl.resources import Resource
from statewright.asl.timestamps import parse_timestamp_seconds

# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Transition:
    """Go to state ``next`` with ``output`` as its input."""

    next: str
    """The next state's name."""
    output: Any
    """The state's output."""
    events: tuple[Event, ...]
    """History events of this step."""
    assigned: dict[str, Any] | None = None
    """Variables to set in the frame's scope."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The (sub-)machine ends successfully with ``output``."""

    output: Any
    """The final output."""
    events: tuple[Event, ...]
    """History events of this step."""
    assigned: dict[str, Any] | None = None
    """Variables to set in the frame's scope."""


@dataclass(frozen=True, slots=True)
class Fail:
    """The (sub-)machine fails."""

    failure: Failure
    """The error and cause."""
    events: tuple[Event, ...]
    """History events of this step."""


@dataclass(frozen=True, slots=True)
class Invoke:
    """Run a Task's resource; report its outcome to ``complete``."""

    resource: Resource
    """What to call."""
    payload: Any
    """The effective parameters (after InputPath and Parameters)."""
    function_name: str | None
    """The Lambda function to invoke (function ARN or ``lambda:invoke``'s FunctionName)."""
    function_payload: Any
    """The event handed to the function (for ``lambda:invoke``: its ``Payload``)."""
    timeout_seconds: float | None
    """TimeoutSeconds in force, if any."""
    heartbeat_seconds: float | None
    """HeartbeatSeconds in force, if any."""
    events: tuple[Event, ...]
    """History events up to scheduling."""
    started: Event
    """The event to record when the work starts (``LambdaFunctionStarted``...)."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wake the state (``complete`` with outcome None) at ``until``."""

    until: float
    """Epoch seconds."""
    events: tuple[Event, ...]
    """History events of this step."""


@dataclass(frozen=True, slots=True)
class Fork:
    """Run child machines (Parallel branches, Map iterations); ``complete`` gets the results."""

    kind: Literal["parallel", "map"]
    """Which state forked."""
    machines: tuple[Machine, ...]
    """One machine per child (the Map processor repeated)."""
    inputs: tuple[Any, ...]
    """One input per child."""
    max_concurrency: int
    """Children running at once; 0 means unlimited."""
    tolerated_failure_count: int | None
    """Failed children tolerated (Map), None: none tolerated unless percentage says so."""
    tolerated_failure_percentage: float | None
    """Failed children tolerated, as a percentage (Map)."""
    distributed: bool
    """A Distributed Map: children are child executions, absent from this history."""
    events: tuple[Event, ...]
    """History events of this step."""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Call ``attempt`` again at ``due`` with ``retry_counts``."""

    due: float
    """Epoch seconds."""
    retry_counts: tuple[int, ...]
    """Attempts used per retrier, to pass to the next ``complete``."""
    events: tuple[Event, ...]
    """History events of this step."""


Decision = Transition | Finish | Fail | Invoke | Sleep | Fork | RetryLater


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a Task's resource returned, shaped like Lambda's Invoke response."""

    payload: bytes | str
    """The response payload: JSON text (a function's return value or error object)."""
    function_error: str | None = None
    """Set (e.g. ``Unhandled``) when the payload is a function error object."""


# ----------------------------------------------------------------------------- entry points


def enter(state: State, data: Any, ctx: Ctx) -> Decision:
    """The state is entered with raw input ``data``."""
    events = [state_entered(state.type, state.name, data)]
    try:
        match state:
            case PassState():
                return _pass(state, data, ctx, events)
            case ChoiceState():
                return _choice(state, data, ctx, events)
            case WaitState():
                return Sleep(_wait_until(state, data, ctx), tuple(events))
            case SucceedState():
                output = _output(state, _input(state, data, ctx), ctx)
                events.append(_exited(state, output))
                return Finish(output, tuple(events))
            case FailState():
                return Fail(_fail_failure(state, data, ctx), tuple(events))
            case TaskState() | ParallelState() | MapState():
                return _attempt(state, data, ctx, events)
    except StatesFailure as exc:
        return Fail(_located(exc.failure, state, ctx), tuple(events))
    raise TypeError(f"unknown state type {type(state).__name__}")


def attempt(state: DataState, data: Any, ctx: Ctx) -> Decision:
    """A retry falls due: start the Task/Parallel/Map work again."""
    return _attempt(state, data, ctx, [])


def complete(
    state: State, data: Any, outcome: Any, retry_counts: tuple[int, ...], ctx: Ctx
) -> Decision:
    """An effect ended. ``outcome``: TaskResult | Failure (Task), None (Wait), list | Failure
    (Parallel/Map results in order)."""
    match state:
        case WaitState():
            try:
                output = _output(state, _input(state, data, ctx), ctx)
                return _leave(state, output, None, (_exited(state, output),))
            except StatesFailure as exc:
                return Fail(_located(exc.failure, state, ctx), ())
        case TaskState():
            return _complete_task(state, data, outcome, retry_counts, ctx)
        case ParallelState() | MapState():
            return _complete_fork(state, data, outcome, retry_counts, ctx)
    raise TypeError(f"state type {state.type} has no effect to complete")


# ----------------------------------------------------------------------------- data flow


def _input(state: State, data: Any, ctx: Ctx) -> Any:
    """InputPath applied to the raw input."""
    if state.input_path is None:
        return {}
    return _get(state.input_path, data, ctx)


def _output(state: State, placed: Any, ctx: Ctx) -> Any:
    """OutputPath applied to the state's result-in-input."""
    if state.output_path is None:
        return {}
    return _get(state.output_path, placed, ctx)


def _get(path: Path, data: Any, ctx: Ctx) -> Any:
    try:
        return path.get(data, ctx)
    except PathNotFound as exc:
        raise StatesFailure(
            err.RUNTIME, f"Invalid path '{path.text}' : {exc}"
        ) from exc


def _place(state: DataState, data: Any, result: Any) -> Any:
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


def _located(failure: Failure, state: State, ctx: Ctx) -> Failure:
    """AWS prefixes the cause of a runtime fault with where it happened."""
    where = (
        f"An error occurred while executing the state '{state.name}' "
        f"(entered at the event id #{ctx.entered_event_id})."
    )
    cause = f"{where} {failure.cause}" if failure.cause else where
    return Failure(failure.error, cause)


def _exited(state: State, output: Any, assigned: dict[str, Any] | None = None) -> Event:
    """The state's Exited event; an output over 256 KiB fails the state instead, as on AWS."""
    event = state_exited(state.type, state.name, output, assigned)
    assert event.details is not None
    text = event.details["output"]
    if len(text) * 4 > MAX_PAYLOAD_BYTES and len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise StatesFailure(
            err.DATA_LIMIT_EXCEEDED,
            f"The state/task '{state.name}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )
    return event


def _leave(
    state: State, output: Any, assigned: dict[str, Any] | None, events: tuple[Event, ...]
) -> Transition | Finish:
    if state.next is not None:
        return Transition(state.next, output, events, assigned)
    return Finish(output, events, assigned)


def _assign(state: State, value: Any, ctx: Ctx) -> dict[str, Any] | None:
    if state.assign is None:
        return None
    assigned = state.assign.evaluate(value, ctx)
    return assigned if isinstance(assigned, dict) else None


def _succeed(
    state: DataState, data: Any, result: Any, ctx: Ctx, events: list[Event]
) -> Transition | Finish:
    """ResultSelector, Assign, ResultPath, OutputPath; then leave. Raises StatesFailure."""
    if state.result_selector is not None:
        result = state.result_selector.evaluate(result, ctx)
    assigned = _assign(state, result, ctx)
    output = _output(state, _place(state, data, result), ctx)
    events.append(_exited(state, output, assigned))
    return _leave(state, output, assigned, tuple(events))


# ----------------------------------------------------------------------------- simple states


def _pass(state: PassState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    effective = _input(state, data, ctx)
    if state.parameters is not None:
        effective = state.parameters.evaluate(effective, ctx)
    result = state.result if state.has_result else effective
    return _succeed(state, data, result, ctx, events)


def _choice(state: ChoiceState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    effective = _input(state, data, ctx)
    for branch in state.choices:
        if branch.rule.matches(effective, ctx):
            target, assign = branch.next, branch.assign
            break
    else:
        if state.default is None:
            failure = Failure(err.NO_CHOICE_MATCHED, "No Matches!")
            return Fail(_located(failure, state, ctx), tuple(events))
        target, assign = state.default, state.assign
    assigned = None
    if assign is not None:
        value = assign.evaluate(effective, ctx)
        assigned = value if isinstance(value, dict) else None
    output = _output(state, effective, ctx)
    events.append(_exited(state, output, assigned))
    return Transition(target, output, tuple(events), assigned)


def _expr_value(expr: Expr, data: Any, ctx: Ctx) -> Any:
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


def _wait_until(state: WaitState, data: Any, ctx: Ctx) -> float:
    effective = _input(state, data, ctx)
    if state.seconds is not None:
        seconds = _expr_value(state.seconds, effective, ctx)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise StatesFailure(
                err.RUNTIME,
                f"The {state.seconds.field} parameter does not reference a valid non-negative "
                f"integer: {to_json(seconds)}",
            )
        return ctx.now + float(seconds)
    assert state.timestamp is not None  # validate guarantees one of the four fields
    text = _expr_value(state.timestamp, effective, ctx)
    moment = parse_timestamp_seconds(text) if isinstance(text, str) else None
    if moment is None:
        where = state.timestamp.path.text if state.timestamp.path else ""
        raise StatesFailure(
            err.RUNTIME,
            f"The {state.timestamp.field} parameter does not reference a valid ISO-8601 "
            f"extended offset date-time format string: {where} == {text}",
        )
    return moment


def _fail_failure(state: FailState, data: Any, ctx: Ctx) -> Failure:
    error = _expr_value(state.error, data, ctx) if state.error is not None else None
    cause = _expr_value(state.cause, data, ctx) if state.cause is not None else None
    if error is not None and not isinstance(error, str):
        error = to_json(error)
    if cause is not None and not isinstance(cause, str):
        cause = to_json(cause)
    return Failure(error, cause)


# ----------------------------------------------------------------------------- tasks, forks


def _attempt(state: State, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    try:
        match state:
            case TaskState():
                return _schedule_task(state, data, ctx, events)
            case ParallelState():
                return _fork_parallel(state, data, ctx, events)
            case MapState():
                return _fork_map(state, data, ctx, events)
    except StatesFailure as exc:
        return Fail(_located(exc.failure, state, ctx), tuple(events))
    raise TypeError(f"state type {state.type} has nothing to attempt")


def _seconds(expr: Expr | None, data: Any, ctx: Ctx) -> float | None:
    if expr is None:
        return None
    value = _expr_value(expr, data, ctx)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise StatesFailure(
            err.RUNTIME,
            f"The {expr.field} parameter does not reference a valid positive integer: "
            f"{to_json(value)}",
        )
    return float(value)


def _region(ctx: Ctx) -> str:
    arn = ctx.context.get("StateMachine", {}).get("Id", "")
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[3] if len(parts) > 3 else "us-east-1"


def _schedule_task(state: TaskState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    effective = _input(state, data, ctx)
    payload = state.parameters.evaluate(effective, ctx) if state.parameters else effective
    timeout = _seconds(state.timeout, effective, ctx)
    heartbeat = _seconds(state.heartbeat, effective, ctx)
    resource = state.resource
    function_name: str | None = None
    function_payload: Any = payload
    limits: dict[str, Any] = {}
    if timeout is not None:
        limits["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        limits["heartbeatInSeconds"] = int(heartbeat)
    if resource.kind == "lambda_function":
        function_name = resource.function_name
        scheduled = Event(
            "LambdaFunctionScheduled",
            {"resource": resource.arn, **payload_details("input", payload),
             **({"timeoutInSeconds": limits["timeoutInSeconds"]} if timeout else {})},
        )
        started = Event("LambdaFunctionStarted")
    elif resource.kind == "activity":
        scheduled = Event(
            "ActivityScheduled",
            {"resource": resource.arn, **payload_details("input", payload), **limits},
        )
        started = Event("ActivityStarted", {})
    else:
        if resource.service == "lambda" and resource.api == "invoke":
            if not isinstance(payload, dict) or not isinstance(payload.get("FunctionName"), str):
                raise StatesFailure(
                    err.RUNTIME,
                    "The field 'FunctionName' is required by lambda:invoke but was not found "
                    "in the parameters",
                )
            function_name = _function_name(payload["FunctionName"])
            function_payload = payload.get("Payload")
        kind = {"resourceType": resource.service, "resource": resource.history_resource}
        scheduled = Event(
            "TaskScheduled",
            {**kind, "region": _region(ctx), "parameters": to_json(payload), **limits},
        )
        started = Event("TaskStarted", kind)
    events.append(scheduled)
    return Invoke(
        resource, payload, function_name, function_payload, timeout, heartbeat,
        tuple(events), started,
    )


def _function_name(name: str) -> str:
    """``FunctionName`` may be a name, a partial ARN or a full ARN (optionally qualified)."""
    parts = name.split(":")
    if len(parts) >= 7 and parts[0] == "arn":
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME
        return parts[2]
    return parts[0]


def _task_event(state: TaskState, suffix: str, details: dict[str, Any]) -> Event:
    resource = state.resource
    if resource.kind == "lambda_function":
        return Event("LambdaFunction" + suffix, details)
    if resource.kind == "activity":
        return Event("Activity" + suffix, details)
    kind = {"resourceType": resource.service, "resource": resource.history_resource}
    return Event("Task" + suffix, {**kind, **details})


def _complete_task(
    state: TaskState, data: Any, outcome: Any, retry_counts: tuple[int, ...], ctx: Ctx
) -> Decision:
    if isinstance(outcome, Failure):
        suffix = "TimedOut" if outcome.error in (err.TIMEOUT, err.HEARTBEAT_TIMEOUT) else "Failed"
        event = _task_event(state, suffix, error_details(outcome.error, outcome.cause))
        return _handle_failure(state, data, outcome, retry_counts, ctx, [event])
    assert isinstance(outcome, TaskResult)
    decoded = _decode_result(state, outcome, ctx)
    if isinstance(decoded, Failure):
        event = _task_event(state, "Failed", error_details(decoded.error, decoded.cause))
        return _handle_failure(state, data, decoded, retry_counts, ctx, [event])
    events = [_task_event(state, "Succeeded", payload_details("output", decoded))]
    try:
        return _succeed(state, data, decoded, ctx, events)
    except StatesFailure as exc:
        return _handle_failure(
            state, data, _located(exc.failure, state, ctx), retry_counts, ctx, events
        )


def _decode_result(state: TaskState, outcome: TaskResult, ctx: Ctx) -> Any:
    """The Task's result value, or a Failure (function error, result over the size limit)."""
    resource = state.resource
    raw = outcome.payload
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if outcome.function_error is not None:
        try:
            error_object = json.loads(text)
        except ValueError:
            error_object = {"errorMessage": text}
        error_type = error_object.get("errorType") if isinstance(error_object, dict) else None
        # The legacy function ARN passes Lambda's error payload through verbatim; the
        # lambda:invoke integration re-serialises it compactly (AWS-recorded causes differ so).
        cause = text if resource.kind == "lambda_function" else to_json(error_object)
        return Failure(error_type or "Lambda.Unknown", cause)
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        name = resource.arn if resource.kind == "lambda_function" else resource.service
        return Failure(
            err.DATA_LIMIT_EXCEEDED,
            f"The state/task '{name}' returned a result with a size exceeding the maximum "
            f"number of bytes service limit.",
        )
    try:
        value = json.loads(text) if text.strip() else None
    except ValueError:
        value = text
    if resource.kind == "service" and resource.service == "lambda" and resource.api == "invoke":
        return _lambda_invoke_response(value, size, ctx)
    return value


def _lambda_invoke_response(payload: Any, size: int, ctx: Ctx) -> dict[str, Any]:
    """The ``arn:aws:states:::lambda:invoke`` result: Lambda's Invoke response, as AWS shapes it."""
    request_id = str(uuid.UUID(int=ctx.random.getrandbits(128), version=4))
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(size),
        "Content-Type": "application/json",
        "Date": ctx.context.get("State", {}).get("EnteredTime", ""),
        "X-Amz-Executed-Version": "$LATEST",
        "X-Amzn-Trace-Id": f"Root=1-{request_id[:8]}-{request_id.replace('-', '')[8:32]}",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


def _fork_parallel(state: ParallelState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    effective = _input(state, data, ctx)
    if state.parameters is not None:
        effective = state.parameters.evaluate(effective, ctx)
    events.append(Event("ParallelStateStarted"))
    return Fork(
        "parallel", state.branches, (effective,) * len(state.branches), 0, None, None, False,
        tuple(events),
    )


def _fork_map(state: MapState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    effective = _input(state, data, ctx)
    items = _get(state.items_path, effective, ctx) if state.items_path else effective
    if not isinstance(items, list):
        raise StatesFailure(
            err.RUNTIME, f"Map state input must be an array but was: {to_json(items)}"
        )
    inputs: list[Any] = list(items)
    if state.item_selector is not None:
        base = ctx.context
        for index, item in enumerate(items):
            item_ctx = replace(
                ctx, context={**base, "Map": {"Item": {"Index": index, "Value": item}}}
            )
            inputs[index] = state.item_selector.evaluate(effective, item_ctx)
    concurrency = _count(state.max_concurrency, effective, ctx) or 0
    tolerated_count = _count(state.tolerated_failure_count, effective, ctx)
    percentage = None
    if state.tolerated_failure_percentage is not None:
        percentage = float(_expr_value(state.tolerated_failure_percentage, effective, ctx))
    events.append(Event("MapStateStarted", {"length": len(inputs)}))
    distributed = state.mode == "DISTRIBUTED"
    if distributed:
        events.append(Event("MapRunStarted", {"mapRunArn": _map_run_arn(state, ctx)}))
    return Fork(
        "map", (state.processor,) * len(inputs), tuple(inputs), concurrency, tolerated_count,
        percentage, distributed, tuple(events),
    )


def _count(expr: Expr | None, data: Any, ctx: Ctx) -> int | None:
    if expr is None:
        return None
    value = _expr_value(expr, data, ctx)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesFailure(
            err.RUNTIME,
            f"The {expr.field} parameter does not reference a valid non-negative integer: "
            f"{to_json(value)}",
        )
    return value


def _map_run_arn(state: MapState, ctx: Ctx) -> str:
    machine_arn = str(ctx.context.get("StateMachine", {}).get("Id", ""))
    run_id = uuid.UUID(int=ctx.random.getrandbits(128), version=4)
    label = state.label or state.name
    return f"{machine_arn.replace(':stateMachine:', ':mapRun:')}/{label}:{run_id}"


def _complete_fork(
    state: ParallelState | MapState,
    data: Any,
    outcome: Any,
    retry_counts: tuple[int, ...],
    ctx: Ctx,
) -> Decision:
    prefix = "Parallel" if isinstance(state, ParallelState) else "Map"
    distributed = isinstance(state, MapState) and state.mode == "DISTRIBUTED"
    if isinstance(outcome, Failure):
        final = [Event(f"{prefix}StateFailed")]
        if distributed:
            final.insert(0, Event("MapRunFailed", error_details(outcome.error, outcome.cause)))
        return _handle_failure(state, data, outcome, retry_counts, ctx, [], final)
    events = [Event(f"{prefix}StateSucceeded")]
    if distributed:
        events.insert(0, Event("MapRunSucceeded"))
    try:
        return _succeed(state, data, outcome, ctx, events)
    except StatesFailure as exc:
        return _handle_failure(
            state, data, _located(exc.failure, state, ctx), retry_counts, ctx, events
        )


# ----------------------------------------------------------------------------- retry, catch


def error_matches(names: tuple[str, ...], error: str | None) -> bool:
    """Whether a Retrier/Catcher's ErrorEquals matches ``error``."""
    if error in names:
        return True
    if err.ALL in names:
        return error not in err.NOT_MATCHED_BY_ALL
    if err.TASK_FAILED in names:
        # States.TaskFailed matches any error except States.Timeout (AWS error-handling docs).
        return error not in (err.TIMEOUT, err.RUNTIME) and error is not None
    return False


def _handle_failure(
    state: DataState,
    data: Any,
    failure: Failure,
    retry_counts: tuple[int, ...],
    ctx: Ctx,
    events: list[Event],
    final: list[Event] | None = None,
) -> Decision:
    """Retry (first matching retrier), else Catch (first matching catcher), else fail.

    ``final`` events are written only when the state gives up (e.g. ``MapStateFailed``).
    """
    for index, retrier in enumerate(state.retry):
        if not error_matches(retrier.error_equals, failure.error):
            continue
        used = retry_counts[index] if index < len(retry_counts) else 0
        if used < retrier.max_attempts:
            delay = retrier.interval_seconds * retrier.backoff_rate**used
            if retrier.max_delay_seconds is not None:
                delay = min(delay, retrier.max_delay_seconds)
            if retrier.jitter == "FULL":
                delay = ctx.random.uniform(0, delay)
            counts = list(retry_counts) + [0] * (len(state.retry) - len(retry_counts))
            counts[index] = used + 1
            return RetryLater(ctx.now + delay, tuple(counts), tuple(events))
        break
    events.extend(final or ())
    for catcher in state.catch:
        if not error_matches(catcher.error_equals, failure.error):
            continue
        error_output: dict[str, Any] = {}
        if failure.error is not None:
            error_output["Error"] = failure.error
        if failure.cause is not None:
            error_output["Cause"] = failure.cause
        try:
            output = data if catcher.result_path is None else catcher.result_path.set(
                data, error_output
            )
            assigned = None
            if catcher.assign is not None:
                value = catcher.assign.evaluate(error_output, ctx)
                assigned = value if isinstance(value, dict) else None
            events.append(_exited(state, output, assigned))
        except (StatesFailure, PathNotFound) as exc:
            inner = exc.failure if isinstance(exc, StatesFailure) else Failure(
                err.RESULT_PATH_MATCH_FAILURE, str(exc)
            )
            return Fail(_located(inner, state, ctx), tuple(events))
        return Transition(catcher.next, output, tuple(events), assigned)
    return Fail(failure, tuple(events))
