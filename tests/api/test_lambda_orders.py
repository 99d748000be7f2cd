"""The whole order tutorial through the two APIs, as a user of AWS would do it: deploy the three
handlers with the Lambda API (zip upload), create the state machine from the unchanged
definition, run 200 orders, read the outcomes and histories, clean up. Once with the Python
ports, once with the original JavaScript handlers (nodejs20.x), uploaded unchanged.

A server of its own: the session server deploys the example folder at start, and these tests
create the same function names.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import EXAMPLE, Server, start_server, stop_and_check
from tests.api.lambda_helpers import ROLE, zipped
from tests.api.orders import CAUSES, HISTORIES, LAMBDA

ORDERS = 200
SEED = EXAMPLE / "javascript"  # the tutorial's original handlers
NAMES = ("checkInventory", "processPayment", "updateOrderStatus")
#: Each handler's dice: 90% in stock, 90% paid. Expected shares 81%, 10%, 9%; the bounds are
#: about four standard deviations wide for 200 orders, so a correct engine fails them about
#: once in ten thousand runs.
BOUNDS = {"SUCCEEDED": (0.70, 0.92), "OutOfStockError": (0.03, 0.19),
          "PaymentError": (0.02, 0.18)}


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    process, running = start_server(tmp_path_factory.mktemp("bare-server"), None)
    try:
        yield running
    finally:
        stop_and_check(process, running)


def _deploy(lam: Any, runtime: str, files: dict[str, Path]) -> None:
    for name, file in files.items():
        created = lam.create_function(
            FunctionName=name, Runtime=runtime, Role=ROLE, Handler=f"{name}.handler",
            Code={"ZipFile": zipped(**{file.name: file.read_bytes()})})
        assert created["State"] == "Active"


def _finished(sfn: Any, arns: list[str], timeout: float = 240) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    finished: dict[str, dict[str, Any]] = {}
    while len(finished) < len(arns):
        for arn in arns:
            if arn not in finished:
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    finished[arn] = described
        assert time.monotonic() < deadline, f"{len(arns) - len(finished)} still RUNNING"
        time.sleep(0.1)
    return [finished[arn] for arn in arns]


def _run_the_tutorial(server: Server, runtime: str, files: dict[str, Path]) -> Counter[str]:
    lam, sfn = server.lambda_client(), server.client()
    assert lam.list_functions()["Functions"] == []
    _deploy(lam, runtime, files)
    definition = (EXAMPLE / "definition.json").read_text()
    machine = sfn.create_state_machine(name=f"orders-{runtime.replace('.', '-')}",
                                       definition=definition, roleArn=ROLE)["stateMachineArn"]
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"order-{i}",
                                input=json.dumps({"orderId": f"order-{i}"}))["executionArn"]
            for i in range(ORDERS)]
    outcomes: Counter[str] = Counter()
    for i, described in enumerate(_finished(sfn, arns)):
        if described["status"] == "SUCCEEDED":
            kind = "SUCCEEDED"
            assert json.loads(described["output"]) == {"orderId": f"order-{i}",
                                                       "status": "Completed"}
        else:
            assert described["status"] == "FAILED", described
            kind = described["error"]
            assert described["cause"] == CAUSES[kind], described
        outcomes[kind] += 1
        events = sfn.get_execution_history(executionArn=described["executionArn"],
                                           maxResults=1000)["events"]
        assert [e["type"] for e in events] == HISTORIES[kind]
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert all(0 <= e["previousEventId"] < e["id"] for e in events)
        scheduled = events[2]["lambdaFunctionScheduledEventDetails"]
        assert scheduled["resource"] == LAMBDA + "checkInventory"
        assert json.loads(scheduled["input"]) == {"orderId": f"order-{i}"}
        succeeded = json.loads(events[4]["lambdaFunctionSucceededEventDetails"]["output"])
        assert succeeded["orderId"] == f"order-{i}"
        assert isinstance(succeeded["inStock"], bool)

    for kind, (low, high) in BOUNDS.items():
        assert low <= outcomes[kind] / ORDERS <= high, outcomes
    assert sum(outcomes.values()) == ORDERS

    # Clean up as a user would; nothing of either is left.
    sfn.delete_state_machine(stateMachineArn=machine)
    for name in files:
        lam.delete_function(FunctionName=name)
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == []
    assert machine not in [m["stateMachineArn"]
                           for m in sfn.list_state_machines()["stateMachines"]]
    return outcomes


def test_the_tutorial_with_the_python_handlers(bare_server: Server) -> None:
    files = {name: EXAMPLE / "functions" / f"{name}.py" for name in NAMES}
    print(_run_the_tutorial(bare_server, "python3.12", files))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_tutorial_with_the_original_javascript_handlers(bare_server: Server) -> None:
    files = {name: SEED / f"{name}.mjs" for name in NAMES}
    print(_run_the_tutorial(bare_server, "nodejs20.x", files))
