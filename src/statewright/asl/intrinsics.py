"""The 18 intrinsic functions (``States.Format(...)`` ...), parsed once into a call tree.

INTERFACE (fixed; other modules rely on it):

- ``is_intrinsic(text) -> bool``: the string is an intrinsic call (``States.`` + name + ``(``).
- ``compile_intrinsic(text) -> Intrinsic``: raises ``ExpressionSyntaxError`` for bad syntax (an
  unknown escape in a string literal included), unknown functions and more than 10 levels of
  nesting.
- ``Intrinsic.evaluate(data, ctx) -> Any``: the value; raises ``StatesFailure`` with AWS's error
  name (``States.Runtime``) and cause text on misuse at run time.
- ``Intrinsic.text``: the source text.

What AWS does, and what this module copies (sources in ``tests/asl/test_intrinsics.py``):

- Argument counts are checked when the function runs, not when the definition is created:
  ``States.StringToJson()`` fails the execution with ``States.Runtime``, and ``States.UUID``
  ignores any arguments. So a wrong count is a run-time failure here too.
- Every run-time fault is ``States.Runtime`` with the cause ``The function '<whole expression>'
  had the following error: <detail>``; the detail is ``Invalid arguments in States.X`` or, for a
  path argument that matches nothing, ``The JsonPath argument for the field '<path>' could not be
  found in the input '<input>'``.
- The service runs on the JVM and turns JSON into Java objects (``Integer``, ``Double``, ``Map``,
  ``List``...). That shows: ``States.Format`` renders an object as ``{a=1, b=[]}``,
  ``States.ArrayContains`` compares ``String.valueOf`` of the values, ``States.ArrayUnique``
  returns the iteration order of a ``java.util.HashSet``, ``States.MathAdd`` rounds like
  ``Math.round`` while the other integer arguments are truncated like an ``(int)`` cast, and a
  seeded ``States.MathRandom`` is ``start + new java.util.Random(seed).nextInt(end - start)``.
  Those pieces of Java are reproduced in ``jvm``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.jvm import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    JavaRandom,
    hash_set_order,
    java_string,
)
from statewright.asl.paths import Path, PathNotFound, compile_path

MAX_NESTING = 10
"""Intrinsic calls may nest at most this deep in one field (the outermost call is level 1)."""
MAX_STRING_LENGTH = 10_000
"""Longest input of Base64Encode, Base64Decode and Hash, in UTF-16 units (Java's length())."""
MAX_RANGE_ITEMS = 1000
"""Most elements States.ArrayRange may produce."""

_NAME = re.compile(r"States\.([A-Za-z0-9]+)\(")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPABLE = "'{}\\"
_WHITESPACE = " \t\n\r"
_HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def is_intrinsic(text: str) -> bool:
    """True when ``text`` is written as an intrinsic call, ``States.Name(``..."""
    return _NAME.match(text) is not None


# --- The call tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    """A number, ``true``, ``false`` or ``null`` written in the call."""

    value: Any
    """The JSON value."""


@dataclass(frozen=True, slots=True)
class _StringLiteral:
    """A quoted string written in the call."""

    value: str
    """The text with its escapes resolved."""
    raw: str
    """The text between the quotes as written, escapes kept (a Format template needs them)."""


@dataclass(frozen=True, slots=True)
class _Template:
    """A literal ``States.Format`` template, split once into text and placeholders."""

    parts: tuple[str | None, ...] | None
    """Text pieces, ``None`` for each ``{}``; ``None`` when malformed (AWS fails at run time)."""


@dataclass(frozen=True, slots=True)
class _PathArg:
    """A JSONPath argument (``$.a``, ``$$.Execution.Id``, ``$var.x``)."""

    path: Path
    """The compiled path."""


@dataclass(frozen=True, slots=True)
class _Function:
    """One entry of the registry: the implementation and how many arguments it takes."""

    impl: Callable[[list[Any], Ctx | None], Any]
    """Computes the result from the evaluated arguments; raises ``_Invalid`` on misuse."""
    min_args: int
    """Fewest arguments accepted."""
    max_args: int | None
    """Most arguments accepted; ``None`` for any number."""


@dataclass(frozen=True, slots=True)
class _Call:
    """A call of one intrinsic function."""

    name: str
    """The full name, e.g. ``States.Format``."""
    args: tuple[_Node, ...]
    """The arguments, in order."""
    function: _Function
    """The registry entry, looked up once at compile time."""


_Node = _Literal | _StringLiteral | _Template | _PathArg | _Call


@dataclass(frozen=True, slots=True)
class Intrinsic:
    """A compiled intrinsic function call."""

    text: str
    """The source text."""
    root: _Call
    """The outermost call."""

    def evaluate(self, data: Any, ctx: Ctx | None = None) -> Any:
        """The value of the call on ``data`` (the state's effective input)."""
        try:
            return _evaluate(self.root, data, ctx)
        except _Failure as failure:
            # AWS names the whole expression even when a nested call failed.
            cause = f"The function '{self.text}' had the following error: {failure.detail}"
            raise StatesFailure(RUNTIME, cause) from None


class _Invalid(Exception):
    """An implementation rejects its arguments (becomes ``Invalid arguments in States.X``)."""


class _Failure(Exception):
    """A run-time fault inside the tree; ``detail`` is the cause after AWS's prefix."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _evaluate(node: _Node, data: Any, ctx: Ctx | None) -> Any:
    match node:
        case _Literal(value=value) | _StringLiteral(value=value):
            return value
        case _Template():
            return node
        case _PathArg(path=path):
            try:
                return path.get(data, ctx)
            except PathNotFound:
                # A $$ path is reported as if written against $ (Step Functions Local's wording).
                shown = "$" + path.text[2:] if path.text.startswith("$$") else path.text
                raise _Failure(
                    f"The JsonPath argument for the field '{shown}' could not be found in the "
                    f"input '{_compact_json(data)}'"
                ) from None
        case _Call(name=name, args=args, function=function):
            values = [_evaluate(arg, data, ctx) for arg in args]
            too_many = function.max_args is not None and len(values) > function.max_args
            try:
                if len(values) < function.min_args or too_many:
                    raise _Invalid
                return function.impl(values, ctx)
            except _Invalid:
                raise _Failure(f"Invalid arguments in {name}") from None
    raise AssertionError(f"unknown intrinsic node {node!r}")


def _compact_json(data: Any) -> str:
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(data)


# --- Argument conversions ------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid
    return value


def _truncated_int(value: Any, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """An integer argument the way AWS reads it: a fraction is cut off, like an ``(int)`` cast."""
    number = math.trunc(_number(value))
    if not low <= number <= high:
        raise _Invalid
    return number


def _rounded_int(value: Any) -> int:
    """``Math.round``: halves go up (``-1.5`` becomes ``-1``), then it must fit an ``int``."""
    number = _number(value)
    if isinstance(number, float):
        floor = math.floor(number)
        number = floor + 1 if number - floor >= 0.5 else floor
    if not INT_MIN <= number <= INT_MAX:
        raise _Invalid
    return number


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid
    return value


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid
    return value


def _bounded(text: str) -> str:
    # Java's length() counts UTF-16 units: an emoji counts two.
    if len(text.encode("utf-16-le", "surrogatepass")) > 2 * MAX_STRING_LENGTH:
        raise _Invalid
    return text


def _random_source(ctx: Ctx | None) -> random.Random:
    if ctx is None:
        raise ValueError("States.MathRandom without a seed and States.UUID need a Ctx")
    return ctx.random


# --- The 18 functions ----------------------------------------------------------------------------


def _format(args: list[Any], ctx: Ctx | None) -> str:
    template, values = args[0], args[1:]
    if isinstance(template, _Template):
        parts = template.parts
    else:
        parts = _split_template(_string(template))
    if parts is None or parts.count(None) != len(values):
        raise _Invalid
    remaining = iter(values)
    return "".join(java_string(next(remaining)) if p is None else p for p in parts)


def _split_template(text: str) -> tuple[str | None, ...] | None:
    """Text pieces and ``None`` per ``{}``; ``None`` for a lone ``{`` or ``}``."""
    parts: list[str | None] = []
    piece: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            piece.append(text[i + 1])
            i += 2
            continue
        if char == "{" and text.startswith("}", i + 1):
            parts.extend(("".join(piece), None))
            piece = []
            i += 2
            continue
        if char in "{}":
            return None
        piece.append(char)
        i += 1
    parts.append("".join(piece))
    return tuple(p for p in parts if p != "")


def _string_to_json(args: list[Any], ctx: Ctx | None) -> Any:
    text = _string(args[0]).strip(_WHITESPACE)
    if not text:
        return None  # AWS returns null for "" and " "
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        raise _Invalid from None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _json_to_string(args: list[Any], ctx: Ctx | None) -> str:
    try:
        return json.dumps(args[0], separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise _Invalid from None


def _array_of(args: list[Any], ctx: Ctx | None) -> list[Any]:
    return list(args)


def _array_partition(args: list[Any], ctx: Ctx | None) -> list[list[Any]]:
    items, size = _array(args[0]), _truncated_int(args[1])
    if size <= 0:
        raise _Invalid
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(args: list[Any], ctx: Ctx | None) -> bool:
    # AWS compares String.valueOf of both sides: true matches "true", {a,b} misses {b,a}.
    target = java_string(args[1])
    return any(java_string(item) == target for item in _array(args[0]))


def _array_range(args: list[Any], ctx: Ctx | None) -> list[int]:
    start, end, step = (_truncated_int(arg) for arg in args)
    if step == 0:
        raise _Invalid
    count = (end - start) // step + 1 if (end - start) * step >= 0 else 0
    if count > MAX_RANGE_ITEMS:
        raise _Invalid
    return [start + i * step for i in range(count)]


def _array_get_item(args: list[Any], ctx: Ctx | None) -> Any:
    items, index = _array(args[0]), _truncated_int(args[1])
    if not 0 <= index < len(items):
        raise _Invalid
    return items[index]


def _array_length(args: list[Any], ctx: Ctx | None) -> int:
    return len(_array(args[0]))


def _array_unique(args: list[Any], ctx: Ctx | None) -> list[Any]:
    return hash_set_order(_array(args[0]))


def _base64_encode(args: list[Any], ctx: Ctx | None) -> str:
    data = _bounded(_string(args[0])).encode("utf-8", "replace")
    return base64.b64encode(data).decode("ascii")


def _base64_decode(args: list[Any], ctx: Ctx | None) -> str:
    # AWS decodes leniently: characters outside the alphabet are skipped, decoding stops at the
    # first '=', and missing padding is fine ('abc', ' YWJjZA== ', '!!!x!!!' all decode).
    text = _bounded(_string(args[0])).split("=", 1)[0]
    kept = "".join(c for c in text.replace("-", "+").replace("_", "/") if c in _BASE64_ALPHABET)
    kept = kept[: len(kept) - 1] if len(kept) % 4 == 1 else kept
    try:
        data = base64.b64decode(kept + "=" * (-len(kept) % 4))
    except binascii.Error:
        raise _Invalid from None
    return data.decode("utf-8", "replace")


_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _hash(args: list[Any], ctx: Ctx | None) -> str:
    data, algorithm = args
    if data is None or not isinstance(algorithm, str) or algorithm not in _HASH_ALGORITHMS:
        raise _Invalid
    text = _bounded(data if isinstance(data, str) else java_string(data))  # AWS stringifies
    return hashlib.new(_HASH_ALGORITHMS[algorithm], text.encode("utf-8", "replace")).hexdigest()


def _json_merge(args: list[Any], ctx: Ctx | None) -> dict[str, Any]:
    first, second, deep = args
    # Only a boolean true is refused; AWS merges shallowly for any other third value.
    if not isinstance(first, dict) or not isinstance(second, dict) or deep is True:
        raise _Invalid
    return {**first, **second}


def _math_random(args: list[Any], ctx: Ctx | None) -> int:
    start, end = _truncated_int(args[0]), _truncated_int(args[1])
    bound = end - start
    if not 0 < bound <= INT_MAX:
        raise _Invalid
    if len(args) == 3:
        seed = _truncated_int(args[2], LONG_MIN, LONG_MAX)
        return start + JavaRandom(seed).next_int(bound)
    return start + _random_source(ctx).randrange(bound)


def _math_add(args: list[Any], ctx: Ctx | None) -> int:
    total = _rounded_int(args[0]) + _rounded_int(args[1])
    if not INT_MIN <= total <= INT_MAX:
        raise _Invalid
    return total


def _string_split(args: list[Any], ctx: Ctx | None) -> list[str]:
    # java.util.StringTokenizer: every character of the second argument is a delimiter and
    # empty tokens are dropped ("a,,b" gives ["a", "b"], "" gives []).
    text, delimiters = _string(args[0]), set(_string(args[1]))
    tokens: list[str] = []
    start = 0
    for i, char in enumerate(text):
        if char in delimiters:
            if i > start:
                tokens.append(text[start:i])
            start = i + 1
    if start < len(text):
        tokens.append(text[start:])
    return tokens


def _uuid(args: list[Any], ctx: Ctx | None) -> str:
    return str(uuid.UUID(int=_random_source(ctx).getrandbits(128), version=4))


_FUNCTIONS: dict[str, _Function] = {
    "States.Format": _Function(_format, 1, None),
    "States.StringToJson": _Function(_string_to_json, 1, 1),
    "States.JsonToString": _Function(_json_to_string, 1, 1),
    "States.Array": _Function(_array_of, 0, None),
    "States.ArrayPartition": _Function(_array_partition, 2, 2),
    "States.ArrayContains": _Function(_array_contains, 2, 2),
    "States.ArrayRange": _Function(_array_range, 3, 3),
    "States.ArrayGetItem": _Function(_array_get_item, 2, 2),
    "States.ArrayLength": _Function(_array_length, 1, 1),
    "States.ArrayUnique": _Function(_array_unique, 1, 1),
    "States.Base64Encode": _Function(_base64_encode, 1, 1),
    "States.Base64Decode": _Function(_base64_decode, 1, 1),
    "States.Hash": _Function(_hash, 2, 2),
    "States.JsonMerge": _Function(_json_merge, 3, 3),
    "States.MathRandom": _Function(_math_random, 2, 3),
    "States.MathAdd": _Function(_math_add, 2, 2),
    "States.StringSplit": _Function(_string_split, 2, 2),
    "States.UUID": _Function(_uuid, 0, None),  # AWS ignores arguments given to UUID
}


# --- Parsing -------------------------------------------------------------------------------------


def compile_intrinsic(text: str) -> Intrinsic:
    """Parse ``text`` once into a call tree; raises ``ExpressionSyntaxError`` when it is invalid."""
    if not isinstance(text, str) or not is_intrinsic(text):
        raise ExpressionSyntaxError(f"Not an intrinsic function call: {text!r}")
    root, end = _parse_call(text, 0, 1)
    end = _skip_space(text, end)
    if end != len(text):
        raise _syntax(text, end, "unexpected text after the call")
    return Intrinsic(text, root)


def _syntax(text: str, pos: int, reason: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        f"Invalid intrinsic function call {text!r}: {reason} at position {pos}"
    )


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _parse_call(text: str, pos: int, depth: int) -> tuple[_Call, int]:
    match = _NAME.match(text, pos)
    if match is None:
        raise _syntax(text, pos, "expected States.<Function>(")
    name = "States." + match.group(1)
    function = _FUNCTIONS.get(name)
    if function is None:
        raise _syntax(text, pos, f"unknown intrinsic function {name!r}")
    if depth > MAX_NESTING:
        raise _syntax(text, pos, f"intrinsic functions nest deeper than {MAX_NESTING} levels")
    args: list[_Node] = []
    pos = _skip_space(text, match.end())
    if text.startswith(")", pos):
        return _Call(name, (), function), pos + 1
    while True:
        arg, pos = _parse_argument(text, _skip_space(text, pos), depth)
        args.append(arg)
        pos = _skip_space(text, pos)
        if text.startswith(",", pos):
            pos += 1
        elif text.startswith(")", pos):
            break
        else:
            raise _syntax(text, pos, "expected ',' or ')'")
    if name == "States.Format" and isinstance(args[0], _StringLiteral):
        # Split a literal template once; escaped braces (\{ \}) are text, not placeholders.
        args[0] = _Template(_split_template(args[0].raw))
    return _Call(name, tuple(args), function), pos + 1


def _parse_argument(text: str, pos: int, depth: int) -> tuple[_Node, int]:
    if pos >= len(text):
        raise _syntax(text, pos, "unexpected end")
    char = text[pos]
    if char == "'":
        return _parse_string(text, pos)
    if char == "$":
        return _parse_path(text, pos)
    if text.startswith("States.", pos):
        return _parse_call(text, pos, depth + 1)
    number = _NUMBER.match(text, pos)
    if number is not None and _at_delimiter(text, number.end()):
        literal = number.group()
        is_float = any(c in literal for c in ".eE")
        return _Literal(float(literal) if is_float else int(literal)), number.end()
    for word, value in (("true", True), ("false", False), ("null", None)):
        if text.startswith(word, pos) and _at_delimiter(text, pos + len(word)):
            return _Literal(value), pos + len(word)
    raise _syntax(text, pos, "expected an argument (string, number, boolean, null, path or call)")


def _at_delimiter(text: str, pos: int) -> bool:
    return pos == len(text) or text[pos] in _WHITESPACE + ",)"


def _parse_string(text: str, pos: int) -> tuple[_StringLiteral, int]:
    chars: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped == "" or escaped not in _ESCAPABLE:
                # AWS refuses the definition: only \' \{ \} \\ are escapes.
                raise _syntax(text, i, "invalid escape in a string literal")
            chars.append(escaped)
            i += 2
        elif char == "'":
            return _StringLiteral("".join(chars), text[pos + 1 : i]), i + 1
        else:
            chars.append(char)
            i += 1
    raise _syntax(text, pos, "unterminated string literal")


def _parse_path(text: str, pos: int) -> tuple[_PathArg, int]:
    # A path runs to the first top-level ',' ')' or space; brackets, filter parentheses and
    # quoted names inside brackets may hold any of them.
    brackets = parens = 0
    quote = ""
    i = pos
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif brackets and char in "'\"":
            quote = char
        elif char == "[":
            brackets += 1
        elif char == "]":
            brackets -= 1
        elif char == "(":
            parens += 1
        elif char == ")" and parens:
            parens -= 1
        elif not brackets and not parens and (char in ",)" or char in _WHITESPACE):
            break
        i += 1
    source = text[pos:i]
    try:
        return _PathArg(compile_path(source)), i
    except ExpressionSyntaxError as exc:
        raise _syntax(text, pos, f"invalid path {source!r} ({exc.message})") from exc
