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

Compiling turns the template into a tree of nodes: constant subtrees are kept as they are
(shared, never copied: values are immutable by convention), and only objects and arrays that
hold a ``.$`` key somewhere get a node that builds a fresh container per evaluation.

Error texts are AWS's. At compile time: ``The value for the field 'x.$' must be a valid JSONPath
or a valid intrinsic function call`` (parse appends the location). At run time, a definite path
that matches nothing: ``The JSONPath '$.x' specified for the field 'x.$' could not be found in the
input '{"a":1}'`` with the input as compact JSON (the step adds AWS's "An error occurred while
executing the state ..." prefix). Indefinite paths give ``[]`` rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.events import to_json
from statewright.asl.intrinsics import Intrinsic, compile_intrinsic, is_intrinsic
from statewright.asl.paths import Path, PathNotFound, compile_path

__all__ = ["Template", "compile_template"]


class _Node(Protocol):
    """A compiled part of a template."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Constant:
    """A value without any ``.$`` key: returned as is."""

    value: Any
    """The JSON value."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class _FromPath:
    """``"key.$": "$.path"``."""

    path: Path
    """The compiled path."""
    field: str
    """The key as written (with ``.$``), for AWS's error text."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any:
        try:
            return self.path.get(data, ctx)
        except PathNotFound:
            raise StatesFailure(
                RUNTIME,
                f"The JSONPath '{self.path.text}' specified for the field '{self.field}' "
                f"could not be found in the input '{to_json(data)}'",
            ) from None


@dataclass(frozen=True, slots=True)
class _FromIntrinsic:
    """``"key.$": "States.Format(...)"``."""

    intrinsic: Intrinsic
    """The compiled call; it raises its own ``StatesFailure``."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any:
        return self.intrinsic.evaluate(data, ctx)


@dataclass(frozen=True, slots=True)
class _Object:
    """An object holding a ``.$`` key at some depth."""

    members: tuple[tuple[str, _Node], ...]
    """Output key and node, in template order."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any:
        return {key: node.evaluate(data, ctx) for key, node in self.members}


@dataclass(frozen=True, slots=True)
class _Array:
    """An array holding a ``.$`` key at some depth."""

    items: tuple[_Node, ...]
    """One node per element."""

    def evaluate(self, data: Any, ctx: Ctx | None) -> Any:
        return [node.evaluate(data, ctx) for node in self.items]


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled payload template."""

    source: Any
    """The template as written."""
    is_constant: bool
    """True when it holds no ``.$`` key: evaluating it returns ``source``."""
    node: _Node | None = None
    """The compiled tree; None for a constant template."""

    def evaluate(self, data: Any, ctx: Ctx | None = None) -> Any:
        """The template's value for ``data`` (the effective input, or the result)."""
        if self.node is None:
            return self.source
        return self.node.evaluate(data, ctx)


def _invalid(field: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        f"The value for the field '{field}' must be a valid JSONPath "
        "or a valid intrinsic function call"
    )


def _dynamic(field: str, text: Any) -> _Node:
    """The node for the value of a ``.$`` key."""
    if not isinstance(text, str):
        raise _invalid(field)
    try:
        if is_intrinsic(text):
            return _FromIntrinsic(compile_intrinsic(text))
        return _FromPath(compile_path(text, field=field), field)
    except ExpressionSyntaxError as exc:
        # AWS's text names the field only; the specific reason stays chained for debugging.
        raise _invalid(field) from exc


def _compile(value: Any) -> _Node:
    if isinstance(value, dict):
        members: list[tuple[str, _Node]] = []
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                members.append((key[:-2], _dynamic(key, item)))
            else:
                members.append((key, _compile(item)))
        if all(type(node) is _Constant for _, node in members):
            return _Constant(value)
        return _Object(tuple(members))
    if isinstance(value, list):
        items = tuple(_compile(item) for item in value)
        if all(type(node) is _Constant for node in items):
            return _Constant(value)
        return _Array(items)
    return _Constant(value)


def compile_template(value: Any) -> Template:
    """Compile a payload template once; raises ``ExpressionSyntaxError``."""
    node = _compile(value)
    if type(node) is _Constant:
        return Template(value, True)
    return Template(value, False, node)
