"""The AWS CLI against the server, as a user would type it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import EXAMPLE, ROLE, Server, aws_cli, cli_env, wait_for

AWS = aws_cli()
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")


def _aws(server: Server, tmp_path: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    return subprocess.run(
        [AWS, "stepfunctions", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True, text=True, timeout=60, env={**cli_env(tmp_path), **(env or {})},
    )


def _ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_list_state_machines(server: Server, tmp_path: Path) -> None:
    listed = _ok(_aws(server, tmp_path, "list-state-machines"))
    assert isinstance(listed["stateMachines"], list)


def test_the_order_workflow_from_the_cli(server: Server, sfn: Any, tmp_path: Path,
                                         unique: str) -> None:
    created = _ok(_aws(server, tmp_path, "create-state-machine", "--name", unique,
                       "--definition", f"file://{EXAMPLE / 'definition.json'}",
                       "--role-arn", ROLE))
    arn = created["stateMachineArn"]
    started = _ok(_aws(server, tmp_path, "start-execution", "--state-machine-arn", arn,
                       "--input", f"file://{EXAMPLE / 'input.json'}"))
    wait_for(sfn, started["executionArn"])
    described = _ok(_aws(server, tmp_path, "describe-execution", "--execution-arn",
                         started["executionArn"]))
    assert described["status"] in ("SUCCEEDED", "FAILED")
    history = _ok(_aws(server, tmp_path, "get-execution-history", "--execution-arn",
                       started["executionArn"]))
    assert history["events"][0]["type"] == "ExecutionStarted"
    listed = _ok(_aws(server, tmp_path, "list-executions", "--state-machine-arn", arn))
    assert [e["executionArn"] for e in listed["executions"]] == [started["executionArn"]]


def test_errors_read_as_aws_errors(server: Server, tmp_path: Path, unique: str) -> None:
    missing = f"arn:aws:states:us-east-1:123456789012:stateMachine:{unique}"
    done = _aws(server, tmp_path, "describe-state-machine", "--state-machine-arn", missing)
    assert done.returncode != 0
    assert ("An error occurred (StateMachineDoesNotExist) when calling the "
            f"DescribeStateMachine operation: State Machine Does Not Exist: '{missing}'"
            in done.stderr)


def test_start_sync_execution_with_the_documented_setting(server: Server, tmp_path: Path,
                                                          unique: str) -> None:
    definition = json.dumps({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"sync": True}, "End": True}}})
    arn = _ok(_aws(server, tmp_path, "create-state-machine", "--name", unique, "--definition",
                   definition, "--role-arn", ROLE, "--type", "EXPRESS"))["stateMachineArn"]
    result = _ok(_aws(server, tmp_path, "start-sync-execution", "--state-machine-arn", arn,
                      env={"AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}))
    assert (result["status"], result["output"]) == ("SUCCEEDED", '{"sync":true}')


def test_an_activity_worker_from_the_cli(server: Server, sfn: Any, tmp_path: Path,
                                         unique: str) -> None:
    activity = _ok(_aws(server, tmp_path, "create-activity", "--name", unique))["activityArn"]
    definition = json.dumps({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": activity, "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition, roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                                    input='{"job": 1}')["executionArn"]
    task = _ok(_aws(server, tmp_path, "get-activity-task", "--activity-arn", activity,
                    "--worker-name", "cli-worker"))
    assert json.loads(task["input"]) == {"job": 1}
    _ok(_aws(server, tmp_path, "send-task-success", "--task-token", task["taskToken"],
             "--task-output", '{"done": true}'))
    described = wait_for(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED",
                                                                       {"done": True})
