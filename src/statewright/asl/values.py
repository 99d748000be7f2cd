"""Run-time checks of values read from ``*Path`` fields (and, later, JSONata expressions).

A definition can only say *where* a number comes from; the value itself arrives with the input.
Every conversion the engine makes from such a value goes through one function here, one per
field kind. A value of the wrong type or range raises ``StatesFailure(States.Runtime, cause)``
with AWS's cause text, so the execution fails in the state that read it, never the server.

``field`` is the field as written (``SecondsPath``); ``source`` is what AWS quotes as the value's
origin: the path text for a ``*Path`` field.

Where the cause texts come from: AWS's recordings kept in LocalStack's snapshot tests
(``test_base_scenarios`` Wait/Map cases, ``MaxConcurrencyPath``, ``ToleratedFailure*Path``), and
the interpreter that reproduces them (``localstack/services/stepfunctions/asl/component/state/
state_wait/wait_function/seconds_path.py``, ``.../state_map/tolerated_failure.py``,
``.../state_map/max_concurrency.py``). Those read integer fields from strings too
(``"3"`` -> 3), as AWS's Java service does; a number with a fraction is no integer.
"""

from __future__ import annotations

import math
from typing import Any

from statewright.asl import errors as err
from statewright.asl.errors import StatesFailure
from statewright.asl.events import to_json
from statewright.asl.timestamps import parse_timestamp_seconds

__all__ = [
    "max_concurrency",
    "task_seconds",
    "timestamp",
    "tolerated_failure_count",
    "tolerated_failure_percentage",
    "wait_seconds",
]


def _text(value: Any) -> str:
    """A value as AWS quotes it in a cause: strings bare, everything else as JSON."""
    if isinstance(value, str):
        return value
    return to_json(value)


def _integer(value: Any) -> int | None:
    """``value`` as an integer: a JSON integer or a string holding one; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            return None
    return None


def _number(value: Any) -> float | None:
    """``value`` as a finite number: a JSON number or a string holding one; else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _runtime(cause: str) -> StatesFailure:
    return StatesFailure(err.RUNTIME, cause)


def wait_seconds(value: Any, field: str, source: str) -> int:
    """Wait's ``SecondsPath``: a non-negative integer (a float, even 1.0, is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _runtime(f"The {field} parameter cannot be parsed as a long value: "
                       f"{source} == {_text(value)}")
    if value < 0:
        raise _runtime(f"The {field} parameter references a negative value: "
                       f"{source} == {_text(value)}")
    return value


def timestamp(value: Any, field: str, source: str) -> float:
    """Wait's ``TimestampPath``: an RFC 3339 date-time string; epoch seconds."""
    moment = parse_timestamp_seconds(value) if isinstance(value, str) else None
    if moment is None:
        raise _runtime(f"The {field} parameter does not reference a valid ISO-8601 extended "
                       f"offset date-time format string: {source} == {_text(value)}")
    return moment


def task_seconds(value: Any, field: str) -> int:
    """Task's ``TimeoutSecondsPath``/``HeartbeatSecondsPath``: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _runtime(f"The {field} parameter does not reference a valid positive integer: "
                       f"{to_json(value)}")
    return value


def _path_integer(value: Any, field: str, source: str) -> int:
    """A Map count field's value as an integer, else AWS's "not a valid integer" fault."""
    number = _integer(value)
    if number is None:
        raise _runtime(f'The {field} field refers to value "{_text(value)}" which is not a '
                       f"valid integer: {source}")
    return number


def max_concurrency(value: Any, field: str, source: str) -> int:
    """Map's ``MaxConcurrencyPath``: a non-negative integer (0: no limit)."""
    number = _path_integer(value, field, source)
    if number < 0:
        raise _runtime(f"Expected non-negative integer for MaxConcurrency, got '{number}' "
                       "instead.")
    return number


def tolerated_failure_count(value: Any, field: str, source: str) -> int:
    """Map's ``ToleratedFailureCountPath``: a non-negative integer."""
    number = _path_integer(value, field, source)
    if number < 0:
        raise _runtime("ToleratedFailureCount cannot be negative.")
    return number


def tolerated_failure_percentage(value: Any, field: str, source: str) -> float:
    """Map's ``ToleratedFailurePercentagePath``: a number from 0 to 100."""
    number = _number(value)
    if number is None:
        raise _runtime(f'The {field} field refers to value "{_text(value)}" which is not a '
                       f"valid float: {source}")
    if not 0 <= number <= 100:
        raise _runtime("ToleratedFailurePercentage must be between 0 and 100.")
    return number
