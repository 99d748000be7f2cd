"""Reading JSONPath text into steps, as Jayway's ``PathCompiler`` does; private to ``paths``.

``parse_path`` turns the text of a whole path into its root, steps and trailing function names;
``paths`` builds the evaluable ``Path`` from them once, at compile time, and never calls this
module while evaluating. A filter (``[?(...)]``) is compiled by ``_filters``; the paths inside it
(``@.price``, ``$.limit``) come back through the ``read_path`` callback ``paths`` passes in, so
this module never imports ``paths``.

The syntax accepted is described in the docstring of ``paths``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from statewright.asl._filters import (
    FilterSyntax,
    Predicate,
    ReadPath,
    closing_quote,
    parse_filter,
    skip_blanks,
    unescape,
)

__all__ = [
    "FUNCTION_NAMES",
    "Filter",
    "Indexes",
    "Names",
    "PathSyntax",
    "Root",
    "Scan",
    "Slice",
    "Step",
    "Wildcard",
    "parse_filter_path",
    "parse_path",
]

Root = Literal["input", "context", "variable"]

# Jayway's no-argument path functions; ``paths`` holds their implementations.
FUNCTION_NAMES: Final = frozenset(
    ("length", "size", "min", "max", "sum", "avg", "stddev", "keys", "first", "last")
)


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Names:
    """``.name``, ``['name']`` or ``['a','b']``."""

    names: tuple[str, ...]
    """One name, or several (merged into one object when last, iterated otherwise)."""
    quote: str
    """The quote Jayway prints the names with in normalized text."""


@dataclass(frozen=True, slots=True)
class Indexes:
    """``[0]``, ``[-1]`` or ``[0,2]``."""

    indexes: tuple[int, ...]
    """Array indexes; negative ones count from the end."""


@dataclass(frozen=True, slots=True)
class Slice:
    """``[start:stop]`` with either bound optional."""

    start: int | None
    """First index; negative counts from the end."""
    stop: int | None
    """Index after the last one."""


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``*`` or ``[*]``: every member value or array element."""


@dataclass(frozen=True, slots=True)
class Scan:
    """``..``: the next step applied at every depth."""


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(...)]``: array elements (or an object itself) for which the predicate holds."""

    predicate: Predicate
    """The compiled filter expression."""


Step = Names | Indexes | Slice | Wildcard | Scan | Filter
_WILDCARD: Final = Wildcard()
_SCAN: Final = Scan()


# --- reading the text --------------------------------------------------------------------------


class PathSyntax(Exception):
    """Why a path does not compile (chained under the ExpressionSyntaxError AWS's text)."""


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?\d+")
_DIGITS = frozenset("0123456789")
# Inside a filter a path ends at a blank, a relational operator or a closing parenthesis.
_FILTER_PATH_END = frozenset(" \t\r\n)<>=!~&|,]")


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text) or not -(2**31) <= int(text) < 2**31:
        raise PathSyntax(f"Invalid array index '{text}'")
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
            raise PathSyntax(f"Failed to parse slice [{content}]")
        return Slice(start, stop)
    return Indexes(tuple(_integer(part.strip()) for part in content.split(",")))


def _bracket_names(text: str, pos: int) -> tuple[Step, int]:
    """``['a']``, ``["a"]``, ``['a', 'b']`` starting at the first quote; returns the step and the
    index after ``]``."""
    quote = text[pos]
    names: list[str] = []
    while True:
        end = closing_quote(text, pos)
        if end < 0:
            raise PathSyntax(f"Property has not been closed - missing closing {quote}")
        names.append(unescape(text[pos + 1 : end]))
        pos = skip_blanks(text, end + 1)
        if text[pos : pos + 1] == "]":
            return Names(tuple(names), quote), pos + 1
        if text[pos : pos + 1] != ",":
            raise PathSyntax("Property must be separated by comma or terminated by ']'")
        pos = skip_blanks(text, pos + 1)
        if text[pos : pos + 1] != quote:
            raise PathSyntax(f"Expected a {quote}-quoted property at position {pos}")


def _bracket(text: str, pos: int, read_path: ReadPath) -> tuple[Step, int]:
    """The bracket token opening at ``text[pos]``."""
    inner = skip_blanks(text, pos + 1)
    char = text[inner : inner + 1]
    if char in ("'", '"'):
        return _bracket_names(text, inner)
    if char == "*":
        close = skip_blanks(text, inner + 1)
        if text[close : close + 1] != "]":
            raise PathSyntax(f"Expected wildcard token to end with ']' on position {close}")
        return _WILDCARD, close + 1
    if char == "?":
        opening = skip_blanks(text, inner + 1)
        if text[opening : opening + 1] != "(":
            raise PathSyntax("Filter must start with '[?(' and end with ')]'")
        try:
            predicate, after = parse_filter(text, opening, read_path)
        except FilterSyntax as exc:
            raise PathSyntax(str(exc)) from exc
        close = skip_blanks(text, after)
        if text[close : close + 1] != "]":
            raise PathSyntax("Filter must start with '[?(' and end with ')]'")
        return Filter(predicate), close + 1
    if char and (char in _DIGITS or char in "-:"):
        close = text.find("]", inner)
        if close < 0:
            raise PathSyntax("Array index has not been closed - missing closing ]")
        return _array_token(text[pos + 1 : close]), close + 1
    raise PathSyntax(f"Could not parse token starting at position {pos}")


def _tokens(
    text: str, pos: int, in_filter: bool, read_path: ReadPath
) -> tuple[list[Step], list[str], int]:
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
            raise PathSyntax("A function must end the path")
        if char == "[":
            step, pos = _bracket(text, pos, read_path)
            steps.append(step)
            continue
        if char == ".":
            if text.startswith("..", pos):
                steps.append(_SCAN)
                pos += 2
            else:
                pos += 1
            if pos == end or (in_filter and text[pos] in _FILTER_PATH_END):
                raise PathSyntax("Path must not end with a '.' or '..'")
            if text[pos] == ".":
                raise PathSyntax(f"Character '.' on position {pos} is not valid")
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
                raise PathSyntax("Use bracket notation ['my prop'] if your property has blanks")
            pos += 1
        name = text[start:pos]
        if not name:
            raise PathSyntax(f"Could not parse token starting at position {start}")
        if text[pos : pos + 1] != "(":
            steps.append(Names((name,), "'"))
            continue
        if text[pos + 1 : pos + 2] != ")":
            raise PathSyntax(f"Arguments to function '{name}' are not supported")
        if name not in FUNCTION_NAMES:
            raise PathSyntax(f"Function of name: {name} cannot be created")
        if steps and steps[-1] is _SCAN:
            raise PathSyntax("A function cannot follow '..'")
        functions.append(name)
        pos += 2
        while pos < end and text[pos] == ".":  # chained: .keys().length()
            fname, _, rest = text[pos + 1 :].partition("(")
            if fname not in FUNCTION_NAMES or not rest.startswith(")"):
                raise PathSyntax("A function must end the path")
            functions.append(fname)
            pos += len(fname) + 3
    if steps and steps[-1] is _SCAN and not functions:
        raise PathSyntax("Path must not end with a '.' or '..'")
    return steps, functions, pos


def parse_filter_path(
    text: str, pos: int, read_path: ReadPath
) -> tuple[list[Step], list[str], int]:
    """The steps and functions of the path inside a filter starting at ``text[pos]`` (``@`` or
    ``$``), and the index where it ends."""
    after = pos + 1
    if after < len(text) and text[after] not in ".[" and text[after] not in _FILTER_PATH_END:
        raise PathSyntax(f"Illegal character at position {after} expected '.' or '['")
    return _tokens(text, after, in_filter=True, read_path=read_path)


def parse_path(text: str, read_path: ReadPath) -> tuple[Root, str | None, list[Step], list[str]]:
    """The root, variable name (for ``$name``), steps and trailing functions of a whole path;
    ``read_path`` compiles the paths inside its filters. Raises ``PathSyntax``."""
    source = text.strip()
    if not source.startswith("$"):
        raise PathSyntax("Path must start with '$'")
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
        raise PathSyntax(f"Illegal character at position {pos} expected '.' or '['")
    steps, functions, _ = _tokens(source, pos, in_filter=False, read_path=read_path)
    return root, variable, steps, functions
