"""The contract between the runtime and whatever runs user functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """A function invocation's outcome, shaped like Lambda's Invoke response."""

    payload: bytes
    """The response payload: the JSON-encoded return value, or the error object."""
    function_error: str | None = None
    """``Unhandled`` when the function raised; the payload then holds
    ``{errorMessage, errorType, requestId, stackTrace}``."""
    logs: str = ""
    """What the handler printed (stdout and stderr)."""


class FunctionNotFound(Exception):
    """No function of that name is deployed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Function not found: {name}")
        self.name = name


class Invoker(Protocol):
    """Runs a function by name. Raises ``FunctionNotFound``; handler errors are results."""

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult: ...
