"""Over HTTP: an execution of Pass/Choice states ends inside its StartExecution, so the first
DescribeExecution already sees it done; a long loop answers at once and ends on the server's
worker (``Settings.step_budget``; tests/runtime/test_step_budget.py checks the steps)."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import ROLE, wait_for
from tests.runtime.test_step_budget import SHORT, loop


def test_the_first_describe_of_a_pass_workflow_sees_it_done(sfn: Any, unique: str) -> None:
    machine = sfn.create_state_machine(name=unique, definition=json.dumps(SHORT),
                                       roleArn=ROLE)["stateMachineArn"]
    for n in range(5):
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"id": n * 5})
                                  )["executionArn"]
        described = sfn.describe_execution(executionArn=arn)  # no waiting: the first look
        assert described["status"] == "SUCCEEDED"
        expected = {"id": n * 5, "source": "test", **({} if n * 5 > 10 else {"size": "small"})}
        assert json.loads(described["output"]) == expected


def test_a_long_pass_loop_answers_and_ends_on_the_worker(sfn: Any, unique: str) -> None:
    # 6,000 iterations (24,004 events) is the longest such loop under AWS's 25,000-event
    # history quota; the start answers after the budget's 100 states per step.
    iterations = 6000
    machine = sfn.create_state_machine(name=unique, definition=json.dumps(loop(iterations)),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 0}')["executionArn"]
    described = wait_for(sfn, arn, timeout=120)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"n": iterations}
    last = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
    assert last["events"][0]["id"] == 1 + 4 * iterations + 3
    assert last["events"][0]["type"] == "ExecutionSucceeded"
