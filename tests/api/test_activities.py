"""Activities over HTTP: Create/Describe/List/DeleteActivity and GetActivityTask workers,
through boto3 against the real server."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.api.conftest import ACCOUNT, ACTIVITY_POLL_SECONDS, REGION, ROLE, Server, wait_for

TARGET = "AWSStepFunctions."


def _definition(activity_arn: str, **task: Any) -> str:
    return json.dumps({
        "StartAt": "Review",
        "States": {
            "Review": {"Type": "Task", "Resource": activity_arn, "ResultPath": "$.review",
                       "Next": "Done", **task},
            "Done": {"Type": "Pass", "End": True},
        },
    })


def _worker_client(server: Server) -> Any:
    # AWS asks pollers for a socket timeout above the 60 s the service may hold a poll.
    return server.client(read_timeout=65)


def test_create_describe_list_tag_and_delete_an_activity(sfn: Any, unique: str) -> None:
    created = sfn.create_activity(name=unique, tags=[{"key": "team", "value": "ops"}])
    arn = created["activityArn"]
    assert arn == f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{unique}"
    again = sfn.create_activity(name=unique, tags=[{"key": "other", "value": "x"}])
    assert again == {**created, "ResponseMetadata": again["ResponseMetadata"]}
    described = sfn.describe_activity(activityArn=arn)
    assert (described["activityArn"], described["name"]) == (arn, unique)
    assert described["creationDate"] == created["creationDate"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "team", "value": "ops"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "stage", "value": "dev"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "stage", "value": "dev"}]
    second = sfn.create_activity(name=unique + "-2")["activityArn"]
    listed = []
    pages = sfn.get_paginator("list_activities").paginate(PaginationConfig={"PageSize": 1})
    for page in pages:
        listed += [a["activityArn"] for a in page["activities"]]
    assert listed.index(arn) < listed.index(second)  # by creation
    sfn.delete_activity(activityArn=arn)
    sfn.delete_activity(activityArn=arn)  # twice is fine
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=arn)
    sfn.delete_activity(activityArn=second)


def test_an_activity_worker_completes_the_task(server: Server, sfn: Any, unique: str) -> None:
    activity = sfn.create_activity(name=unique)["activityArn"]
    # No HeartbeatSeconds: the test server scales every timer to 0.
    machine = sfn.create_state_machine(name=unique, roleArn=ROLE,
                                       definition=_definition(activity))
    worker = _worker_client(server)
    handled: list[str] = []

    def activity_worker() -> None:  # a typical boto3 worker loop
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task = worker.get_activity_task(activityArn=activity, workerName="worker-7")
            if not task.get("taskToken"):
                continue
            data = json.loads(task["input"])
            handled.append(task["taskToken"])
            worker.send_task_heartbeat(taskToken=task["taskToken"])
            worker.send_task_success(taskToken=task["taskToken"],
                                     output=json.dumps({"total": data["price"] * 2}))
            return

    thread = threading.Thread(target=activity_worker)
    thread.start()
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                              input='{"price": 21}')["executionArn"]
    thread.join(40)
    assert handled, [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"price": 21, "review": {"total": 42}}
    assert len(handled) == 1
    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited", "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded"]
    scheduled = events[2]["activityScheduledEventDetails"]
    assert scheduled["resource"] == activity
    assert json.loads(scheduled["input"]) == {"price": 21}
    assert events[3]["activityStartedEventDetails"] == {"workerName": "worker-7"}
    assert json.loads(events[4]["activitySucceededEventDetails"]["output"]) == {"total": 42}
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=handled[0], output="{}")


def test_send_task_failure_from_a_worker(server: Server, sfn: Any, unique: str) -> None:
    activity = sfn.create_activity(name=unique)["activityArn"]
    machine = sfn.create_state_machine(name=unique, roleArn=ROLE, definition=_definition(
        activity, Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.why",
                          "Next": "Done"}]))
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    task = _worker_client(server).get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Broken", cause="disk")
    described = wait_for(sfn, arn)
    assert json.loads(described["output"])["why"] == {"Error": "Broken", "Cause": "disk"}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "ActivityFailed" in types


def test_an_empty_poll_answers_without_a_token(sfn: Any, unique: str) -> None:
    activity = sfn.create_activity(name=unique)["activityArn"]
    began = time.monotonic()
    answer = sfn.get_activity_task(activityArn=activity, workerName="idle")
    assert time.monotonic() - began >= ACTIVITY_POLL_SECONDS - 0.5
    assert "taskToken" not in answer and "input" not in answer


def test_waiting_polls_do_not_hold_up_other_requests(server: Server, sfn: Any,
                                                     unique: str) -> None:
    activity = sfn.create_activity(name=unique)["activityArn"]
    body = json.dumps({"activityArn": activity})
    polls = 48  # more than the thread pool (40) that serves the other operations
    with ThreadPoolExecutor(polls) as pool:
        began = time.monotonic()
        waiting = [pool.submit(server.raw, TARGET + "GetActivityTask", body)
                   for _ in range(polls)]
        time.sleep(0.5)  # let the polls reach the server and start waiting
        assert not any(f.done() for f in waiting)
        asked = time.monotonic()
        assert sfn.describe_activity(activityArn=activity)["activityArn"] == activity
        sfn.list_state_machines(maxResults=1)
        answered = time.monotonic()
        assert answered - asked < 1.0
        assert not all(f.done() for f in waiting)  # the polls were still open meanwhile
        results = [f.result(timeout=30) for f in waiting]
    assert time.monotonic() - began >= ACTIVITY_POLL_SECONDS - 0.5
    assert all(status == 200 and answer == {} for status, _, answer in results)


def test_bad_requests_get_aws_errors_and_store_nothing(sfn: Any, unique: str) -> None:
    before = sfn.list_activities(maxResults=1000)["activities"]
    for bad in ("has space", "has:colon", "star*", "tab\tname"):
        with pytest.raises(sfn.exceptions.InvalidName):
            sfn.create_activity(name=bad)
    with pytest.raises(sfn.exceptions.ClientError, match="ValidationException"):
        sfn.create_activity(name="x" * 81)
    with pytest.raises(sfn.exceptions.ClientError, match="ValidationException"):
        sfn.create_activity(name=unique, tags=[{"value": "no key"}])
    assert sfn.list_activities(maxResults=1000)["activities"] == before
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{unique}-missing"
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=missing)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.get_activity_task(activityArn=missing, workerName="w")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=missing)
    state_machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{unique}"
    for malformed in ("not-an-arn", state_machine, missing + ":extra"):
        with pytest.raises(sfn.exceptions.InvalidArn):
            sfn.describe_activity(activityArn=malformed)
        with pytest.raises(sfn.exceptions.InvalidArn):
            sfn.get_activity_task(activityArn=malformed)
        with pytest.raises(sfn.exceptions.InvalidArn):
            sfn.delete_activity(activityArn=malformed)
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_activities(nextToken="garbage")
    assert sfn.list_activities(maxResults=1000)["activities"] == before
