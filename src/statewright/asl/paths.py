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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from statewright.asl._filters import (
    MISSING,
    FilterSyntax,
    Predicate,
    closing_quote,
    parse_filter,
    skip_blanks,
    unescape,
)
from statewright.asl.context import Ctx
from statewright.asl.errors import ExpressionSyntaxError

__all__ = ["Path", "PathNotFound", "Root", "compile_path", "compile_reference_path"]

Root = Literal["input", "context", "variable"]


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


# --- compiled steps ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Names:
    """``.name``, ``['name']`` or ``['a','b']``."""

    names: tuple[str, ...]
    """One name, or several (merged into one object when last, iterated otherwise)."""
    quote: str
    """The quote Jayway prints the names with in normalized text."""


@dataclass(frozen=True, slots=True)
class _Indexes:
    """``[0]``, ``[-1]`` or ``[0,2]``."""

    indexes: tuple[int, ...]
    """Array indexes; negative ones count from the end."""


@dataclass(frozen=True, slots=True)
class _Slice:
    """``[start:stop]`` with either bound optional."""

    start: int | None
    """First index; negative counts from the end."""
    stop: int | None
    """Index after the last one."""


@dataclass(frozen=True, slots=True)
class _Wildcard:
    """``*`` or ``[*]``: every member value or array element."""


@dataclass(frozen=True, slots=True)
class _Scan:
    """``..``: the next step applied at every depth."""


@dataclass(frozen=True, slots=True)
class _Filter:
    """``[?(...)]``: array elements (or an object itself) for which the predicate holds."""

    predicate: Predicate
    """The compiled filter expression."""


Step = _Names | _Indexes | _Slice | _Wildcard | _Scan | _Filter
_WILDCARD: Final = _Wildcard()
_SCAN: Final = _Scan()


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


class _Miss(Exception):
    """Raised inside evaluation when a definite path (or a function) has no value."""


# --- evaluation --------------------------------------------------------------------------------


def _definite(steps: tuple[Step, ...], node: Any) -> Any:
    """Walk names and single indexes; raises ``_Miss`` carrying the failing step's position."""
    for position, step in enumerate(steps):
        if type(step) is _Names:
            if not isinstance(node, dict):
                raise _Miss(position)
            if len(step.names) > 1:  # a trailing ['a','b'] merges the members found
                node = {name: node[name] for name in step.names if name in node}
            elif step.names[0] in node:
                node = node[step.names[0]]
            else:
                raise _Miss(position)
        else:
            assert type(step) is _Indexes
            if not isinstance(node, list):
                raise _Miss(position)
            index = step.indexes[0]
            if not -len(node) <= index < len(node):
                raise _Miss(position)
            node = node[index]
    return node


def _slice_indexes(step: _Slice, length: int) -> range | list[int]:
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
    if type(target) is _Names:
        if not isinstance(node, dict):
            return False
        return (len(target.names) > 1 and not last) or all(n in node for n in target.names)
    if type(target) is _Indexes or type(target) is _Slice:
        return isinstance(node, list)
    if type(target) is _Filter:
        return target.predicate.test(node, root)
    return True  # wildcard


def _collect(steps: tuple[Step, ...], position: int, node: Any, root: Any, out: list[Any]) -> None:
    """Append to ``out`` every match of ``steps[position:]`` from ``node``."""
    end = len(steps)
    while position < end:
        step = steps[position]
        kind = type(step)
        if kind is _Names:
            assert isinstance(step, _Names)
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
        elif kind is _Indexes or kind is _Slice:
            if not isinstance(node, list):
                return
            if kind is _Slice:
                assert isinstance(step, _Slice)
                indexes: Any = _slice_indexes(step, len(node))
            else:
                assert isinstance(step, _Indexes)
                indexes = (i + len(node) if i < 0 else i for i in step.indexes)
            for index in indexes:
                if 0 <= index < len(node):
                    _collect(steps, position + 1, node[index], root, out)
            return
        elif kind is _Wildcard:
            children = node.values() if isinstance(node, dict) else node
            if isinstance(node, (dict, list)):
                for child in children:
                    _collect(steps, position + 1, child, root, out)
            return
        elif kind is _Filter:
            assert isinstance(step, _Filter)
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
    if type(step) is _Names:
        quoted = (n.replace("\\", "\\\\").replace("'", "\\'") for n in step.names)
        return "[" + ",".join(step.quote + n + step.quote for n in quoted) + "]"
    if type(step) is _Indexes:
        return "[" + ",".join(map(str, step.indexes)) + "]"
    if type(step) is _Slice:
        start = "" if step.start is None else str(step.start)
        return f"[{start}:{'' if step.stop is None else step.stop}]"
    if type(step) is _Filter:
        return "[?]"
    return "[*]" if type(step) is _Wildcard else ".."


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
    if type(path.steps[0]) is _Scan:
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
            if type(step) is _Names and isinstance(node, dict) and not last:
                text = "$" + "".join(map(_fragment, self.steps[: where + 1]))
                return PathNotFound(self.text, self.normalized, f"Missing property in path {text}")
            if type(step) is _Indexes and node is None:
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


# --- compiler ----------------------------------------------------------------------------------


class _PathSyntax(Exception):
    """Why a path does not compile (chained under the ExpressionSyntaxError AWS's text)."""


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?\d+")
_DIGITS = frozenset("0123456789")
# Inside a filter a path ends at a blank, a relational operator or a closing parenthesis.
_FILTER_PATH_END = frozenset(" \t\r\n)<>=!~&|,]")


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text) or not -(2**31) <= int(text) < 2**31:
        raise _PathSyntax(f"Invalid array index '{text}'")
    return int(text)


def _array_token(content: str) -> Step:
    """``[0]``, ``[0, 2]``, ``[1:3]``, ``[:2]``, ``[-2:]`` (content between the brackets)."""
    content = content.strip()
    if ":" in content:
        # Jayway splits on ':' dropping trailing empty parts and reads only two bounds.
        parts = content.split(":")
        while parts and not parts[-1]:
            parts.pop()
        start = _integer(parts[0]) if parts and parts[0] else None
        stop = _integer(parts[1]) if len(parts) > 1 and parts[1] else None
        if start is None and stop is None:
            raise _PathSyntax(f"Failed to parse slice [{content}]")
        return _Slice(start, stop)
    return _Indexes(tuple(_integer(part.strip()) for part in content.split(",")))


def _bracket_names(text: str, pos: int) -> tuple[Step, int]:
    """``['a']``, ``["a"]``, ``['a', 'b']`` starting at the first quote; returns the step and the
    index after ``]``."""
    quote = text[pos]
    names: list[str] = []
    while True:
        end = closing_quote(text, pos)
        if end < 0:
            raise _PathSyntax(f"Property has not been closed - missing closing {quote}")
        names.append(unescape(text[pos + 1 : end]))
        pos = skip_blanks(text, end + 1)
        if text[pos : pos + 1] == "]":
            return _Names(tuple(names), quote), pos + 1
        if text[pos : pos + 1] != ",":
            raise _PathSyntax("Property must be separated by comma or terminated by ']'")
        pos = skip_blanks(text, pos + 1)
        if text[pos : pos + 1] != quote:
            raise _PathSyntax(f"Expected a {quote}-quoted property at position {pos}")


def _bracket(text: str, pos: int) -> tuple[Step, int]:
    """The bracket token opening at ``text[pos]``."""
    inner = skip_blanks(text, pos + 1)
    char = text[inner : inner + 1]
    if char in ("'", '"'):
        return _bracket_names(text, inner)
    if char == "*":
        close = skip_blanks(text, inner + 1)
        if text[close : close + 1] != "]":
            raise _PathSyntax(f"Expected wildcard token to end with ']' on position {close}")
        return _WILDCARD, close + 1
    if char == "?":
        opening = skip_blanks(text, inner + 1)
        if text[opening : opening + 1] != "(":
            raise _PathSyntax("Filter must start with '[?(' and end with ')]'")
        try:
            predicate, after = parse_filter(text, opening, _filter_path)
        except FilterSyntax as exc:
            raise _PathSyntax(str(exc)) from exc
        close = skip_blanks(text, after)
        if text[close : close + 1] != "]":
            raise _PathSyntax("Filter must start with '[?(' and end with ')]'")
        return _Filter(predicate), close + 1
    if char and (char in _DIGITS or char in "-:"):
        close = text.find("]", inner)
        if close < 0:
            raise _PathSyntax("Array index has not been closed - missing closing ]")
        return _array_token(text[pos + 1 : close]), close + 1
    raise _PathSyntax(f"Could not parse token starting at position {pos}")


def _tokens(text: str, pos: int, in_filter: bool) -> tuple[list[Step], list[str], int]:
    """Steps and trailing functions from ``text[pos]`` (just after ``$``/``@``); returns them and
    the index where the path ends (the end of ``text`` unless ``in_filter``)."""
    steps: list[Step] = []
    functions: list[str] = []
    end = len(text)
    while pos < end:
        char = text[pos]
        if in_filter and char in _FILTER_PATH_END:
            break
        if functions:
            raise _PathSyntax("A function must end the path")
        if char == "[":
            step, pos = _bracket(text, pos)
            steps.append(step)
            continue
        if char == ".":
            if text.startswith("..", pos):
                steps.append(_SCAN)
                pos += 2
            else:
                pos += 1
            if pos == end or (in_filter and text[pos] in _FILTER_PATH_END):
                raise _PathSyntax("Path must not end with a '.' or '..'")
            if text[pos] == ".":
                raise _PathSyntax(f"Character '.' on position {pos} is not valid")
            if text[pos] == "[":
                continue
        if text[pos] == "*":
            steps.append(_WILDCARD)
            pos += 1
            continue
        # A name runs to the next '.', '[' or '('; Jayway refuses a blank in it.
        start = pos
        while pos < end and text[pos] not in ".[(":
            if in_filter and text[pos] in _FILTER_PATH_END:
                break
            if text[pos] == " ":
                raise _PathSyntax("Use bracket notation ['my prop'] if your property has blanks")
            pos += 1
        name = text[start:pos]
        if not name:
            raise _PathSyntax(f"Could not parse token starting at position {start}")
        if text[pos : pos + 1] != "(":
            steps.append(_Names((name,), "'"))
            continue
        if text[pos + 1 : pos + 2] != ")":
            raise _PathSyntax(f"Arguments to function '{name}' are not supported")
        if name not in _FUNCTIONS:
            raise _PathSyntax(f"Function of name: {name} cannot be created")
        if steps and steps[-1] is _SCAN:
            raise _PathSyntax("A function cannot follow '..'")
        functions.append(name)
        pos += 2
        while pos < end and text[pos] == ".":  # chained: .keys().length()
            fname, _, rest = text[pos + 1 :].partition("(")
            if fname not in _FUNCTIONS or not rest.startswith(")"):
                raise _PathSyntax("A function must end the path")
            functions.append(fname)
            pos += len(fname) + 3
    if steps and steps[-1] is _SCAN and not functions:
        raise _PathSyntax("Path must not end with a '.' or '..'")
    return steps, functions, pos


def _is_definite(steps: list[Step]) -> bool:
    last = len(steps) - 1
    for position, step in enumerate(steps):
        if type(step) is _Names:
            if len(step.names) > 1 and position != last:
                return False
        elif type(step) is not _Indexes or len(step.indexes) > 1:
            return False
    return True


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
    after = pos + 1
    if after < len(text) and text[after] not in ".[" and text[after] not in _FILTER_PATH_END:
        raise _PathSyntax(f"Illegal character at position {after} expected '.' or '['")
    steps, functions, end = _tokens(text, after, in_filter=True)
    path = _build(text[pos:end], "input", None, steps, functions)
    return _FilterPath(path, text[pos] == "$"), end


def _build(
    text: str, root: Root, variable: str | None, steps: list[Step], functions: list[str]
) -> Path:
    keys: list[str | int] | None = []
    for step in steps:
        if keys is not None and type(step) is _Names and len(step.names) == 1:
            keys.append(step.names[0])
        elif keys is not None and type(step) is _Indexes and len(step.indexes) == 1:
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
        definite=definite or (bool(functions) and type(steps[0]) is _Scan),
        branching=not definite,
        names_only=fast is not None and all(type(k) is str for k in fast),
    )


def _compile(text: str) -> Path:
    source = text.strip()
    if not source.startswith("$"):
        raise _PathSyntax("Path must start with '$'")
    root: Root = "input"
    variable = None
    pos = 1
    if source.startswith("$$"):
        root, pos = "context", 2
    else:
        match = _VARIABLE.match(source, 1)
        if match:
            root, variable, pos = "variable", match.group(), match.end()
    if pos < len(source) and source[pos] not in ".[":
        raise _PathSyntax(f"Illegal character at position {pos} expected '.' or '['")
    steps, functions, _ = _tokens(source, pos, in_filter=False)
    return _build(text, root, variable, steps, functions)


def compile_path(text: Any, *, field: str | None = None) -> Path:
    """Compile a Path; ``field`` names the definition field in the error message."""
    if isinstance(text, str):
        try:
            return _compile(text)
        except _PathSyntax as exc:
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
