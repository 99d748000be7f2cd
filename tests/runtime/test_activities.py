"""Activities through the Engine, a Worker and a real store (SQLite and PostgreSQL): a Task
on an activity ARN queues its input, GetActivityTask pollers take it, SendTask* finish it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import Worker
from statewright.store.base import Store
from tests.runtime.helpers import history
from tests.store.helpers import wait_until

#: A definition written for another account and region: it runs unchanged here.
FOREIGN = "arn:aws:states:eu-west-3:999999999999:activity:"


def machine(name: str = "review", **task: Any) -> str:
    return json.dumps({
        "StartAt": "Review",
        "States": {
            "Review": {"Type": "Task", "Resource": FOREIGN + name,
                       "Parameters": {"order.$": "$.order", "token.$": "$$.Task.Token"},
                       "ResultPath": "$.review", "Next": "Done", **task},
            "Done": {"Type": "Succeed"},
        },
    })


@pytest.fixture
def engine(store: Store) -> Iterator[Engine]:
    """An engine with a worker running beside it (timers at 1/100 of their length)."""
    engine = Engine(store, Settings(wait_scale=0.01))
    worker = Worker(engine, PythonFunctions(), threads=2, poll_seconds=0.05)
    worker.start()
    yield engine
    worker.stop()


def _types(engine: Engine, arn: str) -> list[str]:
    return [e.type for e in history(engine, arn)]


def _details(engine: Engine, arn: str, kind: str) -> dict[str, Any]:
    found = [e for e in history(engine, arn) if e.type == kind]
    assert found, f"no {kind} in {_types(engine, arn)}"
    details: dict[str, Any] = json.loads(found[-1].details or "{}")
    return details


def _finished(engine: Engine, arn: str) -> str:
    wait_until(lambda: engine.describe_execution(arn).status != "RUNNING", 20.0)
    return engine.describe_execution(arn).status


def _start(engine: Engine, definition: str, data: Any, name: str) -> str:
    created = engine.create_state_machine(name, definition)
    return engine.start_execution(created.arn, json.dumps(data), name).execution_arn


def test_a_worker_thread_polls_the_task_and_answers_it(engine: Engine) -> None:
    activity = engine.create_activity("review", {"team": "ops"})
    assert activity.arn == "arn:aws:states:us-east-1:123456789012:activity:review"
    answered: list[dict[str, Any]] = []

    def activity_worker() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            task = engine.get_activity_task(activity.arn, "worker-1", long_poll_seconds=1)
            if task is None:
                continue
            token, text = task
            data = json.loads(text)
            answered.append(data)
            assert data["token"] == token  # the token $$.Task.Token showed the definition
            engine.send_task_heartbeat(token)
            engine.send_task_success(token, json.dumps({"approved": data["order"] < 100}))
            return

    thread = threading.Thread(target=activity_worker)
    thread.start()
    arn = _start(engine, machine(), {"order": 42}, "answered")
    thread.join(30)
    assert _finished(engine, arn) == "SUCCEEDED"
    assert [a["order"] for a in answered] == [42]
    record = engine.describe_execution(arn)
    assert json.loads(record.output or "") == {"order": 42, "review": {"approved": True}}
    # AWS's sequence (an execution history recorded on AWS, Clever/workflow-manager).
    assert _types(engine, arn) == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited", "SucceedStateEntered", "SucceedStateExited",
        "ExecutionSucceeded"]
    events = history(engine, arn)
    assert [(e.id, e.previous_event_id) for e in events[1:5]] == [
        (2, 0), (3, 2), (4, 3), (5, 4)]
    scheduled = _details(engine, arn, "ActivityScheduled")
    assert scheduled["resource"] == FOREIGN + "review"  # as the definition wrote it
    assert json.loads(scheduled["input"])["order"] == 42
    assert _details(engine, arn, "ActivityStarted") == {"workerName": "worker-1"}
    assert json.loads(_details(engine, arn, "ActivitySucceeded")["output"]) == {
        "approved": True}


def test_send_task_failure_fails_the_activity_into_the_catcher(engine: Engine) -> None:
    activity = engine.create_activity("review")
    definition = machine(Catch=[{"ErrorEquals": ["Rejected"], "ResultPath": "$.why",
                                 "Next": "Done"}])
    arn = _start(engine, definition, {"order": 7}, "rejected")
    task = engine.get_activity_task(activity.arn, long_poll_seconds=10)
    assert task is not None
    engine.send_task_failure(task[0], "Rejected", "over budget")
    assert _finished(engine, arn) == "SUCCEEDED"
    assert _details(engine, arn, "ActivityFailed") == {"error": "Rejected",
                                                       "cause": "over budget"}
    assert _details(engine, arn, "ActivityStarted") == {}  # no workerName given
    assert json.loads(engine.describe_execution(arn).output or "")["why"] == {
        "Error": "Rejected", "Cause": "over budget"}


def test_a_retried_activity_is_queued_again_with_a_new_token(engine: Engine) -> None:
    activity = engine.create_activity("review")
    definition = machine(Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}])
    arn = _start(engine, definition, {"order": 1}, "retried")
    first = engine.get_activity_task(activity.arn, "w", long_poll_seconds=10)
    assert first is not None
    engine.send_task_failure(first[0], "Flaky")
    second = engine.get_activity_task(activity.arn, "w", long_poll_seconds=10)
    assert second is not None and second[0] != first[0]
    with pytest.raises(errors.TaskTimedOut):  # the first attempt's token is spent
        engine.send_task_success(first[0], "{}")
    engine.send_task_success(second[0], '"ok"')
    assert _finished(engine, arn) == "SUCCEEDED"
    assert _types(engine, arn).count("ActivityScheduled") == 2


def test_a_started_activity_without_heartbeats_times_out(engine: Engine) -> None:
    activity = engine.create_activity("review")
    # Heartbeat 10 s and timeout 1000 s, scaled to 0.1 s and 10 s.
    arn = _start(engine, machine(HeartbeatSeconds=10, TimeoutSeconds=1000), {"order": 1},
                 "silent")
    task = engine.get_activity_task(activity.arn, "w", long_poll_seconds=10)
    assert task is not None
    assert _finished(engine, arn) == "FAILED"
    record = engine.describe_execution(arn)
    assert record.error == "States.HeartbeatTimeout"
    assert _types(engine, arn)[-3:] == ["ActivityStarted", "ActivityTimedOut",
                                        "ExecutionFailed"]
    assert _details(engine, arn, "ActivityTimedOut")["error"] == "States.HeartbeatTimeout"
    with pytest.raises(errors.TaskTimedOut):
        engine.send_task_success(task[0], "{}")


def test_a_task_nobody_polls_times_out_and_is_never_handed_out(engine: Engine) -> None:
    activity = engine.create_activity("review")
    # TimeoutSeconds 10 s (0.1 s); the heartbeat clock waits for a worker to take the task.
    arn = _start(engine, machine(TimeoutSeconds=10, HeartbeatSeconds=5), {"order": 1},
                 "unpolled")
    assert _finished(engine, arn) == "FAILED"
    assert engine.describe_execution(arn).error == "States.Timeout"
    assert _types(engine, arn)[-3:] == ["ActivityScheduled", "ActivityTimedOut",
                                        "ExecutionFailed"]
    assert engine.get_activity_task(activity.arn, long_poll_seconds=0) is None


def test_a_stale_task_of_a_running_execution_is_skipped(engine: Engine) -> None:
    activity = engine.create_activity("review")
    # The first attempt is failed through the token the definition passed on ($$.Task.Token)
    # while it sits in the queue; Retry queues a second. A poller gets the live one and never
    # the first, whose token no longer waits.
    definition = machine(Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}])
    arn = _start(engine, definition, {"order": 1}, "stale")
    wait_until(lambda: engine.store.next_due() is None, 20.0)  # submitted: queued
    first = json.loads(_details(engine, arn, "ActivityScheduled")["input"])["token"]
    engine.send_task_failure(first, "Flaky")
    wait_until(lambda: _types(engine, arn).count("ActivityScheduled") == 2, 20.0)
    task = engine.get_activity_task(activity.arn, "w", long_poll_seconds=10)
    assert task is not None and task[0] != first
    engine.send_task_success(task[0], "{}")
    assert _finished(engine, arn) == "SUCCEEDED"
    assert _types(engine, arn).count("ActivityStarted") == 1


def test_stop_execution_while_queued_means_no_poller_gets_the_task(engine: Engine) -> None:
    activity = engine.create_activity("review")
    arn = _start(engine, machine(), {"order": 1}, "stopped")
    wait_until(lambda: engine.store.next_due() is None, 20.0)  # submitted: the task is queued
    engine.stop_execution(arn, "Cancelled", "by the test")
    assert engine.get_activity_task(activity.arn, "w", long_poll_seconds=0.3) is None
    assert _types(engine, arn)[-1] == "ExecutionAborted"
    assert "ActivityStarted" not in _types(engine, arn)


def test_a_waiting_poll_returns_as_soon_as_a_task_is_queued(engine: Engine) -> None:
    activity = engine.create_activity("review")
    got: list[tuple[str, str] | None] = []
    poll = threading.Thread(target=lambda: got.append(
        engine.get_activity_task(activity.arn, "w", long_poll_seconds=30)))
    began = time.monotonic()
    poll.start()
    arn = _start(engine, machine(), {"order": 5}, "woken")
    poll.join(30)
    assert time.monotonic() - began < 10  # well within the 30 s window
    assert got and got[0] is not None
    engine.send_task_success(got[0][0], "{}")
    assert _finished(engine, arn) == "SUCCEEDED"


def test_an_empty_poll_waits_its_window_then_returns_none(engine: Engine) -> None:
    activity = engine.create_activity("idle")
    began = time.monotonic()
    assert engine.get_activity_task(activity.arn, long_poll_seconds=0.4) is None
    assert 0.35 <= time.monotonic() - began < 5


def test_activity_operations_and_their_errors(engine: Engine) -> None:
    first = engine.create_activity("review", {"a": "1"})
    again = engine.create_activity("review", {"b": "2"})
    assert again == first  # idempotent on the name; the tags of the repeat are ignored
    assert engine.list_tags(first.arn) == {"a": "1"}
    engine.tag_resource(first.arn, {"c": "3"})
    engine.untag_resource(first.arn, ["a"])
    assert engine.list_tags(first.arn) == {"c": "3"}
    assert engine.describe_activity(first.arn) == first
    with pytest.raises(errors.ActivityAlreadyExists):
        engine.create_activity("review", config={"encryptionConfiguration": {
            "type": "CUSTOMER_MANAGED_KMS_KEY"}})
    for bad in ("", "a b", "x" * 81, "has:colon"):
        with pytest.raises(errors.InvalidName):
            engine.create_activity(bad)
    assert [a.name for a in engine.list_activities().items] == ["review"]
    missing = first.arn + "-gone"
    with pytest.raises(errors.ActivityDoesNotExist):
        engine.describe_activity(missing)
    with pytest.raises(errors.ActivityDoesNotExist):
        engine.get_activity_task(missing, long_poll_seconds=0)
    with pytest.raises(errors.ResourceNotFound):
        engine.list_tags(missing)
    for malformed in ("nope", "arn:aws:states:us-east-1:123456789012:stateMachine:review",
                      first.arn + ":extra"):
        with pytest.raises(errors.InvalidArn):
            engine.describe_activity(malformed)
        with pytest.raises(errors.InvalidArn):
            engine.get_activity_task(malformed, long_poll_seconds=0)
        with pytest.raises(errors.InvalidArn):
            engine.delete_activity(malformed)
    engine.delete_activity(first.arn)
    engine.delete_activity(first.arn)  # deleting twice is fine, as on AWS
    assert engine.list_activities().items == []
    with pytest.raises(errors.ResourceNotFound):
        engine.list_tags(first.arn)
