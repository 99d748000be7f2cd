"""What each API request needs from IAM (api/authz.py): actions and resource ARNs as the
Service Authorization Reference lists them (states, lambda, iam)."""

from __future__ import annotations

import json

import pytest

from statewright.api import authz
from statewright.arns import Partition

P = Partition("us-east-1", "123456789012")
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:"
FN = "arn:aws:lambda:us-east-1:123456789012:function:"
ROLE = "arn:aws:iam::123456789012:role/"


def _states(operation: str, **params: str) -> list[authz.Need]:
    return authz.needs("states", "POST", "/", "", {"x-amz-target": f"AWSStepFunctions.{operation}"},
                       json.dumps(params).encode(), P, lambda name: ROLE + name)


@pytest.mark.parametrize(("operation", "params", "expected"), [
    ("ListStateMachines", {}, [("states:ListStateMachines", "*", {})]),
    ("StartExecution", {"stateMachineArn": SM + "m"}, [("states:StartExecution", SM + "m", {})]),
    # A mock test case (arn#Case) is the state machine's resource.
    ("StartExecution", {"stateMachineArn": SM + "m#Happy"},
     [("states:StartExecution", SM + "m", {})]),
    ("DescribeExecution", {"executionArn": "arn:x:execution:m:e"},
     [("states:DescribeExecution", "arn:x:execution:m:e", {})]),
    ("GetActivityTask", {"activityArn": "arn:a"}, [("states:GetActivityTask", "arn:a", {})]),
    ("SendTaskSuccess", {"taskToken": "t"}, [("states:SendTaskSuccess", "*", {})]),
    ("ValidateStateMachineDefinition", {"definition": "{}"},
     [("states:ValidateStateMachineDefinition", SM + "*", {})]),
    ("CreateActivity", {"name": "a"},
     [("states:CreateActivity", "arn:aws:states:us-east-1:123456789012:activity:a", {})]),
    ("CreateStateMachine", {"name": "m", "roleArn": ROLE + "r"},
     [("states:CreateStateMachine", SM + "m", {}),
      ("iam:PassRole", ROLE + "r", {"iam:PassedToService": "states.amazonaws.com"})]),
    ("TagResource", {"resourceArn": SM + "m"}, [("states:TagResource", SM + "m", {})]),
])
def test_step_functions(operation: str, params: dict[str, str],
                        expected: list[authz.Need]) -> None:
    assert _states(operation, **params) == expected


@pytest.mark.parametrize(("method", "path", "query", "body", "expected"), [
    ("GET", "/2015-03-31/functions/", "", b"", [("lambda:ListFunctions", "*", {})]),
    ("POST", "/2015-03-31/functions/f/invocations", "", b"",
     [("lambda:InvokeFunction", FN + "f", {})]),
    ("POST", "/2015-03-31/functions/f/invocations", "Qualifier=live", b"",
     [("lambda:InvokeFunction", FN + "f:live", {})]),
    ("POST", f"/2015-03-31/functions/{FN}f/invocations", "", b"",
     [("lambda:InvokeFunction", FN + "f", {})]),
    ("DELETE", "/2015-03-31/functions/f", "", b"", [("lambda:DeleteFunction", FN + "f", {})]),
    ("GET", "/2015-03-31/functions/f/configuration", "", b"",
     [("lambda:GetFunctionConfiguration", FN + "f", {})]),
    ("POST", "/2015-03-31/functions", "", json.dumps({"FunctionName": "f",
                                                       "Role": ROLE + "x"}).encode(),
     [("lambda:CreateFunction", FN + "f", {}),
      ("iam:PassRole", ROLE + "x", {"iam:PassedToService": "lambda.amazonaws.com"})]),
    ("GET", "/2015-03-31/nothing-we-serve", "", b"", []),
])
def test_lambda(method: str, path: str, query: str, body: bytes,
                expected: list[authz.Need]) -> None:
    assert authz.needs("lambda", method, path, query, {}, body, P,
                       lambda name: ROLE + name) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("Action=ListRoles", [("iam:ListRoles", "*", {})]),
    ("Action=CreateRole&RoleName=r&Path=%2Fservice-role%2F",
     [("iam:CreateRole", ROLE + "service-role/r", {})]),
    ("Action=PutRolePolicy&RoleName=r", [("iam:PutRolePolicy", ROLE + "r", {})]),
    ("Action=AttachRolePolicy&RoleName=r&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX",
     [("iam:AttachRolePolicy", ROLE + "r", {"iam:PolicyARN": "arn:aws:iam::aws:policy/X"})]),
    ("Action=CreatePolicy&PolicyName=p",
     [("iam:CreatePolicy", "arn:aws:iam::123456789012:policy/p", {})]),
])
def test_iam(body: str, expected: list[authz.Need]) -> None:
    assert authz.needs("iam", "POST", "/", "", {}, body.encode(), P,
                       lambda name: ROLE + name) == expected
