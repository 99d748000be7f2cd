"""Record factories and waiting for the store tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from statewright.store.base import (
    EventRecord,
    ExecutionRecord,
    StateMachineRecord,
    Store,
    WorkItem,
)

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"


def machine(
    name: str = "orders",
    revision: str = "rev-1",
    definition: str = '{"A": 1}',
    created_at: float = 1000.0,
) -> StateMachineRecord:
    return StateMachineRecord(
        arn=f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}",
        name=name,
        type="STANDARD",
        definition=definition,
        role_arn="arn:aws:iam::123456789012:role/r",
        revision_id=revision,
        created_at=created_at,
        updated_at=created_at,
        config='{"description": "d"}',
    )


def execution(
    name: str = "run-1", start: float = 2000.0, machine_arn: str = MACHINE, status: str = "RUNNING"
) -> ExecutionRecord:
    machine_name = machine_arn.rsplit(":", 1)[1]
    return ExecutionRecord(
        arn=f"arn:aws:states:us-east-1:123456789012:execution:{machine_name}:{name}",
        state_machine_arn=machine_arn,
        revision_id="rev-1",
        name=name,
        status=status,
        input='{"order": 1}',
        start_date=start,
        cursor='{"frames": []}',
    )


def event(
    execution_arn: str,
    event_id: int,
    kind: str = "PassStateEntered",
    details: str | None = '{"name": "A"}',
) -> EventRecord:
    return EventRecord(execution_arn, event_id, event_id - 1, 2000.0 + event_id, kind, details)


def work(
    execution_arn: str, due_at: float = 10.0, kind: str = "wake", payload: str = '{"frame": 0}'
) -> WorkItem:
    return WorkItem(0, execution_arn, kind, due_at, payload)


def started(
    store: Store, name: str = "run-1", start: float = 2000.0, due: list[float] | None = None
) -> tuple[ExecutionRecord, list[int]]:
    """An execution with its first event and work items due at ``due``; returns the record
    and the work ids (read back by claiming nothing: ids come from apply)."""
    record = execution(name, start)
    store.create_execution(record, [event(record.arn, 1, "ExecutionStarted")], [])
    applied = store.apply(record, 0, [], [work(record.arn, d) for d in due or []], [])
    stored = store.get_execution(record.arn)
    assert stored is not None
    return stored, applied.work_ids


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls ``condition()`` until true; fails after ``timeout`` (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.01)
