"""TestState's fieldValidationMode: mocked results checked against botocore's output shapes.
AWS (MockInput): STRICT, all required fields present and all present fields conform; PRESENT,
present fields conform; NONE, no check."""

from __future__ import annotations

from typing import Any

import pytest

from statewright.asl.resources import classify_resource
from statewright.runtime.mock_shapes import check_mocked_result

SQS = "arn:aws:states:::sqs:sendMessage"
DESCRIBE = "arn:aws:states:::aws-sdk:sfn:describeExecution"
EXECUTION = {"ExecutionArn": "a", "StateMachineArn": "m", "Status": "RUNNING",
             "StartDate": "2024-01-01T00:00:00Z"}

CASES: list[tuple[str, Any, str, list[str]]] = [
    (SQS, {"MessageId": "m", "MD5OfMessageBody": "d"}, "STRICT", []),
    (SQS, {"MessageId": 1}, "STRICT", ["/MessageId: expected string, got number"]),
    (SQS, {"MessageId": "m", "Extra": 1}, "PRESENT",
     ["/Extra: not a field of SendMessageResult"]),
    (SQS, [], "STRICT", ["/: expected an object (SendMessageResult)"]),
    (SQS, {"MessageId": 1}, "NONE", []),
    # lambda:invoke's Payload is a blob in the model; Step Functions hands it over decoded.
    ("arn:aws:states:::lambda:invoke", {"StatusCode": 200, "Payload": {"a": [1]}}, "STRICT",
     []),
    ("arn:aws:states:::lambda:invoke", {"StatusCode": True}, "STRICT",
     ["/StatusCode: expected integer, got boolean"]),
    # AWS SDK integrations answer in PascalCase; required fields count only under STRICT.
    (DESCRIBE, EXECUTION, "STRICT", []),
    (DESCRIBE, {"ExecutionArn": "a"}, "PRESENT", []),
    (DESCRIBE, {"ExecutionArn": "a"}, "STRICT", [
        "/StateMachineArn: required by DescribeExecutionOutput, missing",
        "/Status: required by DescribeExecutionOutput, missing",
        "/StartDate: required by DescribeExecutionOutput, missing"]),
    ("arn:aws:states:::aws-sdk:s3:listBuckets", {"Buckets": [{"Name": 1}]}, "STRICT",
     ["/Buckets/0/Name: expected string, got number"]),
    # No model to check against: anything goes.
    ("arn:aws:lambda:us-east-1:123456789012:function:f", 5, "STRICT", []),
    ("arn:aws:states:::nosuchservice:doIt", 5, "STRICT", []),
]


@pytest.mark.parametrize(("resource", "result", "mode", "problems"), CASES)
def test_mocked_results_against_the_api(resource: str, result: Any, mode: str,
                                        problems: list[str]) -> None:
    assert check_mocked_result(classify_resource(resource), result, mode) == problems
