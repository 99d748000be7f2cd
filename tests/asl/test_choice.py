"""Choice rules: executions recorded on AWS, then hand-written tables per operator.

Where the facts come from (searched while writing; facts only, no code copied):

- ``../shared/conformance/cases/choice_operators_*.json``: 203 executions recorded on AWS with
  LocalStack's choice-operator template: one Choice state whose single rule leads to a Pass state
  ``ConditionTrue`` or the ``Default`` Pass state ``ConditionFalse``, each with a ``Result`` that
  becomes the execution output. All 203 are JSONPath.
- The same LocalStack snapshot files (``tests/aws/services/stepfunctions/v2/choice_operators/
  test_is_operators.snapshot.json`` and ``test_timestamp_operators.snapshot.json``, recorded on
  AWS 2023-06-22) hold more cases whose timestamps were masked as ``"date"`` and so were not
  rebuilt as conformance cases; their order matches the test's input list, which gives the
  IsString/IsBoolean tables and "TimestampEquals on a non-timestamp is false, not an error"
  (including the unparsable ``"2023-02-24 12:15:56.832957"``). No IsTimestamp recording exists
  (LocalStack skips that test).
- States Language spec (awslabs/states-language ``spec/States.html``): StringMatches examples and
  escapes (``\\*`` a star, ``\\\\`` a backslash, an "open escape" backslash is a runtime error);
  "if the values are not both of the appropriate type the comparison will return false"; string
  comparison "character-by-character with no ... case-folding, white-space collapsing, or Unicode
  form normalization"; IsPresent is the one operator that does not throw on a missing path.
- AWS developer guide (Choice state): string comparison follows Java's ``String.compareTo``,
  i.e. UTF-16 code units; timestamps are RFC 3339 with an uppercase T and Z.
- Missing Variable: real AWS failures quoted in several public repositories read
  ``Invalid path '$.force': The choice state's condition path references an invalid value.``, and
  one quotes the full cause ``An error occurred while executing the state 'IsDataset' (entered at
  the event id #2). Invalid path '$.processing_type': The choice state's condition path
  references an invalid value.``. The same text for a missing ``...Path`` operand comes from a
  third-party conformance suite (``Invalid path '$.right'``), not from an AWS recording.
- Timestamp syntax: the recorded Wait cases (``scenarios_..._test_wait_timestamp_path_*``) accept
  ``Z`` with 0-9 fraction digits and reject a missing offset, a space for ``T``, month 13 and hour
  25, with AWS naming the format "ISO-8601 extended offset date-time", the Javadoc wording of
  Java's ``ISO_OFFSET_DATE_TIME``; the choice module assumes Choice uses that same parser.
- And short-circuits: a public post-mortem reports that wrapping ``BooleanEquals`` in
  ``And[IsPresent, BooleanEquals]`` fixed the "Invalid path" failure on AWS when the field was
  absent, which is only possible if ``And`` stops at the first false rule.

Not verified anywhere (our choices, pinned here so a change is deliberate): comparing timestamps
as instants (``+01:00`` equal to the matching ``Z`` time) at nanosecond precision; lowercase
``t``/``z``, missing seconds and ``+HH`` offsets accepted (Java's formatter does); the text of
the open-escape error; reading a ``...Path`` operand before checking the Variable's type.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from statewright.asl.choice import compile_rule
from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.timestamps import parse_timestamp
from tests.shared_data import CASES, SKIP_REASON

CASES_DIR = CASES
CAUSE_PREFIX = re.compile(
    r"An error occurred while executing the state '.*?' \(entered at the "
    r"event id #\d+\)\. "
)


def invalid_path(text: str) -> str:
    return f"Invalid path '{text}': The choice state's condition path references an invalid value."


def matches(rule: dict[str, Any], data: Any, ctx: Ctx | None = None) -> bool:
    return compile_rule(rule, top_level=True).matches(data, ctx)


# --- conformance: which branch AWS took -----------------------------------------------------


def _load_cases() -> list[Any]:
    files = sorted(CASES_DIR.glob("choice_operators_*.json"))
    if not files:
        # Skips with the reason CI turns into a failure (tests/shared_data.py): a moved
        # folder must not silently drop 203 AWS recordings.
        return [pytest.param(None, id="cases-folder-missing",
                             marks=pytest.mark.skip(SKIP_REASON))]
    cases = []
    for file in files:
        case = json.loads(file.read_text(encoding="utf-8"))
        cases.append(pytest.param(case, id=case["id"].rsplit("::", 1)[-1]))
    return cases


def _choice_state(definition: dict[str, Any]) -> dict[str, Any]:
    choices = [s for s in definition["States"].values() if s["Type"] == "Choice"]
    assert len(choices) == 1, "the choice-operator template has exactly one Choice state"
    state: dict[str, Any] = choices[0]
    return state


def _run_choice(state: dict[str, Any], data: Any) -> str:
    """What a Choice state does with its compiled rules: first match wins, else Default."""
    for raw in state["Choices"]:
        if compile_rule(raw, top_level=True).matches(data, Ctx()):
            return str(raw["Next"])
    if "Default" not in state:
        raise StatesFailure("States.NoChoiceMatched")
    return str(state["Default"])


def _expected_branch(definition: dict[str, Any], output: Any) -> str:
    # Each branch of the template is a Pass state whose Result is the execution output.
    found = [
        name
        for name, state in definition["States"].items()
        if state["Type"] == "Pass" and "Result" in state and state["Result"] == output
    ]
    assert len(found) == 1, f"cannot tell the branch from output {output!r}"
    return str(found[0])


@pytest.mark.parametrize("case", _load_cases())
def test_conformance_branch(case: dict[str, Any] | None) -> None:
    assert case is not None, f"no choice_operators_*.json cases under {CASES_DIR}"
    definition = case["definition"]
    state = _choice_state(definition)
    if "JSONata" in (definition.get("QueryLanguage"), state.get("QueryLanguage")):
        pytest.skip("JSONata Choice rules use Condition, evaluated by asl/jsonata.py")
    data = json.loads(case["input"])
    expected = case["expected"]
    if expected["status"] == "SUCCEEDED":
        assert _run_choice(state, data) == _expected_branch(definition, expected["output"])
    else:
        with pytest.raises(StatesFailure) as raised:
            _run_choice(state, data)
        assert raised.value.failure.error == expected["error"]
        assert raised.value.failure.cause == CAUSE_PREFIX.sub("", expected["cause"], count=1)


def test_aws_docs_example_picks_value_in_twenties() -> None:
    # The Choice state example of the developer guide, with its documented outcome.
    state = {
        "Type": "Choice",
        "Choices": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {
                "And": [
                    {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                    {"Variable": "$.value", "NumericLessThan": 30},
                ],
                "Next": "ValueInTwenties",
            },
        ],
        "Default": "DefaultState",
    }
    assert _run_choice(state, {"type": "Private", "value": 22}) == "ValueInTwenties"
    assert _run_choice(state, {"type": "Private", "value": 0}) == "ValueIsZero"
    assert _run_choice(state, {"type": "Public", "value": 22}) == "Public"
    assert _run_choice(state, {"type": "Private", "value": 30}) == "DefaultState"
    # The guide's note: without $.type the execution fails.
    with pytest.raises(StatesFailure) as raised:
        _run_choice(state, {"value": 22})
    assert raised.value.failure.cause == invalid_path("$.type")


# --- numbers and booleans -------------------------------------------------------------------

NUMERIC: list[tuple[dict[str, Any], Any, bool]] = [
    ({"NumericEquals": 1}, 1.0, True),
    ({"NumericEquals": 1.0}, 1, True),
    ({"NumericEquals": 0}, -0.0, True),
    ({"NumericEquals": 2.22}, 2.22, True),
    ({"NumericEquals": 9007199254740993}, 9007199254740993, True),
    ({"NumericEquals": 1}, True, False),  # bool is never a number
    ({"NumericEquals": 0}, False, False),
    ({"NumericEquals": 1}, "1", False),
    ({"NumericEquals": 0}, None, False),
    ({"NumericEquals": 1}, [1], False),
    ({"NumericEquals": 1}, {"a": 1}, False),
    ({"NumericGreaterThan": 1}, 1.0000001, True),
    ({"NumericGreaterThan": 1}, 1, False),
    ({"NumericGreaterThan": -1}, 0, True),
    ({"NumericGreaterThanEquals": 1}, 1, True),
    ({"NumericGreaterThanEquals": 1.5}, 1, False),
    ({"NumericLessThan": -1}, -2, True),
    ({"NumericLessThan": 0}, "-1", False),
    ({"NumericLessThanEquals": 2.5}, 2.5, True),
    ({"NumericLessThanEquals": 2.5}, 2.6, False),
    ({"NumericLessThanEquals": 1}, True, False),
]

BOOLEAN: list[tuple[dict[str, Any], Any, bool]] = [
    ({"BooleanEquals": True}, True, True),
    ({"BooleanEquals": True}, False, False),
    ({"BooleanEquals": False}, False, True),
    ({"BooleanEquals": True}, 1, False),
    ({"BooleanEquals": False}, 0, False),
    ({"BooleanEquals": True}, "true", False),
    ({"BooleanEquals": False}, None, False),
    ({"BooleanEquals": False}, [], False),
]


@pytest.mark.parametrize(("operator", "value", "expected"), NUMERIC + BOOLEAN)
def test_number_and_boolean_literals(operator: dict[str, Any], value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", **operator}, {"v": value}) is expected


PATH_OPERANDS: list[tuple[dict[str, Any], Any, bool]] = [
    # (rule operator, input, expected)
    ({"NumericEqualsPath": "$.w"}, {"v": 2, "w": 2.0}, True),
    ({"NumericEqualsPath": "$.w"}, {"v": 2, "w": "2"}, False),
    ({"NumericEqualsPath": "$.w"}, {"v": True, "w": 1}, False),
    ({"NumericGreaterThanPath": "$.w"}, {"v": 3, "w": 2.5}, True),
    ({"NumericGreaterThanEqualsPath": "$.w"}, {"v": 0.0, "w": 0}, True),
    ({"NumericLessThanPath": "$.w"}, {"v": 1, "w": 0}, False),
    ({"NumericLessThanEqualsPath": "$.w"}, {"v": 1, "w": 1}, True),
    ({"BooleanEqualsPath": "$.w"}, {"v": True, "w": True}, True),
    ({"BooleanEqualsPath": "$.w"}, {"v": False, "w": False}, True),
    ({"BooleanEqualsPath": "$.w"}, {"v": True, "w": 1}, False),
    ({"BooleanEqualsPath": "$.w"}, {"v": 1, "w": 1}, False),
    ({"StringEqualsPath": "$.w"}, {"v": "Hello", "w": "Hello"}, True),
    ({"StringEqualsPath": "$.w"}, {"v": "1", "w": 1}, False),
    ({"StringLessThanPath": "$.w"}, {"v": "A", "w": "AB"}, True),
    ({"StringGreaterThanEqualsPath": "$.w"}, {"v": "", "w": ""}, True),
    (
        {"TimestampEqualsPath": "$.w"},
        {"v": "2012-10-09T19:00:55Z", "w": "2012-10-09T19:00:55Z"},
        True,
    ),
    ({"TimestampEqualsPath": "$.w"}, {"v": "2012-10-09T19:00:55Z", "w": "not a date"}, False),
    (
        {"TimestampLessThanPath": "$.w"},
        {"v": "2012-10-09T19:00:55Z", "w": "2012-10-09T19:00:56Z"},
        True,
    ),
    (
        {"TimestampGreaterThanPath": "$.w"},
        {"v": "2012-10-09T19:00:55Z", "w": "2012-10-09T19:00:56Z"},
        False,
    ),
]


@pytest.mark.parametrize(("operator", "data", "expected"), PATH_OPERANDS)
def test_path_operands_from_input(operator: dict[str, Any], data: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", **operator}, data) is expected


CONTEXT = Ctx(
    context={
        "Execution": {"Name": "run-1", "Input": {"input-value": 0, "limit": 10}},
        "State": {"EnteredTime": "2024-01-01T00:00:00.000Z", "RetryCount": 0},
        "Map": {"Item": {"Index": 3}},
    },
    variables={"answer": "42", "guess": "42", "cfg": {"max": 5, "flag": True}, "nothing": None},
)

CONTEXT_AND_VARIABLES: list[tuple[dict[str, Any], Any, bool]] = [
    # The recorded context-object case: NumericLessThanEquals on $$.Execution.Input.
    ({"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}, {}, True),
    # The recorded Assign case: both sides are variables.
    ({"Variable": "$guess", "StringEqualsPath": "$answer"}, {}, True),
    ({"Variable": "$.n", "NumericLessThanPath": "$$.Execution.Input.limit"}, {"n": 9}, True),
    ({"Variable": "$.n", "NumericGreaterThanPath": "$cfg.max"}, {"n": 5}, False),
    ({"Variable": "$.n", "NumericEqualsPath": "$$.Map.Item.Index"}, {"n": 3}, True),
    ({"Variable": "$cfg.flag", "BooleanEquals": True}, {}, True),
    ({"Variable": "$.name", "StringEqualsPath": "$$.Execution.Name"}, {"name": "run-1"}, True),
    ({"Variable": "$$.State.EnteredTime", "TimestampLessThan": "2024-01-01T00:00:01Z"}, {}, True),
    (
        {"Variable": "$$.State.EnteredTime", "TimestampEqualsPath": "$.t"},
        {"t": "2024-01-01T01:00:00+01:00"},
        True,
    ),
    ({"Variable": "$nothing", "IsNull": True}, {}, True),
    ({"Variable": "$undefined", "IsPresent": True}, {}, False),
    ({"Variable": "$$.Task.Token", "IsPresent": False}, {}, True),
    ({"Variable": "$cfg", "IsPresent": True}, {}, True),
]


@pytest.mark.parametrize(("rule", "data", "expected"), CONTEXT_AND_VARIABLES)
def test_context_and_variable_paths(rule: dict[str, Any], data: Any, expected: bool) -> None:
    assert matches(rule, data, CONTEXT) is expected


# --- strings --------------------------------------------------------------------------------

STRINGS: list[tuple[dict[str, Any], Any, bool]] = [
    ({"StringEquals": "abc"}, "abc", True),
    ({"StringEquals": "abc"}, "ABC", False),
    ({"StringEquals": "abc"}, "abc ", False),
    ({"StringEquals": "     "}, " ", False),
    ({"StringEquals": "\t\r\n"}, "\t\n", False),
    ({"StringEquals": "\u00e9"}, "e\u0301", False),  # no Unicode normalization
    ({"StringEquals": "\U0001f600"}, "\U0001f600", True),
    ({"StringEquals": "1"}, 1, False),
    ({"StringEquals": "null"}, None, False),
    ({"StringEquals": "true"}, True, False),
    ({"StringLessThan": "b"}, "a", True),
    ({"StringLessThan": "a"}, "B", True),  # upper case sorts first: no case folding
    ({"StringLessThan": ""}, "", False),
    ({"StringLessThanEquals": ""}, "", True),
    ({"StringLessThanEquals": "AB"}, "A", True),
    ({"StringGreaterThan": "A"}, "AB", True),
    ({"StringGreaterThan": "AB"}, "A", False),
    ({"StringGreaterThan": "A "}, "A", False),
    ({"StringGreaterThanEquals": "A"}, "AB", True),
    ({"StringGreaterThan": "a"}, ["b"], False),
    ({"StringLessThan": "z"}, 1, False),
    # Java compares UTF-16 code units: the pair D83D DE00 of U+1F600 sorts below U+FFFF and
    # U+E000, where Python's code-point order says the opposite.
    ({"StringGreaterThan": "\U0001f600"}, "\uffff", True),
    ({"StringLessThan": "\ue000"}, "\U0001f600", True),
    ({"StringGreaterThanEquals": "\ue000"}, "\U0001f600", False),
    ({"StringGreaterThan": "\ud7ff"}, "\U00010000", True),  # both orders agree here
    ({"StringLessThan": "\U0001f601"}, "\U0001f600", True),  # same high surrogate
    ({"StringLessThan": "\ue000"}, json.loads('"\\ud800"'), True),  # a lone surrogate
]


@pytest.mark.parametrize(("operator", "value", "expected"), STRINGS)
def test_string_comparisons(operator: dict[str, Any], value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", **operator}, {"v": value}) is expected


STRING_MATCHES: list[tuple[str, Any, bool]] = [
    # (pattern as Python text, value, expected); a JSON "\\*" is the Python text "\\*" too.
    ("foo*.log", "foo23.log", True),  # the spec's three examples
    ("*.log", "zebra.log", True),
    ("foo*.*", "foobar.zebra", True),
    ("foo*.log", "foo23.txt", False),
    ("*", "", True),
    ("*", "anything at all", True),
    ("", "", True),
    ("", "a", False),
    ("abc", "abc", True),
    ("abc", "abcd", False),  # whole-string match
    ("abc", "xabc", False),
    ("a*a", "a", False),  # prefix and suffix may not overlap
    ("a*a", "aa", True),
    ("a**b", "ab", True),
    ("*a*b*", "xxaxxbxx", True),
    ("*a*b*", "xxbxxaxx", False),
    ("*ab*ab", "abab", True),
    ("*ab*ab", "xabyab", True),
    ("A*", "abc", False),  # case-sensitive
    ("a.c", "abc", False),  # nothing but * is special
    ("a?c", "abc", False),
    ("[ab]", "a", False),
    ("^a$", "^a$", True),
    ("a\\*b", "a*b", True),  # \* is a literal star
    ("a\\*b", "axxb", False),
    ("a\\\\b", "a\\b", True),  # \\ is a literal backslash
    ("\\\\*", "\\anything", True),  # literal backslash, then a wildcard
    ("\\\\*", "x", False),
    ("*\\*", "2*", True),
    ("*\\*", "2", False),
    ("*\U0001f600*", "smile \U0001f600 please", True),
    ("*", 1, False),  # type mismatch: false, not an error
    ("*", None, False),
    ("*", ["a"], False),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), STRING_MATCHES)
def test_string_matches(pattern: str, value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) is expected


@pytest.mark.parametrize("pattern", ["a\\", "\\", "a\\b*"])
def test_string_matches_open_escape_is_a_runtime_error(pattern: str) -> None:
    # The spec: "If an open escape backslash \ is found in the StringMatches string, the
    # interpreter will throw a runtime error." AWS's cause text is unknown.
    rule = compile_rule({"Variable": "$.v", "StringMatches": pattern}, top_level=False)
    with pytest.raises(StatesFailure) as raised:
        rule.matches({"v": "a"})
    assert raised.value.failure.error == RUNTIME
    assert pattern in (raised.value.failure.cause or "")


# --- timestamps -----------------------------------------------------------------------------

T0 = "2012-10-09T19:00:55Z"

TIMESTAMPS: list[tuple[dict[str, Any], Any, bool]] = [
    ({"TimestampEquals": T0}, T0, True),
    ({"TimestampEquals": T0}, "2012-10-09T19:00:56Z", False),
    ({"TimestampGreaterThanEquals": "2012-10-09T19:00:56Z"}, T0, False),
    ({"TimestampLessThanEquals": T0}, T0, True),
    ({"TimestampLessThan": "2012-10-09T19:00:56Z"}, T0, True),
    ({"TimestampGreaterThan": T0}, "2012-10-09T19:00:56Z", True),
    # Offsets and fractions (instants compared; not verified on AWS).
    ({"TimestampEquals": T0}, "2012-10-09T20:00:55+01:00", True),
    ({"TimestampEquals": T0}, "2012-10-09T14:00:55-05:00", True),
    ({"TimestampEquals": T0}, "2012-10-09T19:00:55.000Z", True),
    ({"TimestampEquals": T0}, "2012-10-09T19:00:55.000000000Z", True),
    ({"TimestampLessThan": "2012-10-09T19:00:55.5Z"}, T0, True),
    (
        {"TimestampGreaterThan": "2012-10-09T19:00:55.123456788Z"},
        "2012-10-09T19:00:55.123456789Z",
        True,
    ),
    ({"TimestampLessThan": "2012-10-10T00:00:00+05:00"}, T0, False),
    ({"TimestampEquals": "2000-02-29T00:00:00Z"}, "2000-02-29T00:00:00Z", True),
    # Not timestamps: false, never an error (recorded on AWS for the first rows).
    ({"TimestampEquals": T0}, "2023-02-24 12:15:56.832957", False),
    ({"TimestampEquals": T0}, None, False),
    ({"TimestampEquals": T0}, 0, False),
    ({"TimestampEquals": T0}, 1.1, False),
    ({"TimestampEquals": T0}, "", False),
    ({"TimestampEquals": T0}, " ", False),
    ({"TimestampEquals": T0}, [], False),
    ({"TimestampEquals": T0}, {"A": 0}, False),
    ({"TimestampEquals": T0}, True, False),
    ({"TimestampEquals": T0}, "2012-10-09T19:00:55", False),  # no offset (Wait NO_Z)
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2012-10-09 19:00:55Z", False),  # NO_T
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2016-13-05T21:29:29Z", False),  # month
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2016-12-05T25:29:29Z", False),  # hour
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "05-12-2016T21:29:29Z", False),
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2001-02-29T00:00:00Z", False),
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2012-10-09T19:00:55+19:00", False),
    ({"TimestampLessThan": "2100-01-01T00:00:00Z"}, "2012-10-09T19:00:55.1234567890Z", False),
    ({"TimestampGreaterThan": "not a timestamp"}, T0, False),  # a literal that never parses
]


@pytest.mark.parametrize(("operator", "value", "expected"), TIMESTAMPS)
def test_timestamp_comparisons(operator: dict[str, Any], value: Any, expected: bool) -> None:
    assert matches({"Variable": "$.v", **operator}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2016-03-14T01:59:00Z", True),  # recorded Wait cases
        ("2016-03-05T21:29:29.243167252Z", True),
        ("2016-03-05T21:29:29.0000000Z", True),
        ("2016-03-05T21:29:29.00Z", True),
        ("2016-12-05T21:29:29", False),
        ("2016-12-05T21:29:29.000000", False),
        ("2016-12-05T21:29:29.000", False),
        ("2016-12-05 21:29:29Z", False),
        ("2016-13-05T21:29:29Z", False),
        ("2016-12-05T25:29:29Z", False),
        ("05-12-2016T21:29:29Z", False),
        ("2012-10-09T19:00:55+01:00", True),  # RFC 3339 offsets
        ("2012-10-09T19:00:55-00:00", True),
        ("2012-10-09T19:00:55+18:00", True),
        ("2012-10-09T19:00:55+18:01", False),
        ("2012-10-09T19:00:55+01:60", False),
        ("2023-02-24", False),
        ("2023-02-24T10:00:60Z", False),  # no leap seconds in Java's strict resolver
        ("2023-04-31T10:00:00Z", False),
        ("1900-02-29T00:00:00Z", False),
        ("0000-01-01T00:00:00Z", True),
        ("2023-02-24T10:00:00ZZ", False),
        ("\uff12023-02-24T10:00:00Z", False),  # non-ASCII digit
        # Java's ISO_OFFSET_DATE_TIME reads these too (unverified on AWS).
        ("2012-10-09t19:00:55z", True),
        ("2012-10-09T19:00Z", True),
        ("2012-10-09T19:00:55+01", True),
        ("2012-10-09T19:00:55+01:00:30", True),
    ],
)
def test_is_timestamp(text: str, valid: bool) -> None:
    assert matches({"Variable": "$.v", "IsTimestamp": True}, {"v": text}) is valid
    assert matches({"Variable": "$.v", "IsTimestamp": False}, {"v": text}) is not valid


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(hours: int, minutes: int = 0) -> timezone:
    return timezone(timedelta(hours=hours, minutes=minutes))


@pytest.mark.parametrize(
    ("text", "instant", "nanos"),
    [
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC), 0),
        (T0, datetime(2012, 10, 9, 19, 0, 55, tzinfo=UTC), 0),
        ("2012-10-09T20:00:55+01:00", datetime(2012, 10, 9, 20, 0, 55, tzinfo=_zone(1)), 0),
        (
            "2012-10-09T19:00:55.5-07:30",
            datetime(2012, 10, 9, 19, 0, 55, tzinfo=_zone(-7, -30)),
            500_000_000,
        ),
        (
            "1969-12-31T23:59:59.999999999+14:00",
            datetime(1969, 12, 31, 23, 59, 59, tzinfo=_zone(14)),
            999_999_999,
        ),
        ("2000-02-29T12:34:56.000001Z", datetime(2000, 2, 29, 12, 34, 56, tzinfo=UTC), 1_000),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC), 0),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), 0),
    ],
)
def test_parse_timestamp_gives_epoch_nanoseconds(text: str, instant: datetime, nanos: int) -> None:
    seconds = (instant - EPOCH) // timedelta(seconds=1)
    assert parse_timestamp(text) == seconds * 1_000_000_000 + nanos


# --- type tests and presence ----------------------------------------------------------------

# The values of LocalStack's TYPE_COMPARISONS, whose IsNull/IsNumeric/IsString/IsBoolean/
# IsPresent outcomes were recorded on AWS (the masked "date" rows are the Z and +01:00 strings).
TYPE_VALUES: list[Any] = [
    None,
    0,
    0.0,
    1,
    1.1,
    "",
    " ",
    "HelloWorld",
    "2012-10-09T19:00:55",
    "2012-10-09T19:00:55Z",
    "2012-10-09T19:00:55+01:00",
    "2023-02-24",
    [],
    [""],
    {},
    {"A": 0},
    True,
    False,
]


@pytest.mark.parametrize("value", TYPE_VALUES, ids=repr)
@pytest.mark.parametrize("expected", [True, False])
def test_type_tests(value: Any, expected: bool) -> None:
    kinds = {
        "IsNull": value is None,
        "IsNumeric": type(value) in (int, float),
        "IsString": isinstance(value, str),
        "IsBoolean": isinstance(value, bool),
        "IsPresent": True,
    }
    for operator, holds in kinds.items():
        rule = {"Variable": "$.Variable", operator: expected}
        assert matches(rule, {"Variable": value}) is (holds == expected), operator


def test_is_present_on_a_missing_path_is_false_not_an_error() -> None:
    assert matches({"Variable": "$.nope", "IsPresent": True}, {}) is False
    assert matches({"Variable": "$.nope", "IsPresent": False}, {}) is True
    assert matches({"Variable": "$.a.b", "IsPresent": False}, {"a": 1}) is True
    assert matches({"Variable": "$.a[3]", "IsPresent": True}, {"a": [0]}) is False
    assert matches({"Variable": "$.a", "IsPresent": True}, {"a": None}) is True


# --- missing paths --------------------------------------------------------------------------

MISSING: list[tuple[dict[str, Any], Any, str]] = [
    ({"Variable": "$.missing", "NumericEquals": 1}, {}, "$.missing"),
    ({"Variable": "$.missing", "StringEquals": "x"}, {"other": 1}, "$.missing"),
    ({"Variable": "$.a.b", "BooleanEquals": True}, {"a": {}}, "$.a.b"),
    ({"Variable": "$.missing", "StringMatches": "*"}, {}, "$.missing"),
    ({"Variable": "$.missing", "TimestampEquals": T0}, {}, "$.missing"),
    ({"Variable": "$.missing", "IsNull": True}, {}, "$.missing"),
    ({"Variable": "$.missing", "IsString": False}, {}, "$.missing"),
    ({"Variable": "$.missing", "IsTimestamp": False}, {}, "$.missing"),
    ({"Variable": "$.v", "NumericEqualsPath": "$.nope"}, {"v": 1}, "$.nope"),
    ({"Variable": "$.v", "StringEqualsPath": "$.nope"}, {"v": 1}, "$.nope"),  # type mismatch
    ({"Variable": "$.missing", "NumericEqualsPath": "$.nope"}, {}, "$.missing"),  # Variable first
    ({"Not": {"Variable": "$.missing", "IsNull": True}}, {}, "$.missing"),
    (
        {"Or": [{"Variable": "$.v", "IsNull": True}, {"Variable": "$.x", "IsNull": True}]},
        {"v": 1},
        "$.x",
    ),
    ({"Variable": "$undefined", "StringEquals": "x"}, {}, "$undefined"),
    ({"Variable": "$cfg.nope", "NumericEquals": 1}, {}, "$cfg.nope"),
    ({"Variable": "$$.Execution.Nope", "StringEquals": "x"}, {}, "$$.Execution.Nope"),
    ({"Variable": "$.v", "TimestampEqualsPath": "$$.State.Nope"}, {"v": T0}, "$$.State.Nope"),
]


@pytest.mark.parametrize(("rule", "data", "path"), MISSING)
def test_missing_path_fails_with_aws_cause(rule: dict[str, Any], data: Any, path: str) -> None:
    compiled = compile_rule(rule, top_level=True)
    with pytest.raises(StatesFailure) as raised:
        compiled.matches(data, CONTEXT)
    assert raised.value.failure.error == RUNTIME
    assert raised.value.failure.cause == invalid_path(path)


def test_context_paths_without_a_ctx_fail_like_missing_ones() -> None:
    rule = compile_rule({"Variable": "$$.Execution.Name", "StringEquals": "x"}, top_level=True)
    with pytest.raises(StatesFailure):
        rule.matches({})


# --- And / Or / Not -------------------------------------------------------------------------

V = {"n": 25, "s": "Private", "b": True}

BOOLEAN_LOGIC: list[tuple[dict[str, Any], bool]] = [
    ({"And": [{"Variable": "$.s", "StringEquals": "Private"}]}, True),  # a recorded singleton
    (
        {
            "And": [
                {"Variable": "$.n", "NumericGreaterThanEquals": 20},
                {"Variable": "$.n", "NumericLessThan": 30},
            ]
        },
        True,
    ),
    (
        {
            "And": [
                {"Variable": "$.n", "NumericGreaterThanEquals": 20},
                {"Variable": "$.n", "NumericLessThan": 25},
            ]
        },
        False,
    ),
    (
        {
            "Or": [
                {"Variable": "$.n", "NumericEquals": 1},
                {"Variable": "$.s", "StringMatches": "Pri*"},
            ]
        },
        True,
    ),
    (
        {
            "Or": [
                {"Variable": "$.n", "NumericEquals": 1},
                {"Variable": "$.s", "StringMatches": "Pub*"},
            ]
        },
        False,
    ),
    ({"Not": {"Variable": "$.b", "BooleanEquals": True}}, False),
    ({"Not": {"Not": {"Variable": "$.b", "BooleanEquals": True}}}, True),
    (
        {
            "Not": {
                "Or": [
                    {
                        "And": [
                            {"Variable": "$.n", "IsNumeric": True},
                            {"Not": {"Variable": "$.s", "IsNull": True}},
                        ]
                    },
                    {"Variable": "$.zzz", "IsPresent": True},
                ]
            }
        },
        False,
    ),
    (
        {
            "And": [
                {
                    "Or": [
                        {"Variable": "$.s", "StringEquals": "x"},
                        {"Variable": "$.s", "StringGreaterThan": "P"},
                    ]
                },
                {"Not": {"Variable": "$.n", "NumericLessThan": 10}},
                {"Variable": "$.b", "IsBoolean": True},
            ]
        },
        True,
    ),
    # Short-circuit: the guard pattern does not reach the missing field.
    (
        {
            "And": [
                {"Variable": "$.missing", "IsPresent": True},
                {"Variable": "$.missing", "BooleanEquals": True},
            ]
        },
        False,
    ),
    (
        {
            "Or": [
                {"Variable": "$.b", "BooleanEquals": True},
                {"Variable": "$.missing", "BooleanEquals": True},
            ]
        },
        True,
    ),
    (
        {
            "Or": [
                {"Not": {"Variable": "$.missing", "IsPresent": True}},
                {"Variable": "$.missing", "StringEquals": "x"},
            ]
        },
        True,
    ),
]


@pytest.mark.parametrize(("rule", "expected"), BOOLEAN_LOGIC)
def test_and_or_not(rule: dict[str, Any], expected: bool) -> None:
    assert matches(rule, V) is expected


# --- compiling ------------------------------------------------------------------------------


def test_top_level_fields_of_the_branch_are_ignored() -> None:
    rule = {
        "Variable": "$.n",
        "NumericEquals": 25,
        "Next": "Somewhere",
        "Assign": {"x.$": "$.n"},
        "Comment": "why",
    }
    assert compile_rule(rule, top_level=True).matches(V) is True
    assert compile_rule({"Variable": "$.n", "IsNumeric": True, "Comment": "ok"}, top_level=False)


@pytest.mark.parametrize(
    ("rule", "top_level"),
    [
        ({"Variable": "n", "NumericEquals": 1}, True),  # not a path
        ({"Variable": "$.n", "NumericEqualsPath": "n"}, True),
        ({"Variable": 5, "NumericEquals": 1}, True),
        ({"NumericEquals": 1}, True),  # no Variable
        ({"Variable": "$.n"}, True),  # no operator
        ({"Variable": "$.n", "NumericEquals": 1, "StringEquals": "1"}, True),
        ({"Variable": "$.n", "NumberEquals": 1}, True),
        ({"Variable": "$.n", "NumericEquals": 1, "Next": "X"}, False),  # Next only at top level
        ({"And": []}, True),
        ({"And": {"Variable": "$.n", "IsNull": True}}, True),
        ({"Not": {"Variable": "n", "IsNull": True}}, True),  # nested paths compile too
        ({"Variable": "$.n", "Not": {"Variable": "$.n", "IsNull": True}}, True),
        ({"Variable": "$.n", "IsNull": "true"}, True),
        ({"Variable": "$.n", "IsPresent": 1}, True),
        ({"Variable": "$.n", "NumericEquals": "1"}, True),
        ({"Variable": "$.n", "NumericEquals": True}, True),
        ({"Variable": "$.n", "BooleanEquals": "true"}, True),
        ({"Variable": "$.n", "StringEquals": 1}, True),
        ({"Variable": "$.n", "TimestampEquals": 0}, True),
        ({"Variable": "$.n", "StringMatches": 1}, True),
        ([], True),
    ],
)
def test_malformed_rules_do_not_compile(rule: Any, top_level: bool) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_rule(rule, top_level=top_level)


def test_compiled_rules_are_frozen_and_reusable() -> None:
    rule = compile_rule(
        {
            "And": [
                {"Variable": "$.n", "NumericGreaterThan": 1},
                {"Not": {"Variable": "$.s", "IsNull": True}},
            ]
        },
        top_level=True,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.rules = ()  # type: ignore[attr-defined]
    assert not hasattr(rule, "__dict__")  # slots
    results = [rule.matches({"n": n, "s": "x"}) for n in range(4)]
    assert results == [False, False, True, True]
