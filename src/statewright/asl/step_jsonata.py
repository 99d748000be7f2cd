"""The JSONata data flow of a state: what ``step`` does instead of the JSONPath fields.

A JSONata state reads its input only through expressions: ``$states.input`` (the raw state
input), ``$states.context`` (the Context Object), ``$states.result`` (Task, Parallel and Map, on
success), ``$states.errorOutput`` (in a Catcher) and the workflow variables as ``$name``. Every
expression of one state sees the variables as they were when the state was entered, so
``Assign`` and ``Output`` never see each other's work (Step Functions developer guide,
"Passing data between states with variables").

Defaults, from the developer guide's "Transforming data with JSONata": without ``Arguments``
the Task/branch input is the state input; without ``Output`` a Task, Parallel or Map outputs its
result and any other state its input; a Catcher without ``Output`` outputs the error output
(``{"Error": ..., "Cause": ...}``). Faults raise ``StatesFailure``, which ``step`` turns into a
failure of the state (catchable, as on AWS, when it is a ``States.QueryEvaluationError``).
"""

from __future__ import annotations

from typing import Any

from statewright.asl import errors as err
from statewright.asl.context import Ctx
from statewright.asl.errors import StatesFailure
from statewright.asl.events import to_json
from statewright.asl.jsonata import Value, type_name
from statewright.asl.model import Expr, JsonataFields

__all__ = ["assign", "bindings", "evaluate_typed", "integer_value", "output", "query_value"]


def bindings(data: Any, ctx: Ctx, **states: Any) -> dict[str, Any]:
    """The names an expression of this state sees: the variables and ``$states``."""
    return {**ctx.variables, "states": {"input": data, "context": ctx.context, **states}}


def output(fields: JsonataFields | None, names: dict[str, Any], ctx: Ctx, default: Any) -> Any:
    """The ``Output`` field's value, else ``default``."""
    if fields is None or fields.output is None:
        return default
    return fields.output.evaluate(names, ctx)


def assign(fields: JsonataFields | None, names: dict[str, Any], ctx: Ctx) -> dict[str, Any] | None:
    """The variables ``Assign`` sets (None when the state assigns none)."""
    if fields is None or fields.assign is None:
        return None
    value = fields.assign.evaluate(names, ctx)
    return value if isinstance(value, dict) else None


def evaluate_typed(value: Value, names: dict[str, Any], ctx: Ctx, expected: str) -> Any:
    """A field whose expression must give one JSON type (``array`` for Items, ``boolean`` for
    Condition, ``object``...); the cause is AWS's (conformance: Map Items of the wrong type)."""
    result = value.evaluate(names, ctx)
    if type_name(result) != expected:
        text = getattr(value, "text", None)
        field = getattr(value, "field", "")
        described = (
            f"The JSONata expression '{text}' specified for the field '{field}'"
            if text is not None else f"The value of the field '{field}'"
        )
        raise StatesFailure(
            err.QUERY_EVALUATION_ERROR,
            f"{described} returned an unexpected result type. Expected '{expected}', but was "
            f"'{type_name(result)}' for value: {to_json(result)}",
            location=field,
        )
    return result


def query_value(expr: Expr, names: dict[str, Any], ctx: Ctx) -> Any:
    """A literal-or-expression field of a JSONata state (``Seconds``, ``Error``...)."""
    if expr.query is not None:
        return expr.query.evaluate(names, ctx)
    return expr.literal


def integer_value(expr: Expr, names: dict[str, Any], ctx: Ctx, minimum: int) -> int:
    """An expression that must give an integer of at least ``minimum`` (``TimeoutSeconds``,
    ``Seconds``, ``MaxConcurrency``...). [ours] in the pattern of AWS's type error above."""
    value = query_value(expr, names, ctx)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        expected = "integer"
    elif value < minimum:
        expected = "positive integer" if minimum > 0 else "non-negative integer"
    else:
        return int(value)
    text = getattr(expr.query, "text", None)
    raise StatesFailure(
        err.QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{text}' specified for the field '{expr.field}' returned an "
        f"unexpected result type. Expected '{expected}', but was '{type_name(value)}' for "
        f"value: {to_json(value)}",
        location=expr.field,
    )
