"""History events as AWS writes them: the type and its details, built by the core.

The core emits ``Event(type, details)``; the runtime assigns ``id``, ``previousEventId`` and
``timestamp`` when it stores them. Payloads inside details are JSON text, as AWS returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: Largest payload (input, output, result) AWS accepts, in UTF-8 bytes.
MAX_PAYLOAD_BYTES = 262144

#: Event types whose details sit under a member named after the state kind, not the type.
_STATE_DETAILS = {"Entered": "stateEnteredEventDetails", "Exited": "stateExitedEventDetails"}


@dataclass(frozen=True, slots=True)
class Event:
    """One history event before the store numbers it."""

    type: str
    """AWS's HistoryEventType, e.g. ``TaskStateEntered``."""
    details: dict[str, Any] | None = None
    """The details object (None for types without details, e.g. ``LambdaFunctionStarted``)."""

    @property
    def details_member(self) -> str:
        """The GetExecutionHistory member that holds ``details``."""
        return details_member(self.type)


def details_member(event_type: str) -> str:
    """``TaskStateEntered`` -> ``stateEnteredEventDetails``; others: camelCase + EventDetails."""
    for suffix, member in _STATE_DETAILS.items():
        if event_type.endswith("State" + suffix):
            return member
    return event_type[0].lower() + event_type[1:] + "EventDetails"


# One encoder for the process: json.dumps with options builds a new encoder on every call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def to_json(value: Any) -> str:
    """Compact JSON as AWS renders payloads (no spaces, non-ASCII kept)."""
    return _ENCODE(value)


def payload_details(key: str, value: Any) -> dict[str, Any]:
    """``{"input": "<json>", "inputDetails": {"truncated": false}}`` and the like."""
    return {key: to_json(value), key + "Details": {"truncated": False}}


def state_entered(state_type: str, name: str, data: Any) -> Event:
    details = {"name": name, **payload_details("input", data)}
    return Event(f"{state_type}StateEntered", details)


def state_exited(
    state_type: str, name: str, output: Any, assigned: dict[str, Any] | None = None
) -> Event:
    details = {"name": name, **payload_details("output", output)}
    if assigned:
        details["assignedVariables"] = {k: to_json(v) for k, v in assigned.items()}
        details["assignedVariablesDetails"] = {"truncated": False}
    return Event(f"{state_type}StateExited", details)


def error_details(error: str | None, cause: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details


def execution_started(data: Any, role_arn: str) -> Event:
    return Event("ExecutionStarted", {**payload_details("input", data), "roleArn": role_arn})


def execution_succeeded(output: Any) -> Event:
    return Event("ExecutionSucceeded", payload_details("output", output))


def execution_failed(error: str | None, cause: str | None) -> Event:
    return Event("ExecutionFailed", error_details(error, cause))


def map_iteration(kind: str, name: str, index: int) -> Event:
    """``MapIterationStarted`` / ``Succeeded`` / ``Failed`` / ``Aborted``."""
    return Event(f"MapIteration{kind}", {"name": name, "index": index})
