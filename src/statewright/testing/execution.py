"""A finished test execution and the assertions tests make on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from statewright.runtime.sync import ExecutionResult

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Execution:
    """What a test run gives back: status, output or error, the path taken and the history."""

    result: ExecutionResult
    """The runner's whole record (events, invocations, timing)."""

    @property
    def status(self) -> str:
        """SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
        return self.result.status

    @property
    def output(self) -> Any:
        """The execution's output (decoded JSON) when it succeeded, else None."""
        return self.result.output

    @property
    def error(self) -> str | None:
        """The error name when it did not succeed."""
        return None if self.result.failure is None else self.result.failure.error

    @property
    def cause(self) -> str | None:
        """The cause text when it did not succeed."""
        return None if self.result.failure is None else self.result.failure.cause

    @property
    def history(self) -> list[dict[str, Any]]:
        """GetExecutionHistory's events (``timestamp`` in epoch seconds)."""
        return [event.to_aws() for event in self.result.events]

    @property
    def event_types(self) -> list[str]:
        """The history's event types, in order."""
        return [event.type for event in self.result.events]

    @property
    def path(self) -> list[str]:
        """The states entered, in order (states inside Parallel and Map included)."""
        return [str(event.details.get("name")) for event in self.result.events
                if event.type.endswith("StateEntered") and event.details is not None]

    def state_input(self, state: str, visit: int = -1) -> Any:
        """The input a state was entered with (``visit``: which time, -1 the last)."""
        return self._details(state, "StateEntered", "input", visit)

    def state_output(self, state: str, visit: int = -1) -> Any:
        """The output a state exited with (``visit``: which time, -1 the last)."""
        return self._details(state, "StateExited", "output", visit)

    def invocations(self, state: str) -> int:
        """How many times the Task state ``state`` was invoked (retries included)."""
        count, current = 0, None
        for event in self.result.events:
            if event.type.endswith("StateEntered") and event.details is not None:
                current = event.details.get("name")
            elif event.type.endswith("Scheduled") and current == state:
                count += 1
        return count

    # ------------------------------------------------------------------ assertions

    def assert_succeeded(self, output: Any = _UNSET) -> None:
        """Fails the test unless the execution succeeded (with ``output``, when given)."""
        __tracebackhide__ = True  # pytest shows the failing test line, not this one
        if self.status != "SUCCEEDED":
            raise AssertionError(f"expected SUCCEEDED, got {self._summary()}")
        if output is not _UNSET and self.output != output:
            raise AssertionError(
                f"expected output {_json(output)}, got {_json(self.output)}")

    def assert_failed(self, error: str | None = None, cause: str | None = None) -> None:
        """Fails the test unless the execution failed (with ``error``/``cause``, when given)."""
        __tracebackhide__ = True  # pytest shows the failing test line, not this one
        if self.status != "FAILED":
            raise AssertionError(f"expected FAILED, got {self._summary()}")
        if error is not None and self.error != error:
            raise AssertionError(f"expected error {error!r}, got {self._summary()}")
        if cause is not None and self.cause != cause:
            raise AssertionError(f"expected cause {cause!r}, got {self.cause!r}")

    def assert_path(self, *states: str) -> None:
        """Fails the test unless exactly these states were entered, in this order."""
        __tracebackhide__ = True  # pytest shows the failing test line, not this one
        if self.path != list(states):
            raise AssertionError(f"expected path {list(states)}, got {self.path}")

    def assert_events(self, *types: str) -> None:
        """Fails the test unless these event types occur in the history in this order (other
        events may come between them)."""
        remaining = iter(self.event_types)
        for wanted in types:
            if not any(seen == wanted for seen in remaining):
                raise AssertionError(
                    f"expected events {list(types)} in order; history: {self.event_types}")

    # ------------------------------------------------------------------ helpers

    def _details(self, state: str, suffix: str, key: str, visit: int) -> Any:
        found: list[Any] = []
        for event in self.result.events:
            details = event.details or {}
            if event.type.endswith(suffix) and details.get("name") == state:
                found.append(details.get(key))
        if not found:
            raise KeyError(f"state {state!r} has no {suffix} event; path: {self.path}")
        text = found[visit]
        return json.loads(text) if isinstance(text, str) else text

    def _summary(self) -> str:
        if self.status == "SUCCEEDED":
            return f"SUCCEEDED with output {_json(self.output)} (path {self.path})"
        return (f"{self.status} with error {self.error!r}, cause {self.cause!r} "
                f"(path {self.path})")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
