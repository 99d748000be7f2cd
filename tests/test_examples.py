"""The examples run as their READMEs say, and the JSONata twin of the order workflow behaves
exactly as the JSONPath original."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from statewright.asl import parse
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import ExecutionResult, run_execution

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FUNCTIONS = EXAMPLES / "order_processing" / "functions"


def _summary(result: ExecutionResult) -> tuple[object, ...]:
    """What must match between the twins: outcome, output or failure, event types."""
    failure = (result.failure.error, result.failure.cause) if result.failure else None
    return (result.status, result.output, failure, [e.type for e in result.events])


def test_the_jsonata_order_workflow_is_the_jsonpath_ones_twin() -> None:
    jsonpath = parse((EXAMPLES / "order_processing" / "definition.json").read_text())
    jsonata = parse((EXAMPLES / "order_processing_jsonata" / "definition.json").read_text())
    assert jsonata.machine.query_language == "JSONata"
    functions = PythonFunctions.from_directory(FUNCTIONS)
    outcomes: Counter[str] = Counter()
    for i in range(300):
        # The handlers draw from the global random source: the same seed, the same draws.
        random.seed(i)
        expected = run_execution(jsonpath, {"orderId": f"o-{i}"}, functions, wait_scale=0)
        random.seed(i)
        actual = run_execution(jsonata, {"orderId": f"o-{i}"}, functions, wait_scale=0)
        assert _summary(actual) == _summary(expected), i
        outcomes[expected.failure.error if expected.failure else "SUCCEEDED"] += 1
    # Every outcome of the workflow was compared, not only the happy path.
    assert set(outcomes) == {"SUCCEEDED", "OutOfStockError", "PaymentError"}


def test_the_jsonata_twin_records_its_variable() -> None:
    jsonata = parse((EXAMPLES / "order_processing_jsonata" / "definition.json").read_text())
    functions = PythonFunctions.from_directory(FUNCTIONS)
    random.seed(1)
    result = run_execution(jsonata, {"orderId": "o-1"}, functions, wait_scale=0)
    exited = next(e for e in result.events if e.type == "TaskStateExited")
    details = exited.details
    assert details["assignedVariables"] == {"orderId": '"o-1"'}
