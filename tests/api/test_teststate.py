"""TestState through boto3's ``test_state`` against a real server.

What AWS documents (developer guide "Using TestState API to test a state"; API reference
TestState, MockInput, TestStateConfiguration, InspectionData): INFO answers status, output or
error and cause, and nextState; DEBUG (and TRACE, which adds HTTP Task traffic) adds
``inspectionData`` with the data flow step by step. status is SUCCEEDED, FAILED, RETRIABLE (a
Retrier would retry: retrierRetryCount retries so far leave attempts) or CAUGHT_ERROR (a
Catcher took it: output with the error placed, nextState its Next). botocore sends TestState to
the ``sync-`` host prefix, hence ``inject_host_prefix=False``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ACCOUNT, REGION, Server

LEVELS = ["INFO", "DEBUG", "TRACE"]
CHOICE = {"Type": "Choice", "Default": "Out of Stock", "Choices": [
    {"Variable": "$.inStock", "BooleanEquals": True, "Next": "Process Payment"}]}
PASS = {"Type": "Pass", "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "source": "web"}, "ResultPath": "$.shaped", "Next": "Next"}
TASK = {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "ResultSelector": {"charged.$": "$.Payload.charged"},
    "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2,
               "MaxAttempts": 3, "BackoffRate": 2}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
    "Next": "Ship",
}
THROTTLED = {"errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "slow down"}}


@pytest.fixture(scope="module")
def sfn(server: Server) -> Any:
    return server.client(inject_host_prefix=False)


def _test(sfn: Any, state: dict[str, Any], data: Any, level: str, **extra: Any
          ) -> dict[str, Any]:
    answer: dict[str, Any] = sfn.test_state(definition=json.dumps(state),
                                            input=json.dumps(data), inspectionLevel=level,
                                            **extra)
    answer.pop("ResponseMetadata")
    return answer


def _debug(level: str, data: dict[str, Any]) -> dict[str, Any]:
    """The inspectionData AWS adds at DEBUG and TRACE, none at INFO."""
    if level == "INFO":
        return {}
    return {"inspectionData": {k: json.dumps(v, separators=(",", ":")) if k != "errorDetails"
                               else v for k, v in data.items()}}


@pytest.mark.parametrize("level", LEVELS)
def test_choice(sfn: Any, level: str) -> None:
    data = {"inStock": True}
    assert _test(sfn, CHOICE, data, level) == {
        "status": "SUCCEEDED", "output": '{"inStock":true}', "nextState": "Process Payment",
        **_debug(level, {"input": data, "afterInputPath": data})}
    assert _test(sfn, CHOICE, {"inStock": False}, level)["nextState"] == "Out of Stock"


@pytest.mark.parametrize("level", LEVELS)
def test_pass_with_parameters_and_result_path(sfn: Any, level: str) -> None:
    data = {"order": {"id": 7}}
    shaped = {"id": 7, "source": "web"}
    placed = {"order": {"id": 7}, "shaped": shaped}
    assert _test(sfn, PASS, data, level) == {
        "status": "SUCCEEDED", "output": json.dumps(placed, separators=(",", ":")),
        "nextState": "Next",
        **_debug(level, {"input": data, "afterInputPath": {"id": 7},
                         "afterParameters": shaped, "result": shaped,
                         "afterResultPath": placed})}


@pytest.mark.parametrize("level", LEVELS)
def test_task_with_a_mocked_error_and_a_retry_is_retriable(sfn: Any, level: str) -> None:
    data = {"orderId": "1"}
    answer = _test(sfn, TASK, data, level, mock=THROTTLED,
                   stateConfiguration={"retrierRetryCount": 1})
    # The second retry (retry count 1) waits IntervalSeconds * BackoffRate^1 = 4 s.
    assert answer == {
        "status": "RETRIABLE", "error": "Lambda.TooManyRequestsException",
        "cause": "slow down",
        **_debug(level, {"input": data, "afterInputPath": data,
                         "afterParameters": {"FunctionName": "charge", "Payload": data},
                         "errorDetails": {"retryIndex": 0,
                                          "retryBackoffIntervalSeconds": 4}})}


@pytest.mark.parametrize("level", LEVELS)
def test_task_error_past_its_retries_is_caught(sfn: Any, level: str) -> None:
    data = {"orderId": "1"}
    caught = {**data, "error": {"Error": "Lambda.TooManyRequestsException",
                                "Cause": "slow down"}}
    answer = _test(sfn, TASK, data, level, mock=THROTTLED,
                   stateConfiguration={"retrierRetryCount": 3})
    assert answer == {
        "status": "CAUGHT_ERROR", "error": "Lambda.TooManyRequestsException",
        "cause": "slow down", "nextState": "Refund",
        "output": json.dumps(caught, separators=(",", ":")),
        **_debug(level, {"input": data, "afterInputPath": data,
                         "afterParameters": {"FunctionName": "charge", "Payload": data},
                         "errorDetails": {"catchIndex": 0}, "afterResultPath": caught})}


@pytest.mark.parametrize("level", LEVELS)
def test_task_with_a_mocked_result(sfn: Any, level: str) -> None:
    response = {"StatusCode": 200, "Payload": {"charged": True}}
    answer = _test(sfn, TASK, {"orderId": "1"}, level,
                   mock={"result": json.dumps(response)})
    assert answer["status"] == "SUCCEEDED"
    assert answer["nextState"] == "Ship"
    assert json.loads(answer["output"]) == {"charged": True}
    if level != "INFO":
        data = answer["inspectionData"]
        assert json.loads(data["result"]) == response
        assert json.loads(data["afterResultSelector"]) == {"charged": True}


def test_an_unhandled_error_fails(sfn: Any) -> None:
    state = {k: v for k, v in TASK.items() if k != "Catch"}
    answer = _test(sfn, state, {}, "INFO", mock={"errorOutput": {"error": "Boom",
                                                                 "cause": "c"}})
    assert answer == {"status": "FAILED", "error": "Boom", "cause": "c"}


def test_without_a_mock_a_task_calls_the_local_function(sfn: Any) -> None:
    state = {"Type": "Task", "End": True,
             "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:updateOrderStatus"}
    answer = _test(sfn, state, {"orderId": "o-9"}, "DEBUG")
    assert answer["status"] == "SUCCEEDED"
    assert "nextState" not in answer
    assert json.loads(answer["output"]) == {"orderId": "o-9", "status": "Completed"}


def test_a_state_of_a_whole_machine_with_variables_and_context(sfn: Any) -> None:
    machine = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"limit.$": "$limit", "run.$": "$$.Execution.Name"},
              "Assign": {"seen": True}, "End": True}}}
    answer = sfn.test_state(definition=json.dumps(machine), stateName="B", input="{}",
                            variables='{"limit": 5}', context='{"Execution": {"Name": "e1"}}',
                            inspectionLevel="DEBUG")
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"limit": 5, "run": "e1"}
    assert json.loads(answer["inspectionData"]["variables"]) == {"limit": 5, "seen": True}


@pytest.mark.parametrize(("request_members", "code"), [
    ({"definition": '{"Type": "Nope"}'}, "InvalidDefinition"),
    ({"definition": "{"}, "InvalidDefinition"),
    ({"definition": json.dumps(PASS), "input": "{"}, "InvalidExecutionInput"),
    ({"definition": json.dumps({"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})},
     "ValidationException"),
    ({"definition": json.dumps(PASS), "mock": {"result": "{}"}}, "ValidationException"),
    ({"definition": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})},
     "ValidationException"),
    ({"definition": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
      "stateName": "B"}, "ValidationException"),
])
def test_requests_aws_refuses(sfn: Any, request_members: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as caught:
        sfn.test_state(**request_members)
    assert caught.value.response["Error"]["Code"] == code


def test_map_with_a_mocked_result(sfn: Any) -> None:
    state = {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.shipped", "End": True,
             "ItemProcessor": {"StartAt": "Ship", "States": {"Ship": {
                 "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "ship"}, "End": True}}}}
    answer = sfn.test_state(definition=json.dumps(state), input='{"items": [1, 2]}',
                            mock={"result": '["a", "b"]'})
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"items": [1, 2], "shipped": ["a", "b"]}


@pytest.mark.parametrize(("mode", "result", "refused"), [
    (None, {"MessageId": 1}, True),  # STRICT by default
    ("PRESENT", {"MessageId": "m"}, False),
    ("PRESENT", {"MessageId": "m", "Nope": 1}, True),
    ("NONE", {"Nope": 1}, False),
])
def test_field_validation_mode(sfn: Any, mode: str | None, result: Any, refused: bool) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
             "Parameters": {"QueueUrl": "q", "MessageBody": "b"}, "End": True}
    mock: dict[str, Any] = {"result": json.dumps(result)}
    if mode is not None:
        mock["fieldValidationMode"] = mode
    if refused:
        with pytest.raises(ClientError) as caught:
            sfn.test_state(definition=json.dumps(state), mock=mock)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert "does not match the API's response" in caught.value.response["Error"]["Message"]
    else:
        answer = sfn.test_state(definition=json.dumps(state), mock=mock)
        assert json.loads(answer["output"]) == result


MAP = {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "MaxConcurrency": 2,
       "End": True, "ItemProcessor": {"StartAt": "Ship", "States": {"Ship": {
           "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
           "Parameters": {"FunctionName": "ship"}, "End": True}}}}


@pytest.mark.parametrize(("failures", "status"), [(1, "SUCCEEDED"), (2, "FAILED")])
def test_map_iteration_failures_against_the_tolerated_count(sfn: Any, failures: int,
                                                            status: str) -> None:
    answer = sfn.test_state(definition=json.dumps(MAP), input='{"items": [1, 2, 3]}',
                            inspectionLevel="DEBUG", mock={"result": '["a", null, null]'},
                            stateConfiguration={"mapIterationFailureCount": failures})
    assert answer["status"] == status
    if status == "FAILED":
        assert answer["error"] == "States.ExceedToleratedFailureThreshold"
    assert answer["inspectionData"]["toleratedFailureCount"] == 1
    assert answer["inspectionData"]["maxConcurrency"] == 2


def test_error_caused_by_state_must_be_inside_the_map(sfn: Any) -> None:
    mock = {"errorOutput": {"error": "Boom", "cause": "c"}}
    answer = sfn.test_state(definition=json.dumps(MAP), input='{"items": []}', mock=mock,
                            stateConfiguration={"errorCausedByState": "Ship"})
    assert (answer["status"], answer["error"]) == ("FAILED", "Boom")
    with pytest.raises(ClientError) as caught:
        sfn.test_state(definition=json.dumps(MAP), input='{"items": []}', mock=mock,
                       stateConfiguration={"errorCausedByState": "Nope"})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
