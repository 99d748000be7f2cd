"""Function concurrency over the APIs: Put/Get/DeleteFunctionConcurrency with boto3, Invoke's
429 past the limit, Tasks failing with Lambda.TooManyRequestsException (which a Retry catches),
and Tasks of many executions running at once.

AWS's facts: the operations' paths and shapes are botocore's lambda model
(``PUT /2017-10-31/functions/{FunctionName}/concurrency``, ``GET /2019-09-30/...``, ``DELETE
/2017-10-31/...`` answering 204); GetFunctionConcurrency of a function with none reserved
answers an empty object, GetFunction adds ``Concurrency`` when one is. A throttled Invoke is
HTTP 429 ``TooManyRequestsException`` with body ``{"Reason", "Type": "User", "message": "Rate
Exceeded."}`` (the ThrottleReason enum of the model; real answers quoted in public issues, e.g.
aws-lambda-power-tuning#133). Step Functions reports the throttle as
``Lambda.TooManyRequestsException`` ("When Lambda hits the maximum number of invocations, the
error is Lambda.TooManyRequestsException": docs, bp-lambda-serviceexception.html), with the
Java SDK's cause ``Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code:
TooManyRequestsException; Request ID: ...)`` (HumanCellAtlas/data-store#1118).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, start_server, stop_and_check, wait_for
from tests.api.lambda_helpers import ROLE, function_arn, lambda_error, python_function

GATE = '''
import os
import pathlib
import time


def handler(event, context):
    folder = pathlib.Path(event["dir"])
    (folder / f"started-{context.aws_request_id}").touch()
    deadline = time.monotonic() + 60
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released this invocation")
        time.sleep(0.01)
    return {"pid": os.getpid()}
'''

MEET = '''
import os
import pathlib
import time


def handler(event, context):
    meeting = pathlib.Path(event["dir"])
    (meeting / context.aws_request_id).touch()
    deadline = time.monotonic() + 60
    while len(list(meeting.iterdir())) < event["count"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the others never came")
        time.sleep(0.01)
    return {"pid": os.getpid()}
'''


@pytest.fixture(scope="module")
def lam(server: Server) -> Any:
    return server.lambda_client()


def _deploy(lam: Any, name: str, body: str, timeout: int = 90) -> None:
    lam.create_function(FunctionName=name, Timeout=timeout, **python_function(body))


def test_put_get_delete_function_concurrency(lam: Any, unique: str) -> None:
    _deploy(lam, unique, "def handler(event, context):\n    return 1\n")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(
        FunctionName=unique)
    assert "Concurrency" not in lam.get_function(FunctionName=unique)
    revision = lam.get_function(FunctionName=unique)["Configuration"]["RevisionId"]

    put = lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=7)
    assert put["ReservedConcurrentExecutions"] == 7
    assert lam.get_function_concurrency(FunctionName=function_arn(unique))[
        "ReservedConcurrentExecutions"] == 7
    described = lam.get_function(FunctionName=unique)
    assert described["Concurrency"] == {"ReservedConcurrentExecutions": 7}
    assert described["Configuration"]["RevisionId"] == revision  # not a new revision

    deleted = lam.delete_function_concurrency(FunctionName=unique)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(
        FunctionName=unique)
    lam.delete_function(FunctionName=unique)


def test_concurrency_of_a_missing_function_is_not_found(lam: Any, unique: str) -> None:
    calls = [
        lambda: lam.put_function_concurrency(FunctionName=unique,
                                             ReservedConcurrentExecutions=1),
        lambda: lam.get_function_concurrency(FunctionName=unique),
        lambda: lam.delete_function_concurrency(FunctionName=unique),
    ]
    for call in calls:
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            call()
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert unique in missing.value.response["Error"]["Message"]


def test_a_negative_reservation_is_refused(server: Server, lam: Any, unique: str) -> None:
    _deploy(lam, unique, "def handler(event, context):\n    return 1\n")
    status, code, message = lambda_error(
        server.url, "PUT", f"/2017-10-31/functions/{unique}/concurrency",
        b'{"ReservedConcurrentExecutions": -1}', {"Content-Type": "application/json"})
    assert status == 400 and "reservedConcurrentExecutions" in message, (code, message)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(
        FunctionName=unique)
    lam.delete_function(FunctionName=unique)


def test_invoke_past_a_reserved_concurrency_is_throttled_with_429(
    server: Server, lam: Any, unique: str
) -> None:
    _deploy(lam, unique, "def handler(event, context):\n    return 1\n")
    lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
        lam.invoke(FunctionName=unique, Payload=b"{}")
    answer = throttled.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert answer["Error"]["Message"] == "Rate Exceeded."
    assert answer["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert answer["Type"] == "User"

    lam.delete_function_concurrency(FunctionName=unique)
    assert json.loads(lam.invoke(FunctionName=unique, Payload=b"{}")["Payload"].read()) == 1
    lam.delete_function(FunctionName=unique)


def test_invoke_past_a_reservation_of_one_while_one_runs(
    lam: Any, unique: str, tmp_path: Path
) -> None:
    _deploy(lam, unique, GATE)
    lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=1)
    payload = json.dumps({"dir": str(tmp_path)}).encode()
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(
        lam.invoke(FunctionName=unique, Payload=payload)))
    first.start()
    _wait_until(lambda: len(list(tmp_path.glob("started-*"))) == 1)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName=unique, Payload=payload)
    (tmp_path / "release").touch()
    first.join()
    assert "FunctionError" not in answers[0]
    assert "FunctionError" not in lam.invoke(FunctionName=unique, Payload=payload)
    lam.delete_function(FunctionName=unique)


def test_a_throttled_task_fails_with_lambda_too_many_requests(
    sfn: Any, lam: Any, unique: str
) -> None:
    _deploy(lam, unique, "def handler(event, context):\n    return 1\n")
    lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=0)
    definition = json.dumps({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": function_arn(unique), "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "Lambda.TooManyRequestsException"
    assert described["cause"].startswith(
        "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: "
        "TooManyRequestsException; Request ID: ")
    sfn.delete_state_machine(stateMachineArn=machine)
    lam.delete_function(FunctionName=unique)


def test_a_retry_catches_the_throttle(sfn: Any, lam: Any, unique: str, tmp_path: Path) -> None:
    # Two Tasks at once on a function with one reserved: one is throttled and retried (every
    # second: the machine's wait-scale tag undoes the test server's 0) until the other,
    # released once the throttle shows in the history, has finished.
    _deploy(lam, unique, GATE)
    lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=1)
    task = {"Type": "Task", "Resource": function_arn(unique), "End": True,
            "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"],
                       "IntervalSeconds": 1, "MaxAttempts": 30, "BackoffRate": 1}]}
    definition = json.dumps({"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": task}},
            {"StartAt": "B", "States": {"B": task}}]}}})
    machine = sfn.create_state_machine(
        name=unique, definition=definition, roleArn=ROLE,
        tags=[{"key": "statewright:wait-scale", "value": "1"}])["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps({"dir": str(tmp_path)}))["executionArn"]

    def throttled() -> bool:
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return "Lambda.TooManyRequestsException" in json.dumps(events, default=str)

    _wait_until(throttled)
    (tmp_path / "release").touch()
    described = wait_for(sfn, arn, timeout=60)
    assert described["status"] == "SUCCEEDED", described
    assert len(json.loads(described["output"])) == 2
    sfn.delete_state_machine(stateMachineArn=machine)
    lam.delete_function(FunctionName=unique)


def test_tasks_of_many_executions_run_at_once(
    sfn: Any, lam: Any, unique: str, tmp_path: Path
) -> None:
    # Each Task returns only once all 24 are inside the handler together: more than the
    # worker's 8 step threads, which capped Task invocations before.
    count = 24
    _deploy(lam, unique, MEET)
    definition = json.dumps({"StartAt": "Meet", "States": {"Meet": {
        "Type": "Task", "Resource": function_arn(unique), "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    payload = json.dumps({"dir": str(tmp_path), "count": count})
    arns = [sfn.start_execution(stateMachineArn=machine, input=payload)["executionArn"]
            for _ in range(count)]
    described = [wait_for(sfn, arn, timeout=90) for arn in arns]
    assert [d["status"] for d in described] == ["SUCCEEDED"] * count, described
    assert len({json.loads(d["output"])["pid"] for d in described}) == count
    sfn.delete_state_machine(stateMachineArn=machine)
    lam.delete_function(FunctionName=unique)


def _wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_the_servers_own_limit_throttles_with_its_reason(
    tmp_path: Path, unique: str
) -> None:
    # serve --function-concurrency 1: one invocation runs, the next (of any function) is
    # refused with Lambda's account-level reason.
    process, running = start_server(tmp_path, None, args=["--function-concurrency", "1"])
    try:
        lam = running.lambda_client()
        _deploy(lam, unique, GATE)
        _deploy(lam, unique + "b", "def handler(event, context):\n    return 1\n")
        gate = tmp_path / "gate"
        gate.mkdir()
        payload = json.dumps({"dir": str(gate)}).encode()
        first = threading.Thread(target=lambda: lam.invoke(FunctionName=unique, Payload=payload))
        first.start()
        _wait_until(lambda: len(list(gate.glob("started-*"))) == 1)
        with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
            lam.invoke(FunctionName=unique + "b", Payload=b"{}")
        assert throttled.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"
        (gate / "release").touch()
        first.join()
        assert json.loads(lam.invoke(FunctionName=unique + "b", Payload=b"{}")[
            "Payload"].read()) == 1
    finally:
        stop_and_check(process, running)


@pytest.mark.parametrize(("args", "env", "message"), [
    (["serve", "--function-concurrency", "0"], {}, "--function-concurrency must be at least 1"),
    (["worker", "--function-idle-seconds", "0"], {},
     "--function-idle-seconds must be more than 0"),
    (["serve"], {"STATEWRIGHT_FUNCTION_CONCURRENCY": "many"},
     "STATEWRIGHT_FUNCTION_CONCURRENCY must be a whole number, not 'many'"),
    (["worker"], {"STATEWRIGHT_FUNCTION_CONCURRENCY": "0"},
     "STATEWRIGHT_FUNCTION_CONCURRENCY must be at least 1, not '0'"),
])
def test_bad_concurrency_settings_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "statewright.cli", *args, "--db",
         f"sqlite:///{tmp_path / 'db.sqlite'}"],
        capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_throttled_event_invocation_is_tried_again(
    lam: Any, unique: str, tmp_path: Path
) -> None:
    # Lambda retries asynchronous invocations it throttled (for up to 6 hours): the event runs
    # once the function may run again.
    _deploy(lam, unique, "import pathlib\n\ndef handler(event, context):\n"
                         "    pathlib.Path(event['file']).write_text('ran')\n")
    lam.put_function_concurrency(FunctionName=unique, ReservedConcurrentExecutions=0)
    marker = tmp_path / "ran"
    queued = lam.invoke(FunctionName=unique, InvocationType="Event",
                        Payload=json.dumps({"file": str(marker)}).encode())
    assert queued["StatusCode"] == 202
    assert not marker.exists()
    lam.delete_function_concurrency(FunctionName=unique)
    _wait_until(marker.exists)
    assert marker.read_text() == "ran"
    lam.delete_function(FunctionName=unique)
