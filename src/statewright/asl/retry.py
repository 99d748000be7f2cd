"""Retry and Catch: which retrier or catcher an error meets, and what happens then."""

from __future__ import annotations

from typing import Any

from statewright.asl import errors as err
from statewright.asl.context import Ctx
from statewright.asl.dataflow import exited_event, locate
from statewright.asl.decisions import Decision, Fail, RetryLater, Transition
from statewright.asl.errors import Failure, StatesFailure
from statewright.asl.events import Event, error_details
from statewright.asl.model import DataState
from statewright.asl.paths import PathNotFound
from statewright.asl.step_jsonata import assign, bindings
from statewright.asl.step_jsonata import output as jsonata_output


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


def handle_failure(
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
            if catcher.jsonata is not None:  # $states.errorOutput; Output defaults to it
                names = bindings(data, ctx, errorOutput=error_output)
                assigned = assign(catcher.jsonata, names, ctx)
                output = jsonata_output(catcher.jsonata, names, ctx, error_output)
                events.append(exited_event(state, output, assigned, ctx))
                return Transition(catcher.next, output, tuple(events), assigned)
            output = data if catcher.result_path is None else catcher.result_path.set(
                data, error_output
            )
            assigned = None
            if catcher.assign is not None:
                value = catcher.assign.evaluate(error_output, ctx)
                assigned = value if isinstance(value, dict) else None
            events.append(exited_event(state, output, assigned, ctx))
        except (StatesFailure, PathNotFound) as exc:
            inner = exc.failure if isinstance(exc, StatesFailure) else Failure(
                err.RESULT_PATH_MATCH_FAILURE, str(exc)
            )
            located = locate(inner, state, ctx)
            if inner.error == err.QUERY_EVALUATION_ERROR:  # as step writes it for the state
                location = exc.location if isinstance(exc, StatesFailure) else None
                where = {"location": location} if location else {}
                events.append(Event("EvaluationFailed", {
                    **error_details(located.error, located.cause), **where, "state": state.name,
                }))
            return Fail(located, tuple(events))
        return Transition(catcher.next, output, tuple(events), assigned)
    return Fail(failure, tuple(events))
