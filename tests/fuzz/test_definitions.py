"""Mutated definitions, created and started with several inputs: the order workflow and
samples with Map, Parallel, Wait, Choice, Retry/Catch and intrinsics, with nodes replaced by
hostile values, keys dropped or added. Each CreateStateMachine answers a definition or an
InvalidDefinition; each execution started ends (checked when the session ends), none
answers a 5xx but 503."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, seed
from hypothesis import strategies as st

from tests.fuzz.conftest import EXAMPLE, ROLE, SEED, FuzzServer, fuzz_settings
from tests.fuzz.strategies import HOSTILE

ECHO = "arn:aws:lambda:us-east-1:123456789012:function:updateOrderStatus"

SAMPLES: list[dict[str, Any]] = [
    json.loads((EXAMPLE / "definition.json").read_text()),
    {"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrencyPath": "$.n",
                "ToleratedFailurePercentagePath": "$.p", "ToleratedFailureCountPath": "$.n",
                "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ResultPath": "$.out", "Next": "Nap",
                "ItemProcessor": {"StartAt": "Calc", "States": {
                    "Calc": {"Type": "Pass", "Parameters": {
                        "sum.$": "States.MathAdd($.i, 1)",
                        "s.$": "States.Format('item {}', $.v)",
                        "a.$": "States.ArrayRange(1, 3, 1)"}, "End": True}}}},
        "Nap": {"Type": "Wait", "SecondsPath": "$.n", "Next": "Until"},
        "Until": {"Type": "Wait", "TimestampPath": "$.ts", "Next": "Both"},
        "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Pick", "Branches": [
            {"StartAt": "L", "States": {"L": {"Type": "Pass", "Result": 1, "End": True}}},
            {"StartAt": "R", "States": {"R": {"Type": "Fail", "Error": "E", "Cause": "c"}}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err",
                       "Next": "Pick"}]},
        "Pick": {"Type": "Choice", "Default": "Done", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Call"},
            {"And": [{"Variable": "$.s", "IsPresent": True},
                     {"Variable": "$.s", "StringMatches": "a*"}], "Next": "Done"}]},
        "Call": {"Type": "Task", "Resource": ECHO, "TimeoutSecondsPath": "$.n",
                 "HeartbeatSecondsPath": "$.n", "ResultSelector": {"r.$": "$"},
                 "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2,
                            "IntervalSeconds": 1, "BackoffRate": 2.0}],
                 "Next": "Done"},
        "Done": {"Type": "Succeed", "OutputPath": "$"},
    }},
    {"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "updateOrderStatus",
                                  "Payload": {"orderId.$": "States.UUID()",
                                              "j.$": "States.JsonToString($)"}},
                   "OutputPath": "$.Payload", "Next": "Assign"},
        "Assign": {"Type": "Pass", "Assign": {"x.$": "$.orderId"}, "Next": "Use"},
        "Use": {"Type": "Pass", "Parameters": {"x.$": "$x", "h.$": "States.Hash($x, 'SHA-1')"},
                "End": True},
    }},
]

INPUTS = [
    "{}", '{"orderId": "o-1"}', "null", "[1, 2]", '"text"',
    json.dumps({"items": [1, 2, 3], "n": 2, "p": 50, "ts": "2016-03-14T01:59:00Z", "s": "ab"}),
    json.dumps({"items": "no", "n": -1, "p": "x", "ts": 12, "s": None}),
    json.dumps({"items": list(range(40)), "n": 1.5, "p": 100.1, "ts": "2016-13-01T00:00:00Z"}),
    json.dumps({"a" * 200: ["\u00e9\u4e2d\U0001f600"] * 50, "n": 0}),
]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (its own included)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _nodes(child, (*path, index))
    return found


def _mutate(definition: Any, picks: list[tuple[int, int, Any]]) -> Any:
    """Applies each (node index, action, value): replace the node with a hostile value, drop
    it, or add a key holding the value."""
    result = copy.deepcopy(definition)
    for index, action, shared in picks:
        value = copy.deepcopy(shared)  # HOSTILE's lists and dicts are shared: never alias them
        nodes = _nodes(result)
        path = nodes[index % len(nodes)]
        if not path:
            continue
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == 0:
            parent[key] = value
        elif action == 1:
            del parent[key]
        elif isinstance(parent[key], dict):
            parent[key][str(value)[:40] if not isinstance(value, str) else value[:40]] = value
        else:
            parent[key] = [parent[key], value]
    return result


VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(["$", "$.n", "$$", "$$.Execution.Input", "$.items[*]", "$..n", "$.nope",
                     "States.ArrayRange(1, 100000, 1)", "States.StringToJson($.s)",
                     "States.Format('{}{}', $.n)", "Pass", "Task", "Map", "Wait", "Done",
                     "States.ALL", "States.Runtime", "INLINE", "DISTRIBUTED", "JSONata",
                     "arn:aws:states:::lambda:invoke.waitForTaskToken",
                     "arn:aws:lambda:us-east-1:123456789012:function:nope", -5, 99999999,
                     100000000, 0.0001, "2016-03-14T01:59:00Z"]),
    st.integers(),
    st.text(max_size=20),
)


@seed(SEED)
@fuzz_settings(25)
@given(
    sample=st.integers(0, len(SAMPLES) - 1),
    picks=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 2), VALUES),
                   min_size=1, max_size=4),
    inputs=st.lists(st.sampled_from(INPUTS), min_size=1, max_size=3),
)
def test_mutated_definitions_are_created_and_started(
    fuzz_server: FuzzServer, sample: int, picks: list[tuple[int, int, Any]], inputs: list[str]
) -> None:
    definition = json.dumps(_mutate(SAMPLES[sample], picks))
    name = f"mutant-{fuzz_server.requests}"
    created = fuzz_server.sfn("CreateStateMachine", json.dumps({
        "name": name, "definition": definition, "roleArn": ROLE}).encode())
    assert created.status in (200, 400, 503), (created.status, created.body[:500], definition)
    if created.status != 200:
        assert json.loads(created.body)["__type"] in (
            "InvalidDefinition", "ValidationException", "ServiceUnavailable"), created.body
        return
    machine = json.loads(created.body)["stateMachineArn"]
    for text in inputs:
        started = fuzz_server.sfn("StartExecution", json.dumps({
            "stateMachineArn": machine, "input": text}).encode())
        assert started.status in (200, 400, 503), (started.status, started.body[:500],
                                                  definition, text)
        if started.status == 200:
            fuzz_server.executions.append(json.loads(started.body)["executionArn"])


def test_the_unmutated_samples_run(fuzz_server: FuzzServer) -> None:
    """The samples themselves create and start (so mutations start from working machines)."""
    for index, sample in enumerate(SAMPLES):
        created = fuzz_server.sfn("CreateStateMachine", json.dumps({
            "name": f"sample-{index}", "definition": json.dumps(sample),
            "roleArn": ROLE}).encode())
        assert created.status == 200, created.body
        machine = json.loads(created.body)["stateMachineArn"]
        for text in INPUTS:
            started = fuzz_server.sfn("StartExecution", json.dumps({
                "stateMachineArn": machine, "input": text}).encode())
            assert started.status == 200, started.body
            fuzz_server.executions.append(json.loads(started.body)["executionArn"])
