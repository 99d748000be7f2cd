"""Execution operations over HTTP through boto3: happy paths and AWS's errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import (
    ACCOUNT,
    REGION,
    ROLE,
    Server,
    pass_machine,
    sleep_machine,
    wait_for,
)


def _machine(sfn: Any, name: str, definition: str, type: str = "STANDARD") -> str:
    arn: str = sfn.create_state_machine(
        name=name, definition=definition, roleArn=ROLE, type=type)["stateMachineArn"]
    return arn


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def _history(sfn: Any, arn: str, **kwargs: Any) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn, **kwargs)
    return [event for page in pages for event in page["events"]]


@pytest.fixture(scope="module")
def loose(server: Server) -> Any:
    return server.client(parameter_validation=False)


# ----------------------------------------------------------------------------- happy paths


def test_start_and_describe(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    started = sfn.start_execution(stateMachineArn=machine, name="run-1", input='{"a": 1}')
    arn = started["executionArn"]
    assert arn == f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{unique}:run-1"
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert described["name"] == "run-1"
    assert described["stateMachineArn"] == machine
    assert described["input"] == '{"a": 1}'  # as sent
    assert described["inputDetails"] == {"included": True}
    assert described["output"] == '{"a":1}'
    assert described["outputDetails"] == {"included": True}
    assert described["startDate"] == started["startDate"]
    assert described["stopDate"] >= described["startDate"]
    assert "error" not in described and "cause" not in described
    assert described["redriveCount"] == 0


def test_start_defaults_name_and_input(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    described = wait_for(sfn, arn)
    assert len(described["name"]) == 36
    assert described["input"] == "{}"


def test_failed_execution(sfn: Any, unique: str) -> None:
    definition = json.dumps({"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}})
    machine = _machine(sfn, unique, definition)
    described = wait_for(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "Boom", "it broke")
    assert "output" not in described


def test_start_is_idempotent_while_running(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, sleep_machine(1))
    first = sfn.start_execution(stateMachineArn=machine, name="same", input="{}")
    again = sfn.start_execution(stateMachineArn=machine, name="same", input="{}")
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine, name="same", input='{"x": 1}')
    wait_for(sfn, first["executionArn"])
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine, name="same", input="{}")


def test_stop(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, sleep_machine(2))
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    stopped = sfn.stop_execution(executionArn=arn, error="Halt", cause="by the test")
    assert isinstance(stopped["stopDate"], datetime)
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED", "Halt", "by the test")
    assert described["stopDate"] == stopped["stopDate"]
    assert _history(sfn, arn)[-1]["type"] == "ExecutionAborted"
    # Stopping an ended execution answers its stop date and changes nothing.
    again = sfn.stop_execution(executionArn=arn)
    assert again["stopDate"] == stopped["stopDate"]


def test_list_executions(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    failing = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"e{i}")["executionArn"]
            for i in range(4)]
    for arn in arns:
        wait_for(sfn, arn)
    sfn.update_state_machine(stateMachineArn=machine, definition=failing)
    failed = sfn.start_execution(stateMachineArn=machine, name="f")["executionArn"]
    wait_for(sfn, failed)

    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["executionArn"] for e in listed] == [failed, *reversed(arns)]  # newest first
    assert all(isinstance(e["stopDate"], datetime) for e in listed)
    assert {e["status"] for e in listed} == {"SUCCEEDED", "FAILED"}

    only_failed = sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")
    assert [e["executionArn"] for e in only_failed["executions"]] == [failed]
    page = sfn.list_executions(stateMachineArn=machine, maxResults=2)
    assert len(page["executions"]) == 2
    rest = sfn.list_executions(stateMachineArn=machine, maxResults=2,
                               nextToken=page["nextToken"])
    assert [e["executionArn"] for e in page["executions"] + rest["executions"]] == [
        e["executionArn"] for e in listed[:4]]
    assert sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")[
        "executions"] == []


def test_history(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    arn = sfn.start_execution(stateMachineArn=machine, input='{"k": "v"}')["executionArn"]
    wait_for(sfn, arn)
    events = _history(sfn, arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    # As on AWS, the first state's entry points at no event.
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3]
    assert all(isinstance(e["timestamp"], datetime) for e in events)
    started = events[0]["executionStartedEventDetails"]
    assert started["input"] == '{"k":"v"}'
    assert started["inputDetails"] == {"truncated": False}
    assert started["roleArn"] == ROLE
    assert events[1]["stateEnteredEventDetails"]["name"] == "P"
    assert events[2]["stateExitedEventDetails"]["output"] == '{"k":"v"}'
    assert events[3]["executionSucceededEventDetails"]["output"] == '{"k":"v"}'

    backwards = _history(sfn, arn, reverseOrder=True)
    assert [e["id"] for e in backwards] == [4, 3, 2, 1]
    first = sfn.get_execution_history(executionArn=arn, maxResults=3)
    assert [e["id"] for e in first["events"]] == [1, 2, 3]
    rest = sfn.get_execution_history(executionArn=arn, maxResults=3,
                                      nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == [4]
    assert "nextToken" not in rest

    hidden = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)
    details = hidden["events"][0]["executionStartedEventDetails"]
    assert "input" not in details and details["roleArn"] == ROLE


def test_describe_state_machine_for_execution(sfn: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine(1))
    revision = sfn.describe_state_machine(stateMachineArn=machine)["revisionId"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_for(sfn, arn)
    sfn.update_state_machine(stateMachineArn=machine, definition=pass_machine(2))
    described = sfn.describe_state_machine_for_execution(executionArn=arn)
    # The revision the execution ran, not the current one.
    assert described["definition"] == pass_machine(1)
    assert described["revisionId"] == revision
    assert described["name"] == unique
    assert described["stateMachineArn"] == machine
    assert described["roleArn"] == ROLE
    assert isinstance(described["updateDate"], datetime)


def test_start_sync_execution(server: Server, unique: str) -> None:
    # botocore would send StartSyncExecution to sync-127.0.0.1, which does not resolve.
    sync = server.client(inject_host_prefix=False)
    machine = _machine(sync, unique, pass_machine({"done": True}), type="EXPRESS")
    result = sync.start_sync_execution(stateMachineArn=machine, name="s1", input='{"a": 1}')
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == '{"done":true}'
    assert result["input"] == '{"a": 1}'
    assert result["name"] == "s1"
    assert result["stateMachineArn"] == machine
    assert result["executionArn"].startswith(
        f"arn:aws:states:{REGION}:{ACCOUNT}:express:{unique}:s1:")
    assert result["stopDate"] >= result["startDate"]
    assert result["billingDetails"]["billedMemoryUsedInMB"] == 64
    assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100

    metadata = sync.start_sync_execution(stateMachineArn=machine, includedData="METADATA_ONLY")
    assert metadata["status"] == "SUCCEEDED"
    assert "output" not in metadata and "input" not in metadata


def test_start_sync_execution_runs_functions_and_fails(server: Server, unique: str) -> None:
    sync = server.client(inject_host_prefix=False)
    task = json.dumps({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sleep",
              "Parameters": {"seconds": 0, "orderId.$": "$.orderId"}, "Next": "F"},
        "F": {"Type": "Fail", "Error": "Done", "Cause": "on purpose"}}})
    machine = _machine(sync, unique, task, type="EXPRESS")
    result = sync.start_sync_execution(stateMachineArn=machine, input='{"orderId": "o1"}')
    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED", "Done", "on purpose")
    assert "output" not in result


# ----------------------------------------------------------------------------- errors


def test_start_errors_store_nothing(sfn: Any, loose: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{unique}-missing"
    long = "n" * 81
    large = json.dumps("a" * 262_144)
    cases: list[tuple[dict[str, Any], str, str | None]] = [
        ({"name": "n"}, "ValidationException",
         "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
         "constraint: Member must not be null"),
        ({"stateMachineArn": machine, "name": long}, "ValidationException",
         f"1 validation error detected: Value '{long}' at 'name' failed to satisfy "
         "constraint: Member must have length less than or equal to 80"),
        ({"stateMachineArn": machine, "input": large}, "ValidationException",
         "1 validation error detected: Value at 'input' failed to satisfy constraint: "
         "Member must have size less than or equal to 262144 bytes in UTF-8 encoding"),
        # The model's constraints are checked before the state machine is looked up.
        ({"stateMachineArn": missing, "name": long}, "ValidationException", None),
        ({"stateMachineArn": missing}, "StateMachineDoesNotExist",
         f"State Machine Does Not Exist: '{missing}'"),
        ({"stateMachineArn": "not-an-arn"}, "InvalidArn", None),
        ({"stateMachineArn": machine, "name": "a b"}, "InvalidName", "Invalid Name: 'a b'"),
        ({"stateMachineArn": machine, "input": "{"}, "InvalidExecutionInput", None),
        ({"stateMachineArn": machine, "input": {"a": 1}}, "SerializationException",
         "Start of structure or map found where not expected."),
        ({"stateMachineArn": machine, "traceHeader": "é"}, "ValidationException",
         "1 validation error detected: Value 'é' at 'traceHeader' failed to satisfy "
         "constraint: Member must satisfy regular expression pattern: \\p{ASCII}*"),
    ]
    for request, code, message in cases:
        with pytest.raises(ClientError) as raised:
            loose.start_execution(**request)
        got = _error(raised)
        assert got[0] == code, request
        if message is not None:
            assert got[1] == message, request
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_execution_lookups(sfn: Any, loose: Any, unique: str) -> None:
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{unique}:nope"
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{unique}"
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution,
                 sfn.describe_state_machine_for_execution):
        with pytest.raises(sfn.exceptions.ExecutionDoesNotExist) as raised:
            call(executionArn=missing)
        assert _error(raised) == ("ExecutionDoesNotExist",
                                  f"Execution Does Not Exist: '{missing}'")
        for bad in ("not-an-arn", machine_arn):
            with pytest.raises(sfn.exceptions.InvalidArn):
                call(executionArn=bad)
        with pytest.raises(ClientError) as raised:
            getattr(loose, call.__name__)()
        assert _error(raised) == (
            "ValidationException",
            "1 validation error detected: Value null at 'executionArn' failed to satisfy "
            "constraint: Member must not be null")


def test_stop_and_history_constraints(sfn: Any, loose: Any, unique: str) -> None:
    machine = _machine(sfn, unique, pass_machine())
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_for(sfn, arn)
    with pytest.raises(ClientError) as raised:
        loose.stop_execution(executionArn=arn, cause="c" * 32_769)
    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value at 'cause' failed to satisfy constraint: "
        "Member must have length less than or equal to 32768")
    with pytest.raises(ClientError) as raised:
        loose.get_execution_history(executionArn=arn, maxResults=-1)
    assert _error(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        loose.get_execution_history(executionArn=arn, reverseOrder="yes")
    assert _error(raised) == ("SerializationException",
                              "STRING_VALUE cannot be converted to Boolean")
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def test_list_executions_errors(sfn: Any, loose: Any, unique: str) -> None:
    missing = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{unique}"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_executions(stateMachineArn=missing)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_executions(stateMachineArn="not-an-arn")
    with pytest.raises(ClientError) as raised:
        loose.list_executions(stateMachineArn=missing, statusFilter="DONE")
    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value 'DONE' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, "
        "TIMED_OUT, ABORTED, PENDING_REDRIVE]")
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.list_executions()


def test_start_sync_execution_errors(server: Server, unique: str) -> None:
    sync = server.client(inject_host_prefix=False)
    standard = _machine(sync, unique, pass_machine())
    with pytest.raises(sync.exceptions.StateMachineTypeNotSupported):
        sync.start_sync_execution(stateMachineArn=standard)
    with pytest.raises(sync.exceptions.StateMachineDoesNotExist):
        sync.start_sync_execution(stateMachineArn=standard + "-missing")
    express = _machine(sync, unique + "-x", pass_machine(), type="EXPRESS")
    with pytest.raises(sync.exceptions.InvalidExecutionInput):
        sync.start_sync_execution(stateMachineArn=express, input="[")
