"""JSONata expressions and the Step Functions functions (``asl/jsonata.py``).

Where the expectations come from:

- ``[docs]``: Step Functions developer guide, "Transforming data with JSONata" (the functions
  Step Functions adds; ``$eval`` unavailable) and the project reference asl-and-api.md 1.2.
- ``[case: ...]``: an execution recorded against AWS in ``../shared/conformance/cases``.
- ``[floci]``: measured against AWS by floci-io/floci (#2662: ``$random(42)`` is
  ``0.7275636800328681``, java.util.Random; #2736: a failed expression's cause names the
  expression and the field, then ``<CODE>: <message>``; #2689: nested fields are named
  ``Output/key``, ``Arguments/list[0]``).
- ``[ours]``: AWS's wording is unknown; ours follows its pattern.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from statewright.asl.context import Ctx
from statewright.asl.errors import QUERY_EVALUATION_ERROR, ExpressionSyntaxError, StatesFailure
from statewright.asl.jsonata import compile_query, compile_value, is_expression

NAMES: dict[str, Any] = {
    "states": {"input": {"a": 1, "list": [3, 1, 2], "text": "Hi", "nothing": None},
               "context": {"Execution": {"Name": "run-1"}}},
    "total": 10,
    "user": {"name": "ann"},
}


def evaluate(text: str, ctx: Ctx | None = None, names: dict[str, Any] | None = None) -> Any:
    return compile_value(text, "Output").evaluate(names or NAMES, ctx or Ctx())


# (expression, value, what AWS does)
FUNCTIONS = [
    ("{% $partition([1,2,3,4,5], 2) %}", [[1, 2], [3, 4], [5]], "[docs] chunks of size n"),
    ("{% $range(0, 10, 2) %}", [0, 2, 4, 6, 8, 10], "[docs] the end is included"),
    ("{% $range(10, 0, -5) %}", [10, 5, 0], "[docs] a negative step counts down"),
    ("{% $range(1, 9, 9) %}", 1, "[case: test_array_range] one item is the item"),
    ("{% $hash('a', 'MD5') %}", "0cc175b9c0f1b6a831c399e269772661", "[docs] MD5"),
    ("{% $hash('a', 'SHA-1') %}", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", "[docs] SHA-1"),
    ("{% $random(42) %}", 0.7275636800328681, "[floci] seeded: java.util.Random"),
    ("{% $parse('{\"a\":[1,2]}') %}", {"a": [1, 2]}, "[docs] JSON text to a value"),
    ("{% $sum($states.input.list) + $total %}", 16, "[docs] variables as $name"),
    ("{% $user.name %}", "ann", "[docs] a field of a variable"),
    ("{% $states.context.Execution.Name %}", "run-1", "[docs] $states.context"),
    ("{% $states.input.nothing %}", None, "null is a value, not undefined"),
    ("{% [1, null, {'a': null}] %}", [1, None, {"a": None}], "nulls inside values stay"),
    ("{% 1/0 %}", None, "[floci #2737] AWS gives a value for 1/0, not an error; JSON: null"),
]


@pytest.mark.parametrize(("text", "expected", "aws"), FUNCTIONS)
def test_functions(text: str, expected: Any, aws: str) -> None:
    assert evaluate(text) == expected, aws


def test_hash_sha256_is_the_hex_digest() -> None:
    # [docs] $hash(value, "SHA-256") returns the lowercase hex digest.
    assert evaluate("{% $hash('a', 'SHA-256') %}") == (
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")


def test_random_and_uuid_come_from_the_ctx() -> None:
    # The core reads no global randomness: the same Ctx seed gives the same values.
    first = evaluate("{% [$random(), $uuid()] %}", Ctx(random=random.Random(7)))
    again = evaluate("{% [$random(), $uuid()] %}", Ctx(random=random.Random(7)))
    assert first == again
    assert 0 <= first[0] < 1
    assert len(first[1]) == 36 and first[1][14] == "4"  # a version 4 UUID


def test_now_and_millis_read_ctx_now() -> None:
    # The core reads no clock: $now/$millis are the step's time.
    assert evaluate("{% $millis() %}", Ctx(now=1.25)) == 1250
    assert evaluate("{% $now() %}", Ctx(now=86400.5)) == "1970-01-02T00:00:00.500Z"
    # JSONata: $now(picture, timezone) formats the same instant as $fromMillis does
    assert evaluate("{% $now('[Y0001]-[M01]-[D01]') %}", Ctx(now=86400 * 365)) == "1971-01-01"
    assert evaluate("{% $now('[H01]:[m01]', '+0100') %}", Ctx(now=3600)) == "02:00"


# (expression, the cause's tail, what AWS does)
ERRORS = [
    ("{% $nothing %}", "returned nothing (undefined).",
     "[case: BASE_UNDEFINED_ASSIGN] undefined is an error"),
    ("{% 1 + 'a' %}", "threw an error during evaluation. T2002: ",
     "[floci] the JSONata code and message follow the sentence"),
    ("{% $eval('1') %}", "during evaluation. T1006: Attempted to invoke a non-function",
     "[docs] $eval is unavailable; [floci #2737] AWS fails it with T1006"),
    ("{% $formatNumber(1, 'x') %}", "D3086", "[floci #2737] a bad picture fails with D3086"),
    ("{% $partition([1], 0) %}", "must be a positive integer", "[ours] bad size"),
    ("{% $range(1, 2, 0) %}", "must not be zero", "[ours] a zero step"),
    ("{% $hash('a', 'SHA-999') %}", "must be one of MD5", "[ours] unknown algorithm"),
    ("{% $parse('{') %}", "is not valid JSON", "[ours] bad JSON text"),
    ("{% ($f := function($n){ $f($n + 1) }; $f(0)) %}", "D1012",
     "[ours] the time budget ends a runaway expression"),
    ("{% $count([1..900000]) %}", "D2015",
     "[floci #2737] AWS refuses a 900,000-item sequence (memory)"),
    ("{% $range(1, 900000, 1) %}", "more than 800000 items", "[ours] $range, likewise"),
]


@pytest.mark.parametrize(("text", "tail", "aws"), ERRORS)
def test_errors_are_query_evaluation_errors(text: str, tail: str, aws: str) -> None:
    with pytest.raises(StatesFailure) as raised:
        evaluate(text)
    failure = raised.value.failure
    assert failure.error == QUERY_EVALUATION_ERROR, aws
    expression = text[2:-2].strip()
    assert failure.cause is not None
    assert failure.cause.startswith(
        f"The JSONata expression '{expression}' specified for the field 'Output' "), aws
    assert tail in failure.cause, aws


def test_nested_fields_are_named_in_the_cause() -> None:
    # [floci] Output/key for object members, [i] for array items.
    value = compile_value({"a": {"b": ["x", "{% $nope %}"]}}, "Output")
    with pytest.raises(StatesFailure) as raised:
        value.evaluate(NAMES, Ctx())
    assert "specified for the field 'Output/a/b[1]'" in str(raised.value.failure.cause)


def test_values_mix_literals_and_expressions() -> None:
    # [docs] {% %} anywhere a value is allowed, nested in objects and arrays.
    value = compile_value({"k": "plain", "n": ["{% $total * 2 %}", {"x": "{% $states.input.a %}"}]},
                          "Output")
    assert value.evaluate(NAMES, Ctx()) == {"k": "plain", "n": [20, {"x": 1}]}
    assert compile_value({"k": [1, "two"]}, "Output").is_constant


@pytest.mark.parametrize(("value", "expression"), [
    ("{% 1 %}", True), ("{%1%}", True), (" {% 1 %}", False), ("{% 1 %} ", False),
    ("a {% 1 %}", False), ("{%", False), (1, False),
])
def test_only_a_whole_string_is_an_expression(value: Any, expression: bool) -> None:
    # [docs] a value is JSONata only when the whole string is wrapped in {% %}.
    assert is_expression(value) is expression


def test_a_syntax_error_is_found_when_compiling() -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"^Unexpected end of expression$"):
        compile_value("{% 1 + %}", "Output")


def test_expressions_run_in_any_thread() -> None:
    # The library binds a compiled expression to its thread; workers compile their own.
    value = compile_value("{% $total + 1 %}", "Output")
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(value.evaluate(NAMES, Ctx())))
    thread.start()
    thread.join()
    assert results == [11]


def test_integers_beyond_64_bits_are_numbers_too() -> None:
    # JSON allows any integer; JSONata's numbers are doubles (the library takes 64-bit ints).
    names = {"states": {"input": {"big": 2**70, "list": [2**64]}}}
    assert evaluate("{% $states.input.big %}", names=names) == float(2**70)
    assert evaluate("{% $states.input.list[0] %}", names=names) == float(2**64)


@pytest.mark.parametrize(("text", "names", "states_keys", "context_keys"), [
    ("{% $states.context.Map.Item.Value %}", {"states"}, {"context"}, {"Map"}),
    ("{% $states.input.a + $total %}", {"states", "total"}, {"input"}, set()),
    ("{% $states.context %}", {"states"}, {"context"}, None),
    ("{% $keys($states) %}", {"states", "keys"}, None, set()),
])
def test_only_the_named_bindings_are_handed_over(text: str, names: set[str],
                                                 states_keys: set[str] | None,
                                                 context_keys: set[str] | None) -> None:
    # The library converts every value it is given: a Map's ItemSelector reading
    # $states.context.Map must not convert the whole execution input once per item.
    query = compile_query(text, "Output")
    assert query.names == names
    assert query.states_keys == (None if states_keys is None else frozenset(states_keys))
    assert query.context_keys == (None if context_keys is None else frozenset(context_keys))
    assert evaluate("{% $states.input.a + $total %}") == 11  # and the values still arrive
