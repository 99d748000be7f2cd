"""Request checking against botocore's model, without a server (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from statewright.api.protocol import SerializationException
from statewright.api.shapes import check_input, history_details_members, operation_model
from statewright.errors import ValidationException

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


def _check(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    model = operation_model(operation)
    assert model is not None
    return check_input(model, body)


def test_unknown_operations_have_no_model() -> None:
    assert operation_model("NoSuchThing") is None
    assert operation_model("StartExecution") is not None


@pytest.mark.parametrize(("operation", "body", "expected"), [
    ("StartExecution", {"stateMachineArn": ARN, "extra": 1}, {"stateMachineArn": ARN}),
    ("StartExecution", {"stateMachineArn": ARN, "name": None}, {"stateMachineArn": ARN}),
    ("ListStateMachines", {"maxResults": 2.9}, {"maxResults": 2}),
    ("ListStateMachines", {}, {}),
    ("TagResource", {"resourceArn": ARN, "tags": [{"key": "a", "value": ""}, None]},
     {"resourceArn": ARN, "tags": [{"key": "a", "value": ""}]}),
    ("GetExecutionHistory", {"executionArn": ARN, "reverseOrder": True},
     {"executionArn": ARN, "reverseOrder": True}),
])
def test_accepted(operation: str, body: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _check(operation, body) == expected


@pytest.mark.parametrize(("operation", "body", "message"), [
    ("StartExecution", {},
     "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
     "constraint: Member must not be null"),
    ("CreateStateMachine", {"name": "", "definition": "x", "roleArn": "r", "type": "X"},
     "2 validation errors detected: Value '' at 'name' failed to satisfy constraint: Member "
     "must have length greater than or equal to 1; Value 'X' at 'type' failed to satisfy "
     "constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"),
    ("CreateStateMachine", {"name": "n", "definition": "x", "roleArn": "r",
                            "encryptionConfiguration": {}},
     "1 validation error detected: Value null at 'encryptionConfiguration.type' failed to "
     "satisfy constraint: Member must not be null"),
    ("ListExecutions", {"maxResults": -1},
     "1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: "
     "Member must have value greater than or equal to 0"),
    # Names count UTF-16 code units, as Java does: 41 emoji are 82 of them.
    ("StartExecution", {"stateMachineArn": ARN, "name": "\U0001f600" * 41},
     "1 validation error detected: Value '" + "\U0001f600" * 41 + "' at 'name' failed to "
     "satisfy constraint: Member must have length less than or equal to 80"),
    # Sensitive members are named without their value.
    ("StopExecution", {"executionArn": ARN, "error": "e" * 257},
     "1 validation error detected: Value at 'error' failed to satisfy constraint: Member "
     "must have length less than or equal to 256"),
    ("StartExecution", {"stateMachineArn": ARN, "input": "\u00e9" * 131_073},
     "1 validation error detected: Value at 'input' failed to satisfy constraint: Member "
     "must have size less than or equal to 262144 bytes in UTF-8 encoding"),
    ("UntagResource", {"resourceArn": ARN, "tagKeys": [""]},
     "1 validation error detected: Value '' at 'tagKeys.1.member' failed to satisfy "
     "constraint: Member must have length greater than or equal to 1"),
])
def test_refused(operation: str, body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as raised:
        _check(operation, body)
    assert raised.value.message == message


def test_the_input_limit_counts_bytes_not_characters() -> None:
    assert _check("StartExecution", {"stateMachineArn": ARN, "input": "a" * 262_144})


@pytest.mark.parametrize(("body", "message"), [
    ({"stateMachineArn": 1}, "NUMBER_VALUE cannot be converted to String"),
    ({"stateMachineArn": False}, "FALSE_VALUE cannot be converted to String"),
    ({"stateMachineArn": {}}, "Start of structure or map found where not expected."),
    ({"stateMachineArn": ARN, "maxResults": "1"}, "STRING_VALUE cannot be converted to Integer"),
    ({"stateMachineArn": ARN, "maxResults": True}, "TRUE_VALUE cannot be converted to Integer"),
])
def test_wrong_types_stop_before_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(SerializationException) as raised:
        _check("ListExecutions", body)
    assert raised.value.message == message


def test_history_details_members() -> None:
    members = history_details_members()
    assert {"stateEnteredEventDetails", "executionStartedEventDetails",
            "lambdaFunctionScheduledEventDetails", "mapIterationStartedEventDetails"} <= members
    assert "waitStateAbortedEventDetails" not in members
