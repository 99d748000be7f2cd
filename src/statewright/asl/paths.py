"""JSONPath as Step Functions evaluates it (Jayway semantics), compiled once.

INTERFACE (fixed; other modules rely on it):

- ``compile_path(text) -> Path``: any Path (``$``, ``$.a``, ``$..a``, filters, ``$$.`` context,
  ``$var.x`` variables). Raises ``ExpressionSyntaxError`` when it does not compile.
- ``compile_reference_path(text) -> Path``: a Reference Path (definite: only names and single
  indexes, used by ResultPath and ItemsPath); raises ``ExpressionSyntaxError`` otherwise.
- ``Path.get(data, ctx) -> Any``: the value; raises ``PathNotFound`` when nothing matches a
  definite path. An indefinite path gives a list (possibly empty).
- ``Path.exists(data, ctx) -> bool``: for ``IsPresent``.
- ``Path.set(data, value) -> Any``: a new document with ``value`` at the (reference) path; the
  input is not mutated (copy on write along the path). Raises ``PathNotFound`` when the path
  cannot be placed (e.g. through a non-object).
- ``Path.text``: the source text; ``Path.root``: ``"input"``, ``"context"`` or ``"variable"``.

Additions: ``compile_path(text, field=...)`` and ``compile_reference_path(text, field=...,
allow_context=..., allow_variables=...)`` (ItemsPath accepts ``$$``, ResultPath accepts neither);
``Path.definite``, ``Path.normalized``; ``PathNotFound.detail`` (Jayway's full message, also
``str(exc)``: quote it after ``Invalid path '<path>' : ``).

Semantics (evidence in ``tests/asl/test_paths.py``):

- Syntax is Jayway's ``PathCompiler``: ``.name`` (anything up to ``.``, ``[`` or ``(``, so
  ``$.1abc`` and ``$.a-b`` are names), ``['name']``/``["name"]`` (several: ``['a','b']``),
  ``[0]``, ``[-1]``, ``[0,2]``, slices ``[1:3]`` ``[:2]`` ``[-2:]`` (Jayway has no step: ``[::2]``
  does not compile and ``[0:4:2]`` means ``[0:4]``), ``*``/``[*]``, ``..`` deep scan, ``[?(...)]``
  filters (``_filters``) and trailing functions (``.length()``, ``.min()``...). Blanks are allowed
  inside brackets and around the whole path, nowhere else.
- ``$$`` is the Context Object; ``$name`` is the workflow variable ``name``.
- A path of names and single indexes is *definite*: it gives the value or raises
  ``PathNotFound`` whose text is Jayway's (``No results for path: $['a']['b']``, or ``Missing
  property in path $['a']`` when an inner name is absent). Any other path is *indefinite*: it
  gives the list of matches, empty when nothing matches, and never raises (AWS returns ``[]`` for
  ``$.items[1:]`` over ``{}``), so ``exists`` is true for it. A trailing function applies to the
  value of a definite path, to all the matches of a path starting with ``..`` (Jayway rewrites
  ``$..x.max()`` as ``$.max($..x)``), and to each match of any other indefinite path.
- A plain path (names and single indexes only) compiles to a tuple of keys walked by a tight
  loop; everything else is a tuple of steps. Nothing is parsed at evaluation time.

The text is read into steps by ``_pathsyntax``; this module builds the ``Path`` from them and
evaluates it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from statewright.asl._filters import MISSING
from statewright.asl._pathsyntax import (
    FUNCTION_NAMES,
    Filter,
    Indexes,
    Names,
    PathSyntax,
    Root,
    Scan,
    Slice,
    Step,
    Wildcard,
    parse_filter_path,
    parse_path,
)
from statewright.asl.context import Ctx
from statewright.asl.errors import ExpressionSyntaxError

__all__ = ["Path", "PathNotFound", "Root", "compile_path", "compile_reference_path"]


class PathNotFound(Exception):
    """A definite path matched nothing in the document."""

    def __init__(self, path: str, normalized: str, detail: str | None = None) -> None:
        self.path = path
        """The path as written in the definition, e.g. ``$.NoSuchInputPath``."""
        self.normalized = normalized
        """Jayway's normalized form, e.g. ``$['NoSuchInputPath']``."""
        self.detail = detail or f"No results for path: {normalized}"
        """Jayway's message, as AWS quotes it after ``Invalid path '<path>' : ``."""
        super().__init__(self.detail)


# --- path functions ----------------------------------------------------------------------------


def _numbers(value: Any) -> list[float]:
    # Jayway's aggregations read the numbers of an array and skip anything else.
    if not isinstance(value, list):
        return []
    return [float(v) for v in value if type(v) is int or type(v) is float]


def _aggregate(reduce: Callable[[list[float]], float]) -> Callable[[Any], Any]:
    def function(value: Any) -> Any:
        numbers = _numbers(value)
        if not numbers:
            raise _Miss("Aggregation function attempted to calculate value using empty array")
        return reduce(numbers)

    return function


def _stddev(numbers: list[float]) -> float:
    mean = sum(numbers) / len(numbers)
    return math.sqrt(sum(n * n for n in numbers) / len(numbers) - mean * mean)


def _length(value: Any) -> Any:
    return len(value) if isinstance(value, (list, dict)) else None


# Jayway's no-argument path functions; the aggregations return doubles, as in Java.
_FUNCTIONS: Final[dict[str, Callable[[Any], Any]]] = {
    "length": _length,
    "size": _length,
    "min": _aggregate(min),
    "max": _aggregate(max),
    "sum": _aggregate(math.fsum),
    "avg": _aggregate(lambda numbers: math.fsum(numbers) / len(numbers)),
    "stddev": _aggregate(_stddev),
    "keys": lambda value: list(value) if isinstance(value, dict) else None,
    "first": lambda value: value[0] if isinstance(value, list) and value else None,
    "last": lambda value: value[-1] if isinstance(value, list) and value else None,
}
assert _FUNCTIONS.keys() == FUNCTION_NAMES, "_pathsyntax and paths disagree on path functions"


class _Miss(Exception):
    """Raised inside evaluation when a definite path (or a function) has no value."""


# --- evaluation --------------------------------------------------------------------------------


def _definite(steps: tuple[Step, ...], node: Any) -> Any:
    """Walk names and single indexes; raises ``_Miss`` carrying the failing step's position."""
    for position, step in enumerate(steps):
        if type(step) is Names:
            if not isinstance(node, dict):
                raise _Miss(position)
            if len(step.names) > 1:  # a trailing ['a','b'] merges the members found
                node = {name: node[name] for name in step.names if name in node}
            elif step.names[0] in node:
                node = node[step.names[0]]
            else:
                raise _Miss(position)
        else:
            assert type(step) is Indexes
            if not isinstance(node, list):
                raise _Miss(position)
            index = step.indexes[0]
            if not -len(node) <= index < len(node):
                raise _Miss(position)
            node = node[index]
    return node


def _slice_indexes(step: Slice, length: int) -> range | list[int]:
    """Jayway's slice arithmetic, quirks included: only a lone bound counts from the end, and
    ``[1:-1]`` is empty (the stop is not normalized when both bounds are given)."""
    if length == 0:
        return range(0)
    if step.stop is None:
        assert step.start is not None
        start = step.start + length if step.start < 0 else step.start
        return range(max(0, start), length)
    if step.start is None:
        stop = step.stop + length if step.stop < 0 else step.stop
        return range(0, min(length, stop))
    # Each index of [start:stop] is then read like [i], so a negative start wraps around.
    indexes = (i + length if i < 0 else i for i in range(step.start, min(length, step.stop)))
    return [i for i in indexes if 0 <= i < length]


def _scan_matches(target: Step, node: Any, root: Any, last: bool) -> bool:
    """Whether the step after ``..`` applies at ``node`` (Jayway's scan predicates)."""
    if type(target) is Names:
        if not isinstance(node, dict):
            return False
        return (len(target.names) > 1 and not last) or all(n in node for n in target.names)
    if type(target) is Indexes or type(target) is Slice:
        return isinstance(node, list)
    if type(target) is Filter:
        return target.predicate.test(node, root)
    return True  # wildcard


def _collect(steps: tuple[Step, ...], position: int, node: Any, root: Any, out: list[Any]) -> None:
    """Append to ``out`` every match of ``steps[position:]`` from ``node``."""
    end = len(steps)
    while position < end:
        step = steps[position]
        kind = type(step)
        if kind is Names:
            assert isinstance(step, Names)
            if not isinstance(node, dict):
                return
            if len(step.names) == 1:
                if step.names[0] not in node:
                    return
                node = node[step.names[0]]
            elif position == end - 1:
                out.append({name: node[name] for name in step.names if name in node})
                return
            else:
                for name in step.names:
                    if name in node:
                        _collect(steps, position + 1, node[name], root, out)
                return
        elif kind is Indexes or kind is Slice:
            if not isinstance(node, list):
                return
            if kind is Slice:
                assert isinstance(step, Slice)
                indexes: Any = _slice_indexes(step, len(node))
            else:
                assert isinstance(step, Indexes)
                indexes = (i + len(node) if i < 0 else i for i in step.indexes)
            for index in indexes:
                if 0 <= index < len(node):
                    _collect(steps, position + 1, node[index], root, out)
            return
        elif kind is Wildcard:
            children = node.values() if isinstance(node, dict) else node
            if isinstance(node, (dict, list)):
                for child in children:
                    _collect(steps, position + 1, child, root, out)
            return
        elif kind is Filter:
            assert isinstance(step, Filter)
            if isinstance(node, list):
                for item in node:
                    if step.predicate.test(item, root):
                        _collect(steps, position + 1, item, root, out)
                return
            # Jayway applies a filter on an object to the object itself.
            if not isinstance(node, dict) or not step.predicate.test(node, root):
                return
        else:
            _scan(steps, position + 1, node, root, out)
            return
        position += 1
    out.append(node)


def _scan(steps: tuple[Step, ...], target: int, node: Any, root: Any, out: list[Any]) -> None:
    # Pre-order, as Jayway walks: a node's own match comes before its descendants'.
    if not isinstance(node, (dict, list)):
        return
    if _scan_matches(steps[target], node, root, target == len(steps) - 1):
        _collect(steps, target, node, root, out)
    for child in node.values() if isinstance(node, dict) else node:
        _scan(steps, target, child, root, out)


def _fragment(step: Step) -> str:
    """Jayway's normalized text of one step (``['a']``, ``[0]``, ``[1:]``, ``[*]``, ``..``)."""
    if type(step) is Names:
        quoted = (n.replace("\\", "\\\\").replace("'", "\\'") for n in step.names)
        return "[" + ",".join(step.quote + n + step.quote for n in quoted) + "]"
    if type(step) is Indexes:
        return "[" + ",".join(map(str, step.indexes)) + "]"
    if type(step) is Slice:
        start = "" if step.start is None else str(step.start)
        return f"[{start}:{'' if step.stop is None else step.stop}]"
    if type(step) is Filter:
        return "[?]"
    return "[*]" if type(step) is Wildcard else ".."


def _apply(functions: tuple[str, ...], value: Any) -> Any:
    for name in functions:
        value = _FUNCTIONS[name](value)
    return value


def _evaluate(path: Path, base: Any, root: Any) -> Any:
    """``path`` from ``base`` (``root`` is what ``$`` means inside filters); raises ``_Miss``."""
    if not path.branching:
        return _apply(path.functions, _definite(path.steps, base))
    matches: list[Any] = []
    _collect(path.steps, 0, base, root, matches)
    if not path.functions:
        return matches
    if type(path.steps[0]) is Scan:
        # Jayway rewrites $..x.fn() as $.fn($..x): one value from all the matches; length()
        # then counts the children of the matches ($..x[*]), as Jayway's Length does.
        first, rest = path.functions[0], path.functions[1:]
        if first in ("length", "size"):
            value: Any = sum(len(m) for m in matches if isinstance(m, (list, dict)))
        else:
            value = _FUNCTIONS[first](matches)
        return _apply(rest, value)
    # Otherwise the function applies to each match; one that fails contributes nothing.
    results = []
    for match in matches:
        try:
            results.append(_apply(path.functions, match))
        except _Miss:
            continue
    return results


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled JSONPath."""

    text: str
    """The source text."""
    root: Root
    """What ``$`` refers to: the state's input, the Context Object, or a variable."""
    variable: str | None
    """The variable name when ``root == "variable"``."""
    keys: tuple[str | int, ...] | None
    """The fast path: the keys of a path made of names and single indexes only, else None."""
    steps: tuple[Step, ...]
    """All steps from the root, functions excluded."""
    functions: tuple[str, ...] = ()
    """Trailing functions (``length``...), applied in order to the value the steps give."""
    definite: bool = True
    """True when ``get`` gives one value; False when it gives the list of matches."""
    branching: bool = False
    """The steps can match several values (wildcard, slice, scan, filter...): they collect."""
    names_only: bool = False
    """``keys`` holds names only, so a bare subscript loop is exact (lists refuse str keys)."""

    @property
    def normalized(self) -> str:
        """Jayway's normalized text, e.g. ``$['a'][0]``."""
        return (
            "$"
            + "".join(map(_fragment, self.steps))
            + "".join(f".{name}()" for name in self.functions)
        )

    def _base(self, data: Any, ctx: Ctx | None) -> Any:
        if self.root == "input":
            return data
        if ctx is not None and self.root == "context":
            return ctx.context
        if ctx is not None and self.variable in ctx.variables:
            return ctx.variables[self.variable]
        raise PathNotFound(self.text, self.normalized)

    def get(self, data: Any, ctx: Ctx | None = None) -> Any:
        """The value (definite path) or the list of matches (indefinite path)."""
        base = data if self.root == "input" else self._base(data, ctx)
        keys = self.keys
        if keys is not None:
            value = base
            try:
                if self.names_only:
                    for key in keys:
                        value = value[key]
                    return value
                for key in keys:
                    # Strings (and dicts with int keys) accept int subscripts; JSON arrays only.
                    if type(key) is int and not isinstance(value, list):
                        raise TypeError
                    value = value[key]
                return value
            except (KeyError, IndexError, TypeError):
                raise self._not_found(base) from None
        return self._slow_get(base)

    def _slow_get(self, base: Any) -> Any:
        try:
            return _evaluate(self, base, base)
        except _Miss as miss:
            raise self._not_found(base, miss) from None

    def _not_found(self, base: Any, miss: _Miss | None = None) -> PathNotFound:
        """Jayway's message for the first step that has no value (cold path)."""
        if miss is None:
            try:
                _definite(self.steps, base)
            except _Miss as found:
                miss = found
        where = miss.args[0] if miss is not None else None
        if isinstance(where, str):  # a function's own failure
            return PathNotFound(self.text, self.normalized, where)
        if isinstance(where, int):
            step, upstream = self.steps[where], self.steps[:where]
            node = base
            for before in upstream:  # the value the failing step was applied to
                node = _definite((before,), node)
            last = where == len(self.steps) - 1 and not self.functions
            if type(step) is Names and isinstance(node, dict) and not last:
                text = "$" + "".join(map(_fragment, self.steps[: where + 1]))
                return PathNotFound(self.text, self.normalized, f"Missing property in path {text}")
            if type(step) is Indexes and node is None:
                text = "$" + "".join(map(_fragment, upstream))
                return PathNotFound(self.text, self.normalized, f"The path {text} is null")
        return PathNotFound(self.text, self.normalized)

    def exists(self, data: Any, ctx: Ctx | None = None) -> bool:
        """True when ``get`` would succeed (an indefinite path always does)."""
        try:
            self.get(data, ctx)
        except PathNotFound:
            return False
        return True

    def set(self, data: Any, value: Any) -> Any:
        """``data`` with ``value`` placed at this reference path; only the containers along the
        path are copied. Missing members are created as objects."""
        if self.keys is None or self.root != "input":
            raise PathNotFound(self.text, self.normalized, f"Cannot set a value at {self.text}")
        return self._place(data, 0, value)

    def _place(self, node: Any, position: int, value: Any) -> Any:
        keys = self.keys
        assert keys is not None
        if position == len(keys):
            return value
        key = keys[position]
        if type(key) is int:
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                raise PathNotFound(self.text, self.normalized)
            items = list(node)
            items[key] = self._place(node[key], position + 1, value)
            return items
        if not isinstance(node, dict):
            raise PathNotFound(self.text, self.normalized)
        members = dict(node)
        members[key] = self._place(node.get(key, {}), position + 1, value)
        return members


# --- compiling ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FilterPath:
    """A path inside a filter: ``@...`` (the element) or ``$...`` (the document root)."""

    path: Path
    """The compiled path, evaluated from the element or the root."""
    from_root: bool
    """True for ``$``."""

    @property
    def definite(self) -> bool:
        return self.path.definite

    def lookup(self, item: Any, root: Any) -> Any:
        try:
            return _evaluate(self.path, root if self.from_root else item, root)
        except _Miss:
            return MISSING


def _filter_path(text: str, pos: int) -> tuple[_FilterPath, int]:
    steps, functions, end = parse_filter_path(text, pos, _filter_path)
    path = _build(text[pos:end], "input", None, steps, functions)
    return _FilterPath(path, text[pos] == "$"), end


def _is_definite(steps: list[Step]) -> bool:
    last = len(steps) - 1
    for position, step in enumerate(steps):
        if type(step) is Names:
            if len(step.names) > 1 and position != last:
                return False
        elif type(step) is not Indexes or len(step.indexes) > 1:
            return False
    return True


def _build(
    text: str, root: Root, variable: str | None, steps: list[Step], functions: list[str]
) -> Path:
    keys: list[str | int] | None = []
    for step in steps:
        if keys is not None and type(step) is Names and len(step.names) == 1:
            keys.append(step.names[0])
        elif keys is not None and type(step) is Indexes and len(step.indexes) == 1:
            keys.append(step.indexes[0])
        else:
            keys = None
    definite = _is_definite(steps)
    fast = tuple(keys) if keys is not None and not functions else None
    return Path(
        text=text,
        root=root,
        variable=variable,
        keys=fast,
        steps=tuple(steps),
        functions=tuple(functions),
        definite=definite or (bool(functions) and type(steps[0]) is Scan),
        branching=not definite,
        names_only=fast is not None and all(type(k) is str for k in fast),
    )


def _compile(text: str) -> Path:
    root, variable, steps, functions = parse_path(text, _filter_path)
    return _build(text, root, variable, steps, functions)


def compile_path(text: Any, *, field: str | None = None) -> Path:
    """Compile a Path; ``field`` names the definition field in the error message."""
    if isinstance(text, str):
        try:
            return _compile(text)
        except PathSyntax as exc:
            raise ExpressionSyntaxError(_invalid(field, "JSONPath")) from exc
    raise ExpressionSyntaxError(_invalid(field, "JSONPath"))


def compile_reference_path(
    text: Any,
    *,
    field: str | None = None,
    allow_context: bool = False,
    allow_variables: bool = True,
) -> Path:
    """Compile a Reference Path: names and single indexes only. ResultPath should pass
    ``allow_variables=False``; ItemsPath accepts ``$$`` (``allow_context=True``)."""
    path = compile_path(text, field=field)
    refused = (path.root == "context" and not allow_context) or (
        path.root == "variable" and not allow_variables
    )
    if path.keys is None or refused:
        raise ExpressionSyntaxError(_invalid(field, "Reference Path"))
    return path


def _invalid(field: str | None, kind: str) -> str:
    # AWS's SCHEMA_VALIDATION_FAILED text; parse appends the location.
    if field is None:
        return f"The value for the field must be a valid {kind}"
    return f"The value for the field '{field}' must be a valid {kind}"
