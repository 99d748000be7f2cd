"""Every Step Functions and Lambda operation in botocore's models, called with generated
requests (strategies.py): the server answers each with its result or an AWS-shaped error, never
a 5xx other than 503, never a traceback in its log (checked when the session ends)."""

from __future__ import annotations

import json
import time
import zipfile
from io import BytesIO
from typing import Any

import botocore.session
import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from tests.fuzz.conftest import EXAMPLE, ROLE, SEED, FuzzServer, fuzz_settings
from tests.fuzz.strategies import Pool, rest_request, structure

_SESSION = botocore.session.get_session()
SFN = _SESSION.get_service_model("stepfunctions")
LAMBDA = _SESSION.get_service_model("lambda")
#: Examples per operation in CI (times STATEWRIGHT_FUZZ_SCALE).
EXAMPLES = 3

WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
ACTIVITY_TASK = {"StartAt": "A", "States": {"A": {"Type": "Task", "End": True,
                 "Resource": "arn:aws:states:us-east-1:123456789012:activity:fuzz-activity"}}}


def _zip(source: str) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fuzzfn.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pool(fuzz_server: FuzzServer) -> Pool:
    """Resources the generated requests may name: a machine, an execution, an activity, a
    function and a task token that exist."""
    sfn = fuzz_server.client()
    machine = sfn.create_state_machine(name="fuzz-machine", definition=WAIT,
                                       roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="fuzz-execution",
                                    input="{}")["executionArn"]
    activity = sfn.create_activity(name="fuzz-activity")["activityArn"]
    waiting = sfn.create_state_machine(name="fuzz-waiting", definition=json.dumps(
        ACTIVITY_TASK), roleArn=ROLE)["stateMachineArn"]
    waiting_execution = sfn.start_execution(stateMachineArn=waiting, input="{}")["executionArn"]
    fuzz_server.executions += [execution, waiting_execution]
    token = "not-a-token"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        task = sfn.get_activity_task(activityArn=activity, workerName="fuzz")
        if task.get("taskToken"):
            token = task["taskToken"]
            break
    fuzz_server.client("lambda").create_function(
        FunctionName="fuzzfn", Runtime="python3.12", Role=ROLE, Handler="fuzzfn.handler",
        Code={"ZipFile": _zip("def handler(event, context):\n    return event\n")})
    definition = (EXAMPLE / "definition.json").read_text()
    return Pool([
        machine, execution, activity, waiting, waiting_execution, "fuzzfn", "fuzz-machine",
        machine + ":1", execution.replace(":execution:", ":stateMachine:"),
        "arn:aws:lambda:us-east-1:123456789012:function:fuzzfn", ROLE,
        token, '{"orderId": "x"}', "[1, 2, 3]", WAIT, definition, "{}", "null",
    ])


def _record_execution(fuzz_server: FuzzServer, body: bytes) -> None:
    try:
        arn = json.loads(body).get("executionArn")
    except (ValueError, AttributeError):
        return
    if isinstance(arn, str):
        fuzz_server.executions.append(arn)


@pytest.mark.parametrize("operation", SFN.operation_names)
def test_step_functions_operation(operation: str, fuzz_server: FuzzServer, pool: Pool) -> None:
    model = SFN.operation_model(operation)
    members = structure(model.input_shape, pool) if model.input_shape else st.just({})
    bodies = st.one_of(members.map(lambda m: json.dumps(m).encode()), st.binary(max_size=64))

    @seed(SEED)
    @fuzz_settings(EXAMPLES)
    @given(body=bodies)
    def run(body: bytes) -> None:
        answer = fuzz_server.sfn(operation, body)
        assert answer.status < 500 or answer.status == 503, (answer.status, answer.body)
        if answer.status != 200:
            error: Any = json.loads(answer.body)
            assert set(error) == {"__type", "message"}, error
        elif operation.startswith("StartExecution"):
            _record_execution(fuzz_server, answer.body)

    run()


@pytest.mark.parametrize("operation", LAMBDA.operation_names)
def test_lambda_operation(operation: str, fuzz_server: FuzzServer, pool: Pool) -> None:
    model = LAMBDA.operation_model(operation)
    members = structure(model.input_shape, pool) if model.input_shape else st.just({})

    @seed(SEED)
    @fuzz_settings(EXAMPLES)
    @given(members=members)
    def run(members: dict[str, Any]) -> None:
        request = rest_request(model, members)
        answer = fuzz_server.send(request.method, request.path, request.body, request.headers)
        assert answer.status < 500 or answer.status == 503, (request, answer.status,
                                                              answer.body)

    run()
