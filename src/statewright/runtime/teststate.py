"""The TestState API: one state run once, with AWS's inspection data, status and next state.

A state is tested by composing the core's own pieces step by step (``asl.dataflow`` for the
data flow AWS shows at DEBUG, ``asl.step`` for the decision), so the answer is what an
execution would do at that state. What AWS documents ("Using TestState API to test a state",
the API reference's TestState, MockInput, TestStateConfiguration, InspectionData):

- ``definition`` is one state's JSON, or a whole machine with ``stateName`` choosing one;
- ``status``: SUCCEEDED, FAILED, RETRIABLE (an error a Retrier would retry: attempts remain,
  given ``stateConfiguration.retrierRetryCount`` retries so far) or CAUGHT_ERROR (a Catcher
  took it: the output is the input with the error placed, ``nextState`` its Next);
- ``mock``: ``result`` (the service's response, as JSON text) or ``errorOutput`` instead of
  calling the resource; required for Map, Parallel, activity and ``.waitForTaskToken`` Tasks;
  without it a Task calls the local function; ``fieldValidationMode`` checks ``result``
  against the API's output shape (``mock_shapes.py``);
- ``inspectionLevel``: INFO gives status, output or error, nextState; DEBUG and TRACE add
  ``inspectionData`` (input, afterInputPath, afterParameters, result, afterResultSelector,
  afterResultPath, variables, errorDetails). TRACE's HTTP request and response concern HTTP
  Tasks, which statewright does not run.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statewright import errors
from statewright.asl import InvalidDefinition, parse
from statewright.asl.context import Ctx
from statewright.asl.dataflow import effective_input, get_path, place_result
from statewright.asl.errors import EXCEED_TOLERATED_FAILURE_THRESHOLD, Failure, StatesFailure
from statewright.asl.events import to_json
from statewright.asl.model import (
    DataState,
    MapState,
    ParallelState,
    PassState,
    State,
    TaskState,
)
from statewright.asl.step import (
    Decision,
    Fail,
    Finish,
    Fork,
    Invoke,
    RetryLater,
    Sleep,
    TaskResult,
    Transition,
    complete,
    enter,
    error_matches,
)
from statewright.functions.base import Invoker
from statewright.runtime.frames import iso8601
from statewright.runtime.mock_shapes import check_mocked_result
from statewright.runtime.tasks import run_task

#: The name a lone state's definition is tested under when no ``stateName`` is given.
_LONE_STATE = "TestState"


@dataclass(frozen=True, slots=True)
class Mock:
    """TestState's ``mock``."""

    result: str | None = None
    """The service's response (JSON text)."""
    error: str | None = None
    """``errorOutput.error``."""
    cause: str | None = None
    """``errorOutput.cause``."""
    field_validation_mode: str = "STRICT"
    """How ``result`` is checked against the mocked API's output shape (``mock_shapes``)."""


@dataclass(frozen=True, slots=True)
class TestStateRequest:
    """The request, decoded (members as botocore names them)."""

    __test__ = False  # not a pytest test class

    definition: str
    """One state's JSON, or a whole machine's."""
    state_name: str | None = None
    """The state to test in a whole machine."""
    input: str | None = None
    """JSON text; default ``{}``."""
    variables: str | None = None
    """JSON object text: variables in scope."""
    context: str | None = None
    """JSON object text: the Context Object (``$$``) fields to use."""
    mock: Mock | None = None
    """A mocked outcome instead of calling the resource."""
    retrier_retry_count: int = 0
    """``stateConfiguration.retrierRetryCount``: retries already made."""
    map_iteration_failure_count: int | None = None
    """``stateConfiguration.mapIterationFailureCount``."""
    error_caused_by_state: str | None = None
    """``stateConfiguration.errorCausedByState``."""
    inspection_level: str = "INFO"
    """INFO, DEBUG or TRACE."""


@dataclass(slots=True)
class TestStateResult:
    """The answer, with botocore's member names."""

    __test__ = False

    status: str
    """SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR."""
    output: str | None = None
    """The state's output (JSON text) when it succeeded or caught the error."""
    error: str | None = None
    """The error, unless SUCCEEDED."""
    cause: str | None = None
    """Its cause."""
    next_state: str | None = None
    """Where the execution would go."""
    inspection_data: dict[str, Any] = field(default_factory=dict)
    """DEBUG/TRACE: the data flow, step by step."""

    def to_aws(self) -> dict[str, Any]:
        """TestState's response members (empty ones left out, as AWS does)."""
        out: dict[str, Any] = {"status": self.status}
        for key, value in (("output", self.output), ("error", self.error),
                           ("cause", self.cause), ("nextState", self.next_state)):
            if value is not None:
                out[key] = value
        if self.inspection_data:
            out["inspectionData"] = self.inspection_data
        return out


def test_state(request: TestStateRequest, invoker: Invoker | None,
               clock: Any = time.time) -> TestStateResult:
    """Runs the state once. Raises ``errors.AwsError`` (InvalidDefinition,
    InvalidExecutionInput, ValidationException) for requests AWS refuses."""
    state = _state(request.definition, request.state_name)
    data = _json_member(request.input, "input", errors.InvalidExecutionInput, "{}")
    variables = _json_member(request.variables, "variables", errors.ValidationException, "{}")
    context = _json_member(request.context, "context", errors.ValidationException, "{}")
    if not isinstance(variables, dict) or not isinstance(context, dict):
        raise errors.ValidationException("variables and context must be JSON objects")
    _check_mock(state, request.mock)
    _check_configuration(state, request)
    now = clock()
    ctx = Ctx(now=now, random=random.Random(), context=_context(state, context, now, request),
              variables=dict(variables), entered_event_id=1)
    inspection = _Inspection(request.inspection_level in ("DEBUG", "TRACE"))
    inspection.record("input", data)
    _trace_input(state, data, ctx, inspection)
    counts = (request.retrier_retry_count,) * len(getattr(state, "retry", ()))
    decision = enter(state, data, ctx)
    failure: Failure | None = None
    match decision:
        case Invoke():
            outcome = _task_outcome(state, decision, request.mock, invoker)
            failure = _failure(outcome)
            decision = complete(state, data, outcome, counts, ctx)
        case Sleep():  # TestState answers at once; an execution would wait until then
            decision = complete(state, data, None, counts, ctx)
        case Fork():
            outcome = _fork_outcome(state, request)
            failure = outcome if isinstance(outcome, Failure) else None
            decision = complete(state, data, outcome, counts, ctx)
    if failure is None:
        failure = _failure_in(decision)
    _trace_result(state, data, decision, failure, ctx, inspection, request)
    return _answer(state, decision, failure, ctx, inspection, request)


# ----------------------------------------------------------------------------- the request


def _state(definition: str, state_name: str | None) -> State:
    try:
        raw = json.loads(definition)
    except ValueError as exc:
        raise errors.InvalidDefinition(f"Invalid State Machine Definition: '{exc}'") from exc
    if not isinstance(raw, dict):
        raise errors.InvalidDefinition("Invalid State Machine Definition: not a JSON object")
    if "States" in raw:
        machine_text, name = definition, state_name
        if name is None:
            raise errors.ValidationException(
                "stateName is required when the definition is a whole state machine")
    else:
        name = state_name or _LONE_STATE
        machine_text = json.dumps(_lone_machine(name, raw))
    try:
        machine = parse(machine_text)
    except InvalidDefinition as exc:
        raise errors.InvalidDefinition(f"Invalid State Machine Definition: {exc}") from exc
    found = _find(machine.machine.states, name)
    if found is None:
        raise errors.ValidationException(f"State '{name}' is not in the definition")
    return found


def _lone_machine(name: str, state: dict[str, Any]) -> dict[str, Any]:
    """A machine around one state: the states it may go to become placeholders."""
    targets = {state.get("Next"), state.get("Default")}
    for rule in state.get("Choices") or ():
        if isinstance(rule, dict):
            targets.add(rule.get("Next"))
    for catcher in state.get("Catch") or ():
        if isinstance(catcher, dict):
            targets.add(catcher.get("Next"))
    states: dict[str, Any] = {t: {"Type": "Succeed"} for t in targets
                              if isinstance(t, str) and t != name}
    states[name] = state
    top = {"QueryLanguage": state["QueryLanguage"]} if "QueryLanguage" in state else {}
    return {"StartAt": name, "States": states, **top}


def _find(states: Mapping[str, State], name: str) -> State | None:
    if name in states:
        return states[name]
    for state in states.values():
        machines = (state.branches if isinstance(state, ParallelState) else
                    (state.processor,) if isinstance(state, MapState) else ())
        for machine in machines:
            found = _find(machine.states, name)
            if found is not None:
                return found
    return None


def _json_member(text: str | None, member: str, error: type[errors.AwsError],
                 default: str) -> Any:
    try:
        return json.loads(default if text is None else text)
    except ValueError as exc:
        raise error(f"Invalid {member}: '{exc}'") from exc


def _check_mock(state: State, mock: Mock | None) -> None:
    if mock is not None:
        if (mock.result is None) == (mock.error is None):
            raise errors.ValidationException(
                "A mock needs exactly one of result and errorOutput")
        if not isinstance(state, TaskState | MapState | ParallelState):
            raise errors.ValidationException(
                f"A mock applies to Task, Map and Parallel states, not to a {state.type} state")
        if mock.result is not None:
            result = _json_member(mock.result, "mock result", errors.ValidationException, "")
            if isinstance(state, TaskState):
                problems = check_mocked_result(state.resource, result,
                                               mock.field_validation_mode)
                if problems:
                    raise errors.ValidationException(
                        "The mock result does not match the API's response "
                        f"({mock.field_validation_mode}): {'; '.join(problems)}")
        return
    if isinstance(state, MapState | ParallelState):
        raise errors.ValidationException(
            f"Testing a {state.type} state needs a mock (its result or errorOutput)")
    if isinstance(state, TaskState) and (
            state.resource.kind == "activity" or state.resource.pattern != "request_response"):
        raise errors.ValidationException(
            "Testing an activity, .sync or .waitForTaskToken Task needs a mock")


def _check_configuration(state: State, request: TestStateRequest) -> None:
    """stateConfiguration's Map and Parallel members apply to those states only."""
    inner = request.error_caused_by_state
    if request.map_iteration_failure_count is not None and not isinstance(state, MapState):
        raise errors.ValidationException("mapIterationFailureCount applies to a Map state")
    if inner is None:
        return
    if not isinstance(state, MapState | ParallelState):
        raise errors.ValidationException("errorCausedByState applies to Map and Parallel states")
    if request.mock is None or request.mock.error is None:
        raise errors.ValidationException("errorCausedByState needs a mocked errorOutput")
    machines = state.branches if isinstance(state, ParallelState) else (state.processor,)
    if all(_find(machine.states, inner) is None for machine in machines):
        raise errors.ValidationException(
            f"errorCausedByState '{inner}' is not a state inside '{state.name}'")


def _context(state: State, given: dict[str, Any], now: float,
             request: TestStateRequest) -> dict[str, Any]:
    """The Context Object: what an execution would hold, overridden by ``context``."""
    base: dict[str, Any] = {
        "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:TestState:test",
                      "Name": "test", "StartTime": iso8601(now), "RoleArn": ""},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:TestState",
                         "Name": "TestState"},
        "State": {"Name": state.name, "EnteredTime": iso8601(now),
                  **({"RetryCount": request.retrier_retry_count}
                     if isinstance(state, DataState) and not isinstance(state, PassState)
                     else {})},
    }
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


# ----------------------------------------------------------------------------- outcomes


def _task_outcome(state: State, invoke: Invoke, mock: Mock | None,
                  invoker: Invoker | None) -> TaskResult | Failure:
    if mock is not None:
        if mock.error is not None:
            return Failure(mock.error, mock.cause)
        assert mock.result is not None
        return TaskResult(mock.result, service_response=True)
    if invoker is None:
        return Failure("States.Runtime", "No functions are available to this server")
    outcome, _ = run_task(invoker, invoke)
    return outcome


def _fork_outcome(state: State, request: TestStateRequest) -> Any:
    """A Map or Parallel state's mocked outcome: its results, or the error. For a Map,
    ``mapIterationFailureCount`` failed iterations beyond its tolerated threshold fail it, as
    in an execution (the driver's ``_tolerated``)."""
    mock = request.mock
    assert mock is not None  # _check_mock requires one for Map and Parallel
    if mock.error is not None:
        return Failure(mock.error, mock.cause)
    assert mock.result is not None
    results = json.loads(mock.result)
    failed = request.map_iteration_failure_count or 0
    if isinstance(state, MapState) and failed and not _tolerated(state, failed, results):
        return Failure(EXCEED_TOLERATED_FAILURE_THRESHOLD,
                       "The specified tolerated failure threshold was exceeded")
    return results


def _tolerated(state: MapState, failed: int, results: Any) -> bool:
    count = state.tolerated_failure_count
    if count is not None and count.path is None and failed <= int(count.literal):
        return True
    percentage = state.tolerated_failure_percentage
    if percentage is not None and percentage.path is None and isinstance(results, list):
        return failed <= math.floor(len(results) * float(percentage.literal) / 100)
    return False


def _failure(outcome: TaskResult | Failure) -> Failure | None:
    return outcome if isinstance(outcome, Failure) else None


def _failure_in(decision: Decision) -> Failure | None:
    """The error a decision records: a Fail's, or a Task's Failed event (function errors)."""
    if isinstance(decision, Fail):
        return decision.failure
    for event in decision.events:
        if event.type.endswith("Failed") and event.details and "error" in event.details:
            return Failure(event.details.get("error"), event.details.get("cause"))
    return None


# ----------------------------------------------------------------------------- inspection


class _Inspection:
    """The DEBUG/TRACE data, recorded as the state runs (JSON text, as AWS returns it)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.data: dict[str, Any] = {}

    def record(self, key: str, value: Any) -> None:
        if self.enabled:
            self.data[key] = to_json(value)


def _trace_input(state: State, data: Any, ctx: Ctx, inspection: _Inspection) -> None:
    """afterInputPath and afterParameters (a failure here shows in the decision)."""
    if not inspection.enabled:
        return
    try:
        effective = effective_input(state, data, ctx)
        inspection.record("afterInputPath", effective)
        if isinstance(state, TaskState | PassState | ParallelState | MapState):
            parameters = state.parameters if not isinstance(state, MapState) else None
            inspection.record("afterParameters", parameters.evaluate(effective, ctx)
                              if parameters is not None else effective)
        if isinstance(state, MapState) and state.items_path is not None:
            inspection.record("afterItemsPath", get_path(state.items_path, effective, ctx))
    except StatesFailure:
        pass


def _trace_result(state: State, data: Any, decision: Decision, failure: Failure | None,
                  ctx: Ctx, inspection: _Inspection, request: TestStateRequest) -> None:
    if not inspection.enabled:
        return
    if isinstance(state, MapState):
        for key, expr in (("maxConcurrency", state.max_concurrency),
                          ("toleratedFailureCount", state.tolerated_failure_count),
                          ("toleratedFailurePercentage", state.tolerated_failure_percentage)):
            if expr is not None and expr.path is None and expr.intrinsic is None:
                inspection.data[key] = expr.literal
    if failure is not None or not isinstance(state, DataState):
        if failure is None and isinstance(decision, Transition | Finish):
            _record_assign(decision, ctx, inspection)
        return
    result = _result_of(state, data, decision, ctx)
    if result is _NONE:
        return
    inspection.record("result", result)
    try:
        selected = (state.result_selector.evaluate(result, ctx)
                    if state.result_selector is not None else result)
        if not isinstance(state, PassState):
            inspection.record("afterResultSelector", selected)
        inspection.record("afterResultPath", place_result(state, data, selected))
    except StatesFailure:
        return
    if isinstance(decision, Transition | Finish):
        _record_assign(decision, ctx, inspection)


_NONE: Any = object()


def _result_of(state: DataState, data: Any, decision: Decision, ctx: Ctx) -> Any:
    """The raw result (before ResultSelector): a Task's decoded result from its Succeeded
    event, a Pass state's Result or effective input, a Map/Parallel's mocked results."""
    if isinstance(state, PassState):
        if state.has_result:
            return state.result
        try:
            effective = effective_input(state, data, ctx)
            return state.parameters.evaluate(effective, ctx) if state.parameters else effective
        except StatesFailure:
            return _NONE
    for event in decision.events:
        if event.type.endswith("Succeeded") and event.details and "output" in event.details:
            return json.loads(event.details["output"])
    return _NONE


def _record_assign(decision: Transition | Finish, ctx: Ctx, inspection: _Inspection) -> None:
    if decision.assigned:
        inspection.record("variables", {**ctx.variables, **decision.assigned})


# ----------------------------------------------------------------------------- the answer


def _answer(state: State, decision: Decision, failure: Failure | None, ctx: Ctx,
            inspection: _Inspection, request: TestStateRequest) -> TestStateResult:
    match decision:
        case RetryLater():
            assert failure is not None
            index = _matching(getattr(state, "retry", ()), failure)
            if inspection.enabled and index is not None:
                inspection.data["errorDetails"] = {
                    "retryIndex": index,
                    "retryBackoffIntervalSeconds": round(decision.due - ctx.now)}
            return TestStateResult("RETRIABLE", None, failure.error, failure.cause, None,
                                   inspection.data)
        case Transition() if failure is not None:
            index = _matching(getattr(state, "catch", ()), failure)
            if inspection.enabled and index is not None:
                inspection.data["errorDetails"] = {"catchIndex": index}
                inspection.record("afterResultPath", decision.output)
            return TestStateResult("CAUGHT_ERROR", to_json(decision.output), failure.error,
                                   failure.cause, decision.next, inspection.data)
        case Transition():
            return TestStateResult("SUCCEEDED", to_json(decision.output), None, None,
                                   decision.next, inspection.data)
        case Finish():
            return TestStateResult("SUCCEEDED", to_json(decision.output), None, None, None,
                                   inspection.data)
        case Fail():
            return TestStateResult("FAILED", None, decision.failure.error,
                                   decision.failure.cause, None, inspection.data)
    raise TypeError(f"unexpected decision {type(decision).__name__}")


def _matching(handlers: tuple[Any, ...], failure: Failure) -> int | None:
    for index, handler in enumerate(handlers):
        if error_matches(handler.error_equals, failure.error):
            return index
    return None


__all__ = ["Mock", "TestStateRequest", "TestStateResult", "test_state"]
