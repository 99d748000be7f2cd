"""The reads the console adds to the store and the Engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from statewright.runtime.engine import Engine
from statewright.store.base import InvocationRecord, Store

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope"}}})


def test_counts_by_status_and_name_search(store: Store) -> None:
    engine = Engine(store)
    passing = engine.create_state_machine("passing", PASS)
    failing = engine.create_state_machine("failing", FAIL)
    for i in range(5):
        engine.start_execution(passing.arn, "{}", name=f"order-{i}")
    engine.start_execution(failing.arn, "{}", name="order-x")
    assert engine.count_executions(passing.arn) == {"SUCCEEDED": 5}
    assert engine.count_executions(failing.arn) == {"FAILED": 1}

    found = engine.search_executions(passing.arn, None, "der-3")
    assert [e.name for e in found.items] == ["order-3"]
    assert engine.search_executions(passing.arn, "FAILED", "order").items == []
    # Paged newest first, with list_executions' tokens.
    first = engine.search_executions(passing.arn, "SUCCEEDED", "order", limit=2)
    assert len(first.items) == 2 and first.next_token is not None
    rest = engine.search_executions(passing.arn, "SUCCEEDED", "order", limit=10,
                                    token=first.next_token)
    names = [e.name for e in first.items + rest.items]
    assert sorted(names) == [f"order-{i}" for i in range(5)] and len(set(names)) == 5
    everything = engine.list_executions(passing.arn).items
    assert names == [e.name for e in everything]


def test_history_after_an_id(store: Store) -> None:
    engine = Engine(store)
    machine = engine.create_state_machine("passing", PASS)
    arn = engine.start_execution(machine.arn, "{}").execution_arn
    events = engine.history_after(arn, 0)
    assert [e.type for e in events] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e.id for e in engine.history_after(arn, 2)] == [3, 4]
    assert [e.id for e in engine.history_after(arn, 1, limit=2)] == [2, 3]
    assert engine.history_after(arn, 4) == []


def test_a_functions_recent_invocations(store: Store) -> None:
    engine = Engine(store)
    machine = engine.create_state_machine("passing", PASS)
    arn = engine.start_execution(machine.arn, "{}").execution_arn
    record = store.get_execution(arn)
    assert record is not None

    def call(function: str, n: int) -> InvocationRecord:
        return InvocationRecord(0, arn, 2, 0, "P", function, f"req-{n}", 100.0 + n, 1.5,
                                "Succeeded", None, f"log {n}")

    store.apply(record, record.version, [], [], [],
                invocations=[call("alpha", 1), call("beta", 2), call("alpha", 3)])
    recent = engine.list_function_invocations("alpha")
    assert [(i.request_id, i.logs) for i in recent] == [("req-3", "log 3"), ("req-1", "log 1")]
    assert [i.request_id for i in engine.list_function_invocations("alpha", 1)] == ["req-3"]
    assert engine.list_function_invocations("gamma") == []
