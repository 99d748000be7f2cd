"""The 18 intrinsic functions (``States.Format(...)`` ...), parsed once into a call tree.

INTERFACE (fixed; other modules rely on it):

- ``is_intrinsic(text) -> bool``: the string is an intrinsic call (starts ``States.`` + name + ``(``).
- ``compile_intrinsic(text) -> Intrinsic``: raises ``ExpressionSyntaxError`` for bad syntax,
  unknown functions, wrong arity known at compile time, more than 10 levels of nesting.
- ``Intrinsic.evaluate(data, ctx) -> Any``: the value; raises ``StatesFailure`` with AWS's error
  name (``States.Runtime`` / ``States.IntrinsicFailure``) and cause text on misuse at run time.

TODO(helper): implement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statewright.asl.context import Ctx
from statewright.asl.errors import ExpressionSyntaxError


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.") and "(" in text


@dataclass(frozen=True, slots=True)
class Intrinsic:
    """A compiled intrinsic function call."""

    text: str
    """The source text."""

    def evaluate(self, data: Any, ctx: Ctx | None = None) -> Any:
        raise NotImplementedError


def compile_intrinsic(text: str) -> Intrinsic:
    raise ExpressionSyntaxError(f"intrinsic functions are not implemented yet: {text}")
