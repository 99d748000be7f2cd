"""History events as AWS writes them: the type and its details, built by the core.

The core emits ``Event(type, details)``; the runtime assigns ``id``, ``previousEventId`` and
``timestamp`` when it stores them. Payloads inside details are JSON text, as AWS returns them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statewright.asl.frozen import fast_init

Encode = Callable[[Any], str]

#: Largest payload (input, output, result) AWS accepts, in UTF-8 bytes.
MAX_PAYLOAD_BYTES = 262144

#: Event types whose details sit under a member named after the state kind, not the type.
_STATE_DETAILS = {"Entered": "stateEnteredEventDetails", "Exited": "stateExitedEventDetails"}


@fast_init
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


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON text, as ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``
    writes it, from one C encoder made once: ``JSONEncoder.encode`` builds a new one on every
    call, which costs more than encoding a small value. No circular-reference check (values
    here come from JSON; a cycle ends in RecursionError), which also makes the encoder safe to
    share between threads (the check keeps its state in the encoder)."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C speedups
        return encoder.encode
    chunks = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",",
                  False, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_ENCODE = _compact_encoder()


def to_json(value: Any) -> str:
    """Compact JSON as AWS renders payloads (no spaces, non-ASCII kept)."""
    return _ENCODE(value)


class JsonTexts:
    """``to_json`` remembering its last few texts by the value's identity, for one execution.

    A state's input is mostly the very object the state before it output (and a Choice's or
    Succeed's output its input), so one execution's history quotes the same value several
    times: this encodes it once. Sound because the core never changes a value in place (a
    ResultPath copies the containers it changes; handlers get a copy); an entry keeps its value
    alive, so its ``id`` cannot be reused while remembered. One instance per execution: values
    a caller passes in (the execution input) may change between executions.
    """

    __slots__ = ("_texts",)

    #: How many texts are kept (enough for a state's input, result and output).
    SIZE = 8

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Any, str]] = {}

    def __call__(self, value: Any) -> str:
        texts = self._texts
        known = texts.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = _ENCODE(value)
        if len(texts) >= self.SIZE:
            texts.clear()
        texts[id(value)] = (value, text)
        return text


def payload_details(key: str, value: Any, encode: Encode = to_json) -> dict[str, Any]:
    """``{"input": "<json>", "inputDetails": {"truncated": false}}`` and the like."""
    return {key: encode(value), key + "Details": {"truncated": False}}


def state_entered(state_type: str, name: str, data: Any, encode: Encode = to_json) -> Event:
    return Event(f"{state_type}StateEntered", {
        "name": name, "input": encode(data), "inputDetails": {"truncated": False}})


def state_exited(
    state_type: str, name: str, output: Any, assigned: dict[str, Any] | None = None,
    encode: Encode = to_json,
) -> Event:
    details = {"name": name, "output": encode(output), "outputDetails": {"truncated": False}}
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


def execution_started(data: Any, role_arn: str, encode: Encode = to_json) -> Event:
    return Event("ExecutionStarted", {**payload_details("input", data, encode),
                                      "roleArn": role_arn})


def execution_succeeded(output: Any, encode: Encode = to_json) -> Event:
    return Event("ExecutionSucceeded", payload_details("output", output, encode))


def execution_failed(error: str | None, cause: str | None) -> Event:
    return Event("ExecutionFailed", error_details(error, cause))


def map_iteration(kind: str, name: str, index: int) -> Event:
    """``MapIterationStarted`` / ``Succeeded`` / ``Failed`` / ``Aborted``."""
    return Event(f"MapIteration{kind}", {"name": name, "index": index})
