"""The parsed state machine: frozen data, every expression compiled once.

``parse`` builds these from a validated definition; ``step`` reads them. Nothing here changes
after parsing, so one model serves every execution of a state machine revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from statewright.asl.choice import Rule
from statewright.asl.intrinsics import Intrinsic
from statewright.asl.jsonata import Value
from statewright.asl.paths import Path
from statewright.asl.resources import Resource
from statewright.asl.templates import Template

QueryLanguage = Literal["JSONPath", "JSONata"]


@dataclass(frozen=True, slots=True)
class Expr:
    """A value that is either a literal or computed from a path or intrinsic (the ``*Path`` forms).

    Used for fields such as ``SecondsPath``/``Seconds``, ``ErrorPath``/``Error``,
    ``MaxConcurrencyPath``/``MaxConcurrency``.
    """

    literal: Any = None
    """The literal value (``Seconds: 5``) when ``path`` is None."""
    path: Path | None = None
    """The compiled path of the ``...Path`` form."""
    intrinsic: Intrinsic | None = None
    """An intrinsic function (``ErrorPath: "States.Format(...)"``)."""
    query: Value | None = None
    """A JSONata expression (``Seconds: "{% $states.input.delay %}"``) of a JSONata state."""
    field: str = ""
    """The field name as written (``SecondsPath``), for error messages."""


@dataclass(frozen=True, slots=True)
class JsonataFields:
    """The JSONata data flow of a state, a matched Choice rule or a Catcher."""

    arguments: Value | None = None
    """Arguments: the Task's payload or the Parallel branches' input (default: the input)."""
    output: Value | None = None
    """Output: the state output (default: the result, else the input)."""
    assign: Value | None = None
    """Assign: variables, every value evaluated with the values from before the state."""
    items: Value | None = None
    """Items (Map): the array to iterate (default: the input)."""
    item_selector: Value | None = None
    """ItemSelector (Map): each iteration's input, with ``$states.context.Map.Item``."""


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's ``Retry`` list."""

    error_equals: tuple[str, ...]
    """Error names this retrier matches (``States.ALL`` matches all but a few)."""
    interval_seconds: float = 1.0
    """Delay before the first retry."""
    max_attempts: int = 3
    """Retries allowed; 0 means never retry."""
    backoff_rate: float = 2.0
    """Multiplier of the delay per attempt."""
    max_delay_seconds: float | None = None
    """Upper bound of the delay."""
    jitter: Literal["FULL", "NONE"] = "NONE"
    """FULL: the delay is drawn uniformly from [0, computed delay]."""


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's ``Catch`` list."""

    error_equals: tuple[str, ...]
    """Error names this catcher matches."""
    next: str
    """State to go to with the error output."""
    result_path: Path | None
    """Where the error output goes in the state input; None discards it (``ResultPath: null``)."""
    assign: Template | None = None
    """Variables to assign when this catcher matches."""
    jsonata: JsonataFields | None = None
    """Output and Assign of a JSONata state's catcher."""


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state has. Subclasses add their own."""

    name: str
    """The state's name (its key in ``States``)."""
    type: str
    """``Pass``, ``Task``, ``Choice``...: the ASL ``Type``."""
    next: str | None = None
    """The following state; None when ``end`` or for Choice/Succeed/Fail."""
    end: bool = False
    """True when the state ends its (sub-)machine."""
    query_language: QueryLanguage = "JSONPath"
    """The query language in force for this state."""
    input_path: Path | None = None
    """InputPath; None means ``null`` (the effective input is ``{}``)."""
    output_path: Path | None = None
    """OutputPath; None means ``null`` (the output is ``{}``)."""
    assign: Template | None = None
    """Variables assigned when the state completes (JSONPath)."""
    jsonata: JsonataFields | None = None
    """The JSONata fields; set exactly when ``query_language`` is JSONata."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataState(State):
    """A state that produces a result and places it with ResultPath (Pass, Task, Parallel, Map)."""

    parameters: Template | None = None
    """Parameters (JSONPath) building the effective input."""
    result_selector: Template | None = None
    """ResultSelector reshaping the raw result."""
    result_path: Path | None = None
    """Where the result goes in the input; None discards the result (``ResultPath: null``)."""
    retry: tuple[Retrier, ...] = ()
    """Retriers, scanned in order."""
    catch: tuple[Catcher, ...] = ()
    """Catchers, scanned in order after retries are exhausted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(DataState):
    """``Type: Pass``."""

    result: Any = None
    """The ``Result`` value; ``has_result`` tells whether it was given."""
    has_result: bool = False
    """True when ``Result`` is present (it may be ``null``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(DataState):
    """``Type: Task``."""

    resource: Resource
    """The Resource, classified (Lambda function, service integration, activity)."""
    timeout: Expr | None = None
    """TimeoutSeconds / TimeoutSecondsPath; None: no limit (AWS: 99999999 s)."""
    heartbeat: Expr | None = None
    """HeartbeatSeconds / HeartbeatSecondsPath."""
    credentials: Template | None = None
    """Credentials (accepted, not enforced)."""


@dataclass(frozen=True, slots=True)
class ChoiceBranch:
    """A top-level Choice rule and where it leads."""

    rule: Rule
    """The compiled condition."""
    next: str
    """The state to go to when the rule matches."""
    assign: Template | None = None
    """Variables assigned when this rule matches (JSONPath)."""
    condition: Value | None = None
    """The JSONata ``Condition`` (the rule is then unused)."""
    jsonata: JsonataFields | None = None
    """Output and Assign of a JSONata rule."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    """``Type: Choice``."""

    choices: tuple[ChoiceBranch, ...]
    """Rules in order; the first match wins."""
    default: str | None = None
    """State when no rule matches; None: fail with ``States.NoChoiceMatched``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    """``Type: Wait``."""

    seconds: Expr | None = None
    """Seconds / SecondsPath."""
    timestamp: Expr | None = None
    """Timestamp / TimestampPath."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    """``Type: Succeed``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    """``Type: Fail``."""

    error: Expr | None = None
    """Error / ErrorPath."""
    cause: Expr | None = None
    """Cause / CausePath."""


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine or a sub-machine (Parallel branch, Map processor)."""

    start_at: str
    """Name of the first state."""
    states: dict[str, State]
    """States by name."""
    comment: str | None = None
    """The definition's Comment."""
    timeout_seconds: int | None = None
    """Execution TimeoutSeconds (top level only)."""
    query_language: QueryLanguage = "JSONPath"
    """Top-level QueryLanguage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(DataState):
    """``Type: Parallel``."""

    branches: tuple[Machine, ...]
    """The branches, each run on the same input; results in branch order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(DataState):
    """``Type: Map``."""

    processor: Machine
    """ItemProcessor (or the legacy Iterator)."""
    mode: Literal["INLINE", "DISTRIBUTED"] = "INLINE"
    """ProcessorConfig.Mode."""
    items_path: Path | None = None
    """ItemsPath (default ``$``)."""
    item_selector: Template | None = None
    """ItemSelector (or the legacy Parameters) building each iteration's input."""
    max_concurrency: Expr | None = None
    """MaxConcurrency / MaxConcurrencyPath; 0 or None: unlimited."""
    tolerated_failure_percentage: Expr | None = None
    """ToleratedFailurePercentage(Path)."""
    tolerated_failure_count: Expr | None = None
    """ToleratedFailureCount(Path)."""
    label: str | None = None
    """Label (Distributed Map)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """ItemReader / ItemBatcher / ResultWriter as written (Distributed Map)."""


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A parsed definition: the top-level machine plus lookups the runtime needs."""

    machine: Machine
    """The top-level machine."""
    definition: dict[str, Any]
    """The decoded definition, for DescribeStateMachine and the console."""
