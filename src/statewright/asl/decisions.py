"""What a step decides: the values ``step`` returns to the driver, and a Task's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from statewright.asl.errors import Failure
from statewright.asl.events import Event
from statewright.asl.frozen import fast_init
from statewright.asl.model import Machine
from statewright.asl.resources import Resource


@fast_init
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


@fast_init
@dataclass(frozen=True, slots=True)
class Finish:
    """The (sub-)machine ends successfully with ``output``."""

    output: Any
    """The final output."""
    events: tuple[Event, ...]
    """History events of this step."""
    assigned: dict[str, Any] | None = None
    """Variables to set in the frame's scope."""


@fast_init
@dataclass(frozen=True, slots=True)
class Fail:
    """The (sub-)machine fails."""

    failure: Failure
    """The error and cause."""
    events: tuple[Event, ...]
    """History events of this step."""


@fast_init
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


@fast_init
@dataclass(frozen=True, slots=True)
class Sleep:
    """Wake the state (``complete`` with outcome None) at ``until``."""

    until: float
    """Epoch seconds."""
    events: tuple[Event, ...]
    """History events of this step."""


@fast_init
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


@fast_init
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


@fast_init
@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a Task's resource returned, shaped like Lambda's Invoke response."""

    payload: bytes | str
    """The response payload: JSON text (a function's return value or error object)."""
    function_error: str | None = None
    """Set (e.g. ``Unhandled``) when the payload is a function error object."""
    log_result: str | None = None
    """Lambda's LogResult (base64 of the log's last 4 KB) when the call asked for
    ``LogType: Tail``."""
    service_response: bool = False
    """The payload is already the service's whole response (a mocked response, as Step
    Functions Local's mock config gives it), not a function's return value to shape."""
