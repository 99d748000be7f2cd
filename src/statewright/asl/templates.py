"""Payload templates (Parameters, ResultSelector, ItemSelector, Assign): compiled once.

A payload template is any JSON value. In an object, a key ending in ``.$`` takes its value from
a Path (``$.x``, ``$$.x``, ``$var``) or an intrinsic function; the ``.$`` is dropped from the
output key. Nested objects and arrays are templates too.

INTERFACE (fixed; other modules rely on it):

- ``compile_template(value) -> Template``: raises ``ExpressionSyntaxError`` (message names the
  offending key) when a ``.$`` value is not a string, not a valid path or intrinsic.
- ``Template.evaluate(data, ctx) -> Any``: the built value; raises ``StatesFailure`` with AWS's
  error and cause when a path is not found (``States.Runtime``) or an intrinsic fails.
- ``Template.is_constant``: no ``.$`` key anywhere (evaluate returns the value itself).

TODO(helper): replace the minimal implementation below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.paths import PathNotFound, compile_path


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled payload template."""

    source: Any
    """The template as written."""
    is_constant: bool
    """True when it holds no ``.$`` key: evaluating it returns ``source``."""

    def evaluate(self, data: Any, ctx: Ctx | None = None) -> Any:
        if self.is_constant:
            return self.source
        return _evaluate(self.source, data, ctx)


def _evaluate(value: Any, data: Any, ctx: Ctx | None) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.endswith(".$") and isinstance(item, str):
                try:
                    out[key[:-2]] = compile_path(item).get(data, ctx)
                except PathNotFound as exc:
                    raise StatesFailure(
                        RUNTIME,
                        f"The JSONPath '{item}' specified for the field '{key}' could not be "
                        f"found in the input",
                    ) from exc
            else:
                out[key] = _evaluate(item, data, ctx)
        return out
    if isinstance(value, list):
        return [_evaluate(item, data, ctx) for item in value]
    return value


def _has_dynamic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k.endswith(".$") or _has_dynamic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_dynamic(v) for v in value)
    return False


def compile_template(value: Any) -> Template:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(".$") and not isinstance(item, str):
                raise ExpressionSyntaxError(f"The value for the field '{key}' must be a STRING")
    return Template(value, not _has_dynamic(value))
