"""Payload templates: ``.$`` keys read paths or call intrinsics; the rest is kept as written.

Where the expectations come from:

- ``[case: <file>]``: an execution recorded against real AWS in ``../shared/conformance/cases``.
- ``[SFN Local]``: Step Functions Local 2.0.0 quoted in floci-io/floci#2521: a payload path that
  matches nothing fails the execution with ``States.Runtime`` and the cause ``The JSONPath
  '$.nope.deep' specified for the field 'missing.$' could not be found in the input
  '{"other":1}'`` (input as compact JSON). The Fail state's ``CausePath`` uses the same sentence
  on AWS [case: scenarios_..._INVALID_JSONPATH_IN_CAUSEPATH___750cd07cac].
- ``[AWS]``: CreateStateMachine's text for a bad ``.$`` value, quoted in
  aws-cloudformation/cfn-lint#4643: ``The value for the field 'Variable.$' must be a valid
  JSONPath or a valid intrinsic function call``.
"""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Any

import pytest

from statewright.asl.context import Ctx
from statewright.asl.errors import RUNTIME, ExpressionSyntaxError, StatesFailure
from statewright.asl.templates import compile_template
from tests.shared_data import CASES, SKIP_REASON

CTX = Ctx(
    context={"Execution": {"Id": "arn:exec", "Name": "run-1"}, "Map": {"Item": {"Index": 3}}},
    variables={"bias": 4.3, "user": {"name": "ann", "tags": ["a", "b"]}},
)
INPUT: dict[str, Any] = {
    "name": "Ada",
    "order": {"id": 7, "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]},
    "flag": False,
    "nothing": None,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ({"who.$": "$.name"}, {"who": "Ada"}),
        ({"all.$": "$"}, {"all": INPUT}),
        ({"flag.$": "$.flag", "none.$": "$.nothing"}, {"flag": False, "none": None}),
        ({"first.$": "$.order.lines[0].sku"}, {"first": "a"}),
        ({"skus.$": "$.order.lines[*].sku"}, {"skus": ["a", "b"]}),
        ({"big.$": "$.order.lines[?(@.qty > 1)].sku"}, {"big": ["b"]}),
        ({"count.$": "$.order.lines.length()"}, {"count": 2}),
        # Indefinite paths that match nothing give [] [case: base_test_base__..._with_no_input_*].
        ({"none.$": "$.missing[*].x"}, {"none": []}),
        # Context Object and variables.
        ({"id.$": "$$.Execution.Id"}, {"id": "arn:exec"}),
        ({"index.$": "$$.Map.Item.Index"}, {"index": 3}),
        ({"bias.$": "$bias"}, {"bias": 4.3}),
        ({"tag.$": "$user.tags[1]"}, {"tag": "b"}),
        # Literals stay as written, next to dynamic keys; nested objects and arrays are templates.
        (
            {"static": "$.name", "n": 1, "who.$": "$.name"},
            {"static": "$.name", "n": 1, "who": "Ada"},
        ),
        (
            {"outer": {"inner": {"id.$": "$.order.id", "k": [1, {"q.$": "$.flag"}]}}},
            {"outer": {"inner": {"id": 7, "k": [1, {"q": False}]}}},
        ),
        ([{"a.$": "$.name"}, "lit"], [{"a": "Ada"}, "lit"]),
        # Only a key ending exactly in ".$" is dynamic; ".$" alone gives the empty key.
        ({"a.$x": "$.name", ".$": "$.flag"}, {"a.$x": "$.name", "": False}),
    ],
)
def test_evaluate(template: Any, expected: Any) -> None:
    compiled = compile_template(template)
    assert not compiled.is_constant
    assert compiled.evaluate(INPUT, CTX) == expected


def test_key_order_follows_the_template() -> None:
    compiled = compile_template({"z": 1, "a.$": "$.name", "m": {"x.$": "$.flag"}})
    assert list(compiled.evaluate(INPUT, CTX)) == ["z", "a", "m"]


@pytest.mark.parametrize(
    "template",
    [
        {"a": 1, "b": {"c": [1, 2, {"d": "$.x"}]}},
        [1, "two", None],
        "a string",
        42,
        None,
        {},
        {"not.$dynamic": "$.x", "$": "$.y"},
    ],
)
def test_constant_templates_return_the_stored_value(template: Any) -> None:
    compiled = compile_template(template)
    assert compiled.is_constant
    assert compiled.evaluate(INPUT, CTX) is template


def test_constant_subtrees_are_shared_not_copied() -> None:
    constant = {"deep": [1, 2, 3]}
    compiled = compile_template({"keep": constant, "who.$": "$.name"})
    assert compiled.evaluate(INPUT)["keep"] is constant
    first, second = compiled.evaluate(INPUT), compiled.evaluate(INPUT)
    assert first == second and first is not second


def test_evaluation_does_not_mutate_the_input() -> None:
    data = json.loads(json.dumps(INPUT))
    compile_template({"lines.$": "$.order.lines", "o.$": "$.order"}).evaluate(data)
    assert data == INPUT


# --- runtime faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "data", "cause"),
    [
        # [SFN Local] the exact sentence, input as compact JSON.
        (
            {"missing.$": "$.nope.deep"},
            {"other": 1},
            "The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found "
            "in the input '{\"other\":1}'",
        ),
        (
            {"a": {"b": [{"x.$": "$.order.lines[5]"}]}},
            {"order": {"lines": []}},
            "The JSONPath '$.order.lines[5]' specified for the field 'x.$' could not be found "
            'in the input \'{"order":{"lines":[]}}\'',
        ),
        # Non-ASCII stays as is in the rendered input (AWS renders JSON, not escapes).
        (
            {"v.$": "$.v"},
            {"ß": "ü", "n": [1.5, True, None]},
            "The JSONPath '$.v' specified for the field 'v.$' could not be found "
            'in the input \'{"ß":"ü","n":[1.5,true,null]}\'',
        ),
        (
            {"c.$": "$$.Execution.Nope"},
            {},
            "The JSONPath '$$.Execution.Nope' specified for the field 'c.$' could not be found "
            "in the input '{}'",
        ),
        (
            {"v.$": "$undefined"},
            "text",
            "The JSONPath '$undefined' specified for the field 'v.$' could not be found "
            "in the input '\"text\"'",
        ),
    ],
)
def test_path_not_found_is_a_runtime_failure(template: Any, data: Any, cause: str) -> None:
    compiled = compile_template(template)
    with pytest.raises(StatesFailure) as caught:
        compiled.evaluate(data, CTX)
    assert caught.value.failure.error == RUNTIME
    assert caught.value.failure.cause == cause


# --- compile errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "field"),
    [
        # [AWS] a .$ value must be a string holding a path or an intrinsic call.
        ({"x.$": "ipsum"}, "x.$"),
        ({"x.$": 5}, "x.$"),
        ({"x.$": None}, "x.$"),
        ({"x.$": {"a": "$.b"}}, "x.$"),
        ({"x.$": ["$.a"]}, "x.$"),
        ({"ok.$": "$.a", "bad.$": "$.a..", "z": 1}, "bad.$"),
        ({"outer": [{"deep.$": "$[?(@.a"}]}, "deep.$"),
        ({"f.$": "States.NoSuchFunction($.a)"}, "f.$"),
        ({"f.$": "States.Format('unclosed"}, "f.$"),
    ],
)
def test_invalid_dynamic_values(template: Any, field: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_template(template)
    assert caught.value.message == (
        f"The value for the field '{field}' must be a valid JSONPath "
        "or a valid intrinsic function call"
    )


# --- intrinsics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # [case: intrinsic_functions_test_array__TestArray_test_array_2_exec_hist_resp_2__...]
        (
            {"FunctionResult.$": "States.Array($.FunctionInput.fst, $.FunctionInput.snd)"},
            {"FunctionResult": ["HelloWorld", "HelloWorld"]},
        ),
        # [case: intrinsic_functions_test_generic__TestGeneric_test_format_1_..._resp_2__...]
        (
            {"FunctionResult.$": "States.Format('Formatting argument {}.', $.FunctionInput.fst)"},
            {"FunctionResult": "Formatting argument HelloWorld."},
        ),
    ],
)
def test_intrinsic_values(template: Any, expected: Any) -> None:
    data = {"FunctionInput": {"fst": "HelloWorld", "snd": "HelloWorld"}}
    assert compile_template(template).evaluate(data, CTX) == expected


# --- recorded executions -----------------------------------------------------------------------


def _pass_parameter_cases() -> list[FsPath]:
    """Recorded one-state Pass machines whose Parameters hold paths only (no intrinsics)."""
    if not CASES.is_dir():
        return [pytest.param(None, id="no-shared-cases", marks=pytest.mark.skip(SKIP_REASON))]
    found = []
    for file in sorted(CASES.glob("*.json")):
        case = json.loads(file.read_text())
        states = case["definition"]["States"]
        (state,) = states.values() if len(states) == 1 else (None,)
        if (
            state is not None
            and set(state) == {"Type", "End", "Parameters"}
            and case["expected"]["status"] == "SUCCEEDED"
            and "States." not in json.dumps(state["Parameters"])
        ):
            found.append(file)
    return found


@pytest.mark.skipif(not CASES.is_dir(), reason=SKIP_REASON)
@pytest.mark.parametrize("file", _pass_parameter_cases(),
                         ids=lambda f: f.name[:60] if f else "none")
def test_recorded_pass_parameters(file: FsPath) -> None:
    case = json.loads(file.read_text())
    (state,) = case["definition"]["States"].values()
    output = compile_template(state["Parameters"]).evaluate(json.loads(case["input"]), CTX)
    assert output == case["expected"]["output"]
