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
from collections.abc import Callable
from typing import Any, TypeVar

from statewright.asl import errors as err
from statewright.asl import values
from statewright.asl.context import Ctx
from statewright.asl.dataflow import (
    assigned_variables,
    effective_input,
    exited_event,
    expr_value,
    get_path,
    leave,
    locate,
    place_result,
    state_output,
)
from statewright.asl.decisions import (
    Decision,
    Fail,
    Finish,
    Fork,
    Invoke,
    RetryLater,
    Sleep,
    TaskResult,
    Transition,
)
from statewright.asl.errors import Failure, StatesFailure
from statewright.asl.events import (
    MAX_PAYLOAD_BYTES,
    Event,
    error_details,
    payload_details,
    state_entered,
    to_json,
)
from statewright.asl.model import (
    ChoiceState,
    DataState,
    Expr,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from statewright.asl.retry import error_matches, handle_failure
from statewright.asl.step_jsonata import (
    assign,
    bindings,
    evaluate_typed,
    integer_value,
    query_value,
)
from statewright.asl.step_jsonata import output as jsonata_output

__all__ = [
    "Decision", "Fail", "Finish", "Fork", "Invoke", "RetryLater", "Sleep", "TaskResult",
    "Transition", "attempt", "complete", "enter", "error_matches", "unsupported",
]

T = TypeVar("T")

# ----------------------------------------------------------------------------- entry points


def unsupported(state: State) -> str | None:
    """Why statewright cannot run ``state`` yet, or None. ``enter`` fails such a state at run
    time; ``statewright validate`` warns about it (one check, so both go when support lands)."""
    if isinstance(state, MapState) and state.extra:
        # Say so rather than run the Map over the wrong items.
        return (f"statewright does not support {', '.join(sorted(state.extra))} in a "
                "Distributed Map yet: the items must come from the state input (ItemsPath)")
    return None


def enter(state: State, data: Any, ctx: Ctx) -> Decision:
    """The state is entered with raw input ``data``."""
    events = [state_entered(state.type, state.name, data, ctx.encode)]
    if (reason := unsupported(state)) is not None:
        return Fail(locate(Failure(err.RUNTIME, reason), state, ctx), tuple(events))
    try:
        match state:
            case PassState():
                return _pass(state, data, ctx, events)
            case ChoiceState():
                return _choice(state, data, ctx, events)
            case WaitState():
                return Sleep(_wait_until(state, data, ctx), tuple(events))
            case SucceedState():
                if state.jsonata is not None:
                    result = jsonata_output(state.jsonata, bindings(data, ctx), ctx, data)
                else:
                    result = state_output(state, effective_input(state, data, ctx), ctx)
                events.append(exited_event(state, result, None, ctx))
                return Finish(result, tuple(events))
            case FailState():
                return Fail(_fail_failure(state, data, ctx), tuple(events))
            case TaskState() | ParallelState() | MapState():
                return _attempt(state, data, ctx, events)
    except StatesFailure as exc:
        return _fault(state, data, exc, (), ctx, events)
    raise TypeError(f"unknown state type {type(state).__name__}")


def _fault(
    state: State,
    data: Any,
    fault: StatesFailure,
    retry_counts: tuple[int, ...],
    ctx: Ctx,
    events: list[Event],
    *,
    started: bool = False,
) -> Decision:
    """A runtime fault of the state's own fields. A JSONata evaluation error is recorded as an
    ``EvaluationFailed`` event and, on a Task, Parallel or Map, meets Retry and Catch (a Map
    whose Items fail writes ``EvaluationFailed``, ``MapStateFailed``: conformance cases)."""
    failure, location = fault.failure, fault.location
    located = locate(failure, state, ctx)
    if failure.error != err.QUERY_EVALUATION_ERROR:
        return Fail(located, tuple(events))
    where = {"location": location} if location else {}
    events.append(Event("EvaluationFailed", {
        **error_details(located.error, located.cause), **where, "state": state.name,
    }))
    if isinstance(state, DataState):
        final = []
        if isinstance(state, ParallelState | MapState) and not started:
            final.append(Event(f"{state.type}StateFailed"))
        return handle_failure(state, data, located, retry_counts, ctx, events, final)
    return Fail(located, tuple(events))


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
                if state.jsonata is not None:
                    names = bindings(data, ctx)
                    assigned = assign(state.jsonata, names, ctx)
                    result = jsonata_output(state.jsonata, names, ctx, data)
                    event = exited_event(state, result, assigned, ctx)
                    return leave(state, result, assigned, (event,))
                effective = effective_input(state, data, ctx)
                assigned = assigned_variables(state, effective, ctx)
                result = state_output(state, effective, ctx)
                return leave(state, result, assigned, (exited_event(state, result, assigned, ctx),))
            except StatesFailure as exc:
                return _fault(state, data, exc, retry_counts, ctx, [])
        case TaskState():
            return _complete_task(state, data, outcome, retry_counts, ctx)
        case ParallelState() | MapState():
            return _complete_fork(state, data, outcome, retry_counts, ctx)
    raise TypeError(f"state type {state.type} has no effect to complete")


def _succeed(
    state: DataState, data: Any, result: Any, ctx: Ctx, events: list[Event]
) -> Transition | Finish:
    """ResultSelector, Assign, ResultPath, OutputPath; then leave. Raises StatesFailure."""
    if state.jsonata is not None:  # Assign and Output, both seeing $states.result
        names = bindings(data, ctx, result=result)
        assigned = assign(state.jsonata, names, ctx)
        final = jsonata_output(state.jsonata, names, ctx, result)
        events.append(exited_event(state, final, assigned, ctx))
        return leave(state, final, assigned, tuple(events))
    if state.result_selector is not None:
        result = state.result_selector.evaluate(result, ctx)
    assigned = assigned_variables(state, result, ctx)
    output = state_output(state, place_result(state, data, result), ctx)
    events.append(exited_event(state, output, assigned, ctx))
    return leave(state, output, assigned, tuple(events))


# ----------------------------------------------------------------------------- simple states


def _pass(state: PassState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    if state.jsonata is not None:
        names = bindings(data, ctx)
        assigned = assign(state.jsonata, names, ctx)
        result = jsonata_output(state.jsonata, names, ctx, data)
        events.append(exited_event(state, result, assigned, ctx))
        return leave(state, result, assigned, tuple(events))
    effective = effective_input(state, data, ctx)
    if state.parameters is not None:
        effective = state.parameters.evaluate(effective, ctx)
    result = state.result if state.has_result else effective
    return _succeed(state, data, result, ctx, events)


def _choice(state: ChoiceState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    if state.jsonata is not None:
        return _choice_jsonata(state, data, ctx, events)
    effective = effective_input(state, data, ctx)
    for branch in state.choices:
        if branch.rule.matches(effective, ctx):
            target, assign = branch.next, branch.assign
            break
    else:
        if state.default is None:
            failure = Failure(err.NO_CHOICE_MATCHED, "No Matches!")
            return Fail(locate(failure, state, ctx), tuple(events))
        target, assign = state.default, state.assign
    assigned = None
    if assign is not None:
        value = assign.evaluate(effective, ctx)
        assigned = value if isinstance(value, dict) else None
    output = state_output(state, effective, ctx)
    events.append(exited_event(state, output, assigned, ctx))
    return Transition(target, output, tuple(events), assigned)


def _choice_jsonata(state: ChoiceState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    names = bindings(data, ctx)
    for branch in state.choices:
        assert branch.condition is not None  # parse compiles one for every JSONata rule
        if evaluate_typed(branch.condition, names, ctx, "boolean"):
            target, fields = branch.next, branch.jsonata
            break
    else:
        if state.default is None:
            failure = Failure(err.NO_CHOICE_MATCHED, "No Matches!")
            return Fail(locate(failure, state, ctx), tuple(events))
        target, fields = state.default, state.jsonata
    assigned = assign(fields, names, ctx)
    result = jsonata_output(fields, names, ctx, data)
    events.append(exited_event(state, result, assigned, ctx))
    return Transition(target, result, tuple(events), assigned)


def _wait_until(state: WaitState, data: Any, ctx: Ctx) -> float:
    scope = bindings(data, ctx) if state.jsonata else effective_input(state, data, ctx)

    if state.seconds is not None:
        seconds = state.seconds
        if seconds.path is not None and not seconds.path.exists(scope, ctx):
            raise StatesFailure(err.RUNTIME, f"The {seconds.field} parameter does not reference "
                                f"an input value: {seconds.path.text}")
        return ctx.now + _checked(values.wait_seconds, seconds, scope, ctx, 0)
    assert state.timestamp is not None  # validate guarantees one of the four fields
    return _checked(values.timestamp, state.timestamp, scope, ctx)


def _source(expr: Expr) -> str:
    """Where a value came from, as AWS quotes it in a cause: the path of a ``*Path`` field."""
    if expr.path is not None:
        return expr.path.text
    return to_json(expr.literal) if expr.intrinsic is None and expr.query is None else ""


def _fail_failure(state: FailState, data: Any, ctx: Ctx) -> Failure:
    if state.jsonata is not None:
        names = bindings(data, ctx)
        error = query_value(state.error, names, ctx) if state.error is not None else None
        cause = query_value(state.cause, names, ctx) if state.cause is not None else None
    else:
        error = expr_value(state.error, data, ctx) if state.error is not None else None
        cause = expr_value(state.cause, data, ctx) if state.cause is not None else None
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
        return _fault(state, data, exc, (), ctx, events)
    raise TypeError(f"state type {state.type} has nothing to attempt")


def _field_value(expr: Expr, data: Any, ctx: Ctx, integer_from: int | None = None) -> Any:
    """A literal/``...Path``/JSONata field; ``data`` is the effective input (JSONPath) or the
    expression's bindings (JSONata). A JSONata expression of an integer field (``integer_from``
    its least value) that gives anything else is a States.QueryEvaluationError."""
    if expr.query is None:
        return expr_value(expr, data, ctx)
    if integer_from is None:
        return query_value(expr, data, ctx)
    return integer_value(expr, data, ctx, integer_from)


def _seconds(expr: Expr | None, data: Any, ctx: Ctx) -> float | None:
    if expr is None:
        return None
    return float(_checked(_task_seconds, expr, data, ctx, 1))


def _task_seconds(value: Any, field: str, source: str) -> int:
    return values.task_seconds(value, field)


def _region(ctx: Ctx) -> str:
    arn = ctx.context.get("StateMachine", {}).get("Id", "")
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[3] if len(parts) > 3 else "us-east-1"


def _schedule_task(state: TaskState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    if state.jsonata is not None:
        effective = bindings(data, ctx)
        arguments = state.jsonata.arguments
        payload = arguments.evaluate(effective, ctx) if arguments is not None else data
    else:
        effective = effective_input(state, data, ctx)
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
            {"resource": resource.arn, **payload_details("input", payload, ctx.encode),
             **({"timeoutInSeconds": limits["timeoutInSeconds"]} if timeout else {})},
        )
        started = Event("LambdaFunctionStarted")
    elif resource.kind == "activity":
        scheduled = Event(
            "ActivityScheduled",
            {"resource": resource.arn, **payload_details("input", payload, ctx.encode), **limits},
        )
        # Not written at submission: the host writes ActivityStarted, with the poller's
        # workerName, when a GetActivityTask poller takes the task.
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
        return handle_failure(state, data, outcome, retry_counts, ctx, [event])
    assert isinstance(outcome, TaskResult)
    decoded = _decode_result(state, outcome, ctx)
    if isinstance(decoded, Failure):
        event = _task_event(state, "Failed", error_details(decoded.error, decoded.cause))
        return handle_failure(state, data, decoded, retry_counts, ctx, [event])
    events = [_task_event(state, "Succeeded", payload_details("output", decoded, ctx.encode))]
    try:
        return _succeed(state, data, decoded, ctx, events)
    except StatesFailure as exc:
        if exc.failure.error == err.QUERY_EVALUATION_ERROR:
            return _fault(state, data, exc, retry_counts, ctx, events, started=True)
        return handle_failure(
            state, data, locate(exc.failure, state, ctx), retry_counts, ctx, events
        )


def _decode_result(state: TaskState, outcome: TaskResult, ctx: Ctx) -> Any:
    """The Task's result value, or a Failure (function error, result over the size limit)."""
    resource = state.resource
    raw = outcome.payload
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if outcome.function_error is not None:
        try:
            error_object = json.loads(text)
        except (ValueError, RecursionError):  # deeply nested JSON is malformed here
            error_object = {"errorMessage": text}
        error_type = error_object.get("errorType") if isinstance(error_object, dict) else None
        if not isinstance(error_type, str) or not error_type:
            # A timeout, or a crash the runtime could not name (tests/functions/
            # test_process_failures.py cites AWS's records of this text).
            return Failure("Lambda.Unknown", "The cause could not be determined because Lambda "
                           f"did not return an error type. Returned payload: {text}")
        # The legacy function ARN passes Lambda's error payload through verbatim; the
        # lambda:invoke integration re-serialises it compactly (AWS-recorded causes differ so).
        cause = text if resource.kind == "lambda_function" else to_json(error_object)
        return Failure(error_type, cause)
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
    except (ValueError, RecursionError):
        value = text
    if outcome.service_response:
        return value
    # Only a request-response invocation returns Lambda's Invoke response; a callback
    # (.waitForTaskToken) Task's result is the SendTaskSuccess output itself.
    if (resource.kind == "service" and resource.service == "lambda"
            and resource.api == "invoke" and resource.pattern == "request_response"):
        return _lambda_invoke_response(value, size, ctx, outcome.log_result)
    return value


def _lambda_invoke_response(payload: Any, size: int, ctx: Ctx, log_result: str | None = None
                            ) -> dict[str, Any]:
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
    if log_result is not None:
        headers["X-Amz-Log-Result"] = log_result
    return {
        "ExecutedVersion": "$LATEST",
        **({"LogResult": log_result} if log_result is not None else {}),
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
    if state.jsonata is not None:
        arguments = state.jsonata.arguments
        effective = arguments.evaluate(bindings(data, ctx), ctx) if arguments else data
    else:
        effective = effective_input(state, data, ctx)
    if state.jsonata is None and state.parameters is not None:
        effective = state.parameters.evaluate(effective, ctx)
    events.append(Event("ParallelStateStarted"))
    return Fork(
        "parallel", state.branches, (effective,) * len(state.branches), 0, None, None, False,
        tuple(events),
    )


def _fork_map(state: MapState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    if state.jsonata is not None:
        return _fork_map_jsonata(state, data, ctx, events)
    effective = effective_input(state, data, ctx)
    items = get_path(state.items_path, effective, ctx) if state.items_path else effective
    if not isinstance(items, list):
        raise StatesFailure(
            err.RUNTIME, f"Map state input must be an array but was: {to_json(items)}"
        )
    inputs: list[Any] = list(items)
    if state.item_selector is not None:
        base = ctx.context
        for index, item in enumerate(items):
            item_ctx = ctx.with_context(
                {**base, "Map": {"Item": {"Index": index, "Value": item}}})
            inputs[index] = state.item_selector.evaluate(effective, item_ctx)
    return _map_fork(state, inputs, effective, ctx, events)


def _fork_map_jsonata(state: MapState, data: Any, ctx: Ctx, events: list[Event]) -> Decision:
    assert state.jsonata is not None
    names = bindings(data, ctx)
    fields = state.jsonata
    if fields.items is not None:
        items = evaluate_typed(fields.items, names, ctx, "array")
    elif isinstance(data, list):
        items = data
    else:  # AWS names the JSONata error here too (conformance: Map input of the wrong type)
        raise StatesFailure(
            err.QUERY_EVALUATION_ERROR,
            f"Map state input must be an array but was: {to_json(data)}",
        )
    inputs: list[Any] = list(items)
    if fields.item_selector is not None:
        base = ctx.context
        for index, item in enumerate(items):
            item_ctx = ctx.with_context(
                {**base, "Map": {"Item": {"Index": index, "Value": item}}})
            inputs[index] = fields.item_selector.evaluate(bindings(data, item_ctx), item_ctx)
    return _map_fork(state, inputs, names, ctx, events)


def _map_fork(
    state: MapState, inputs: list[Any], effective: Any, ctx: Ctx, events: list[Event]
) -> Decision:
    """MaxConcurrency and the tolerated failures; ``effective`` is what their fields read."""
    concurrency = _optional(
        values.max_concurrency, state.max_concurrency, effective, ctx, 0) or 0
    tolerated_count = _optional(
        values.tolerated_failure_count, state.tolerated_failure_count, effective, ctx, 0)
    percentage = _optional(
        values.tolerated_failure_percentage, state.tolerated_failure_percentage, effective, ctx)
    events.append(Event("MapStateStarted", {"length": len(inputs)}))
    distributed = state.mode == "DISTRIBUTED"
    if distributed:
        events.append(Event("MapRunStarted", {"mapRunArn": _map_run_arn(state, ctx)}))
    return Fork(
        "map", (state.processor,) * len(inputs), tuple(inputs), concurrency, tolerated_count,
        percentage, distributed, tuple(events),
    )


def _checked(
    check: Callable[[Any, str, str], T], expr: Expr, data: Any, ctx: Ctx,
    integer_from: int | None = None,
) -> T:
    """The field's value through its check (``asl/values.py``): a literal, a ``...Path`` or a
    JSONata expression (``data``: the effective input, or the expression's bindings). A JSONata
    expression of an integer field (``integer_from`` its least value) that gives anything else
    is a States.QueryEvaluationError first, as AWS names it."""
    if expr.query is not None:
        return check(_field_value(expr, data, ctx, integer_from), expr.field, "")
    return check(expr_value(expr, data, ctx), expr.field, _source(expr))


def _optional(
    check: Callable[[Any, str, str], T], expr: Expr | None, data: Any, ctx: Ctx,
    integer_from: int | None = None,
) -> T | None:
    """``_checked``, or None when the field is absent."""
    return None if expr is None else _checked(check, expr, data, ctx, integer_from)


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
        return handle_failure(state, data, outcome, retry_counts, ctx, [], final)
    events = [Event(f"{prefix}StateSucceeded")]
    if distributed:
        events.insert(0, Event("MapRunSucceeded"))
    try:
        return _succeed(state, data, outcome, ctx, events)
    except StatesFailure as exc:
        if exc.failure.error == err.QUERY_EVALUATION_ERROR:
            return _fault(state, data, exc, retry_counts, ctx, events, started=True)
        return handle_failure(
            state, data, locate(exc.failure, state, ctx), retry_counts, ctx, events
        )


