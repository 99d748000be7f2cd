"""The contract between the runtime and whatever runs user functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
    request_id: str = ""
    """The invocation's request id (Lambda's ``x-amzn-RequestId``); "" when not known."""
    duration_ms: float | None = None
    """How long the handler ran, in milliseconds, as the invoker measured it (without waiting
    for a free worker); None when the invoker does not say."""
    timed_out: bool = False
    """The function ran past its timeout and was stopped (Lambda's payload for that has no
    errorType, so this is the one way to tell)."""


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """A deployed function, as a process-based invoker needs it (Lambda's FunctionConfiguration)."""

    name: str
    """The function name (what a Lambda ARN's ``function:NAME`` resolves to)."""
    runtime: str
    """Lambda's runtime identifier: ``python3.12``, ``nodejs20.x``..."""
    handler: str
    """``module.function`` (Python) or ``file.export`` (Node.js), as in Lambda."""
    code_dir: Path
    """The unpacked code: the folder Lambda would mount at ``/var/task``."""
    timeout: float = 3.0
    """Seconds an invocation may run before it is killed (Lambda's default is 3)."""
    memory_mb: int = 128
    """Lambda's MemorySize: the memory an invocation may use, in MiB."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """The function's own environment variables."""
    version: str = "$LATEST"
    """The version the context reports (``function_version``, ``functionVersion``)."""
    code_sha256: str = ""
    """The code's identity (Lambda's CodeSha256): warm workers of other code are retired."""
    role: str = ""
    """The execution role's ARN (CreateFunction's Role): the function's credentials are
    bound to it."""
    reserved_concurrency: int | None = None
    """Lambda's ReservedConcurrentExecutions (PutFunctionConcurrency): the most invocations
    of this function that run at once; None: only the invoker's own limit applies."""


class FunctionNotFound(Exception):
    """No function of that name is deployed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Function not found: {name}")
        self.name = name


class Throttled(Exception):
    """The invocation was refused, not run: the function or the invoker is at its concurrency
    limit (Lambda's ``TooManyRequestsException``, HTTP 429, message ``Rate Exceeded.``)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__("Rate Exceeded.")
        self.name = name
        self.reason = reason
        """Lambda's ThrottleReason: ``ReservedFunctionConcurrentInvocationLimitExceeded``
        (the function's reserved concurrency) or ``ConcurrentInvocationLimitExceeded`` (the
        invoker's own limit, Lambda's account limit)."""


class Invoker(Protocol):
    """Runs a function by name. Raises ``FunctionNotFound``, or ``Throttled`` when the
    invocation would pass a concurrency limit; handler errors are results."""

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult: ...
