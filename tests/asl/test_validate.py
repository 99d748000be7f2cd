"""validate(): AWS's codes, messages and locations, one table row per kind of fault.

Rows whose message is None assert code and location only: AWS's wording for them is unknown
(see the [ours] marks in validate.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from statewright.asl.errors import (
    DefinitionError,
    ExpressionSyntaxError,
    render_definition_errors,
)
from statewright.asl.intrinsics import compile_intrinsic
from statewright.asl.paths import compile_path
from statewright.asl.validate import validate
from tests.shared_data import CASES as SHARED_CASES
from tests.shared_data import case_params

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = SHARED_CASES
SEED = REPO_ROOT / "examples" / "order_processing" / "definition.json"  # the tutorial's

SV = "SCHEMA_VALIDATION_FAILED"
MTT = "MISSING_TRANSITION_TARGET"
TYPES = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"

END: dict[str, Any] = {"Type": "Pass", "End": True}


def one(state: Any, name: str = "A", **top: Any) -> dict[str, Any]:
    """A machine of one state (plus top-level fields)."""
    return {"StartAt": name, "States": {name: state}, **top}


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **fields}


def choice(*rules: Any, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": list(rules), **fields}, "B": END},
    }


def rule(**fields: Any) -> dict[str, Any]:
    return {"Variable": "$.x", "Next": "B", **fields}


def map_state(processor: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"StartAt": "P", "States": {"P": END}, **(processor or {})}
    return one({"Type": "Map", "ItemProcessor": body, "End": True, **fields}, "M")


def branch(states: dict[str, Any], start: str = "X", **fields: Any) -> dict[str, Any]:
    return {"StartAt": start, "States": states, **fields}


def parallel(*branches: Any) -> dict[str, Any]:
    return one({"Type": "Parallel", "Branches": list(branches), "End": True}, "P")


# (id, definition, [(code, location, message or None)]): the complete list of faults expected.
FAULTS: list[tuple[str, Any, list[tuple[str, str, str | None]]]] = [
    # --- top level ---------------------------------------------------------------------
    ("not-an-object", [], [(SV, "", "Definition must be a valid JSON object")]),
    ("empty", {}, [(SV, "/", "These fields are required: [States, StartAt]")]),
    ("no-start-at", {"States": {"A": END}}, [(SV, "/", "These fields are required: [StartAt]")]),
    (
        "start-at-dangling",
        {"StartAt": "Not sure", "States": {"Pass One": {"Type": "Pass", "Next": "S"}, "S": END}},
        [
            (MTT, "/StartAt", "Missing 'Next' target: Not sure"),
            (MTT, "/States/Pass One", 'State "Pass One" is not reachable.'),
        ],
    ),
    ("start-at-type", {"StartAt": 1, "States": {"A": END}}, [(SV, "/StartAt", None)]),
    ("states-type", {"StartAt": "A", "States": []}, [(SV, "/States", None)]),
    ("unknown-top-field", one(END, Coment="x"), [(SV, "/", "Field 'Coment' is not supported")]),
    ("version", one(END, Version="2.0"), [(SV, "/Version", None)]),
    ("timeout-zero", one(END, TimeoutSeconds=0), [(SV, "/TimeoutSeconds", None)]),
    ("timeout-type", one(END, TimeoutSeconds="1"), [(SV, "/TimeoutSeconds", None)]),
    ("comment-type", one(END, Comment=5), [(SV, "/Comment", None)]),
    ("query-language", one(END, QueryLanguage="JSONPathX"), [(SV, "/QueryLanguage", None)]),
    # --- states ------------------------------------------------------------------------
    ("state-not-object", one([]), [(SV, "/States/A", None)]),
    (
        "type-missing",
        one({"End": True}),
        [(SV, "/States/A", "These fields are required: [Type]")],
    ),
    (
        "type-unknown",
        one({"Type": "Foo", "End": True}),
        [(SV, "/States/A/Type", f"The field 'Type' should have one of these values: {TYPES}")],
    ),
    (
        "field-unknown",
        one({**END, "Message.$": "$.m"}),
        [(SV, "/States/A", "Field 'Message.$' is not supported")],
    ),
    (
        "field-of-other-type",
        map_state(TimeoutSeconds=5),
        [(SV, "/States/M", "Field 'TimeoutSeconds' is not supported")],
    ),
    (
        "jsonpath-field-in-jsonata",
        one({**END, "InputPath": "$.a"}, QueryLanguage="JSONata"),
        [
            (
                SV,
                "/States/A",
                "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only "
                "supported for the 'JSONPath' QueryLanguage",
            )
        ],
    ),
    (
        "jsonata-field-in-jsonpath",
        one({**END, "Output": {}}),
        [(SV, "/States/A", None)],
    ),
    (
        "jsonpath-under-jsonata",
        one({**END, "QueryLanguage": "JSONPath"}, QueryLanguage="JSONata"),
        [
            (
                SV,
                "/States/A",
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            )
        ],
    ),
    (
        "state-query-language",
        one({**END, "QueryLanguage": 1}),
        [(SV, "/States/A/QueryLanguage", None)],
    ),
    ("comment-state", one({**END, "Comment": []}), [(SV, "/States/A/Comment", None)]),
    (
        "next-and-end-missing",
        one({"Type": "Pass"}),
        [(SV, "/States/A", None), ("MISSING_END_STATE", "", None)],
    ),
    (
        "next-and-end-both",
        {"StartAt": "A", "States": {"A": {**END, "Next": "B"}, "B": END}},
        [(SV, "/States/A/Next", None)],
    ),
    (
        "end-false",
        one({"Type": "Pass", "End": False}),
        [(SV, "/States/A/End", None), ("MISSING_END_STATE", "", None)],
    ),
    ("next-on-succeed", one({"Type": "Succeed", "Next": "A"}), [(SV, "/States/A", None)]),
    (
        "next-dangling",  # floci-io/floci#2786 measured both, in this order
        one({"Type": "Pass", "Next": "NOPE"}),
        [
            (MTT, "/States/A/Next", "Missing 'Next' target: NOPE"),
            ("MISSING_END_STATE", "", "Workflow has no terminal state"),
        ],
    ),
    (
        "unreachable",
        {"StartAt": "A", "States": {"A": END, "B": END}},
        [(MTT, "/States/B", 'State "B" is not reachable.')],
    ),
    (
        "no-terminal-state",  # MISSING_END_STATE replaces the unreachable report (floci)
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "Next": "A"},
                "C": {"Type": "Pass", "Next": "A"},
            },
        },
        [("MISSING_END_STATE", "", "Workflow has no terminal state")],
    ),
    ("name-too-long", one(END, "N" * 81), [("INVALID_STATE_NAME", "/States/" + "N" * 81, None)]),
    (
        "name-duplicate-in-branch",
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "Branches": [branch({"A": END}, "A")], "Next": "A"},
                "A": END,
            },
        },
        [("DUPLICATE_STATE_NAME", "/States/A", "Duplicate State name: A")],
    ),
    # --- Choice --------------------------------------------------------------------------
    (
        "choices-missing",
        one({"Type": "Choice"}),
        [(SV, "/States/A", None), ("MISSING_END_STATE", "", None)],
    ),
    (
        "choices-empty",
        {
            "StartAt": "C",
            "States": {"C": {"Type": "Choice", "Choices": [], "Default": "B"}, "B": END},
        },
        [(SV, "/States/C/Choices", None)],
    ),
    (
        "rule-without-next",
        choice({"Variable": "$.x", "IsNull": True}, Default="B"),
        [(SV, "/States/C/Choices[0]", "These fields are required: [Next]")],
    ),
    (
        "rule-without-variable",
        choice({"IsNull": True, "Next": "B"}),
        [(SV, "/States/C/Choices[0]", "These fields are required: [Variable]")],
    ),
    (
        "rule-two-operators",
        choice(rule(IsNull=True, IsString=True)),
        [(SV, "/States/C/Choices[0]", None)],
    ),
    ("rule-no-operator", choice(rule()), [(SV, "/States/C/Choices[0]", None)]),
    (
        "rule-unknown-operator",
        choice(rule(StringEqual="a", IsNull=True)),
        [(SV, "/States/C/Choices[0]", "Field 'StringEqual' is not supported")],
    ),
    (
        "rule-boolean-operand",
        choice(rule(BooleanEquals="true")),
        [(SV, "/States/C/Choices[0]/BooleanEquals", None)],
    ),
    (
        "rule-numeric-operand",
        choice(rule(NumericEquals="1")),
        [(SV, "/States/C/Choices[0]/NumericEquals", None)],
    ),
    (
        "rule-string-operand",
        choice(rule(StringEquals=1)),
        [(SV, "/States/C/Choices[0]/StringEquals", None)],
    ),
    (
        "rule-timestamp-operand",
        choice(rule(TimestampEquals="2016-03-14 01:59:00")),
        [(SV, "/States/C/Choices[0]/TimestampEquals", "String does not match RFC3339 timestamp")],
    ),
    (
        "rule-is-operand",
        choice(rule(IsPresent="yes")),
        [(SV, "/States/C/Choices[0]/IsPresent", None)],
    ),
    (
        "rule-variable-path",
        choice({"Variable": "x", "IsNull": True, "Next": "B"}),
        [(SV, "/States/C/Choices[0]/Variable", None)],
    ),
    (
        "rule-path-operand",
        choice(rule(StringEqualsPath="nope")),
        [(SV, "/States/C/Choices[0]/StringEqualsPath", None)],
    ),
    ("rule-and-empty", choice({"And": [], "Next": "B"}), [(SV, "/States/C/Choices[0]/And", None)]),
    ("rule-not-object", choice({"Not": [], "Next": "B"}), [(SV, "/States/C/Choices[0]/Not", None)]),
    (
        "rule-nested-next",
        choice({"Or": [rule(IsNull=True)], "Next": "B"}),
        [(SV, "/States/C/Choices[0]/Or[0]", "Field 'Next' is not supported")],
    ),
    (
        "rule-next-dangling",
        choice(rule(IsNull=True, Next="Z"), Default="B"),
        [(MTT, "/States/C/Choices[0]/Next", "Missing 'Next' target: Z")],
    ),
    (
        "default-dangling",
        choice(rule(IsNull=True), Default="Z"),
        [(MTT, "/States/C/Default", "Missing 'Next' target: Z")],
    ),
    (
        "jsonata-rule-variable",
        choice({"Condition": True, "Variable": "$.x", "Next": "B"}, QueryLanguage="JSONata"),
        [(SV, "/States/C/Choices[0]", None)],
    ),
    (
        "jsonata-rule-no-condition",
        choice({"Next": "B"}, QueryLanguage="JSONata"),
        [(SV, "/States/C/Choices[0]", "These fields are required: [Condition]")],
    ),
    (
        "jsonata-condition-unwrapped",
        choice({"Condition": "$states.input.x", "Next": "B"}, QueryLanguage="JSONata"),
        [(SV, "/States/C/Choices[0]/Condition", None)],
    ),
    (
        "rule-too-deep",
        choice(
            {
                "Next": "B",
                "Not": json.loads('{"Not": ' * 70 + '{"Variable": "$", "IsNull": true}' + "}" * 70),
            }
        ),
        [("TOO_DEEPLY_NESTED", "/States/C/Choices[0]" + "/Not" * 65, None)],
    ),
    # --- Wait ----------------------------------------------------------------------------
    ("wait-none", one({"Type": "Wait", "End": True}), [(SV, "/States/A", None)]),
    (
        "wait-two",
        one({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t", "End": True}),
        [(SV, "/States/A/Seconds", None)],
    ),
    (
        "wait-negative",
        one({"Type": "Wait", "Seconds": -1, "End": True}),
        [(SV, "/States/A/Seconds", None)],
    ),
    (
        "wait-float",
        one({"Type": "Wait", "Seconds": 1.5, "End": True}),
        [(SV, "/States/A/Seconds", None)],
    ),
    (
        "wait-timestamp",
        one({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00", "End": True}),
        [(SV, "/States/A/Timestamp", "String does not match RFC3339 timestamp")],
    ),
    (
        "wait-timestamp-impossible",
        one({"Type": "Wait", "Timestamp": "2016-02-30T01:59:00Z", "End": True}),
        [(SV, "/States/A/Timestamp", None)],
    ),
    (
        "wait-seconds-path",
        one({"Type": "Wait", "SecondsPath": "seconds", "End": True}),
        [(SV, "/States/A/SecondsPath", None)],
    ),
    (
        "wait-jsonata-seconds",
        one({"Type": "Wait", "Seconds": "5", "End": True}, QueryLanguage="JSONata"),
        [(SV, "/States/A/Seconds", None)],
    ),
    # --- Fail ----------------------------------------------------------------------------
    (
        "fail-error-twice",
        one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
        [(SV, "/States/A/Error", None)],
    ),
    (
        "fail-cause-twice",
        one({"Type": "Fail", "Cause": "C", "CausePath": "$.c"}),
        [(SV, "/States/A/Cause", None)],
    ),
    (
        "fail-error-path-type",
        one({"Type": "Fail", "ErrorPath": 5}),
        [(SV, "/States/A/ErrorPath", "Expected value of type [STRING]")],
    ),
    (
        "fail-cause-path",
        one({"Type": "Fail", "CausePath": "nope"}),
        [
            (
                SV,
                "/States/A/CausePath",
                "The value for the field 'CausePath' must be a valid JSONPath or a valid "
                "intrinsic function call",
            )
        ],
    ),
    ("fail-error-type", one({"Type": "Fail", "Error": 1}), [(SV, "/States/A/Error", None)]),
    # --- Task ----------------------------------------------------------------------------
    (
        "task-no-resource",
        one({"Type": "Task", "End": True}),
        [(SV, "/States/A", "These fields are required: [Resource]")],
    ),
    ("task-resource-empty", one(task(Resource="")), [(SV, "/States/A/Resource", None)]),
    ("task-resource-type", one(task(Resource=[])), [(SV, "/States/A/Resource", None)]),
    ("task-timeout-zero", one(task(TimeoutSeconds=0)), [(SV, "/States/A/TimeoutSeconds", None)]),
    (
        "task-timeout-twice",
        one(task(TimeoutSeconds=5, TimeoutSecondsPath="$.t")),
        [(SV, "/States/A/TimeoutSeconds", None)],
    ),
    (
        "task-heartbeat-not-below-timeout",
        one(task(TimeoutSeconds=5, HeartbeatSeconds=5)),
        [(SV, "/States/A/HeartbeatSeconds", None)],
    ),
    (
        "task-timeout-path",
        one(task(TimeoutSecondsPath="t")),
        [(SV, "/States/A/TimeoutSecondsPath", None)],
    ),
    (
        "task-jsonata-timeout",
        one(task(TimeoutSeconds="{% %}"), QueryLanguage="JSONata"),
        [(SV, "/States/A/TimeoutSeconds", None)],
    ),
    (
        "task-jsonata-arguments",
        one(task(Arguments="$.x"), QueryLanguage="JSONata"),
        [(SV, "/States/A/Arguments", None)],
    ),
    # --- paths and templates --------------------------------------------------------------
    ("input-path", one({**END, "InputPath": "a"}), [(SV, "/States/A/InputPath", None)]),
    ("output-path-type", one({**END, "OutputPath": 1}), [(SV, "/States/A/OutputPath", None)]),
    ("result-path", one({**END, "ResultPath": "a"}), [(SV, "/States/A/ResultPath", None)]),
    (
        "parameters-path",
        one({**END, "Parameters": {"in": {"a.$": "nope"}}}),
        [
            (
                SV,
                "/States/A/Parameters/in/a.$",
                "The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic "
                "function call",
            )
        ],
    ),
    (
        "parameters-in-array",
        one(task(Parameters={"list": [{"b.$": 5}]})),
        [(SV, "/States/A/Parameters/list[0]/b.$", "Expected value of type [STRING]")],
    ),
    ("parameters-type", one({**END, "Parameters": "x"}), [(SV, "/States/A/Parameters", None)]),
    (
        "result-selector",
        one(task(ResultSelector={"a.$": "x"})),
        [(SV, "/States/A/ResultSelector/a.$", None)],
    ),
    ("assign-type", one({**END, "Assign": []}), [(SV, "/States/A/Assign", None)]),
    ("assign-sub-path", one({**END, "Assign": {"x.y": 1}}), [(SV, "/States/A/Assign/x.y", None)]),
    ("assign-path", one({**END, "Assign": {"x.$": "y"}}), [(SV, "/States/A/Assign/x.$", None)]),
    # --- Retry and Catch -----------------------------------------------------------------
    ("retry-type", one(task(Retry={})), [(SV, "/States/A/Retry", None)]),
    (
        "retry-no-error-equals",
        one(task(Retry=[{}])),
        [(SV, "/States/A/Retry[0]", "These fields are required: [ErrorEquals]")],
    ),
    (
        "retry-empty-error-equals",
        one(task(Retry=[{"ErrorEquals": []}])),
        [(SV, "/States/A/Retry[0]/ErrorEquals", None)],
    ),
    (
        "retry-unknown-field",
        one(task(Retry=[{"ErrorEquals": ["E"], "Interval": 1}])),
        [(SV, "/States/A/Retry[0]", "Field 'Interval' is not supported")],
    ),
    (
        "retry-interval",
        one(task(Retry=[{"ErrorEquals": ["E"], "IntervalSeconds": 0}])),
        [(SV, "/States/A/Retry[0]/IntervalSeconds", None)],
    ),
    (
        "retry-max-attempts",
        one(task(Retry=[{"ErrorEquals": ["E"], "MaxAttempts": -1}])),
        [(SV, "/States/A/Retry[0]/MaxAttempts", None)],
    ),
    (
        "retry-backoff",
        one(task(Retry=[{"ErrorEquals": ["E"], "BackoffRate": 0.5}])),
        [(SV, "/States/A/Retry[0]/BackoffRate", None)],
    ),
    (
        "retry-max-delay",
        one(task(Retry=[{"ErrorEquals": ["E"], "MaxDelaySeconds": 31622401}])),
        [(SV, "/States/A/Retry[0]/MaxDelaySeconds", None)],
    ),
    (
        "retry-jitter",
        one(task(Retry=[{"ErrorEquals": ["E"], "JitterStrategy": "HALF"}])),
        [(SV, "/States/A/Retry[0]/JitterStrategy", None)],
    ),
    (
        "retry-all-not-alone",
        one(task(Retry=[{"ErrorEquals": ["States.ALL", "E"]}])),
        [(SV, "/States/A/Retry[0]/ErrorEquals", None)],
    ),
    (
        "retry-all-not-last",
        one(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}])),
        [(SV, "/States/A/Retry[0]/ErrorEquals", None)],
    ),
    (
        "retry-reserved-name",
        one(task(Retry=[{"ErrorEquals": ["States.Oops"]}])),
        [(SV, "/States/A/Retry[0]/ErrorEquals[0]", None)],
    ),
    (
        "retry-on-pass",
        one({**END, "Retry": []}),
        [(SV, "/States/A", "Field 'Retry' is not supported")],
    ),
    (
        "catch-no-next",
        one(task(Catch=[{"ErrorEquals": ["E"]}])),
        [(SV, "/States/A/Catch[0]", "These fields are required: [Next]")],
    ),
    (
        "catch-next-dangling",
        one(task(Catch=[{"ErrorEquals": ["E"], "Next": "Z"}])),
        [(MTT, "/States/A/Catch[0]/Next", "Missing 'Next' target: Z")],
    ),
    (
        "catch-result-path",
        {
            "StartAt": "A",
            "States": {
                "A": task(Catch=[{"ErrorEquals": ["E"], "Next": "B", "ResultPath": "e"}]),
                "B": END,
            },
        },
        [(SV, "/States/A/Catch[0]/ResultPath", None)],
    ),
    (
        "catch-unknown-field-nested",  # as AWS answered a real deploy
        one(
            {
                "Type": "Map",
                "End": True,
                "ItemProcessor": branch(
                    {
                        "RefreshOneRetailer": task(
                            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Skip", "_comment": "x"}]
                        ),
                        "Skip": END,
                    },
                    "RefreshOneRetailer",
                ),
            },
            "RefreshAllRetailers",
        ),
        [
            (
                SV,
                "/States/RefreshAllRetailers/ItemProcessor/States/RefreshOneRetailer/Catch[0]",
                "Field '_comment' is not supported",
            )
        ],
    ),
    (
        "catch-jsonata-result-path",
        {
            "QueryLanguage": "JSONata",
            "StartAt": "A",
            "States": {
                "A": task(Catch=[{"ErrorEquals": ["E"], "Next": "B", "ResultPath": "$.e"}]),
                "B": END,
            },
        },
        [(SV, "/States/A/Catch[0]", None)],
    ),
    # --- Parallel ------------------------------------------------------------------------
    ("branches-empty", parallel(), [(SV, "/States/P/Branches", None)]),
    (
        "branch-no-start-at",
        parallel({"States": {"X": END}}),
        [(SV, "/States/P/Branches[0]", "These fields are required: [StartAt]")],
    ),
    (
        "branch-query-language",
        parallel(branch({"X": END}, QueryLanguage="JSONata")),
        [(SV, "/States/P/Branches[0]", "Field 'QueryLanguage' is not supported")],
    ),
    (
        "branch-leaves-its-scope",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [branch({"X": {"Type": "Pass", "Next": "Z"}})],
                    "Next": "Z",
                },
                "Z": END,
            },
        },
        [(MTT, "/States/P/Branches[0]/States/X/Next", "Missing 'Next' target: Z")],
    ),
    (
        "branch-unreachable",
        parallel(branch({"X": END, "Y": END})),
        [(MTT, "/States/P/Branches[0]/States/Y", 'State "Y" is not reachable.')],
    ),
    # --- Map -----------------------------------------------------------------------------
    (
        "map-no-processor",
        one({"Type": "Map", "End": True}, "M"),
        [(SV, "/States/M", "These fields are required: [ItemProcessor]")],
    ),
    (
        "map-processor-and-iterator",
        map_state(Iterator=branch({"Q": END}, "Q")),
        [(SV, "/States/M/ItemProcessor", None)],
    ),
    (
        "map-mode",
        map_state({"ProcessorConfig": {"Mode": "FAST"}}),
        [(SV, "/States/M/ItemProcessor/ProcessorConfig/Mode", None)],
    ),
    (
        "map-distributed-execution-type",
        map_state({"ProcessorConfig": {"Mode": "DISTRIBUTED"}}),
        [
            (
                SV,
                "/States/M/ItemProcessor/ProcessorConfig",
                "These fields are required: [ExecutionType]",
            )
        ],
    ),
    (
        "map-inline-execution-type",
        map_state({"ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "STANDARD"}}),
        [(SV, "/States/M/ItemProcessor/ProcessorConfig", "Field 'ExecutionType' is not supported")],
    ),
    (
        "map-execution-type",
        map_state({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "FAST"}}),
        [(SV, "/States/M/ItemProcessor/ProcessorConfig/ExecutionType", None)],
    ),
    ("map-items-path", map_state(ItemsPath="items"), [(SV, "/States/M/ItemsPath", None)]),
    (
        "map-selector-and-parameters",
        map_state(ItemSelector={}, Parameters={}),
        [(SV, "/States/M/ItemSelector", None)],
    ),
    ("map-max-concurrency", map_state(MaxConcurrency=-1), [(SV, "/States/M/MaxConcurrency", None)]),
    (
        "map-max-concurrency-twice",
        map_state(MaxConcurrency=1, MaxConcurrencyPath="$.n"),
        [(SV, "/States/M/MaxConcurrency", None)],
    ),
    (
        "map-tolerated-percentage",
        map_state(ToleratedFailurePercentage=101),
        [(SV, "/States/M/ToleratedFailurePercentage", None)],
    ),
    (
        "map-tolerated-count",
        map_state(ToleratedFailureCount=-1),
        [(SV, "/States/M/ToleratedFailureCount", None)],
    ),
    (
        "map-reader-inline",
        map_state(ItemReader={"Resource": "arn:aws:states:::s3:getObject"}),
        [(SV, "/States/M/ItemReader", None)],
    ),
    (
        "map-jsonata-items",
        one(
            {
                "Type": "Map",
                "Items": "$.items",
                "End": True,
                "ItemProcessor": branch({"P": END}, "P"),
            },
            "M",
            QueryLanguage="JSONata",
        ),
        [(SV, "/States/M/Items", None)],
    ),
    ("map-label", map_state(Label="a/b"), [("INVALID_LABEL_NAME", "/States/M/Label", None)]),
    (
        "map-label-duplicate",
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "Label": "L",
                    "Next": "N",
                    "ItemProcessor": branch({"P": END}, "P"),
                },
                "N": {
                    "Type": "Map",
                    "Label": "L",
                    "End": True,
                    "ItemProcessor": branch({"Q": END}, "Q"),
                },
            },
        },
        [("DUPLICATE_LABEL_NAME", "/States/N/Label", None)],
    ),
]


@pytest.mark.parametrize(
    ("definition", "expected"), [c[1:] for c in FAULTS], ids=[c[0] for c in FAULTS]
)
def test_fault(definition: Any, expected: list[tuple[str, str, str | None]]) -> None:
    errors = validate(definition)
    assert [(e.code, e.location) for e in errors] == [(code, loc) for code, loc, _ in expected]
    for error, (_, _, message) in zip(errors, expected, strict=True):
        if message is not None:
            assert error.message == message


VALID: list[tuple[str, Any]] = [
    ("pass", one(END)),
    (
        "jsonata-top",
        one(
            {"Type": "Pass", "Output": "{% $states.input %}", "End": True}, QueryLanguage="JSONata"
        ),
    ),
    ("jsonata-state-in-jsonpath", one({"Type": "Pass", "QueryLanguage": "JSONata", "End": True})),
    ("null-paths", one({**END, "InputPath": None, "OutputPath": None, "ResultPath": None})),
    (
        "context-and-variable-paths",
        one({**END, "Parameters": {"a.$": "$$.Execution.Id", "b.$": "$v"}}),
    ),
    (
        "wait-timestamp-offset",
        one({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00.123+02:00", "End": True}),
    ),
    (
        "wait-jsonata",
        one(
            {"Type": "Wait", "Seconds": "{% $states.input.n %}", "End": True},
            QueryLanguage="JSONata",
        ),
    ),
    ("choice-default-only", choice(rule(NumericGreaterThanEquals=1.5), Default="B")),
    (
        "choice-nested",
        choice(
            {
                "And": [
                    {"Variable": "$.x", "IsPresent": True},
                    {"Not": {"Variable": "$.y", "StringMatches": "log-*.txt"}},
                ],
                "Next": "B",
            }
        ),
    ),
    ("fail-bare", one({"Type": "Fail"})),
    ("task-heartbeat", one(task(TimeoutSeconds=10, HeartbeatSeconds=5))),
    ("retry-all-last", one(task(Retry=[{"ErrorEquals": ["E"]}, {"ErrorEquals": ["States.ALL"]}]))),
    ("retry-http-error", one(task(Retry=[{"ErrorEquals": ["States.Http.StatusCode.503"]}]))),
    (
        "map-distributed",
        map_state({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}}),
    ),
    (
        "map-legacy-iterator",
        one({"Type": "Map", "Iterator": branch({"Q": END}, "Q"), "End": True}, "M"),
    ),
    (
        "map-jsonata-expressions",
        one(
            {
                "Type": "Map",
                "Items": [1, "{% 2 %}"],
                "MaxConcurrency": "{% 1 %}",
                "End": True,
                "ItemProcessor": branch({"P": END}, "P"),
            },
            "M",
            QueryLanguage="JSONata",
        ),
    ),
    (
        "loop-with-exit",
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "C"},
                "C": {"Type": "Choice", "Choices": [rule(IsNull=True, Next="A")], "Default": "S"},
                "S": {"Type": "Succeed"},
            },
        },
    ),
]


@pytest.mark.parametrize("definition", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid(definition: Any) -> None:
    assert validate(definition) == []


def test_reference_order_workflow_validates_clean() -> None:
    assert validate(json.loads(SEED.read_text())) == []


def test_reports_every_fault_at_once() -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Next": "Gone"}, "B": {"Type": "Wait", "End": True}},
    }
    assert [(e.code, e.location) for e in validate(definition)] == [
        (SV, "/States/A"),
        (SV, "/States/B"),
        (MTT, "/States/A/Next"),
        (MTT, "/States/B"),
    ]


# AWS's InvalidDefinition messages, verbatim from the issues that quote them.
AWS_MESSAGES = [
    (  # localstack/localstack#11978
        {
            "StartAt": "pass1",
            "States": {
                "pass1": {"Type": "Pass", "Next": "pass3"},
                "pass2": {"Type": "Pass", "End": True},
            },
        },
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: "
        'pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not '
        "reachable. at /States/pass2'",
    ),
    (  # aws-cloudformation/cfn-lint#4073
        {
            "StartAt": "Pass One",
            "States": {
                "Pass One": {"Type": "Pass", "Next": "Pass Two"},
                "Pass Two": {"Type": "Pass", "Next": "Success"},
                "Unreachable pass": {"Type": "Pass", "Next": "Success"},
                "Success": {"Type": "Succeed"},
            },
        },
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: State \"Unreachable "
        "pass\" is not reachable. at /States/Unreachable pass'",
    ),
    (  # floci-io/floci#2735, measured
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
        },
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state "
        "at null'",
    ),
]


@pytest.mark.parametrize(("definition", "message"), AWS_MESSAGES)
def test_invalid_definition_message_matches_aws(definition: Any, message: str) -> None:
    assert render_definition_errors(validate(definition)) == message


JUNK: list[Any] = [
    None,
    0,
    "x",
    {"StartAt": None, "States": None},
    {"StartAt": "A", "States": {"A": None}},
    {"StartAt": "A", "States": {"A": {"Type": None, "Next": 5, "Choices": 5, "Catch": [5]}}},
    {
        "StartAt": "A",
        "States": {"A": {"Type": "Choice", "Choices": [5, {"And": 5}, {"Not": None}]}},
    },
    {"StartAt": "A", "States": {"A": {"Type": "Map", "ItemProcessor": 5, "End": True}}},
    {
        "StartAt": "A",
        "States": {"A": {"Type": "Map", "ItemProcessor": {"ProcessorConfig": 5}, "End": True}},
    },
    {
        "StartAt": "A",
        "States": {"A": {"Type": "Parallel", "Branches": [None, {"States": []}], "End": True}},
    },
    {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "r",
                "End": True,
                "Retry": [None, {"ErrorEquals": [1]}],
            }
        },
    },
    {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "End": True, "Parameters": {"a": [[{"b.$": None}]]}}},
    },
]


@pytest.mark.parametrize("definition", JUNK)
def test_never_raises_on_bad_input(definition: Any) -> None:
    errors = validate(definition)
    assert errors and all(isinstance(e, DefinitionError) for e in errors)


def test_deep_nesting_is_refused_not_raised() -> None:
    machine: dict[str, Any] = {"StartAt": "S0", "States": {"S0": END}}
    for depth in range(1, 200):
        parallel_state = {"Type": "Parallel", "Branches": [machine], "End": True}
        machine = {"StartAt": f"S{depth}", "States": {f"S{depth}": parallel_state}}
    codes = {e.code for e in validate(machine)}
    assert codes == {"TOO_DEEPLY_NESTED"}


# --- every definition AWS accepted in the recorded conformance cases -------------------------


def _ready(compile_: Any, *samples: str) -> bool:
    try:
        for sample in samples:
            compile_(sample)
    except (ExpressionSyntaxError, ValueError):
        return False
    return True


# paths.py and intrinsics.py are being written behind their interfaces; until they land, cases
# that need them are skipped (not failed), and they run strictly as soon as they do.
INTRINSICS_READY = _ready(compile_intrinsic, "States.Format('{}', $.a)", "States.UUID()")
JSONPATH_READY = _ready(compile_path, "$.a[1:5]", "$.a[*]", "$..b", "$.a[?(@.b == 1)]")


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, string) pair in a JSON value."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _strings(v, key)]
    return [(key, value)] if isinstance(value, str) else []


def _needs_intrinsics(definition: Any) -> bool:
    return any(
        "States." in text and (key.endswith(".$") or key in ("ErrorPath", "CausePath"))
        for key, text in _strings(definition)
    )


def _needs_full_jsonpath(definition: Any) -> bool:
    return any(
        (key.endswith(("Path", ".$")) or key == "Variable")
        and any(mark in text for mark in ("[*]", "[?", ":", "..", ".*"))
        for key, text in _strings(definition)
    )


CASES = sorted(CASES_DIR.glob("*.json"))


@pytest.mark.parametrize("case", CASES or case_params("*.json"),
                         ids=[c.stem[:90] for c in CASES] or None)
def test_conformance_definitions_validate_clean(case: Path) -> None:
    definition = json.loads(case.read_text())["definition"]
    if not INTRINSICS_READY and _needs_intrinsics(definition):
        pytest.skip("uses intrinsic functions; intrinsics.py is still a stub: re-check")
    if not JSONPATH_READY and _needs_full_jsonpath(definition):
        pytest.skip("uses slices, wildcards or filters; paths.py is still a stub: re-check")
    assert [e.render() for e in validate(definition)] == []
