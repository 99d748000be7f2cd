"""JSONPath filter expressions (``[?(...)]``) as Jayway JsonPath evaluates them; private to paths.

``parse_filter`` compiles the text of one filter into a ``Predicate`` tree once; ``paths`` calls it
while compiling a path and evaluates ``Predicate.test(item, root)`` per candidate element. Paths
inside a filter (``@.price``, ``$.limit``) are compiled by ``paths`` itself through the
``read_path`` callback, so this module never imports ``paths``.

Semantics follow Jayway's ``FilterCompiler`` and ``EvaluatorFactory`` (read as facts, see
``tests/asl/test_paths.py``) plus what Step Functions Local showed:

- ``&&`` and ``||`` have no precedence in Jayway: a chain folds from the right, so
  ``a && b || c`` means ``a && (b || c)``. Parentheses group as usual.
- ``!`` negates the operand that follows (Jayway only supports it before a path).
- A lone path tests existence. An explicit ``null`` counts as absent (Step Functions Local keeps
  ``{"session": null}`` for ``!@.session``, floci-io/floci#3480); ``false`` counts as present.
- A path that matches nothing is "undefined": it equals nothing, so ``!=`` is true for it.
- ``==`` compares a number with a numeric string by value (``1 == '1'``); booleans and null only
  equal themselves. ``<``/``>`` compare numbers by value and strings in Java's order; a string
  against a number compares the string with the number's text; anything else is false.
- ``=~ /re/i`` must match the whole text (Java ``matches``); numbers and booleans match as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Protocol

__all__ = ["MISSING", "FilterSyntax", "Predicate", "SubPath", "parse_filter"]


class _Missing:
    """The value of a filter path that matched nothing (Jayway's UndefinedNode)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class FilterSyntax(Exception):
    """The filter text does not compile; ``paths`` turns it into ExpressionSyntaxError."""


class SubPath(Protocol):
    """A path inside a filter, compiled by ``paths``."""

    @property
    def definite(self) -> bool:
        """False when the path gives the list of its matches (``@.a[*]``)."""
        ...

    def lookup(self, item: Any, root: Any) -> Any:
        """The value at the path from ``item`` (``@``) or ``root`` (``$``), or ``MISSING``."""
        ...


ReadPath = Callable[[str, int], tuple[SubPath, int]]
"""``read_path(text, pos)`` compiles the path starting at ``text[pos]`` (``@`` or ``$``)."""


class Predicate(Protocol):
    """A compiled filter expression."""

    def test(self, item: Any, root: Any) -> bool: ...


# --- operands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    """A literal operand: string, number, boolean, null or JSON array/object."""

    value: Any
    """The JSON value."""


@dataclass(frozen=True, slots=True)
class _Regex:
    """A ``/pattern/flags`` operand of ``=~``."""

    pattern: re.Pattern[str]
    """The compiled pattern."""


@dataclass(frozen=True, slots=True)
class _PathOperand:
    """A path operand, read per element."""

    path: SubPath
    """Where the value is read."""


Operand = _Literal | _Regex | _PathOperand


def _value(operand: Operand, item: Any, root: Any) -> Any:
    if type(operand) is _PathOperand:
        return operand.path.lookup(item, root)
    if type(operand) is _Literal:
        return operand.value
    return operand


# --- expression nodes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Exists:
    """A lone path: true when it matches a value that is not null (an indefinite path: when it
    matches anything; Jayway counts an empty match as present, json-path/JsonPath#1043)."""

    path: SubPath
    """The path tested."""

    def test(self, item: Any, root: Any) -> bool:
        value = self.path.lookup(item, root)
        if not self.path.definite:
            return bool(value)
        return value is not MISSING and value is not None


@dataclass(frozen=True, slots=True)
class _Not:
    """``!operand``."""

    operand: Predicate
    """The negated expression."""

    def test(self, item: Any, root: Any) -> bool:
        return not self.operand.test(item, root)


@dataclass(frozen=True, slots=True)
class _And:
    """``left && right``."""

    left: Predicate
    """Evaluated first."""
    right: Predicate
    """Evaluated only when ``left`` holds."""

    def test(self, item: Any, root: Any) -> bool:
        return self.left.test(item, root) and self.right.test(item, root)


@dataclass(frozen=True, slots=True)
class _Or:
    """``left || right``."""

    left: Predicate
    """Evaluated first."""
    right: Predicate
    """Evaluated only when ``left`` fails."""

    def test(self, item: Any, root: Any) -> bool:
        return self.left.test(item, root) or self.right.test(item, root)


@dataclass(frozen=True, slots=True)
class _Compare:
    """``left <op> right``."""

    left: Operand
    """Left operand."""
    op: Callable[[Any, Any], bool]
    """The relation, from ``_RELATIONS``."""
    right: Operand
    """Right operand."""

    def test(self, item: Any, root: Any) -> bool:
        return self.op(_value(self.left, item, root), _value(self.right, item, root))


# --- relations (Jayway's EvaluatorFactory, over Python JSON values) ----------------------------


def _is_number(value: Any) -> bool:
    # JSON true is not 1: bool is an int subclass in Python but never a number here.
    return type(value) is int or type(value) is float


def _java_number_text(number: int | float) -> str:
    """A number's text as Jayway prints it for string comparisons (``5``, ``5.0``, ``0.25``).

    Python's shortest ``repr`` agrees with Java's ``Double.toString`` for everyday values; very
    large or tiny floats (Java switches to ``1.0E+7`` forms) are approximated.
    """
    return str(number) if type(number) is int else repr(number)


def _order_strings(left: str, right: str) -> int:
    # Java orders strings by UTF-16 code units; only non-ASCII text needs re-encoding for that.
    if left.isascii() and right.isascii():
        return (left > right) - (left < right)
    a, b = left.encode("utf-16-be"), right.encode("utf-16-be")
    return (a > b) - (a < b)


def _compare(left: Any, right: Any) -> int | None:
    """-1/0/1 as Jayway orders two values, or None when they are not comparable."""
    if _is_number(left) and _is_number(right):
        return int(left > right) - int(left < right)
    if type(left) is str and type(right) is str:
        return _order_strings(left, right)
    if type(left) is str and _is_number(right):
        return _order_strings(left, _java_number_text(right))
    if _is_number(left) and type(right) is str:
        return _order_strings(_java_number_text(left), right)
    return None


def _as_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _json_equal(left: Any, right: Any) -> bool:
    """Deep equality where booleans are not numbers (Python's ``True == 1`` is not JSON's)."""
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(_json_equal(value, right[key]) for key, value in left.items())
        )
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    if _is_number(left):
        return _is_number(right) and left == right
    return type(left) is type(right) and left == right


def _equals(left: Any, right: Any) -> bool:
    if left is MISSING or right is MISSING or type(left) is _Regex or type(right) is _Regex:
        return False
    if _is_number(left):
        if _is_number(right):
            return bool(left == right)
        if type(right) is str:  # Jayway reads the string as a number
            number = _as_decimal(right)
            # Jayway holds JSON numbers as their decimal text, so 0.1 means exactly 0.1.
            exact = Decimal(repr(left)) if type(left) is float else Decimal(left)
            return number is not None and number.is_finite() and number == exact
        return False
    if type(left) is str and _is_number(right):  # ...and the number as its text
        return left == _java_number_text(right)
    return _json_equal(left, right)


def _kind(value: Any) -> str:
    if _is_number(value):
        return "number"
    return type(value).__name__


def _strict_equals(left: Any, right: Any) -> bool:
    return _kind(left) == _kind(right) and _equals(left, right)


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def relation(left: Any, right: Any) -> bool:
        order = _compare(left, right)
        return order is not None and test(order)

    return relation


def _regex_input(value: Any) -> str:
    if type(value) is str:
        return value
    if _is_number(value):
        return _java_number_text(value)
    if type(value) is bool:
        return "true" if value else "false"
    return ""


def _matches(left: Any, right: Any) -> bool:
    if (type(left) is _Regex) == (type(right) is _Regex):
        return False
    pattern, subject = (left, right) if type(left) is _Regex else (right, left)
    assert type(pattern) is _Regex
    if isinstance(subject, list):  # any element matching is enough
        return any(pattern.pattern.fullmatch(_regex_input(v)) for v in subject)
    return pattern.pattern.fullmatch(_regex_input(subject)) is not None


def _contained(needle: Any, haystack: Any) -> bool:
    return isinstance(haystack, list) and any(_equals(needle, item) for item in haystack)


def _in(left: Any, right: Any) -> bool:
    return _contained(left, right)


def _not_in(left: Any, right: Any) -> bool:
    return not _contained(left, right)


def _subset_of(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list)
        and isinstance(right, list)
        and all(_contained(v, right) for v in left)
    )


def _any_of(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list)
        and isinstance(right, list)
        and any(_contained(v, right) for v in left)
    )


def _none_of(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list)
        and isinstance(right, list)
        and not any(_contained(v, right) for v in left)
    )


def _all(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list)
        and isinstance(right, list)
        and all(_contained(v, left) for v in right)
    )


def _contains(left: Any, right: Any) -> bool:
    if type(left) is str and type(right) is str:
        return right in left
    return _contained(right, left)


def _size(left: Any, right: Any) -> bool:
    sizeable = type(left) is str or isinstance(left, (list, dict))
    return sizeable and _is_number(right) and len(left) == int(right)


def _empty(left: Any, right: Any) -> bool:
    sizeable = type(left) is str or isinstance(left, (list, dict))
    return sizeable and type(right) is bool and (len(left) == 0) == right


def _exists(left: Any, right: Any) -> bool:
    return type(right) is bool and (left is not MISSING and left is not None) == right


_RELATIONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": _equals,
    "!=": lambda left, right: not _equals(left, right),
    "===": _strict_equals,
    "!==": lambda left, right: not _strict_equals(left, right),
    "<": _ordered(lambda order: order < 0),
    "<=": _ordered(lambda order: order <= 0),
    ">": _ordered(lambda order: order > 0),
    ">=": _ordered(lambda order: order >= 0),
    "=~": _matches,
    "in": _in,
    "nin": _not_in,
    "subsetof": _subset_of,
    "anyof": _any_of,
    "noneof": _none_of,
    "all": _all,
    "contains": _contains,
    "size": _size,
    "empty": _empty,
    "exists": _exists,
}

_OPERATOR_CHARS = frozenset("<>=!~")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_REGEX_FLAGS: Final[dict[str, re.RegexFlag]] = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
}


# --- parser ------------------------------------------------------------------------------------


def unescape(text: str) -> str:
    """Jayway's unescaping of a quoted name or string literal (Java escapes, ``\\uXXXX``)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        code = text[i + 1]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(code, code))
        i += 2
    return "".join(out)


def skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def closing_quote(text: str, pos: int) -> int:
    """Index of the quote that closes the string opened at ``text[pos]``, or -1."""
    quote = text[pos]
    i = pos + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _json_literal(text: str) -> Any:
    """A JSON array/object literal; single-quoted strings are allowed (Jayway parses these
    with json-smart's permissive mode, and ``in ['a','b']`` is the common spelling)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            end = closing_quote(text, i)
            if end < 0:
                raise FilterSyntax("String not closed in JSON literal")
            raw = text[i + 1 : end]
            out.append(json.dumps(unescape(raw)) if char == "'" else text[i : end + 1])
            i = end + 1
        else:
            out.append(char)
            i += 1
    try:
        return json.loads("".join(out))
    except ValueError as exc:
        raise FilterSyntax(f"Invalid JSON literal: {text}") from exc


class _Parser:
    """Recursive descent over one filter's text, from its opening parenthesis."""

    def __init__(self, text: str, pos: int, read_path: ReadPath) -> None:
        self.text = text
        self.pos = pos
        self.read_path = read_path

    def peek(self) -> str:
        self.pos = skip_blanks(self.text, self.pos)
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise FilterSyntax(f"Expected '{char}' at position {self.pos}")
        self.pos += 1

    def group(self) -> Predicate:
        self.expect("(")
        expression = self.expression()
        self.expect(")")
        return expression

    def expression(self) -> Predicate:
        # No precedence: Jayway folds a chain of && and || from the right.
        left = self.unary()
        char = self.peek()
        operator = self.text[self.pos : self.pos + 2] if char in ("&", "|") else ""
        if operator == "&&":
            self.pos += 2
            return _And(left, self.expression())
        if operator == "||":
            self.pos += 2
            return _Or(left, self.expression())
        if operator:
            raise FilterSyntax(f"Expected '&&' or '||' at position {self.pos}")
        return left

    def unary(self) -> Predicate:
        char = self.peek()
        if char == "!" and self.text[self.pos + 1 : self.pos + 2] != "=":
            self.pos += 1
            return _Not(self.unary())
        if char == "(":
            return self.group()
        return self.relation()

    def relation(self) -> Predicate:
        left = self.operand()
        if self.peek() in ("", ")", "&", "|"):
            if type(left) is not _PathOperand:
                raise FilterSyntax("A filter without an operator must be a path")
            return _Exists(left.path)
        name = self.operator()
        relation = _RELATIONS.get(name)
        if relation is None:
            raise FilterSyntax(f"Unknown operator '{name}'")
        return _Compare(left, relation, self.operand())

    def operator(self) -> str:
        start = self.pos
        if self.text[start] in _OPERATOR_CHARS:
            while self.pos < len(self.text) and self.text[self.pos] in _OPERATOR_CHARS:
                self.pos += 1
        else:
            while self.pos < len(self.text) and self.text[self.pos].isalpha():
                self.pos += 1
        return self.text[start : self.pos]

    def operand(self) -> Operand:
        char = self.peek()
        if char in ("@", "$"):
            path, self.pos = self.read_path(self.text, self.pos)
            return _PathOperand(path)
        if char in ("'", '"'):
            end = closing_quote(self.text, self.pos)
            if end < 0:
                raise FilterSyntax(f"String not closed at position {self.pos}")
            text = unescape(self.text[self.pos + 1 : end])
            self.pos = end + 1
            return _Literal(text)
        if char in ("[", "{"):
            return _Literal(_json_literal(self.balanced(char, "]" if char == "[" else "}")))
        if char == "/":
            return self.regex()
        for word, constant in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return _Literal(constant)
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise FilterSyntax(f"Unexpected character at position {self.pos}")
        self.pos = match.end()
        literal = match.group()
        number = float(literal) if any(c in literal for c in ".eE") else int(literal)
        return _Literal(number)

    def balanced(self, opening: str, closing: str) -> str:
        depth, i = 0, self.pos
        while i < len(self.text):
            char = self.text[i]
            if char in "'\"":
                i = closing_quote(self.text, i)
                if i < 0:
                    break
            elif char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
                if depth == 0:
                    literal = self.text[self.pos : i + 1]
                    self.pos = i + 1
                    return literal
            i += 1
        raise FilterSyntax(f"Unbalanced '{opening}' at position {self.pos}")

    def regex(self) -> _Regex:
        i = self.pos + 1
        while i < len(self.text) and self.text[i] != "/":
            i += 2 if self.text[i] == "\\" else 1
        if i >= len(self.text):
            raise FilterSyntax("Pattern not closed, expected '/'")
        source = self.text[self.pos + 1 : i]
        flags = 0
        i += 1
        while i < len(self.text) and self.text[i] in _REGEX_FLAGS:
            flags |= _REGEX_FLAGS[self.text[i]]
            i += 1
        self.pos = i
        try:
            return _Regex(re.compile(source, flags))
        except re.error as exc:
            raise FilterSyntax(f"Invalid regular expression /{source}/: {exc}") from exc


def parse_filter(text: str, pos: int, read_path: ReadPath) -> tuple[Predicate, int]:
    """Compile the filter whose opening ``(`` is at ``text[pos]``; returns it and the index just
    past its closing ``)``. Raises ``FilterSyntax``."""
    parser = _Parser(text, pos, read_path)
    predicate = parser.group()
    return predicate, parser.pos
