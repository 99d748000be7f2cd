"""JSONata for JSONata-language states: the only module that imports the JSONata library.

A JSONata field holds any JSON value; a string that is wholly ``{% <expression> %}`` is an
expression, evaluated when the state runs (nested in objects and arrays too). ``compile_value``
turns such a value into a tree compiled once, at parse time; ``Value.evaluate(bindings, ctx)``
builds the result for one state run.

INTERFACE (other modules rely on it):

- ``compile_value(value, field) -> Value``: raises ``JsonataSyntaxError`` (an
  ``ExpressionSyntaxError`` carrying AWS's code and the nested field) when an expression does
  not parse (``Unexpected end of expression``) or starts from a bare name.
- ``Value.evaluate(bindings, ctx) -> Any``: ``bindings`` maps names without ``$`` (the
  variables, ``states``) to values. Raises ``StatesFailure(States.QueryEvaluationError)`` with
  AWS's cause when an expression fails, returns nothing (undefined), or runs out of budget.
- ``Value.is_constant``: no expression anywhere.
- ``is_expression(value)``: a whole ``{% %}`` string.

The library is jsonatapy (a Rust JSONata): bench/README.md has the comparison that chose it.

AWS's dialect (JSONata 2.0.6, Step Functions developer guide, "Transforming data"):
``$eval`` is not available; Step Functions adds ``$partition``, ``$range``, ``$hash``,
``$random`` (optionally seeded: java.util.Random, as AWS runs a JVM), ``$uuid`` and ``$parse``.
``$now``/``$millis`` read ``Ctx.now`` and ``$random``/``$uuid`` read ``Ctx.random``, so the core
stays free of clocks and global randomness. The causes AWS writes (floci-io/floci#2736 and
#2689, measured against AWS; conformance cases for "returned nothing"):
``The JSONata expression '<expr>' specified for the field '<field>' threw an error during
evaluation. <CODE>: <message>`` and ``... returned nothing (undefined).``; nested fields are
named ``Output/key`` and ``Arguments/list[0]``.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import math
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import jsonatapy

from statewright.asl.context import Ctx
from statewright.asl.errors import QUERY_EVALUATION_ERROR, ExpressionSyntaxError, StatesFailure
from statewright.asl.jvm import JavaRandom

__all__ = [
    "BUDGET_MS",
    "MAX_RECURSION",
    "MAX_SEQUENCE",
    "JsonataReferenceError",
    "JsonataSyntaxError",
    "Query",
    "Value",
    "compile_query",
    "compile_value",
    "is_expression",
    "type_name",
]

#: Wall-clock budget of one expression evaluation: a runaway expression fails the state with
#: States.QueryEvaluationError instead of holding a worker.
BUDGET_MS = 1000
#: Deepest recursion an expression may reach (a self-calling lambda).
MAX_RECURSION = 500
#: Longest sequence an expression may build: AWS fails ``[1..900000]`` for memory
#: (floci-io/floci#2737, measured) where jsonata-js would allow 10,000,000.
MAX_SEQUENCE = 800_000

_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
                    "SHA-512": "sha512"}


def is_expression(value: Any) -> bool:
    """A string that is wholly ``{% ... %}`` (AWS evaluates nothing else)."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and (
        value.endswith("%}"))


def type_name(value: Any) -> str:
    """The JSON type as AWS names it in "Expected 'array', but was 'boolean'"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# --- Step Functions' functions ----------------------------------------------------------------


class JsonataSyntaxError(ExpressionSyntaxError):
    """An expression does not parse. AWS refuses the definition with the code
    ``INVALID_JSONATA_EXPRESSION``, the parser's message without its code, at the field's own
    location (floci-io/floci#2745, measured: ``Unexpected end of expression at
    /States/Main/Output``)."""

    code = "INVALID_JSONATA_EXPRESSION"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
        """The field as AWS names it (``Output/v``)."""
        self.also: list[JsonataSyntaxError] = []
        """The other faults of the same value (``compile_value``)."""


class JsonataReferenceError(JsonataSyntaxError):
    """An expression that starts from a bare name (``phone.number``): AWS evaluates with no
    context item, so such a path could only read nothing, and AWS refuses the definition
    (floci-io/floci#2670, measured: ``UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at
    the top level is not supported. at /States/E/Output/v``). Only an expression whose first
    step is a bare name is caught here; a bare name deeper in (``1 + phone``) is not."""

    code = "UNSUPPORTED_JSONATA_EXPRESSION"


class _FunctionError(Exception):
    """A Step Functions function refused its arguments; the message is the cause tail."""


#: The Ctx of the evaluation in progress, for the functions that read time or randomness.
_CTX: contextvars.ContextVar[Ctx | None] = contextvars.ContextVar("statewright_jsonata_ctx",
                                                                  default=None)


def _ctx() -> Ctx:
    ctx = _CTX.get()
    return ctx if ctx is not None else Ctx()


def _integer(value: Any, function: str, position: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _FunctionError(f"Argument {position} of function ${function} must be an integer")
    return int(value)


def _partition(array: Any, size: Any = None) -> list[Any]:
    if not isinstance(array, list):
        raise _FunctionError("Argument 1 of function $partition must be an array")
    chunk = _integer(size, "partition", 2)
    if chunk <= 0:
        raise _FunctionError("Argument 2 of function $partition must be a positive integer")
    return [array[i:i + chunk] for i in range(0, len(array), chunk)]


def _range(start: Any, end: Any = None, step: Any = None) -> list[int] | int:
    first, last = _integer(start, "range", 1), _integer(end, "range", 2)
    stride = _integer(step, "range", 3)
    if stride == 0:
        raise _FunctionError("Argument 3 of function $range must not be zero")
    # The end is included when a step lands on it (AWS docs: $range(0, 10, 2) -> [0..10]).
    values = range(first, last + (1 if stride > 0 else -1), stride)
    if len(values) > MAX_SEQUENCE:
        raise _FunctionError(f"$range would create more than {MAX_SEQUENCE} items")
    # AWS returns a one-item range as the item itself (conformance: $range(1, 9, 9) is 1),
    # as a JSONata sequence of one would be.
    return values[0] if len(values) == 1 else list(values)


def _hash(text: Any, algorithm: Any = None) -> str:
    if not isinstance(text, str):
        raise _FunctionError("Argument 1 of function $hash must be a string")
    name = _HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _FunctionError(
            "Argument 2 of function $hash must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    if seed is None:
        return _ctx().random.random()
    return JavaRandom(_integer(seed, "random", 1)).next_double()


def _uuid() -> str:
    return str(uuid.UUID(int=_ctx().random.getrandbits(128), version=4))


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _FunctionError("Argument 1 of function $parse must be a string")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _FunctionError(f"Argument 1 of function $parse is not valid JSON: {exc}") from exc


def _eval(*args: Any) -> Any:
    # AWS fails $eval with T1006, as if it were not a function (floci-io/floci#2737, measured).
    raise _FunctionError("T1006: Attempted to invoke a non-function")


def _millis() -> int:
    return int(_ctx().now * 1000)


def _now(picture: Any = None, timezone: Any = None) -> str:
    if picture is None and timezone is None:
        moment = datetime.fromtimestamp(_millis() / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    # $now(picture, timezone) is $fromMillis of the same instant (JSONata's definition).
    expression = "$fromMillis($m, $p)" if timezone is None else "$fromMillis($m, $p, $t)"
    names = {"m": _millis(), "p": picture, **({} if timezone is None else {"t": timezone})}
    formatted = _compiled(expression).evaluate_json_or_none(None, names)
    return str(json.loads(formatted)) if formatted is not None else ""


_ADDED: dict[str, Callable[..., Any]] = {
    "partition": _partition, "range": _range, "hash": _hash, "uuid": _uuid, "parse": _parse,
}
_REPLACED: dict[str, Callable[..., Any]] = {
    "random": _random, "eval": _eval, "millis": _millis, "now": _now,
}


# --- compiled values --------------------------------------------------------------------------


class Value(Protocol):
    """A compiled JSONata field value."""

    @property
    def is_constant(self) -> bool: ...

    def evaluate(self, bindings: dict[str, Any], ctx: Ctx) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Constant:
    value: Any
    is_constant: bool = True

    def evaluate(self, bindings: dict[str, Any], ctx: Ctx) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class Query:
    """One ``{% expression %}``."""

    text: str
    """The expression as AWS quotes it in causes (inside the delimiters, trimmed)."""
    field: str
    """The field it sits in, as AWS names it (``Output/total``, ``Choices[0]/Condition``)."""
    names: frozenset[str] = frozenset()
    """The ``$names`` the expression mentions: only these bindings are handed to the library,
    which converts every value it is given (a variable can only be reached by its name, since
    ``$eval`` is not available)."""
    states_keys: frozenset[str] | None = None
    """The members of ``$states`` it reads (``input``...); None: ``$states`` is used whole."""
    context_keys: frozenset[str] | None = None
    """The members of ``$states.context`` it reads (``Map``...); None: all of them (the
    Context Object holds the whole execution input, which a Map's ItemSelector should not
    convert once per item)."""
    is_constant: bool = False

    def evaluate(self, bindings: dict[str, Any], ctx: Ctx) -> Any:
        scoped = {name: bindings[name] for name in self.names if name in bindings}
        if self.states_keys is not None and "states" in scoped:
            states = scoped["states"]
            scoped["states"] = {k: states[k] for k in self.states_keys if k in states}
            context = states.get("context")
            if self.context_keys is not None and isinstance(context, dict):
                scoped["states"]["context"] = {
                    k: context[k] for k in self.context_keys if k in context}
        token = _CTX.set(ctx)
        try:
            value = _evaluate(_compiled(self.text), scoped)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the library's errors, and a Rust panic (BaseException)
            raise self._failure(str(exc)) from exc
        finally:
            _CTX.reset(token)
        if value is _UNDEFINED:
            raise StatesFailure(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{self.text}' specified for the field '{self.field}' "
                "returned nothing (undefined).",
                location=self.field,
            )
        return value

    def _failure(self, message: str) -> StatesFailure:
        message = _library_message(message)
        return StatesFailure(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{self.text}' specified for the field '{self.field}' threw "
            f"an error during evaluation. {message}",
            location=self.field,
        )


#: What an expression that returns nothing gives (JSON has no undefined; AWS fails the state).
_UNDEFINED = object()


def _evaluate(compiled: Any, bindings: dict[str, Any]) -> Any:
    """The expression's value, or ``_UNDEFINED``."""
    try:
        value = compiled.evaluate(None, bindings)
    except OverflowError:
        # The library takes 64-bit integers only; JSON allows any. JSONata's numbers are
        # doubles anyway, so larger integers are handed over as such (rare: retried, not
        # walked on every call).
        bindings = _as_doubles(bindings)
        value = compiled.evaluate(None, bindings)
    # evaluate() gives None for null and undefined alike; the JSON form tells them apart.
    # (Evaluating straight to Python objects is faster than through JSON text.)
    if value is None and compiled.evaluate_json_or_none(None, bindings) is None:
        return _UNDEFINED
    if isinstance(value, float) and not math.isfinite(value):
        return None  # 1/0: JSON has no infinity (the library's JSON form is null too)
    return value


def _as_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        return float(value)
    return value


def _library_message(message: str) -> str:
    """The library's message as AWS writes the tail: ``<CODE>: <message>``."""
    prefix = "host function raised "
    if message.startswith(prefix):
        # A Step Functions function refused its arguments: its own message, without the class.
        rest = message[len(prefix):]
        _, _, tail = rest.partition(": ")
        return tail or rest
    if message.startswith("D1012"):
        return f"D1012: The expression ran longer than its budget of {BUDGET_MS} ms"
    return message


@dataclass(frozen=True, slots=True)
class _Object:
    items: tuple[tuple[str, Value], ...]
    is_constant: bool = False

    def evaluate(self, bindings: dict[str, Any], ctx: Ctx) -> Any:
        return {key: node.evaluate(bindings, ctx) for key, node in self.items}


@dataclass(frozen=True, slots=True)
class _Array:
    items: tuple[Value, ...]
    is_constant: bool = False

    def evaluate(self, bindings: dict[str, Any], ctx: Ctx) -> Any:
        return [node.evaluate(bindings, ctx) for node in self.items]


# The library's compiled expressions are bound to the thread that compiled them (a PyO3
# "unsendable" class: using one elsewhere panics). Parsing compiles each expression once, which
# checks it and fills the parsing thread's cache; any other thread (the runtime's workers)
# compiles each expression text once for itself, on first use.
_THREAD = threading.local()
_CACHE_SIZE = 20_000


def _compiled(body: str) -> Any:
    cache: dict[str, Any] | None = getattr(_THREAD, "cache", None)
    if cache is None:
        cache = _THREAD.cache = {}
    compiled = cache.get(body)
    if compiled is None:
        if len(cache) >= _CACHE_SIZE:  # a long-lived worker meets many definitions: start over
            cache.clear()
        compiled = cache[body] = _compile(body)
    return compiled


def _compile(body: str) -> Any:
    try:
        compiled = jsonatapy.compile(body, timeout=BUDGET_MS, max_stack_depth=MAX_RECURSION,
                                     max_sequence_length=MAX_SEQUENCE)
    except ValueError as exc:
        raise ExpressionSyntaxError(str(exc).removeprefix("Parse error: ")) from exc
    for name, function in _ADDED.items():
        compiled.register(name, function)
    for name, function in _REPLACED.items():
        compiled.register_override(name, function)
    return compiled


def compile_query(text: str, field: str) -> Query:
    """``{% expression %}`` (the delimiters included) compiled for ``field``."""
    body = text[2:-2].strip()
    if not body:
        raise JsonataSyntaxError("The JSONata expression is empty", field)  # [ours]
    try:
        _compiled(body)
    except ExpressionSyntaxError as exc:
        message = re.sub(r"^[A-Z]\d{4}: ", "", exc.message)
        raise JsonataSyntaxError(message, field) from exc
    first = _LEADING_NAME.match(body)
    name = first and (first.group(1) or first.group(2))
    if first and name not in _KEYWORDS:
        raise JsonataReferenceError(
            f"Reference to '{name}' at the top level is not supported.", field)
    names = frozenset(_NAME.findall(body))
    members = _STATES_MEMBER.findall(body)
    whole = len(_STATES.findall(body)) != len(members)
    context = _CONTEXT_MEMBER.findall(body)
    whole_context = members.count("context") != len(context)
    return Query(body, field, names, None if whole else frozenset(members),
                 None if whole_context else frozenset(context))


_NAME = re.compile(r"\$(\w+)")
#: A bare name (or a backquoted one) as the expression's first step, after any parentheses.
_LEADING_NAME = re.compile(r"[\s(]*(?:([A-Za-z_]\w*)|`([^`]*)`)(?!\w)(?!\s*\()")
_KEYWORDS = frozenset({"true", "false", "null", "function", "and", "or", "in"})
_STATES = re.compile(r"\$states\b")
_STATES_MEMBER = re.compile(r"\$states\s*\.\s*(\w+)\b")
_CONTEXT_MEMBER = re.compile(r"\$states\s*\.\s*context\s*\.\s*(\w+)\b")


def compile_value(value: Any, field: str) -> Value:
    """Any JSON value of a JSONata field; ``{% %}`` strings become queries. Raises the first
    ``JsonataSyntaxError``, carrying every other one in ``also``, so a definition's faults are
    all reported at once."""
    faults: list[JsonataSyntaxError] = []
    compiled = _compile_value(value, field, faults)
    if faults:
        faults[0].also = faults[1:]
        raise faults[0]
    return compiled


def _compile_value(value: Any, field: str, faults: list[JsonataSyntaxError]) -> Value:
    if is_expression(value):
        try:
            return compile_query(value, field)
        except JsonataSyntaxError as exc:
            faults.append(exc)
            return _Constant(None)
    if isinstance(value, dict):
        items = tuple((k, _compile_value(v, f"{field}/{k}", faults)) for k, v in value.items())
        if all(node.is_constant for _, node in items):
            return _Constant(value)
        return _Object(items)
    if isinstance(value, list):
        nodes = tuple(_compile_value(v, f"{field}[{i}]", faults) for i, v in enumerate(value))
        if all(node.is_constant for node in nodes):
            return _Constant(value)
        return _Array(nodes)
    return _Constant(value)
