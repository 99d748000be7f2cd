"""Mock configs on the server, as Step Functions Local takes them: ``SFN_MOCK_CONFIG`` (or
``serve --mock-config``) and StartExecution on ``stateMachineArn#TestCase``, through boto3
and the AWS CLI, with the developer guide's sample file and state machine."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import (
    ACCOUNT,
    REGION,
    ROLE,
    Server,
    aws_cli,
    cli_env,
    start_server,
    stop_and_check,
    wait_for,
)

HERE = Path(__file__).parent
SAMPLE_DEFINITION = (HERE / "aws_sample_definition.json").read_text()
SQS_RESPONSE = {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"

APPROVALS = {"StartAt": "Ask", "States": {
    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"MessageBody.$": "$$.Task.Token", "QueueUrl": "q"},
            "Next": "Pack"},
    "Pack": {"Type": "Task", "Next": "Poll",
             "Resource": f"arn:aws:states:{REGION}:{ACCOUNT}:activity:pack"},
    "Poll": {"Type": "Task", "Next": "Done?",
             "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:poll"},
    "Done?": {"Type": "Choice", "Default": "Poll",
              "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "End"}]},
    "End": {"Type": "Succeed"},
}}

PLAIN = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("mockserver")
    config = json.loads((HERE / "aws_sample_mock_config.json").read_text())
    config["StateMachines"]["Approvals"] = {"TestCases": {"Approved": {
        "Ask": "Approve", "Pack": "Packed", "Poll": "PollTwice"}}}
    config["MockedResponses"]["Packed"] = {"0": {"Return": {"box": 1}}}
    config["MockedResponses"]["Approve"] = {"0": {"Return": {"approved": True}}}
    config["MockedResponses"]["PollTwice"] = {
        "0": {"Return": {"StatusCode": 200, "Payload": {"done": False}}},
        "1": {"Return": {"StatusCode": 200, "Payload": {"done": True}}}}
    config["StateMachines"]["Express"] = config["StateMachines"]["LambdaSQSIntegration"]
    path = folder / "MockConfigFile.json"
    path.write_text(json.dumps(config))
    process, running = start_server(folder, None, env={"SFN_MOCK_CONFIG": str(path)})
    try:
        yield running
    finally:
        stop_and_check(process, running)


@pytest.fixture(scope="module")
def sfn(server: Server) -> Any:
    client = server.client()
    for name, definition, kind in [("LambdaSQSIntegration", SAMPLE_DEFINITION, "STANDARD"),
                                   ("Approvals", json.dumps(APPROVALS), "STANDARD"),
                                   ("Express", SAMPLE_DEFINITION, "EXPRESS"),
                                   ("Plain", json.dumps(PLAIN), "STANDARD")]:
        client.create_state_machine(name=name, definition=definition, roleArn=ROLE, type=kind)
    return client


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(
        executionArn=arn, maxResults=1000)["events"]
    return events


def _start(sfn: Any, case: str, machine: str = "LambdaSQSIntegration") -> dict[str, Any]:
    started = sfn.start_execution(stateMachineArn=f"{MACHINE_ARN}{machine}#{case}",
                                  name=f"{machine}-{case}")
    # As Step Functions Local answers: the execution belongs to the state machine itself.
    assert started["executionArn"] == (
        f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{machine}-{case}")
    return wait_for(sfn, started["executionArn"])


def test_happy_path(sfn: Any) -> None:
    described = _start(sfn, "HappyPath")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == SQS_RESPONSE
    assert described["stateMachineArn"] == MACHINE_ARN + "LambdaSQSIntegration"
    types = [e["type"] for e in _history(sfn, described["executionArn"])]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_retry_path_counts_invocations_across_stored_steps(sfn: Any) -> None:
    # Each retry is its own work item, committed and claimed again: the invocation number
    # comes from the execution's stored cursor.
    described = _start(sfn, "RetryPath")
    assert described["status"] == "SUCCEEDED"
    events = _history(sfn, described["executionArn"])
    failed = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failed == ["Lambda.ResourceNotReadyException", "Lambda.TimeoutException",
                      "Lambda.TimeoutException"]
    assert [e["type"] for e in events].count("TaskScheduled") == 5


def test_hybrid_path_runs_the_unmocked_state_for_real(sfn: Any) -> None:
    described = _start(sfn, "HybridPath")
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "sqs:sendMessage" in described["cause"]


def test_mocked_callback_and_activity_return_at_once_and_loops_count(sfn: Any) -> None:
    described = _start(sfn, "Approved", "Approvals")
    assert described["status"] == "SUCCEEDED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in
               _history(sfn, described["executionArn"]) if e["type"].endswith("StateEntered")]
    assert entered == ["Ask", "Pack", "Poll", "Done?", "Poll", "Done?", "End"]
    types = [e["type"] for e in _history(sfn, described["executionArn"])]
    assert types[types.index("ActivityScheduled"):types.index("ActivityScheduled") + 3] == [
        "ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]


def test_express_sync_execution_runs_a_test_case(server: Server, sfn: Any) -> None:
    client = server.client(inject_host_prefix=False)
    done = client.start_sync_execution(stateMachineArn=MACHINE_ARN + "Express#RetryPath")
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == SQS_RESPONSE


@pytest.mark.parametrize(("arn", "message"), [
    (MACHINE_ARN + "LambdaSQSIntegration#Nope", "no test case 'Nope'"),
    (MACHINE_ARN + "Approvals#HappyPath", "no test case 'HappyPath'"),
    (MACHINE_ARN + "Plain#HappyPath", "no state machine named 'Plain'"),
])
def test_unknown_test_cases_are_validation_errors(sfn: Any, arn: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        sfn.start_execution(stateMachineArn=arn)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]


def test_without_a_test_case_nothing_is_mocked(sfn: Any) -> None:
    started = sfn.start_execution(stateMachineArn=MACHINE_ARN + "LambdaSQSIntegration")
    described = wait_for(sfn, started["executionArn"])
    assert described["status"] == "FAILED"  # HelloWorldFunction is not deployed
    assert described["error"] == "Lambda.ResourceNotFoundException"


def test_the_aws_cli_command_from_the_guide(server: Server, sfn: Any, tmp_path: Path) -> None:
    cli = aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI is not installed (pip install -e '.[test]' installs it)")
    done = subprocess.run(
        [cli, "stepfunctions", "start-execution", "--endpoint", server.url,
         "--name", "executionWithHappyPathMockedServices", "--state-machine",
         f"{MACHINE_ARN}LambdaSQSIntegration#HappyPath"],
        capture_output=True, text=True, env=cli_env(tmp_path), timeout=60, check=True)
    arn = json.loads(done.stdout)["executionArn"]
    assert arn.endswith(":execution:LambdaSQSIntegration:executionWithHappyPathMockedServices")
    assert wait_for(sfn, arn)["status"] == "SUCCEEDED"
