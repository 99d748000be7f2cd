"""The driver's cursor: stopping after any batch and restoring from JSON (the head, and the
frame rows ``changes`` names) changes nothing."""

from __future__ import annotations

import heapq
import itertools
import json
from typing import Any

from statewright.asl import parse
from statewright.asl.step import TaskResult
from statewright.runtime.callbacks import decode_token
from statewright.runtime.driver import (
    Driver,
    ExecutionInfo,
    HistoryEvent,
    Work,
    work_from_json,
    work_to_json,
)
from statewright.store.base import FrameWrites


class Rows:
    """Frame and fork-item rows as a store keeps them (a ``FrameSource``)."""

    def __init__(self) -> None:
        self.frames: dict[int, tuple[int | None, str]] = {}
        self.items: dict[tuple[int, int], list[str | None]] = {}

    def write(self, changes: FrameWrites) -> None:
        if changes.clear:
            self.frames.clear()
            self.items.clear()
        for frame_id in changes.delete:
            del self.frames[frame_id]
        for fork_id in changes.drop_forks:
            self.items = {k: v for k, v in self.items.items() if k[0] != fork_id}
        for frame_id, parent, data in changes.put:
            self.frames[frame_id] = (parent, data)
        for fork_id, index, value in changes.inputs:
            assert (fork_id, index) not in self.items  # written once
            self.items[(fork_id, index)] = [value, None]
        for fork_id, index, value in changes.outputs:
            self.items.setdefault((fork_id, index), [None, None])[1] = value

    def frame(self, frame_id: int) -> str | None:
        row = self.frames.get(frame_id)
        return None if row is None else row[1]

    def children(self, parent: int) -> list[str]:
        return [data for _, (p, data) in sorted(self.frames.items()) if p == parent]

    def fork_input(self, fork_id: int, index: int) -> str | None:
        return self.items.get((fork_id, index), [None, None])[0]

    def fork_outputs(self, fork_id: int) -> list[tuple[int, str]]:
        return [(k[1], v[1]) for k, v in self.items.items()
                if k[0] == fork_id and v[1] is not None]

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {"Type": "Parallel", "Next": "Each", "ResultPath": "$.fan", "Branches": [
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}},
            {"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}],
                "End": True}}},
        ]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "Done",
                 "ResultPath": "$.each",
                 "ItemProcessor": {"StartAt": "MT", "States": {"MT": {
                     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                     "End": True}}}},
        "Done": {"Type": "Pass", "End": True},
    },
}


def _outcome(work: Work, calls: itertools.count[int]) -> TaskResult:
    assert work.invoke is not None
    n = next(calls)
    if n == 0:  # the first call fails once, to exercise Retry
        return TaskResult(b'{"errorType": "Flaky", "errorMessage": "x"}', "Unhandled")
    return TaskResult(json.dumps({"echo": work.invoke.function_payload}).encode())


def _run(restore_every_batch: bool) -> tuple[list[HistoryEvent], Any]:
    machine = parse(json.dumps(DEFINITION))
    info = ExecutionInfo("arn:aws:states:us-east-1:1:execution:m:e",
                         "arn:aws:states:us-east-1:1:stateMachine:m", "e", "role", 1000.0,
                         {"items": [1, 2, 3]}, seed=1)
    driver = Driver(machine, info)
    queue: list[tuple[float, int, str, dict[str, Any]]] = []
    seq = itertools.count()
    calls = itertools.count()
    events: list[HistoryEvent] = []
    rows = Rows()

    def take(batch: Any) -> None:
        nonlocal driver
        events.extend(batch.events)
        for work in batch.work:
            # work goes through its stored form, as in the durable engine
            heapq.heappush(queue, (work.due, next(seq), work.kind,
                                   json.loads(json.dumps(work_to_json(work)))))
        if restore_every_batch:
            rows.write(driver.changes())
            cursor = json.loads(json.dumps(driver.snapshot()))
            assert "frames" not in cursor  # the head only
            driver = Driver.restore(machine, info, cursor, rows)

    take(driver.start())
    while queue and driver.status == "RUNNING":
        due, _, kind, raw = heapq.heappop(queue)
        work = work_from_json(kind, due, raw)
        if kind == "invoke":
            take(driver.started(work, due))
            take(driver.resume(work, due, _outcome(work, calls)))
        else:
            take(driver.resume(work, due))
    return events, driver.output


def test_restoring_after_every_batch_gives_the_same_history() -> None:
    plain_events, plain_output = _run(restore_every_batch=False)
    restored_events, restored_output = _run(restore_every_batch=True)
    assert plain_output == restored_output
    assert plain_output["fan"] == [{"items": [1, 2, 3]}, {"echo": {"items": [1, 2, 3]}}]
    assert plain_output["each"] == [{"echo": 1}, {"echo": 2}, {"echo": 3}]
    assert [(e.id, e.previous_event_id, e.type, e.details) for e in restored_events] == [
        (e.id, e.previous_event_id, e.type, e.details) for e in plain_events
    ]
    assert plain_events[-1].type == "ExecutionSucceeded"
    assert [e.id for e in plain_events] == list(range(1, len(plain_events) + 1))


def test_an_activity_task_is_queued_and_started_by_its_poller() -> None:
    machine = parse(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:eu-west-1:9:activity:review",
        "HeartbeatSeconds": 5, "TimeoutSeconds": 60, "End": True}}}))
    info = ExecutionInfo("arn:aws:states:us-east-1:1:execution:m:e",
                         "arn:aws:states:us-east-1:1:stateMachine:m", "e", "role", 1000.0,
                         {"job": 1})
    driver = Driver(machine, info)
    (invoke,) = driver.start().work
    submitted = driver.submitted(invoke, 1001.0)
    # Queued, not started: no ActivityStarted yet, and only the TimeoutSeconds clock runs.
    assert submitted.events == []
    assert [(w.kind, w.due) for w in submitted.work] == [("task_timeout", 1061.0)]
    (task,) = submitted.activities
    assert (task.activity_name, json.loads(task.input)) == ("review", {"job": 1})
    token = decode_token(task.token, b"")
    assert token is not None
    started = driver.activity_started(token, "worker-1", 1002.0)
    assert started is not None
    assert [(e.type, e.details) for e in started.events] == [
        ("ActivityStarted", {"workerName": "worker-1"})]
    assert [(w.kind, w.due) for w in started.work] == [("heartbeat", 1007.0)]
    driver.callback(token, TaskResult('"done"'), 1003.0)
    assert driver.status == "SUCCEEDED"
    assert driver.activity_started(token, "late", 1004.0) is None  # the Task no longer waits
