"""Choice rules (JSONPath language): every comparison operator, And/Or/Not, compiled once.

INTERFACE (fixed; other modules rely on it):

- ``compile_rule(rule: dict, *, top_level: bool) -> Rule``: a Choice rule as written in the
  definition (``Variable`` + one comparison, or ``And``/``Or``/``Not``); ``top_level`` rules carry
  ``Next`` (kept out of the Rule; parse reads it). Assumes the rule passed ``validate``; raises
  ``ExpressionSyntaxError`` for a path that does not compile (and for a rule whose shape is not
  a Choice rule at all, so a missed validation can never crash evaluation).
- ``Rule.matches(data, ctx) -> bool``; raises ``StatesFailure`` (``States.Runtime``) with AWS's
  cause when ``Variable`` is not found (except for ``IsPresent``) or a ``*Path`` operand is
  missing.

Compiling turns each operator name into a small frozen object holding its callables, so
evaluation never looks an operator up by name. Semantics follow the States Language spec and
executions recorded on AWS (see ``tests/asl/test_choice.py`` for the evidence):

- A value of the wrong type makes a comparison false, never an error. Booleans are not numbers.
- Numbers compare by value whatever their JSON spelling (``1 == 1.0``).
- String order is Java's ``String.compareTo``: UTF-16 code units, so an astral character (a
  surrogate pair, 0xD800-0xDBFF first) sorts *below* U+E000..U+FFFF, unlike Python's code points.
- Timestamps are RFC 3339 as Java's ``ISO_OFFSET_DATE_TIME`` parses them (AWS's Wait error text
  names that format); a string that does not parse compares false. They compare as instants.
- ``StringMatches``: ``*`` matches any run of characters, ``\\*`` is a literal star and ``\\\\``
  a literal backslash; any other backslash is an "open escape", a runtime error per the spec.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.paths import Path, PathNotFound, compile_path
from statewright.asl.timestamps import parse_timestamp

__all__ = ["Rule", "compile_rule"]


class Rule(Protocol):
    """A compiled Choice rule."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool: ...


Coerce = Callable[[Any], Any]
"""Maps a JSON value to a comparable key, or None when it has the wrong type."""
Test = Callable[[Any, Any], bool]
"""Compares two keys of the same kind (``operator.eq``, ``operator.lt``...)."""


def _resolve(path: Path, data: Any, ctx: Ctx | None) -> Any:
    try:
        return path.get(data, ctx)
    except PathNotFound:
        # AWS's cause, as seen in real execution failures; the caller adds the
        # "An error occurred while executing the state ..." prefix.
        raise StatesFailure(
            RUNTIME,
            f"Invalid path '{path.text}': "
            "The choice state's condition path references an invalid value.",
        ) from None


# --- compiled rules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """``Variable`` compared with a literal (``NumericEquals: 3``)."""

    variable: Path
    """Where the value to test is read."""
    coerce: Coerce
    """Turns the value read into a comparable key; None means the type does not fit."""
    test: Test
    """The ordering test applied as ``test(value_key, expected)``."""
    expected: Any
    """The literal, already coerced; None when it can never match (an unparsable timestamp)."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        left = self.coerce(_resolve(self.variable, data, ctx))
        return left is not None and self.expected is not None and self.test(left, self.expected)


@dataclass(frozen=True, slots=True)
class PathComparison:
    """``Variable`` compared with the value at another path (``NumericEqualsPath: "$.b"``)."""

    variable: Path
    """Where the value to test is read."""
    coerce: Coerce
    """Turns either value into a comparable key; None means the type does not fit."""
    test: Test
    """The ordering test applied as ``test(value_key, operand_key)``."""
    operand: Path
    """Where the value to compare against is read (input, ``$$`` or a variable)."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        # Both paths are read before any type check: a missing operand fails the execution
        # even when the Variable's type would already make the comparison false.
        left_value = _resolve(self.variable, data, ctx)
        right = self.coerce(_resolve(self.operand, data, ctx))
        left = self.coerce(left_value)
        return left is not None and right is not None and self.test(left, right)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled ``StringMatches`` pattern."""

    source: str
    """The pattern as written, for error messages."""
    parts: tuple[str, ...]
    """Literal runs between unescaped ``*``; a single part means no wildcard at all."""
    open_escape: bool
    """A backslash escapes neither ``*`` nor ``\\``: the spec makes matching a runtime error."""

    def fullmatch(self, text: str) -> bool:
        parts = self.parts
        if len(parts) == 1:
            return text == parts[0]
        head, tail = parts[0], parts[-1]
        if len(text) < len(head) + len(tail):
            return False
        if not text.startswith(head) or not text.endswith(tail):
            return False
        # With ``*`` as the only wildcard, taking each middle run at its leftmost place is
        # optimal, so one left-to-right scan decides the match (no backtracking, no regex).
        pos, end = len(head), len(text) - len(tail)
        for part in parts[1:-1]:
            found = text.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True


@dataclass(frozen=True, slots=True)
class StringMatch:
    """``Variable`` + ``StringMatches``."""

    variable: Path
    """Where the value to test is read."""
    pattern: Pattern
    """The compiled wildcard pattern."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        value = _resolve(self.variable, data, ctx)
        if self.pattern.open_escape:
            raise StatesFailure(
                RUNTIME,
                f"Invalid StringMatches pattern '{self.pattern.source}': "
                "a backslash must escape '*' or '\\'.",
            )
        return isinstance(value, str) and self.pattern.fullmatch(value)


@dataclass(frozen=True, slots=True)
class TypeTest:
    """``IsNull``, ``IsNumeric``, ``IsString``, ``IsBoolean``, ``IsTimestamp``."""

    variable: Path
    """Where the value to test is read (it must exist)."""
    test: Callable[[Any], bool]
    """Whether the value is of the type."""
    expected: bool
    """The operator's value: ``IsNull: false`` matches when the value is not null."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        return self.test(_resolve(self.variable, data, ctx)) == self.expected


@dataclass(frozen=True, slots=True)
class PresenceTest:
    """``IsPresent``: the only operator that does not fail on a missing ``Variable``."""

    variable: Path
    """The path whose presence is tested."""
    expected: bool
    """The operator's value."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        return self.variable.exists(data, ctx) == self.expected


@dataclass(frozen=True, slots=True)
class AllOf:
    """``And``: every rule matches; stops at the first that does not."""

    rules: tuple[Rule, ...]
    """The operands, in definition order."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        # Short-circuit matters: the usual guard And[IsPresent, BooleanEquals] must not
        # fail the execution on the second rule when the first one is already false.
        return all(rule.matches(data, ctx) for rule in self.rules)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``Or``: some rule matches; stops at the first that does."""

    rules: tuple[Rule, ...]
    """The operands, in definition order."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        return any(rule.matches(data, ctx) for rule in self.rules)


@dataclass(frozen=True, slots=True)
class Negation:
    """``Not``."""

    rule: Rule
    """The negated rule (a missing path inside it still fails the execution)."""

    def matches(self, data: Any, ctx: Ctx | None = None) -> bool:
        return not self.rule.matches(data, ctx)


# --- value kinds ----------------------------------------------------------------------------


def _as_number(value: Any) -> Any:
    # bool is an int subclass in Python; in JSON (and on AWS) it is never a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _as_boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else None


def _as_string(value: Any) -> Any:
    return value if isinstance(value, str) else None


def _as_utf16(value: Any) -> Any:
    # Big-endian UTF-16 bytes order exactly like Java's compareTo over char values;
    # surrogatepass keeps lone surrogates (legal in JSON text) comparable too.
    return value.encode("utf-16-be", "surrogatepass") if isinstance(value, str) else None


def _as_timestamp(value: Any) -> Any:
    return parse_timestamp(value) if isinstance(value, str) else None


def _is_null(value: Any) -> bool:
    return value is None


def _is_numeric(value: Any) -> bool:
    return _as_number(value) is not None


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _is_timestamp(value: Any) -> bool:
    return _as_timestamp(value) is not None




def _compile_pattern(source: str) -> Pattern:
    """Split a ``StringMatches`` value into the literal runs between unescaped stars."""
    parts: list[str] = []
    run: list[str] = []
    open_escape = False
    chars = iter(source)
    for char in chars:
        if char == "*":
            parts.append("".join(run))
            run = []
        elif char == "\\":
            escaped = next(chars, None)
            if escaped in ("*", "\\"):
                run.append(escaped)
            else:
                open_escape = True
                run.append("\\" if escaped is None else "\\" + escaped)
        else:
            run.append(char)
    parts.append("".join(run))
    return Pattern(source, tuple(parts), open_escape)


# --- operator tables (built once; read only while compiling) --------------------------------

_ORDER_TESTS: dict[str, Test] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
}


def _literal_type_ok(kind: str, value: Any) -> bool:
    match kind:
        case "Numeric":
            return _as_number(value) is not None
        case "Boolean":
            return isinstance(value, bool)
        case _:  # String, Timestamp
            return isinstance(value, str)


def _comparison_table() -> dict[str, tuple[str, Coerce, Test]]:
    table: dict[str, tuple[str, Coerce, Test]] = {
        "BooleanEquals": ("Boolean", _as_boolean, operator.eq)
    }
    for name, test in _ORDER_TESTS.items():
        table["Numeric" + name] = ("Numeric", _as_number, test)
        # Equality needs no re-encoding: Python's str == agrees with Java's equals.
        table["String" + name] = ("String", _as_string if name == "Equals" else _as_utf16, test)
        table["Timestamp" + name] = ("Timestamp", _as_timestamp, test)
    return table


_COMPARISONS = _comparison_table()
"""Operator name (without ``Path``) -> (literal kind, coercion, test)."""

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": _is_null,
    "IsNumeric": _is_numeric,
    "IsString": _is_string,
    "IsBoolean": _is_boolean,
    "IsTimestamp": _is_timestamp,
}

_TOP_LEVEL_EXTRAS = frozenset({"Next", "Assign", "Comment"})
"""Fields a top-level rule may carry besides its condition; they belong to the branch."""
_NESTED_EXTRAS = frozenset({"Comment"})
"""Fields a rule inside And/Or/Not may carry besides its condition."""


def compile_rule(rule: dict[str, Any], *, top_level: bool = True) -> Rule:
    """Compile one JSONPath Choice rule (see the module docstring)."""
    if not isinstance(rule, dict):
        raise ExpressionSyntaxError(f"A Choice rule must be an object, got {rule!r}")
    extras = _TOP_LEVEL_EXTRAS if top_level else _NESTED_EXTRAS
    operators = [key for key in rule if key != "Variable" and key not in extras]
    if len(operators) != 1:
        raise ExpressionSyntaxError(
            f"A Choice rule needs exactly one comparison operator, got {operators or 'none'}"
        )
    name = operators[0]
    value = rule[name]
    match name:
        case "And" | "Or":
            if "Variable" in rule or not isinstance(value, list) or not value:
                raise ExpressionSyntaxError(f"{name} takes a non-empty list of rules")
            rules = tuple(compile_rule(r, top_level=False) for r in value)
            return AllOf(rules) if name == "And" else AnyOf(rules)
        case "Not":
            if "Variable" in rule:
                raise ExpressionSyntaxError("Not takes one rule and no Variable")
            return Negation(compile_rule(value, top_level=False))
    variable = _compile_field(rule.get("Variable"), "Variable")
    if name == "IsPresent":
        return PresenceTest(variable, _flag(name, value))
    if name in _TYPE_TESTS:
        return TypeTest(variable, _TYPE_TESTS[name], _flag(name, value))
    if name == "StringMatches":
        if not isinstance(value, str):
            raise ExpressionSyntaxError(f"StringMatches takes a string, got {value!r}")
        return StringMatch(variable, _compile_pattern(value))
    if name.endswith("Path") and name[:-4] in _COMPARISONS:
        _, coerce, test = _COMPARISONS[name[:-4]]
        return PathComparison(variable, coerce, test, _compile_field(value, name))
    if name in _COMPARISONS:
        kind, coerce, test = _COMPARISONS[name]
        if not _literal_type_ok(kind, value):
            raise ExpressionSyntaxError(f"{name} takes a {kind.lower()} value, got {value!r}")
        return Comparison(variable, coerce, test, coerce(value))
    raise ExpressionSyntaxError(f"Unknown Choice operator: {name}")


def _compile_field(text: Any, field: str) -> Path:
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"{field} must be a JSONPath string, got {text!r}")
    return compile_path(text)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExpressionSyntaxError(f"{name} takes true or false, got {value!r}")
    return value
