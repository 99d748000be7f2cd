"""Access keys bound to IAM roles, and functions' own credentials (issue 12), over the wire
against a real server with boto3 and the AWS CLI.

AWS facts used here (looked up; see docs/security.md):
- A denied Step Functions call is ``AccessDeniedException`` with HTTP 400 (awsJson): "User:
  arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to perform:
  states:StartExecution on resource: arn:aws:states:...:stateMachine:NAME because no
  identity-based policy allows the states:StartExecution action" (SDK reports of
  ValidateStateMachineDefinition, ListExecutions and StartExecution denials); Lambda answers
  403 ``AccessDeniedException`` (lambda:GetFunctionConfiguration denial as logged by an SDK);
  IAM (Query) answers 403 ``AccessDenied``.
- The Service Authorization Reference: states:StartExecution/DescribeStateMachine on the
  stateMachine ARN, states:DescribeExecution on the execution ARN, ListStateMachines and the
  SendTask* callbacks have no resource type ("*"); CreateStateMachine also needs iam:PassRole
  (iam:PassedToService = states.amazonaws.com), CreateFunction iam:PassRole for
  lambda.amazonaws.com.
- Lambda hands a function its execution role's temporary credentials in AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the session name is the function's name.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.api.conftest import ACCOUNT, REGION, aws_cli, cli_env, wait_for
from tests.api.lambda_helpers import python_function
from tests.api.test_access import Secured, _error, keys_cli
from tests.api.test_access import secured as secured  # this module's own secured server

LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _machine(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


@dataclass
class Bound:
    """A key bound to a role, made with ``statewright keys create --role``."""

    role: str
    key_id: str
    secret: str


def _bound_key(secured: Secured, role: str, policy: str, name: str) -> Bound:
    iam = secured.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.put_role_policy(RoleName=role, PolicyName="scope", PolicyDocument=policy)
    created = keys_cli("create", "--name", name, "--role", role, "--db", secured.db,
                       env=secured.env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    return Bound(role, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def reader(secured: Secured, unique: str) -> Iterator[tuple[Bound, str]]:
    """A key whose role may list state machines, describe and start one, read the function
    ``checkInventory`` and its own role, and nothing else."""
    allowed = unique + "-ok"
    secured.client("stepfunctions").create_state_machine(
        name=allowed, definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/example")
    bound = _bound_key(secured, unique, _policy(
        {"Effect": "Allow", "Action": "states:ListStateMachines", "Resource": "*"},
        {"Effect": "Allow", "Action": ["states:DescribeStateMachine", "states:StartExecution"],
         "Resource": _machine(allowed)},
        {"Effect": "Allow", "Action": "states:DescribeExecution",
         "Resource": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{allowed}:*"},
        {"Effect": "Allow", "Action": "lambda:GetFunction",
         "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:checkInventory"},
        {"Effect": "Allow", "Action": "iam:GetRole",
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/{unique}"}), name="reader")
    yield bound, allowed


def _denied(message: str, role: str, session: str, action: str, resource: str) -> None:
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session} is not authorized to "
        f"perform: {action} on resource: {resource} because no identity-based policy allows "
        f"the {action} action")


def test_a_role_bound_key_does_what_its_role_allows(
        secured: Secured, reader: tuple[Bound, str]) -> None:
    bound, allowed = reader
    sfn = secured.client("stepfunctions", bound.key_id, bound.secret)
    assert allowed in {m["name"] for m in sfn.list_state_machines()["stateMachines"]}
    assert sfn.describe_state_machine(stateMachineArn=_machine(allowed))["name"] == allowed
    execution = sfn.start_execution(stateMachineArn=_machine(allowed))["executionArn"]
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"
    lam = secured.client("lambda", bound.key_id, bound.secret)
    assert lam.get_function(FunctionName="checkInventory")["Configuration"][
        "FunctionName"] == "checkInventory"
    iam = secured.client("iam", bound.key_id, bound.secret)
    assert iam.get_role(RoleName=bound.role)["Role"]["RoleName"] == bound.role


def test_a_role_bound_key_is_refused_what_its_role_does_not_allow(
        secured: Secured, reader: tuple[Bound, str], unique: str) -> None:
    bound, allowed = reader
    sfn = secured.client("stepfunctions", bound.key_id, bound.secret)
    other = unique + "-other"
    code, status, message = _error(lambda: sfn.create_state_machine(
        name=other, definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/example"))
    assert (code, status) == ("AccessDeniedException", 400)
    _denied(message, bound.role, "reader", "states:CreateStateMachine", _machine(other))
    admin = secured.client("stepfunctions")
    assert other not in {m["name"] for m in admin.list_state_machines()["stateMachines"]}
    # Another state machine's ARN is another resource.
    admin.create_state_machine(name=other, definition=PASS,
                               roleArn=f"arn:aws:iam::{ACCOUNT}:role/example")
    code, status, message = _error(lambda: sfn.start_execution(
        stateMachineArn=_machine(other)))
    assert (code, status) == ("AccessDeniedException", 400)
    _denied(message, bound.role, "reader", "states:StartExecution", _machine(other))
    assert admin.list_executions(stateMachineArn=_machine(other))["executions"] == []
    code, status, message = _error(lambda: sfn.delete_state_machine(
        stateMachineArn=_machine(allowed)))
    assert (code, status) == ("AccessDeniedException", 400)
    assert admin.describe_state_machine(stateMachineArn=_machine(allowed))

    lam = secured.client("lambda", bound.key_id, bound.secret)
    code, status, message = _error(lambda: lam.invoke(FunctionName="checkInventory"))
    assert (code, status) == ("AccessDeniedException", 403)
    _denied(message, bound.role, "reader", "lambda:InvokeFunction",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:checkInventory")
    assert _error(lam.list_functions)[:2] == ("AccessDeniedException", 403)
    assert _error(lambda: lam.delete_function(FunctionName="checkInventory"))[:2] == (
        "AccessDeniedException", 403)
    assert secured.client("lambda").get_function(FunctionName="checkInventory")

    iam = secured.client("iam", bound.key_id, bound.secret)
    code, status, message = _error(lambda: iam.create_role(
        RoleName=unique + "-new", AssumeRolePolicyDocument=LAMBDA_TRUST))
    assert (code, status) == ("AccessDenied", 403)
    _denied(message, bound.role, "reader", "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/{unique}-new")
    # The key cannot widen its own role.
    code, status, _ = _error(lambda: iam.put_role_policy(
        RoleName=bound.role, PolicyName="more", PolicyDocument=_policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*"})))
    assert (code, status) == ("AccessDenied", 403)
    assert secured.client("iam").list_role_policies(RoleName=bound.role)[
        "PolicyNames"] == ["scope"]


def test_an_explicit_deny_and_conditions_decide(secured: Secured, unique: str) -> None:
    """aws:RequestedRegion is the signature's region; aws:SourceIp the client's address."""
    bound = _bound_key(secured, unique, _policy(
        {"Effect": "Allow", "Action": "states:List*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}},
        {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}), name="cond")
    sfn = secured.client("stepfunctions", bound.key_id, bound.secret)
    assert "stateMachines" in sfn.list_state_machines()
    elsewhere = secured.client("stepfunctions", bound.key_id, bound.secret,
                               region="eu-west-3")
    assert _error(elsewhere.list_state_machines)[:2] == ("AccessDeniedException", 400)
    lam = secured.client("lambda", bound.key_id, bound.secret)
    code, _, message = _error(lam.list_functions)
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_keys_create_role_needs_an_existing_role_and_list_shows_the_binding(
        secured: Secured, reader: tuple[Bound, str]) -> None:
    bound, _ = reader
    refused = keys_cli("create", "--role", "no-such-role", "--db", secured.db,
                       env=secured.env)
    assert refused.returncode != 0
    assert "The role with name no-such-role cannot be found." in refused.stderr
    listed = [json.loads(line) for line in keys_cli(
        "list", "--db", secured.db, env=secured.env).stdout.splitlines()]
    mine = next(k for k in listed if k["AccessKeyId"] == bound.key_id)
    assert mine["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{bound.role}"
    admin = next(k for k in listed if k["AccessKeyId"] == secured.key_id)
    assert "Role" not in admin


def test_a_key_whose_role_was_deleted_may_do_nothing(secured: Secured, unique: str) -> None:
    bound = _bound_key(secured, unique, _policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}), name="gone")
    sfn = secured.client("stepfunctions", bound.key_id, bound.secret)
    sfn.list_state_machines()
    iam = secured.client("iam")
    iam.delete_role_policy(RoleName=unique, PolicyName="scope")
    iam.delete_role(RoleName=unique)
    assert _error(sfn.list_state_machines)[:2] == ("AccessDeniedException", 400)


def test_the_aws_cli_with_a_role_bound_key(secured: Secured, reader: tuple[Bound, str],
                                           tmp_path: Path, unique: str) -> None:
    bound, allowed = reader
    cli = aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI is not installed (the test extra installs it)")
    env = {**cli_env(tmp_path), "AWS_ACCESS_KEY_ID": bound.key_id,
           "AWS_SECRET_ACCESS_KEY": bound.secret}
    base = [cli, "--endpoint-url", secured.server.url, "--output", "json"]
    listed = subprocess.run([*base, "stepfunctions", "list-state-machines"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert allowed in listed.stdout
    refused = subprocess.run(
        [*base, "stepfunctions", "create-state-machine", "--name", unique + "-cli",
         "--definition", PASS, "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/example"],
        capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode != 0
    assert "(AccessDeniedException)" in refused.stderr
    assert "is not authorized to perform: states:CreateStateMachine" in refused.stderr


# ----------------------------------------------------------------------------- functions


PROBE = """
    import os
    import boto3
    from botocore.exceptions import ClientError

    def handler(event, context):
        seen = {"key": os.environ["AWS_ACCESS_KEY_ID"][:4],
                "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
                "server_key_file": "STATEWRIGHT_SERVER_KEY_FILE" in os.environ}
        sfn = boto3.client("stepfunctions")
        try:
            sfn.list_state_machines()
            seen["list"] = "allowed"
        except ClientError as error:
            seen["list"] = error.response["Error"]["Code"]
            seen["message"] = error.response["Error"]["Message"]
        sfn.send_task_success(taskToken=event["token"], output=__import__("json").dumps(seen))
        return {}
"""


def _run_probe(secured: Secured, function: str, machine: str) -> dict[str, Any]:
    sfn = secured.client("stepfunctions")
    definition = json.dumps({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}}})
    arn = sfn.create_state_machine(name=machine, definition=definition,
                                   roleArn=f"arn:aws:iam::{ACCOUNT}:role/example")[
        "stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = wait_for(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    return dict(json.loads(described["output"]))


def test_a_function_gets_its_own_credentials_scoped_to_its_role(
        secured: Secured, unique: str) -> None:
    """The function's role may send task results but not list state machines: its calls are
    authorised as its role's session, named after the function."""
    iam = secured.client("iam")
    iam.create_role(RoleName=unique, AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.put_role_policy(RoleName=unique, PolicyName="callbacks", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": ["states:SendTaskSuccess", "states:SendTaskFailure"],
         "Resource": "*"}))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{unique}"
    lam = secured.client("lambda")
    lam.create_function(FunctionName=unique, **{**python_function(PROBE), "Role": role_arn})
    seen = _run_probe(secured, unique, unique)
    assert seen["key"] == "SWAS" and seen["token"] is True
    assert seen["server_key_file"] is False
    assert seen["list"] == "AccessDeniedException"
    _denied(seen["message"], unique, unique, "states:ListStateMachines", "*")
    listed = [json.loads(line) for line in keys_cli(
        "list", "--db", secured.db, env=secured.env).stdout.splitlines()]
    keys = [k for k in listed if k.get("Function") == unique]
    assert len(keys) == 1 and keys[0]["Role"] == role_arn
    # Its role widened: the same function may now list.
    iam.put_role_policy(RoleName=unique, PolicyName="list", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "states:ListStateMachines", "Resource": "*"}))
    assert _run_probe(secured, unique, unique + "-2")["list"] == "allowed"
    # Another role: fresh workers, with a new key bound to it; the old key is gone.
    iam.create_role(RoleName=unique + "-2", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.put_role_policy(RoleName=unique + "-2", PolicyName="callbacks",
                        PolicyDocument=_policy({"Effect": "Allow",
                                                "Action": "states:SendTask*", "Resource": "*"}))
    lam.update_function_configuration(FunctionName=unique, Role=role_arn + "-2")
    seen = _run_probe(secured, unique, unique + "-3")
    assert seen["list"] == "AccessDeniedException"
    _denied(seen["message"], unique + "-2", unique, "states:ListStateMachines", "*")
    listed = [json.loads(line) for line in keys_cli(
        "list", "--db", secured.db, env=secured.env).stdout.splitlines()]
    keys = [k for k in listed if k.get("Function") == unique]
    assert [k["Role"] for k in keys] == [role_arn + "-2"]
    # Deleting the function deletes its key.
    lam.delete_function(FunctionName=unique)
    listed = [json.loads(line) for line in keys_cli(
        "list", "--db", secured.db, env=secured.env).stdout.splitlines()]
    assert [k for k in listed if k.get("Function") == unique] == []


def test_a_function_key_needs_its_session_token(secured: Secured, unique: str) -> None:
    """Without AWS_SESSION_TOKEN (or with another) a function's key is refused, as AWS's
    temporary credentials are."""
    lam = secured.client("lambda")
    lam.create_function(FunctionName=unique, **python_function("""
        import os

        def handler(event, context):
            return {k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                "AWS_SESSION_TOKEN")}
    """))
    answer = json.loads(lam.invoke(FunctionName=unique)["Payload"].read())
    key_id, secret, token = (answer["AWS_ACCESS_KEY_ID"], answer["AWS_SECRET_ACCESS_KEY"],
                             answer["AWS_SESSION_TOKEN"])
    assert key_id.startswith("SWAS") and key_id != secured.key_id
    assert secret != secured.secret

    def client(session_token: str | None) -> Any:
        return boto3.client("stepfunctions", endpoint_url=secured.server.url,
                            region_name=REGION, aws_access_key_id=key_id,
                            aws_secret_access_key=secret, aws_session_token=session_token)

    # The function's role (the tests' example ARN) is not in statewright's IAM: not enforced.
    assert "stateMachines" in client(token).list_state_machines()
    assert _error(client(None).list_state_machines)[:2] == ("UnrecognizedClientException", 400)
    assert _error(client(token + "x").list_state_machines)[:2] == (
        "UnrecognizedClientException", 400)


# ----------------------------------------------------------------------------- activities


def test_activities_need_nothing_of_the_state_machine_role_and_the_worker_is_authorised(
        secured: Secured, unique: str) -> None:
    """On AWS the state machine's role needs no permission for an activity Task; the worker
    needs states:GetActivityTask on the activity and states:SendTask* with its own
    credentials. Here the machine's role exists in IAM and allows nothing; the worker's key
    may poll one activity and send results."""
    admin = secured.client("stepfunctions")
    iam = secured.client("iam")
    machine_role = unique + "-machine"
    iam.create_role(RoleName=machine_role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))
    activity = admin.create_activity(name=unique)["activityArn"]
    other = admin.create_activity(name=unique + "-other")["activityArn"]
    worker_key = _bound_key(secured, unique + "-worker", _policy(
        {"Effect": "Allow", "Action": "states:GetActivityTask", "Resource": activity},
        {"Effect": "Allow", "Action": "states:SendTask*", "Resource": "*"}), name="worker")
    definition = json.dumps({"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "End": True}}})
    machine = admin.create_state_machine(
        name=unique, definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{machine_role}")["stateMachineArn"]
    execution = admin.start_execution(stateMachineArn=machine, input='{"n": 1}')[
        "executionArn"]
    worker = secured.client("stepfunctions", worker_key.key_id, worker_key.secret,
                            read_timeout=90)
    code, status, message = _error(lambda: worker.get_activity_task(activityArn=other))
    assert (code, status) == ("AccessDeniedException", 400)
    _denied(message, worker_key.role, "worker", "states:GetActivityTask", other)
    task = worker.get_activity_task(activityArn=activity, workerName="w")
    assert json.loads(task["input"]) == {"n": 1}
    worker.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    described = wait_for(admin, execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"done": True}
