"""``statewright.testing.test_state``: TestState in-process (the API's semantics are tested
over HTTP in tests/api/test_teststate.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statewright import errors, testing

TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
        "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}], "Next": "Ship"}


def test_a_mocked_error_with_retries_left_is_retriable() -> None:
    answer = testing.test_state(TASK, {"order": 1}, mock=testing.error("Busy", "later"))
    assert (answer.status, answer.error, answer.next_state) == ("RETRIABLE", "Busy", None)
    assert answer.inspection_data["errorDetails"] == {"retryIndex": 0,
                                                      "retryBackoffIntervalSeconds": 1}
    spent = testing.test_state(TASK, {}, mock=testing.error("Busy"), retrier_retry_count=2)
    assert spent.status == "FAILED"


def test_an_unmocked_task_calls_the_handler() -> None:
    def charge(event: Any, context: Any) -> dict[str, Any]:
        return {"charged": event["order"]}

    answer = testing.test_state(TASK, {"order": 7}, handlers={"charge": charge})
    assert answer.status == "SUCCEEDED"
    assert answer.next_state == "Ship"
    assert json.loads(answer.output or "") == {"charged": 7}
    assert json.loads(answer.inspection_data["result"]) == {"charged": 7}


def test_the_fixture_offers_it(statewright: Any) -> None:
    choice = {"Type": "Choice", "Default": "No",
              "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Yes"}]}
    assert statewright.test_state(choice, {"ok": True}).next_state == "Yes"


def test_refusals_are_aws_errors() -> None:
    with pytest.raises(errors.InvalidDefinition):
        testing.test_state({"Type": "Nope"})
