"""JSONata states, field by field, through the pure decider (``step.enter``/``complete``).

Sources: ``[docs]`` the Step Functions developer guide ("Transforming data with JSONata",
"Passing data between states with variables") as summarised in
the project reference asl-and-api.md 1.2; ``[case: ...]`` the AWS recordings in
``../shared/conformance/cases``; ``[ours]`` where AWS's wording is unknown.
"""

from __future__ import annotations

from typing import Any

import pytest

from statewright.asl import step
from statewright.asl.context import Ctx
from statewright.asl.decisions import Fail, Finish, Fork, Invoke, Sleep, TaskResult, Transition
from statewright.asl.errors import QUERY_EVALUATION_ERROR, Failure, InvalidDefinition
from statewright.asl.model import State
from statewright.asl.parse import parse


def state(spec: dict[str, Any], top: str = "JSONata") -> State:
    """One state named S in a JSONata machine, and End (a Succeed) when S moves on."""
    states: dict[str, Any] = {"S": spec}
    if spec.get("End") is not True and spec["Type"] not in ("Succeed", "Fail"):
        states["End"] = {"Type": "Succeed"}
    definition = {"QueryLanguage": top, "StartAt": "S", "States": states}
    return parse(definition).machine.states["S"]


def ctx(**variables: Any) -> Ctx:
    return Ctx(now=100.0, variables=variables, context={"Execution": {"Name": "x"}})


def exited(decision: Any) -> dict[str, Any]:
    event = decision.events[-1]
    assert event.type.endswith("StateExited"), event
    return dict(event.details)


# --- Pass, Output and Assign ------------------------------------------------------------------


PASS_CASES = [
    ({}, {"a": 1}, None, "[docs] without Output the output is the input"),
    ({"Output": "{% $states.input.a + 1 %}"}, 2, None, "[docs] Output is an expression"),
    ({"Output": {"x": "{% $states.input.a %}", "y": [1, "{% $v %}"]}}, {"x": 1, "y": [1, 5]},
     None, "[docs] {% %} nested in objects and arrays"),
    ({"Assign": {"v": "{% $v + 1 %}", "w": "{% $v %}"}}, {"a": 1}, {"v": 6, "w": 5},
     "[docs] every assignment sees the values from before the state"),
    ({"Assign": {"n": "{% $states.input.a %}"}, "Output": "{% $v %}"}, 5, {"n": 1},
     "[docs] Output also sees the old value, not the new one"),
]


@pytest.mark.parametrize(("fields", "output", "assigned", "aws"), PASS_CASES)
def test_pass(fields: dict[str, Any], output: Any, assigned: Any, aws: str) -> None:
    decision = step.enter(state({"Type": "Pass", "Next": "End", **fields}), {"a": 1}, ctx(v=5))
    assert isinstance(decision, Transition), aws
    assert decision.output == output, aws
    assert decision.assigned == assigned, aws
    if assigned:  # [docs] the history records the assignments as JSON text
        details = exited(decision)
        assert details["assignedVariables"] == {k: str(v) for k, v in assigned.items()}
        assert details["assignedVariablesDetails"] == {"truncated": False}


def test_an_undefined_assignment_fails_with_evaluation_failed() -> None:
    # [case: BASE_UNDEFINED_ASSIGN] PassStateEntered, EvaluationFailed, ExecutionFailed.
    decision = step.enter(state({"Type": "Pass", "End": True,
                                 "Assign": {"result": "{% $doesNotExist %}"}}), {}, ctx())
    assert isinstance(decision, Fail)
    assert [e.type for e in decision.events] == ["PassStateEntered", "EvaluationFailed"]
    # botocore: evaluationFailedEventDetails {error, cause, location (the field), state}
    assert decision.events[1].details == {
        "error": QUERY_EVALUATION_ERROR, "cause": decision.failure.cause,
        "location": "Assign/result", "state": "S"}
    assert decision.failure == Failure(
        QUERY_EVALUATION_ERROR,
        "An error occurred while executing the state 'S' (entered at the event id #0). The "
        "JSONata expression '$doesNotExist' specified for the field 'Assign/result' returned "
        "nothing (undefined).")


# --- Choice -----------------------------------------------------------------------------------


def choice() -> State:
    return state({
        "Type": "Choice",
        "Choices": [
            {"Condition": "{% $states.input.n > 10 %}", "Next": "End",
             "Assign": {"big": true_expr()}, "Output": {"n": "{% $states.input.n %}"}},
            {"Condition": "{% $states.input.flag %}", "Next": "End"},
        ],
        "Default": "End",
        "Assign": {"big": "{% false %}"},
    })


def true_expr() -> str:
    return "{% true %}"


@pytest.mark.parametrize(("data", "output", "assigned", "aws"), [
    ({"n": 11}, {"n": 11}, {"big": True}, "[docs] the matched rule's Assign and Output"),
    ({"n": 1, "flag": True}, {"n": 1, "flag": True}, None,
     "[docs] a rule without Output passes the input on"),
    ({"n": 1, "flag": False}, {"n": 1, "flag": False}, {"big": False},
     "[docs] the state's Assign goes with Default"),
])
def test_choice(data: Any, output: Any, assigned: Any, aws: str) -> None:
    decision = step.enter(choice(), data, ctx())
    assert isinstance(decision, Transition), (aws, decision)
    assert (decision.output, decision.assigned) == (output, assigned), aws


def test_a_condition_must_be_boolean() -> None:
    # [ours] worded as AWS's Items type error [case: test_map_state_items_eval_jsonata_fail].
    decision = step.enter(choice(), {"n": 1, "flag": 3}, ctx())
    assert isinstance(decision, Fail)
    assert decision.failure.error == QUERY_EVALUATION_ERROR
    assert ("The JSONata expression '$states.input.flag' specified for the field "
            "'Choices[1]/Condition' returned an unexpected result type. Expected 'boolean', "
            "but was 'number' for value: 3") in str(decision.failure.cause)


# --- Wait, Fail, Succeed ------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "until", "aws"), [
    ({"Seconds": "{% $states.input.s %}"}, 105.0, "[docs] Seconds as an expression"),
    ({"Seconds": 2}, 102.0, "[docs] a literal still works"),
    ({"Timestamp": "{% $states.input.t %}"}, 60.0, "[docs] Timestamp as an expression"),
])
def test_wait(fields: dict[str, Any], until: float, aws: str) -> None:
    decision = step.enter(state({"Type": "Wait", "Next": "End", **fields}),
                          {"s": 5, "t": "1970-01-01T00:01:00Z"}, ctx())
    assert isinstance(decision, Sleep), aws
    assert decision.until == until, aws


def test_wait_output_and_assign_when_it_ends() -> None:
    wait = state({"Type": "Wait", "Seconds": 1, "Next": "End",
                  "Output": "{% $states.input.s %}", "Assign": {"w": "{% 1 %}"}})
    decision = step.complete(wait, {"s": 5}, None, (), ctx())
    assert isinstance(decision, Transition)
    assert (decision.output, decision.assigned) == (5, {"w": 1})


def test_fail_error_and_cause_expressions() -> None:
    # [docs] Error and Cause may be expressions in a JSONata Fail state.
    fail = state({"Type": "Fail", "Error": "{% $states.input.e %}",
                  "Cause": "{% 'because ' & $states.input.c %}"})
    decision = step.enter(fail, {"e": "Oops", "c": "x"}, ctx())
    assert isinstance(decision, Fail)
    assert decision.failure == Failure("Oops", "because x")


def test_succeed_output() -> None:
    decision = step.enter(state({"Type": "Succeed", "Output": {"done": "{% $v %}"}}), {},
                          ctx(v=1))
    assert isinstance(decision, Finish)
    assert decision.output == {"done": 1}


# --- Task: Arguments, expression limits, $states.result, Catch ----------------------------------


def task(**fields: Any) -> State:
    return state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "End",
                  **fields})


def test_task_arguments_and_limits() -> None:
    decision = step.enter(task(
        Arguments={"FunctionName": "f", "Payload": {"x": "{% $states.input.x %}"}},
        TimeoutSeconds="{% $states.input.t %}", HeartbeatSeconds="{% 2 %}",
    ), {"x": 1, "t": 9}, ctx())
    assert isinstance(decision, Invoke)
    assert decision.payload == {"FunctionName": "f", "Payload": {"x": 1}}  # [docs] Arguments
    assert (decision.function_name, decision.function_payload) == ("f", {"x": 1})
    assert (decision.timeout_seconds, decision.heartbeat_seconds) == (9.0, 2.0)


def test_task_without_arguments_sends_its_input() -> None:
    legacy = state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "End": True})
    decision = step.enter(legacy, {"x": 1}, ctx())
    assert isinstance(decision, Invoke)
    assert decision.payload == {"x": 1}  # [docs] the default Arguments is the state input


def test_task_result_output_and_assign() -> None:
    legacy = state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "Next": "End", "Output": {"r": "{% $states.result.v %}",
                                              "i": "{% $states.input.x %}"},
                    "Assign": {"last": "{% $states.result %}"}})
    decision = step.complete(legacy, {"x": 1}, TaskResult(b'{"v": 2}'), (), ctx())
    assert isinstance(decision, Transition)
    assert decision.output == {"r": 2, "i": 1}  # [docs] $states.result and $states.input
    assert decision.assigned == {"last": {"v": 2}}


def test_task_output_defaults_to_the_result() -> None:
    legacy = state({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "End": True})
    decision = step.complete(legacy, {"x": 1}, TaskResult(b'{"v": 2}'), (), ctx())
    assert isinstance(decision, Finish)
    assert decision.output == {"v": 2}


@pytest.mark.parametrize(("catcher", "output", "assigned", "aws"), [
    ({}, {"Error": "Boom", "Cause": "c"}, None,
     "[docs] without Output a catcher outputs the error output"),
    ({"Output": {"in": "{% $states.input.x %}", "e": "{% $states.errorOutput.Error %}"},
      "Assign": {"err": "{% $states.errorOutput.Cause %}"}},
     {"in": 1, "e": "Boom"}, {"err": "c"}, "[docs] $states.errorOutput in Catch"),
])
def test_catch_output_and_assign(catcher: dict[str, Any], output: Any, assigned: Any,
                                 aws: str) -> None:
    caught = task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "End", **catcher}],
                  Assign={"never": "{% 1 %}"})
    decision = step.complete(caught, {"x": 1}, Failure("Boom", "c"), (), ctx())
    assert isinstance(decision, Transition), aws
    # [docs] when a catcher matches, the state's own Assign is skipped
    assert (decision.output, decision.assigned) == (output, assigned), aws


def test_an_output_error_can_be_caught() -> None:
    # [docs] States.QueryEvaluationError is an error like any other for Catch.
    caught = task(Output="{% $nope %}",
                  Catch=[{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "End"}])
    decision = step.complete(caught, {}, TaskResult(b"1"), (), ctx())
    assert isinstance(decision, Transition)
    assert decision.output["Error"] == QUERY_EVALUATION_ERROR
    assert "EvaluationFailed" in [e.type for e in decision.events]


# --- Map and Parallel -----------------------------------------------------------------------------


def map_state(**fields: Any) -> State:
    return state({"Type": "Map", "Next": "End", "ItemProcessor": {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, **fields})


def test_map_items_and_item_selector() -> None:
    decision = step.enter(map_state(
        Items="{% $states.input.list %}",
        ItemSelector={"v": "{% $states.context.Map.Item.Value %}",
                      "i": "{% $states.context.Map.Item.Index %}"},
        MaxConcurrency="{% 2 %}", ToleratedFailureCount="{% 1 %}",
        ToleratedFailurePercentage="{% $states.input.pct %}"),
        {"list": ["a", "b"], "pct": 12.5}, ctx())
    assert isinstance(decision, Fork)
    assert decision.inputs == ({"v": "a", "i": 0}, {"v": "b", "i": 1})  # [docs] Map.Item
    # [docs] MaxConcurrency and the tolerated failures may be expressions
    assert (decision.max_concurrency, decision.tolerated_failure_count) == (2, 1)
    assert decision.tolerated_failure_percentage == 12.5


@pytest.mark.parametrize(("items", "cause"), [
    ("{% true %}", "The JSONata expression 'true' specified for the field 'Items' returned an "
     "unexpected result type. Expected 'array', but was 'boolean' for value: true"),
    (None, "Map state input must be an array but was: {\"a\":1}"),
])
def test_map_items_must_be_an_array(items: str | None, cause: str) -> None:
    # [case: test_map_state_items_eval_jsonata_fail, test_map_state_items_input_types]
    fields = {"Items": items} if items else {}
    decision = step.enter(map_state(**fields), {"a": 1}, ctx())
    assert isinstance(decision, Fail)
    assert decision.failure.error == QUERY_EVALUATION_ERROR
    assert str(decision.failure.cause).endswith(cause)
    assert [e.type for e in decision.events] == [
        "MapStateEntered", "EvaluationFailed", "MapStateFailed"]


def test_parallel_arguments_are_each_branch_input() -> None:
    parallel = state({"Type": "Parallel", "Next": "End", "Arguments": {"y": "{% $v %}"},
                      "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass",
                                                                     "End": True}}}]})
    decision = step.enter(parallel, {}, ctx(v=3))
    assert isinstance(decision, Fork)
    assert decision.inputs == ({"y": 3},)


# --- Mixed languages and definitions --------------------------------------------------------------


def test_a_jsonata_state_in_a_jsonpath_machine() -> None:
    pass_state = state({"Type": "Pass", "QueryLanguage": "JSONata", "Next": "End",
                        "Output": "{% $states.input.a * 2 %}"}, top="JSONPath")
    decision = step.enter(pass_state, {"a": 2}, ctx())
    assert isinstance(decision, Transition)
    assert decision.output == 4


@pytest.mark.parametrize(("spec", "message", "location"), [
    ({"Output": {"x": "{% 1 + %}"}}, "Unexpected end of expression", "/States/S/Output/x"),
    ({"Assign": {"a": ["{% 'open %}"]}},
     "String literal must be terminated by a matching quote", "/States/S/Assign/a[0]"),
])
def test_a_bad_expression_is_refused_at_parse_time(spec: dict[str, Any], message: str,
                                                   location: str) -> None:
    # [floci #2745, measured] INVALID_JSONATA_EXPRESSION, the parser's message without its
    # code, at the expression's own field.
    with pytest.raises(InvalidDefinition) as raised:
        state({"Type": "Pass", "End": True, **spec})
    fault = raised.value.errors[0]
    assert (fault.code, fault.message, fault.location) == (
        "INVALID_JSONATA_EXPRESSION", message, location)


@pytest.mark.parametrize(("expression", "name"), [
    ("phone", "phone"), ("customer.name", "customer"), ("( items[0] )", "items"),
    ("`odd name`.x", "odd name"),
])
def test_a_path_from_a_bare_name_is_refused(expression: str, name: str) -> None:
    # [floci #2670, measured] expressions run with no context item; AWS refuses a path that
    # starts from a bare name: UNSUPPORTED_JSONATA_EXPRESSION at the expression's field.
    with pytest.raises(InvalidDefinition) as raised:
        state({"Type": "Pass", "End": True, "Output": {"v": "{% " + expression + " %}"}})
    fault = raised.value.errors[0]
    assert (fault.code, fault.message, fault.location) == (
        "UNSUPPORTED_JSONATA_EXPRESSION",
        f"Reference to '{name}' at the top level is not supported.", "/States/S/Output/v")


@pytest.mark.parametrize("expression", [
    "true", "null", "$states.input.a", "function($x){ $x }", "[1, 2]", "{'a': 1}", "'text'",
    "($x := 1; $x)",
])
def test_expressions_not_starting_from_a_bare_name_are_accepted(expression: str) -> None:
    state({"Type": "Pass", "End": True, "Output": "{% " + expression + " %}"})


# --- Variables: names and limits ---------------------------------------------------------


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
def test_states_is_a_reserved_variable_name(language: str) -> None:
    # [docs] $states is reserved; [ours] the message.
    with pytest.raises(InvalidDefinition) as raised:
        state({"Type": "Pass", "End": True, "Assign": {"states": 1}}, top=language)
    assert [(e.message, e.location) for e in raised.value.errors] == [
        ("The variable name 'states' is reserved", "/States/S/Assign/states")]


@pytest.mark.parametrize(("assign", "message"), [
    ({"big": "{% $pad('', 262144, 'x') %}"}, "over the limit of 262144 bytes per variable"),
    ({"a": "{% $pad('', 140000, 'x') %}", "b": "{% $pad('', 140000, 'x') %}"},
     "over the limit of 262144 bytes per Assign"),
])
def test_variable_size_limits(assign: dict[str, str], message: str) -> None:
    # [docs] 256 KiB per variable and per Assign; States.DataLimitExceeded as for outputs.
    decision = step.enter(state({"Type": "Pass", "End": True, "Assign": assign}), {}, ctx())
    assert isinstance(decision, Fail)
    assert decision.failure.error == "States.DataLimitExceeded"
    assert message in str(decision.failure.cause)


def test_a_sub_machine_takes_the_machines_language_not_its_states() -> None:
    # As validate checks it: a JSONata Map in a JSONPath machine keeps JSONPath inside.
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "QueryLanguage": "JSONata", "End": True,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {
            "Type": "Pass", "Parameters": {"v.$": "$.x"}, "End": True}}}}}}
    inner = parse(definition).machine.states["M"]
    assert inner.query_language == "JSONata"
    processor = inner.processor  # type: ignore[attr-defined]
    assert processor.states["P"].query_language == "JSONPath"
    decision = step.enter(processor.states["P"], {"x": 1}, ctx())
    assert isinstance(decision, Finish)
    assert decision.output == {"v": 1}


@pytest.mark.parametrize(("fields", "message"), [
    ({"TimeoutSeconds": "{% 1.5 %}"},
     "'TimeoutSeconds' returned an unexpected result type. Expected 'integer', but was 'number' "
     "for value: 1.5"),
    ({"TimeoutSeconds": "{% 0 %}"}, "Expected 'positive integer', but was 'number' for value: 0"),
    ({"HeartbeatSeconds": "{% '5' %}"},
     "Expected 'integer', but was 'string' for value: \"5\""),
])
def test_integer_fields_need_integers(fields: dict[str, Any], message: str) -> None:
    # [ours] the wording follows AWS's type error for Items; the error is the JSONata one.
    decision = step.enter(task(Arguments={"FunctionName": "f"}, **fields), {}, ctx())
    assert isinstance(decision, Fail)
    assert decision.failure.error == QUERY_EVALUATION_ERROR
    assert message in str(decision.failure.cause)


def test_wait_seconds_must_be_a_non_negative_integer() -> None:
    wait = state({"Type": "Wait", "Seconds": "{% -1 %}", "Next": "End"})
    decision = step.enter(wait, {}, ctx())
    assert isinstance(decision, Fail)
    assert "Expected 'non-negative integer', but was 'number' for value: -1" in str(
        decision.failure.cause)


def test_a_jsonpath_wait_assigns_too() -> None:
    # [docs] Assign is allowed on Wait in both languages; JSONPath reads the effective input.
    wait = state({"Type": "Wait", "Seconds": 1, "Next": "End", "Assign": {"w.$": "$.s"}},
                 top="JSONPath")
    decision = step.complete(wait, {"s": 5}, None, (), ctx())
    assert isinstance(decision, Transition)
    assert (decision.output, decision.assigned) == ({"s": 5}, {"w": 5})


def test_all_variables_together_are_limited_to_10_mib() -> None:
    # [docs] 10 MiB for an execution's variables; here the scope a state sees.
    scope = {f"v{i}": "x" * 260_000 for i in range(40)}  # 40 x 254 KiB: just under 10 MiB
    fits = step.enter(state({"Type": "Pass", "End": True, "Assign": {"n": 1}}), {},
                      ctx(**scope))
    assert isinstance(fits, Finish)
    over = step.enter(state({"Type": "Pass", "End": True,
                             "Assign": {"more": "{% $pad('', 200000, 'x') %}"}}), {},
                      ctx(**scope))
    assert isinstance(over, Fail)
    assert over.failure.error == "States.DataLimitExceeded"
    assert "over the limit of 10485760 bytes" in str(over.failure.cause)


def test_a_catcher_whose_output_fails_fails_the_state() -> None:
    # A catcher's own expression error is not caught again; it is written as EvaluationFailed.
    caught = task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "End",
                          "Output": "{% $states.errorOutput.nope %}"}])
    decision = step.complete(caught, {}, Failure("Boom", "c"), (), ctx())
    assert isinstance(decision, Fail)
    assert decision.failure.error == QUERY_EVALUATION_ERROR
    assert "'Catch[0]/Output' returned nothing (undefined)" in str(decision.failure.cause)
    assert decision.events[-1].type == "EvaluationFailed"
    assert decision.events[-1].details["location"] == "Catch[0]/Output"


def test_jsonata_is_no_longer_unsupported_but_an_item_reader_is() -> None:
    # `statewright validate` warns, and enter fails, with step.unsupported's reason.
    assert step.unsupported(state({"Type": "Pass", "End": True, "Output": 1})) is None
    reader = state({"Type": "Map", "End": True, "ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject", "Arguments": {"Bucket": "b", "Key": "k"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})
    reason = step.unsupported(reader)
    assert reason is not None and "ItemReader in a Distributed Map" in reason
    decision = step.enter(reader, [], ctx())
    assert isinstance(decision, Fail)
    assert reason in str(decision.failure.cause)
