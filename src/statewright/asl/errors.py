"""Errors of the ASL core: runtime failures are values, definition faults are data.

The exception tree of the core (the edges have their own, in ``statewright.errors``)::

    Exception
     +-- StatesFailure          a runtime failure (error name + cause) raised inside the core
     |                          and turned into a ``Failure`` value at the step boundary
     +-- InvalidDefinition      parse() found faults; carries every ``DefinitionError``
     +-- ExpressionSyntaxError  a path/intrinsic/template does not compile (parse turns it
                                into a ``DefinitionError`` with the field's location)
"""

from __future__ import annotations

from dataclasses import dataclass

# Predefined error names (States Language spec, "Errors").
ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"

#: Errors that ``States.ALL`` does not match (a Retrier/Catcher must name them). The AWS docs
#: also list States.DataLimitExceeded here, but AWS-recorded executions show ``States.ALL``
#: catching a Lambda result over the limit (conformance case
#: ``test_task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response``).
NOT_MATCHED_BY_ALL = frozenset({RUNTIME})


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed step: what AWS reports as ``error`` and ``cause``."""

    error: str | None
    """The error name, e.g. ``States.Runtime`` or a Lambda exception's type; a Fail state
    may give none."""
    cause: str | None = None
    """The human-readable (or JSON) cause; ``None`` when the state gave none."""


class StatesFailure(Exception):
    """Raised inside the core for a runtime fault; caught at the step boundary."""

    def __init__(self, error: str | None, cause: str | None = None, *,
                 location: str | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.failure = Failure(error, cause)
        #: The field that failed (``Output/total``), for a JSONata ``EvaluationFailed`` event.
        self.location = location


class ExpressionSyntaxError(Exception):
    """A JSONPath, payload template or intrinsic function does not compile."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class DefinitionError:
    """One fault in a state machine definition, as ValidateStateMachineDefinition reports it."""

    code: str
    """AWS's code, e.g. ``SCHEMA_VALIDATION_FAILED`` or ``MISSING_TRANSITION_TARGET``."""
    message: str
    """What is wrong, without the location."""
    location: str
    """JSON-pointer-like location of the fault, e.g. ``/States/Is In Stock?/Choices[0]/Next``;
    ``""`` when the fault has no place (ValidateStateMachineDefinition then omits it)."""

    def render(self) -> str:
        """The fault as AWS prints it inside an InvalidDefinition message (``at null`` when it
        has no location, as AWS prints MISSING_END_STATE)."""
        return f"{self.code}: {self.message} at {self.location or 'null'}"


class InvalidDefinition(Exception):
    """The definition has faults; ``errors`` holds all of them."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__(render_definition_errors(errors))


def render_definition_errors(errors: list[DefinitionError]) -> str:
    """AWS's InvalidDefinition message for a list of faults."""
    if len(errors) == 1:
        return f"Invalid State Machine Definition: '{errors[0].render()}'"
    body = ", ".join(e.render() for e in errors)
    return f"Invalid State Machine Definition: '{body}'"
