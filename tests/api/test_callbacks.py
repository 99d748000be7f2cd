"""Callbacks over HTTP: .waitForTaskToken, SendTaskSuccess/Failure/Heartbeat through boto3."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.api.conftest import ROLE, Server, wait_for
from tests.api.lambda_helpers import python_function

WAITING = json.dumps({
    "StartAt": "Ask",
    "States": {
        "Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "Next": "Done",
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.why",
                           "Next": "Done"}]},
        "Done": {"Type": "Pass", "End": True},
    },
})


def _waiting_token(sfn: Any, arn: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        if any(e["type"] == "TaskSubmitted" for e in events):
            scheduled = next(e for e in events if e["type"] == "TaskScheduled")
            parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
            token: str = parameters["MessageBody"]["token"]
            return token
        time.sleep(0.02)
    pytest.fail("the Task never started waiting")


def _start(sfn: Any, unique: str, data: str = "{}") -> str:
    machine = sfn.create_state_machine(name=unique, definition=WAITING, roleArn=ROLE)
    arn: str = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                                   input=data)["executionArn"]
    return arn


def test_send_task_success_resumes_the_execution(sfn: Any, unique: str) -> None:
    arn = _start(sfn, unique)
    token = _waiting_token(sfn, arn)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output="{}")


def test_send_task_failure_goes_to_the_catcher(sfn: Any, unique: str) -> None:
    arn = _start(sfn, unique, '{"order": 7}')
    sfn.send_task_failure(taskToken=_waiting_token(sfn, arn), error="Rejected",
                          cause="out of budget")
    described = wait_for(sfn, arn)
    assert json.loads(described["output"]) == {
        "order": 7, "why": {"Error": "Rejected", "Cause": "out of budget"}}


def test_callback_errors(sfn: Any, unique: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="garbage", output="{}")
    arn = _start(sfn, unique)
    token = _waiting_token(sfn, arn)
    with pytest.raises(sfn.exceptions.InvalidOutput):
        sfn.send_task_success(taskToken=token, output="{not json")
    sfn.stop_execution(executionArn=arn)
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_heartbeat(taskToken=token)


def test_a_function_calls_the_server_back_with_its_sdk(server: Server, sfn: Any,
                                                       unique: str) -> None:
    """Functions get placeholder credentials and AWS_ENDPOINT_URL_SFN/_LAMBDA (this server),
    so the classic callback pattern runs unchanged: the handler itself sends
    SendTaskSuccess; its other services keep their normal endpoints."""
    lam = server.lambda_client()
    lam.create_function(FunctionName=unique, **python_function("""
        import os

        import boto3

        def handler(event, context):
            # AWS_ENDPOINT_URL would send S3 and DynamoDB here too: not set.
            assert "AWS_ENDPOINT_URL" not in os.environ
            assert boto3.client("s3").meta.endpoint_url == "https://s3.amazonaws.com"
            boto3.client("stepfunctions").send_task_success(
                taskToken=event["token"], output='{"approved": true}')
            return {}
    """))
    definition = json.dumps({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": unique, "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition, roleArn=ROLE)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True}
    lam.delete_function(FunctionName=unique)
