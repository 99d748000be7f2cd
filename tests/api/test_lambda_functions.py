"""Lambda's function operations through boto3: create, read, list, update, invoke, delete."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from typing import Any

import pytest

from tests.api.conftest import ACCOUNT, Server, wait_for
from tests.api.lambda_helpers import ROLE, function_arn, python_function, zipped

GREETER = '''
import os


def handler(event, context):
    print("greeting", event.get("who"))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"greeting": os.environ.get("GREETING", "hello") + " " + event.get("who", "?"),
            "function": context.function_name, "memory": context.memory_limit_in_mb}
'''


@pytest.fixture(scope="module")
def lam(server: Server) -> Any:
    return server.lambda_client()


def _invoke(lam: Any, name: str, payload: Any, **options: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **options)
    return answer, json.loads(answer["Payload"].read())


def test_create_answers_the_function_configuration(lam: Any, unique: str) -> None:
    arguments = python_function(GREETER)
    created = lam.create_function(FunctionName=unique, Description="greets", Timeout=5,
                                  MemorySize=256, Environment={"Variables": {"GREETING": "hi"}},
                                  **arguments)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {
        "FunctionName": unique, "FunctionArn": function_arn(unique), "Runtime": "python3.12",
        "Role": ROLE, "Handler": "app.handler", "Description": "greets", "Timeout": 5,
        "MemorySize": 256, "Version": "$LATEST", "State": "Active",
        "LastUpdateStatus": "Successful", "PackageType": "Zip", "Architectures": ["x86_64"],
        "Environment": {"Variables": {"GREETING": "hi"}},
        "CodeSize": len(arguments["Code"]["ZipFile"]),
    }
    assert {key: created[key] for key in expected} == expected
    sha = base64.b64decode(created["CodeSha256"])
    assert len(sha) == 32
    assert created["LastModified"].endswith("+0000") and created["RevisionId"]

    described = lam.get_function(FunctionName=unique)
    assert described["Configuration"] == {k: v for k, v in created.items()
                                          if k != "ResponseMetadata"}
    with urllib.request.urlopen(described["Code"]["Location"], timeout=10) as download:
        assert download.read() == arguments["Code"]["ZipFile"]
    configuration = lam.get_function_configuration(FunctionName=function_arn(unique))
    assert configuration["RevisionId"] == created["RevisionId"]
    lam.delete_function(FunctionName=unique)


def test_list_pages_by_name(lam: Any, unique: str) -> None:
    names = [f"{unique}-{i}" for i in range(3)]
    for name in names:
        lam.create_function(FunctionName=name, **python_function(GREETER))
    listed = [f["FunctionName"] for f in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 1}).build_full_result()["Functions"]]
    assert [n for n in listed if n.startswith(unique)] == names
    assert listed == sorted(listed)
    page = lam.list_functions(MaxItems=1)
    assert len(page["Functions"]) == 1 and page["NextMarker"]
    for name in names:
        lam.delete_function(FunctionName=name)


def test_invoke_returns_the_payload_logs_and_function_errors(lam: Any, unique: str) -> None:
    lam.create_function(FunctionName=unique, **python_function(GREETER))
    answer, payload = _invoke(lam, unique, {"who": "Ada"}, LogType="Tail")
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "$LATEST")
    assert "FunctionError" not in answer
    assert payload == {"greeting": "hello Ada", "function": unique, "memory": "128"}
    assert "greeting Ada" in base64.b64decode(answer["LogResult"]).decode()

    answer, payload = _invoke(lam, f"{ACCOUNT}:function:{unique}:$LATEST", {"fail": True})
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "asked to fail")

    # No payload at all is an empty event, as on Lambda.
    empty = lam.invoke(FunctionName=unique)
    assert json.loads(empty["Payload"].read())["greeting"] == "hello ?"
    assert lam.invoke(FunctionName=unique, InvocationType="Event",
                      Payload=b'{"who": "later"}')["StatusCode"] == 202
    assert lam.invoke(FunctionName=unique, InvocationType="DryRun")["StatusCode"] == 204
    lam.delete_function(FunctionName=unique)


def test_updates_reach_the_next_invocation(lam: Any, unique: str) -> None:
    created = lam.create_function(FunctionName=unique, **python_function(GREETER))
    _invoke(lam, unique, {"who": "warm"})  # a warm worker with the old settings
    updated = lam.update_function_configuration(
        FunctionName=unique, Environment={"Variables": {"GREETING": "bonjour"}}, Timeout=10,
        RevisionId=created["RevisionId"])
    assert (updated["Timeout"], updated["CodeSha256"]) == (10, created["CodeSha256"])
    assert updated["RevisionId"] != created["RevisionId"]
    assert _invoke(lam, unique, {"who": "Ada"})[1]["greeting"] == "bonjour Ada"

    code = zipped(**{"app.py": "def handler(event, context):\n    return 'v2'\n"})
    dry = lam.update_function_code(FunctionName=unique, ZipFile=code, DryRun=True)
    assert _invoke(lam, unique, {})[1]["greeting"] == "bonjour ?"  # a dry run changes nothing
    new = lam.update_function_code(FunctionName=unique, ZipFile=code)
    assert new["CodeSha256"] == dry["CodeSha256"] != created["CodeSha256"]
    assert (new["CodeSize"], new["Timeout"]) == (len(code), 10)
    assert _invoke(lam, unique, {})[1] == "v2"
    lam.delete_function(FunctionName=unique)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=unique)


def test_nodejs_handlers_run_unchanged(lam: Any, unique: str) -> None:
    source = ("export const handler = async (event, context) => "
              "({ doubled: event.n * 2, name: context.functionName });\n")
    lam.create_function(FunctionName=unique, Runtime="nodejs20.x", Role=ROLE,
                        Handler="index.handler", Code={"ZipFile": zipped(**{"index.mjs": source})})
    assert _invoke(lam, unique, {"n": 21})[1] == {"doubled": 42, "name": unique}
    lam.delete_function(FunctionName=unique)


def test_a_function_can_import_modules_packaged_beside_it(lam: Any, unique: str) -> None:
    code = zipped(**{
        "main.py": "from lib.tax import rate\n\ndef handler(e, c):\n    return rate()\n",
        "lib__tax.py": "def rate():\n    return 0.2\n",
        "lib____init__.py": "",
    })
    lam.create_function(FunctionName=unique, Runtime="python3.11", Role=ROLE,
                        Handler="main.handler", Code={"ZipFile": code})
    assert _invoke(lam, unique, {})[1] == 0.2
    lam.delete_function(FunctionName=unique)


def test_functions_deployed_by_the_api_run_in_state_machines(
        lam: Any, sfn: Any, unique: str) -> None:
    lam.create_function(FunctionName=unique, **python_function(GREETER))
    definition = json.dumps({"StartAt": "Greet", "States": {
        "Greet": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": function_arn(unique), "Payload.$": "$"},
                  "OutputPath": "$.Payload", "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"who": "Grace"}')["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["greeting"] == "hello Grace"
    sfn.delete_state_machine(stateMachineArn=machine)
    lam.delete_function(FunctionName=unique)


SLEEPER = '''
import time


def handler(event, context):
    print("going to sleep")
    time.sleep(event.get("seconds", 30))
    return "awake"
'''
UNKNOWN = ("The cause could not be determined because Lambda did not return an error type. "
           "Returned payload: ")


def _timed_out_after(text: str) -> float:
    """The seconds in Lambda's "Task timed out after 1.00 seconds": the time it measured (at
    least the timeout; a little more on a loaded machine, as on Lambda itself)."""
    found = re.search(r" Task timed out after (\d+\.\d\d) seconds", text)
    assert found is not None, text
    return float(found.group(1))


def test_a_timeout_is_lambda_unknown_and_retry_and_catch_see_it(lam: Any, sfn: Any,
                                                                 unique: str) -> None:
    lam.create_function(FunctionName=unique, Timeout=1, **python_function(SLEEPER))
    answer, payload = _invoke(lam, unique, {"seconds": 30})
    assert answer["FunctionError"] == "Unhandled"
    assert list(payload) == ["errorMessage"]
    assert _timed_out_after(payload["errorMessage"]) >= 1.0

    definition = json.dumps({"StartAt": "Sleep", "States": {
        "Sleep": {"Type": "Task", "Resource": function_arn(unique),
                  "Retry": [{"ErrorEquals": ["Lambda.Unknown"], "MaxAttempts": 1,
                             "IntervalSeconds": 1}],
                  "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught",
                             "Next": "Recovered"}],
                  "Next": "Unreachable"},
        "Unreachable": {"Type": "Fail", "Error": "Unreachable"},
        "Recovered": {"Type": "Pass", "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"seconds": 30}')["executionArn"]
    described = wait_for(sfn, arn, timeout=60)
    assert described["status"] == "SUCCEEDED", described
    caught = json.loads(described["output"])["caught"]
    assert caught["Error"] == "Lambda.Unknown"
    assert caught["Cause"].startswith(UNKNOWN + '{"errorMessage":"')
    assert _timed_out_after(caught["Cause"]) >= 1.0

    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    failed = [e["lambdaFunctionFailedEventDetails"] for e in events
              if e["type"] == "LambdaFunctionFailed"]
    assert len(failed) == 2  # the first attempt and its one retry
    assert all(f["error"] == "Lambda.Unknown" and f["cause"].startswith(UNKNOWN)
               for f in failed)
    assert [e["type"] for e in events][-3:] == [
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    sfn.delete_state_machine(stateMachineArn=machine)
    lam.delete_function(FunctionName=unique)
