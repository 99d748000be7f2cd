"""The console's HTTP side: the redirect, the shipped files and the JSON API, against a real
server (no browser)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from tests.api.conftest import Server
from tests.console.conftest import call, order_machine

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def wait_for_status(server: Server, arn: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = call(server, "/console/api/execution", params={"arn": arn})
        if answer.body["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(answer.body)
        time.sleep(0.05)


def test_root_redirects_to_the_console_and_post_root_is_still_the_api(
        console_server: Server) -> None:
    request = urllib.request.Request(console_server.url + "/", method="GET")
    with urllib.request.urlopen(request, timeout=10) as response:  # follows the redirect
        assert response.url == console_server.url + "/console/"
        page = response.read().decode()
        headers = dict(response.headers)
    assert "<title>statewright console</title>" in page
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    answer = call(console_server, "/", "POST", {})
    assert answer.status == 400  # no X-Amz-Target: the Step Functions API answers, not us


def test_shipped_files_include_dagre_and_its_licence(console_server: Server) -> None:
    for path in ("/console/static/js/app.js", "/console/static/console.css",
                 "/console/static/vendor/dagre/dagre.esm.js"):
        answer = call(console_server, path)
        assert answer.status == 200, path
        assert answer.headers["content-security-policy"]
    licence = call(console_server, "/console/static/vendor/dagre/LICENSE")
    assert "Chris Pettitt" in licence.body and "Permission is hereby granted" in licence.body
    assert call(console_server, "/console/static/../routes.py").status == 404


def test_create_refuses_a_bad_definition_with_located_diagnostics(
        console_server: Server) -> None:
    bad = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    answer = call(console_server, "/console/api/state-machine", "POST",
                  {"name": "bad-one", "definition": bad})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidDefinition"
    located = [(d["code"], d["location"]) for d in answer.body["diagnostics"]]
    assert ("MISSING_TRANSITION_TARGET", "/States/A/Next") in located
    checked = call(console_server, "/console/api/validate", "POST", {"definition": bad})
    assert checked.body["result"] == "FAIL"
    missing = call(console_server, "/console/api/state-machine", "POST", {"name": "x"})
    assert missing.status == 400 and missing.body["error"]["code"] == "ValidationException"
    not_json = call(console_server, "/console/api/state-machine", "POST",
                    {"name": "x", "definition": "{"})
    assert not_json.status == 400 and not_json.body["diagnostics"]


def test_machine_lifecycle_executions_history_and_stream(console_server: Server) -> None:
    created = call(console_server, "/console/api/state-machine", "POST",
                   {"name": "api-pass", "definition": PASS})
    arn = created.body["arn"]
    started = [call(console_server, "/console/api/executions", "POST",
                    {"stateMachineArn": arn, "input": json.dumps({"n": i}), "name": f"run-{i}"})
               for i in range(3)]
    assert all(s.status == 200 for s in started)
    refused = call(console_server, "/console/api/executions", "POST",
                   {"stateMachineArn": arn, "input": "{not json"})
    assert refused.status == 400 and refused.body["error"]["code"] == "InvalidExecutionInput"

    machine = call(console_server, "/console/api/state-machine", params={"arn": arn}).body
    assert machine["definition"] == PASS and machine["counts"] == {"SUCCEEDED": 3}
    listed = call(console_server, "/console/api/executions",
                  params={"stateMachineArn": arn, "limit": "2"}).body
    assert [e["name"] for e in listed["executions"]] == ["run-2", "run-1"]
    older = call(console_server, "/console/api/executions",
                 params={"stateMachineArn": arn, "nextToken": listed["nextToken"]}).body
    assert [e["name"] for e in older["executions"]] == ["run-0"]
    named = call(console_server, "/console/api/executions",
                 params={"stateMachineArn": arn, "name": "n-1", "status": "SUCCEEDED"}).body
    assert [e["name"] for e in named["executions"]] == ["run-1"]

    execution_arn = started[1].body["executionArn"]
    history = call(console_server, "/console/api/execution/history",
                   params={"arn": execution_arn, "after": "1"}).body
    assert [e["id"] for e in history["events"]] == [2, 3, 4]
    assert history["events"][0]["details"]["name"] == "P" and history["more"] is False
    # An ended execution's stream sends what is left, then ends.
    stream = call(console_server, "/console/api/execution/stream",
                  params={"arn": execution_arn, "after": "2"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    kinds = [line[7:] for line in stream.body.splitlines() if line.startswith("event: ")]
    assert kinds == ["events", "execution", "end"]

    missing = call(console_server, "/console/api/execution",
                   params={"arn": execution_arn + "-nope"})
    assert missing.status == 400 and missing.body["error"]["code"] == "ExecutionDoesNotExist"
    assert call(console_server, "/console/api/state-machine", "DELETE",
                params={"arn": arn}).status == 200
    gone = call(console_server, "/console/api/state-machine", params={"arn": arn})
    assert gone.body["error"]["code"] == "StateMachineDoesNotExist"


def test_stop_a_running_execution(console_server: Server) -> None:
    definition = json.dumps({"StartAt": "Nap", "States": {"Nap": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleep",
        "End": True}}})
    arn = call(console_server, "/console/api/state-machine", "POST",
               {"name": "api-sleepy", "definition": definition}).body["arn"]
    execution_arn = call(console_server, "/console/api/executions", "POST",
                         {"stateMachineArn": arn, "input": '{"seconds": 30}'}
                         ).body["executionArn"]
    stopped = call(console_server, "/console/api/execution/stop", "POST",
                   {"arn": execution_arn})
    assert stopped.status == 200
    assert wait_for_status(console_server, execution_arn)["status"] == "ABORTED"


def test_functions_and_their_recent_invocations(console_server: Server) -> None:
    arn = order_machine(console_server, "api-no-stock", "noStock")
    execution_arn = call(console_server, "/console/api/executions", "POST",
                         {"stateMachineArn": arn, "input": '{"orderId": "o-7"}'}
                         ).body["executionArn"]
    ended = wait_for_status(console_server, execution_arn)
    assert (ended["status"], ended["error"]) == ("FAILED", "OutOfStockError")
    assert [i["functionName"] for i in ended["invocations"]] == ["noStock"]
    names = [f["name"] for f in call(console_server, "/console/api/functions").body["functions"]]
    assert {"checkInventory", "noStock", "processPayment", "updateOrderStatus"} <= set(names)
    detail = call(console_server, "/console/api/function", params={"name": "noStock"}).body
    assert detail["runtime"] == "python3.12" and detail["handler"] == "noStock.handler"
    mine = [i for i in detail["invocations"] if i["executionArn"] == execution_arn]
    assert len(mine) == 1 and "Checking inventory for order: o-7" in mine[0]["logs"]
    unknown = call(console_server, "/console/api/function", params={"name": "nope"})
    assert unknown.status == 404


def test_writes_need_json_so_other_sites_cannot_forge_them(console_server: Server) -> None:
    # A form or text/plain POST from another site needs no CORS preflight; JSON does.
    request = urllib.request.Request(
        console_server.url + "/console/api/state-machine", method="POST",
        data=json.dumps({"name": "forged", "definition": PASS}).encode(),
        headers={"Content-Type": "text/plain"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a text/plain write was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 400
        assert json.loads(error.read())["error"]["code"] == "ValidationException"
    listed = call(console_server, "/console/api/state-machines").body["stateMachines"]
    assert "forged" not in [m["name"] for m in listed]
