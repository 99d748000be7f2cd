"""``statewright.testing.run``: mocked Tasks in the in-memory runner, as Step Functions Local's
mock config defines them, with the history of a real call."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from statewright import testing

HERE = Path(__file__).parent
SAMPLE_DEFINITION = HERE / "aws_sample_definition.json"
SAMPLE_CONFIG = HERE / "aws_sample_mock_config.json"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"

SQS_RESPONSE = {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}


def _sample(case: str) -> testing.Execution:
    return testing.run(SAMPLE_DEFINITION, {}, mock_config=SAMPLE_CONFIG, test_case=case)


def test_aws_sample_happy_path() -> None:
    execution = _sample("HappyPath")
    execution.assert_succeeded(SQS_RESPONSE)
    # lambda:invoke's result is the mocked Return as is (Invoke's response), so SQSState gets
    # {"StatusCode": 200, "Payload": {...}}. (The guide's abridged history shows the Payload
    # there instead, beside LambdaFunction* events no lambda:invoke Task writes on AWS.)
    assert execution.state_input("SQSState") == {
        "StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
    assert execution.event_types == [
        "ExecutionStarted",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "ExecutionSucceeded",
    ]
    succeeded = [e for e in execution.history if e["type"] == "TaskSucceeded"][1]
    assert succeeded["taskSucceededEventDetails"]["resourceType"] == "sqs"
    assert succeeded["taskSucceededEventDetails"]["resource"] == "sendMessage"
    assert json.loads(succeeded["taskSucceededEventDetails"]["output"]) == SQS_RESPONSE


def test_aws_sample_retry_path_uses_one_answer_per_invocation() -> None:
    execution = _sample("RetryPath")
    execution.assert_succeeded(SQS_RESPONSE)
    assert execution.invocations("LambdaState") == 4
    failed = [e["taskFailedEventDetails"]["error"] for e in execution.history
              if e["type"] == "TaskFailed"]
    assert failed == ["Lambda.ResourceNotReadyException", "Lambda.TimeoutException",
                      "Lambda.TimeoutException"]
    # Back-off of 2, 4 and 8 s: skipped in real time, kept in the history's timestamps.
    scheduled = [e["timestamp"] for e in execution.history if e["type"] == "TaskScheduled"]
    gaps = [round(b - a) for a, b in itertools.pairwise(scheduled)]
    assert gaps[:3] == [2, 4, 8]


def test_aws_sample_hybrid_path_runs_the_unmocked_state_for_real() -> None:
    # SQSState is not in HybridPath: it calls the real resource, which statewright cannot.
    execution = _sample("HybridPath")
    execution.assert_failed("States.Runtime")
    assert "sqs:sendMessage" in (execution.cause or "")
    execution.assert_path("LambdaState", "SQSState")


def _machine(states: dict[str, Any], start: str) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


CHARGE = _machine({
    "Charge": {
        "Type": "Task", "Resource": FUNCTION + "charge", "Next": "Done",
        "Retry": [{"ErrorEquals": ["Transient"], "MaxAttempts": 2, "IntervalSeconds": 30}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refused"}],
    },
    "Done": {"Type": "Succeed"},
    "Refused": {"Type": "Pass", "End": True},
}, "Charge")


def test_function_arn_task_gets_payload_and_writes_lambda_events() -> None:
    execution = testing.run(CHARGE, {"order": 1}, mocks={"Charge": {
        "0": {"Return": {"StatusCode": 200, "Payload": {"charged": True}}}}})
    execution.assert_succeeded({"charged": True})
    execution.assert_events("LambdaFunctionScheduled", "LambdaFunctionStarted",
                            "LambdaFunctionSucceeded", "TaskStateExited")


def test_mocked_errors_go_through_retry_then_catch() -> None:
    execution = testing.run(CHARGE, {"order": 1}, mocks={"Charge": [
        testing.error("Transient", "try again"), testing.error("Transient", "again"),
        testing.error("Declined", "card declined")]})
    execution.assert_succeeded({"order": 1, "error": {"Error": "Declined",
                                                      "Cause": "card declined"}})
    execution.assert_path("Charge", "Refused")
    assert execution.invocations("Charge") == 3
    assert execution.event_types.count("LambdaFunctionFailed") == 3


def test_an_invocation_without_an_answer_fails_the_execution() -> None:
    # AWS: "If you do not specify a mocked response for a specific retry attempt ... the
    # state machine execution will fail." States.ALL in the Catch does not catch it.
    execution = testing.run(CHARGE, {}, mocks={"Charge": [testing.error("Transient")]})
    execution.assert_failed("States.Runtime")
    assert "no answer for invocation 1 of state 'Charge'" in (execution.cause or "")


LOOP = _machine({
    "Poll": {"Type": "Task", "Resource": FUNCTION + "poll", "Next": "Ready?"},
    "Ready?": {"Type": "Choice", "Default": "Poll",
               "Choices": [{"Variable": "$.ready", "BooleanEquals": True, "Next": "End"}]},
    "End": {"Type": "Succeed"},
}, "Poll")


def test_invocation_numbers_count_loop_visits() -> None:
    execution = testing.run(LOOP, {}, mocks={"Poll": {
        "0-1": {"Return": {"Payload": {"ready": False}}},
        "2": {"Return": {"Payload": {"ready": True, "after": 3}}}}})
    execution.assert_succeeded({"ready": True, "after": 3})
    assert execution.path == ["Poll", "Ready?"] * 3 + ["End"]


def test_map_and_parallel_states_are_mocked_per_state_name() -> None:
    machine = _machine({
        "Both": {"Type": "Parallel", "End": True, "Branches": [
            _machine({"Price": {"Type": "Task", "Resource": FUNCTION + "price",
                                "End": True}}, "Price"),
            _machine({"Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                               "ItemProcessor": _machine({"Ship": {
                                   "Type": "Task", "Resource": FUNCTION + "ship",
                                   "End": True}}, "Ship"),
                               "End": True}}, "Each"),
        ]},
    }, "Both")
    execution = testing.run(machine, {"items": ["a", "b", "c"]}, mocks={
        "Price": testing.result(10),
        "Ship": [testing.result("first"), testing.result("second"), testing.result("third")],
    })
    execution.assert_succeeded([10, ["first", "second", "third"]])


def test_unmocked_states_call_python_handlers() -> None:
    calls: list[Any] = []

    def poll(event: Any, context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"ready": True}

    execution = testing.run(LOOP, {"job": 7}, handlers={"poll": poll})
    execution.assert_succeeded({"ready": True})
    assert calls == [{"job": 7}]


def test_handler_folders_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "poll.py").write_text(
        "def handler(event, context):\n    return {'ready': True, 'from': 'file'}\n")
    testing.run(LOOP, {}, handlers=tmp_path).assert_succeeded({"ready": True, "from": "file"})


def test_a_handler_error_is_retried_like_a_mocked_one() -> None:
    attempts: list[int] = []

    class Transient(Exception):
        pass

    def charge(event: Any, context: Any) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise Transient("busy")
        return {"charged": True}

    execution = testing.run(CHARGE, {}, handlers={"charge": charge})
    execution.assert_succeeded({"charged": True})
    assert len(attempts) == 3


def test_callback_and_activity_tasks_return_at_once_when_mocked() -> None:
    machine = _machine({
        "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage"
                    ".waitForTaskToken", "Parameters": {"MessageBody.$": "$$.Task.Token"},
                    "Next": "Pack"},
        "Pack": {"Type": "Task", "End": True,
                 "Resource": "arn:aws:states:us-east-1:123456789012:activity:pack"},
    }, "Approve")
    execution = testing.run(machine, {}, mocks={
        "Approve": testing.result({"approved": True}), "Pack": testing.result({"box": 3})})
    execution.assert_succeeded({"box": 3})
    assert execution.state_output("Approve") == {"approved": True}
    execution.assert_events("TaskScheduled", "TaskStarted", "TaskSucceeded",
                            "ActivityScheduled", "ActivityStarted", "ActivitySucceeded")


def test_waits_are_skipped_yet_recorded() -> None:
    machine = _machine({"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Nap")
    execution = testing.run(machine, {"x": 1})
    execution.assert_succeeded({"x": 1})
    times = {e["type"]: e["timestamp"] for e in execution.history}
    assert times["WaitStateExited"] - times["WaitStateEntered"] == pytest.approx(3600, abs=1)


def test_mocks_naming_unknown_states_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\['Nope'\]"):
        testing.run(LOOP, {}, mocks={"Nope": testing.result(1)})


def test_assertions_explain_what_happened() -> None:
    execution = testing.run(CHARGE, {}, mocks={"Charge": testing.result({"ok": 1})})
    with pytest.raises(AssertionError, match=r"expected FAILED, got SUCCEEDED .*'Charge'"):
        execution.assert_failed()
    with pytest.raises(AssertionError, match="expected output"):
        execution.assert_succeeded({"ok": 2})
    with pytest.raises(AssertionError, match="expected path"):
        execution.assert_path("Charge")
    with pytest.raises(AssertionError, match="expected events"):
        execution.assert_events("LambdaFunctionFailed")
