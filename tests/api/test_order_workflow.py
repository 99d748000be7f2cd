"""The reference order workflow (examples/order_processing), unchanged, over the API.

Fifty executions run at once on the server's worker; each ends as the handlers' dice decide:
SUCCEEDED with the order completed, or FAILED at one of the definition's Fail states.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.api.conftest import EXAMPLE, ROLE
from tests.api.orders import CAUSES, HISTORIES, LAMBDA

COUNT = 50


def _all_finished(sfn: Any, arns: list[str], timeout: float = 120) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    finished: dict[str, dict[str, Any]] = {}
    while True:
        for arn in arns:
            if arn not in finished:
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    finished[arn] = described
        if len(finished) == len(arns):
            return [finished[arn] for arn in arns]
        assert time.monotonic() < deadline, f"{len(arns) - len(finished)} still RUNNING"
        time.sleep(0.05)


def test_fifty_orders(sfn: Any, unique: str) -> None:
    definition = (EXAMPLE / "definition.json").read_text()
    machine = sfn.create_state_machine(name=unique, definition=definition, roleArn=ROLE)[
        "stateMachineArn"]
    arns = [
        sfn.start_execution(stateMachineArn=machine, name=f"order-{i}",
                            input=json.dumps({"orderId": f"order-{i}"}))["executionArn"]
        for i in range(COUNT)
    ]
    outcomes: dict[str, int] = {}
    for i, described in enumerate(_all_finished(sfn, arns)):
        arn = described["executionArn"]
        if described["status"] == "SUCCEEDED":
            kind = "SUCCEEDED"
            assert json.loads(described["output"]) == {"orderId": f"order-{i}",
                                                       "status": "Completed"}
        else:
            assert described["status"] == "FAILED", described
            kind = described["error"]
            assert described["cause"] == CAUSES[kind], described
        outcomes[kind] = outcomes.get(kind, 0) + 1

        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        assert [e["type"] for e in events] == HISTORIES[kind], arn
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        scheduled = [e["lambdaFunctionScheduledEventDetails"] for e in events
                     if e["type"] == "LambdaFunctionScheduled"]
        assert scheduled[0]["resource"] == LAMBDA + "checkInventory"
        assert json.loads(scheduled[0]["input"]) == {"orderId": f"order-{i}"}

    assert sum(outcomes.values()) == COUNT
    listed = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine).build_full_result()["executions"]
    assert sorted(e["executionArn"] for e in listed) == sorted(arns)
    succeeded = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED",
                                    maxResults=1000)["executions"]
    assert len(succeeded) == outcomes.get("SUCCEEDED", 0)
