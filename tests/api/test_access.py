"""Access control over the wire (issue 12): a server whose database holds an access key.

Requests are signed by boto3, the AWS CLI and botocore's own signer (``SigV4Auth``, driven
at a chosen time for the too-late case); refusals carry AWS's codes per protocol. The order
workflow runs under an IAM role whose inline policy is enforced before each Task.

AWS facts used here: a bad key against Step Functions is "Status Code: 400; Error Code:
UnrecognizedClientException" (Coral awsJson services answer 400); Lambda answers 403 with the
code in x-amzn-ErrorType (MissingAuthenticationTokenException, UnrecognizedClientException,
InvalidSignatureException seen on /2015-03-31/functions); IAM's Query codes are
InvalidClientTokenId and SignatureDoesNotMatch; the skew message is "Signature expired:
<date> is now earlier than <date> (<now> - 5 min.)". A Task whose role may not invoke the
function fails with Lambda.AWSLambdaException and the cause "User: arn:aws:sts::...:
assumed-role/ROLE/SESSION is not authorized to perform: lambda:InvokeFunction on resource:
ARN because no identity-based policy allows the lambda:InvokeFunction action (Service:
AWSLambda; Status Code: 403; Error Code: AccessDeniedException; ...)".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.conftest import (
    ACCOUNT,
    EXAMPLE,
    REGION,
    REPO,
    Server,
    aws_cli,
    cli_env,
    start_server,
    stop_and_check,
    wait_for,
)
from tests.api.lambda_helpers import python_function

#: Deterministic stand-ins for the order example's dice-rolling handlers (same names).
HANDLERS = {
    "checkInventory": "def handler(event, context):\n"
                      "    return {'orderId': event.get('orderId'), 'inStock': True}\n",
    "processPayment": "def handler(event, context):\n"
                      "    return {'orderId': event.get('orderId'), 'paymentSuccessful': True}\n",
    "updateOrderStatus": "def handler(event, context):\n"
                         "    return {'orderId': event.get('orderId'), 'status': 'Completed'}\n",
}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
DEFINITION_LAMBDA = "arn:aws:lambda:us-east-1:211125437318:function:"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@dataclass
class Secured:
    """A server whose database holds one access key."""

    server: Server
    key_id: str
    secret: str
    env: dict[str, str]
    """STATEWRIGHT_SERVER_KEY_FILE for CLI commands on the same database."""
    db: str

    def client(self, service: str, key_id: str | None = None, secret: str | None = None,
               region: str = REGION, **config: Any) -> Any:
        return boto3.client(
            service, endpoint_url=self.server.url, region_name=region,
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret,
            config=NO_RETRIES.merge(Config(**config)))


def keys_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "statewright.cli", "keys", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=60)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    folder = tmp_path_factory.mktemp("secured")
    functions = folder / "functions"
    functions.mkdir()
    for name, code in HANDLERS.items():
        (functions / f"{name}.py").write_text(code)
    db = f"sqlite:///{folder / 'db.sqlite'}"
    env = {**os.environ,
           "STATEWRIGHT_SERVER_KEY_FILE": str(folder / "keys" / "server.key")}
    created = keys_cli("create", "--name", "tests", "--db", db, env=env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert set(key) == {"AccessKeyId", "SecretAccessKey"}
    process, running = start_server(folder, functions, env=env)
    try:
        yield Secured(running, key["AccessKeyId"], key["SecretAccessKey"], env, db)
    finally:
        stop_and_check(process, running)


def _machine(name: str = "m") -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"].get("Message", ""))


# ----------------------------------------------------------------------------- signatures


def test_signed_requests_work_on_every_service_and_in_any_region(secured: Secured) -> None:
    sfn = secured.client("stepfunctions", region="eu-west-3")
    assert "stateMachines" in sfn.list_state_machines()
    assert "Functions" in secured.client("lambda").list_functions()
    assert "Roles" in secured.client("iam").list_roles()


def test_unsigned_requests_are_refused_and_store_nothing(secured: Secured, unique: str) -> None:
    sfn = secured.client("stepfunctions", signature_version=UNSIGNED)
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    code, status, _ = _error(lambda: sfn.create_state_machine(
        name=unique, definition=definition, roleArn="arn:aws:iam::123456789012:role/r"))
    assert (code, status) == ("MissingAuthenticationTokenException", 400)
    names = [m["name"] for m in secured.client("stepfunctions").list_state_machines()[
        "stateMachines"]]
    assert unique not in names

    lam = secured.client("lambda", signature_version=UNSIGNED)
    assert _error(lambda: lam.delete_function(FunctionName="checkInventory"))[:2] == (
        "MissingAuthenticationTokenException", 403)
    assert secured.client("lambda").get_function(FunctionName="checkInventory")
    iam = secured.client("iam", signature_version=UNSIGNED)
    assert _error(lambda: iam.create_role(RoleName=unique, AssumeRolePolicyDocument=TRUST))[
        :2] == ("MissingAuthenticationToken", 403)
    assert _error(lambda: secured.client("iam").get_role(RoleName=unique))[0] == "NoSuchEntity"


def test_an_unknown_key_is_refused(secured: Secured) -> None:
    other = {"key_id": "SWAKNOSUCHKEY0000000", "secret": secured.secret}
    assert _error(secured.client("stepfunctions", **other).list_state_machines)[:2] == (
        "UnrecognizedClientException", 400)
    assert _error(secured.client("lambda", **other).list_functions)[:2] == (
        "UnrecognizedClientException", 403)
    assert _error(secured.client("iam", **other).list_roles)[:2] == (
        "InvalidClientTokenId", 403)


def test_a_wrong_secret_is_a_bad_signature(secured: Secured) -> None:
    wrong = {"secret": secured.secret[:-1] + ("A" if secured.secret[-1] != "A" else "B")}
    code, status, message = _error(
        secured.client("stepfunctions", **wrong).list_state_machines)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith("The request signature we calculated does not match")
    assert _error(secured.client("lambda", **wrong).list_functions)[:2] == (
        "InvalidSignatureException", 403)
    assert _error(secured.client("iam", **wrong).list_roles)[:2] == (
        "SignatureDoesNotMatch", 403)


def _signed_at(secured: Secured, when: datetime, body: bytes) -> AWSRequest:
    """A ListStateMachines request signed by botocore's SigV4Auth as of ``when``: add_auth's
    steps, with the timestamp given instead of the clock's."""
    request = AWSRequest(method="POST", url=secured.server.url + "/", data=body, headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"})
    signer = SigV4Auth(Credentials(secured.key_id, secured.secret), "states", REGION)
    request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    return request


def _send(request: AWSRequest) -> tuple[int, Any]:
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=prepared.body, method=prepared.method,
                                 headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_request_signed_too_long_ago_or_ahead_is_refused(secured: Secured) -> None:
    now = datetime.now(UTC)
    assert _send(_signed_at(secured, now, b"{}"))[0] == 200  # the helper signs correctly
    assert _send(_signed_at(secured, now - timedelta(minutes=4), b"{}"))[0] == 200
    status, body = _send(_signed_at(secured, now - timedelta(minutes=6), b"{}"))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ")
    assert body["message"].endswith(" - 5 min.)")
    status, body = _send(_signed_at(secured, now + timedelta(minutes=6), b"{}"))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature not yet current: ")


def test_a_replayed_request_with_another_body_is_refused(secured: Secured) -> None:
    request = _signed_at(secured, datetime.now(UTC), b"{}")
    request.data = b'{"maxResults": 1}'
    status, body = _send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_an_incomplete_authorization_header_is_refused(secured: Secured) -> None:
    status, _, body = secured.server.raw(
        "AWSStepFunctions.ListStateMachines", b"{}",
        {"Authorization": f"AWS4-HMAC-SHA256 Credential={secured.key_id}/20260101/us-east-1/"
                          "states/aws4_request", "X-Amz-Date": "20260101T000000Z"})
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")
    assert "Authorization header requires 'Signature' parameter." in body["message"]


def test_presigned_urls_are_query_string_signatures(secured: Secured) -> None:
    url = secured.client("lambda").generate_presigned_url("list_functions", ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert "Functions" in json.loads(response.read())
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(tampered, timeout=30)
    assert raised.value.code == 403
    assert raised.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"

    # botocore presigns a Query-protocol operation for its HTTP method, POST (empty body).
    listing = secured.client("iam").generate_presigned_url("list_roles", ExpiresIn=60)
    with urllib.request.urlopen(urllib.request.Request(listing, b"", method="POST"),
                                timeout=30) as response:
        assert b"<ListRolesResponse" in response.read()


def test_the_aws_cli_signs_with_the_key(secured: Secured, tmp_path: Path) -> None:
    cli = aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI is not installed (the test extra installs it)")
    env = {**cli_env(tmp_path), "AWS_ACCESS_KEY_ID": secured.key_id,
           "AWS_SECRET_ACCESS_KEY": secured.secret}
    base = [cli, "--endpoint-url", secured.server.url, "--output", "json"]
    listed = subprocess.run([*base, "stepfunctions", "list-state-machines"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "stateMachines" in json.loads(listed.stdout)
    # The seed's IAM set-up and cleanup, with the CLI.
    role = f"cli-{time.monotonic_ns()}"
    for command in (
        ["iam", "create-role", "--role-name", role, "--assume-role-policy-document", TRUST],
        ["iam", "put-role-policy", "--role-name", role, "--policy-name", "invoke",
         "--policy-document", _inline(*HANDLERS)],
        ["iam", "delete-role-policy", "--role-name", role, "--policy-name", "invoke"],
        ["iam", "delete-role", "--role-name", role],
    ):
        done = subprocess.run([*base, *command], capture_output=True, text=True, env=env,
                              timeout=120)
        assert done.returncode == 0, (command, done.stderr)
    roles = subprocess.run([*base, "iam", "list-roles"], capture_output=True, text=True,
                           env=env, timeout=120)
    assert roles.returncode == 0, roles.stderr
    assert role not in roles.stdout
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    refused = subprocess.run([*base, "lambda", "list-functions"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert refused.returncode != 0
    assert "InvalidSignatureException" in refused.stderr


def test_a_deleted_key_no_longer_signs(secured: Secured) -> None:
    created = keys_cli("create", "--db", secured.db, env=secured.env)
    key = json.loads(created.stdout)
    sfn = secured.client("stepfunctions", key["AccessKeyId"], key["SecretAccessKey"])
    sfn.list_state_machines()
    listed = keys_cli("list", "--db", secured.db, env=secured.env)
    assert key["AccessKeyId"] in listed.stdout
    assert key["SecretAccessKey"] not in listed.stdout and secured.secret not in listed.stdout
    assert keys_cli("delete", key["AccessKeyId"], "--db", secured.db,
                    env=secured.env).returncode == 0
    assert _error(sfn.list_state_machines)[0] == "UnrecognizedClientException"


# ----------------------------------------------------------------------------- tokens


def test_a_forged_task_token_is_rejected(secured: Secured, unique: str) -> None:
    sfn = secured.client("stepfunctions")
    definition = json.dumps({"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "checkInventory",
                       "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}}})
    machine = sfn.create_state_machine(
        name=unique, definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/not-in-statewright-iam")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    token = _token_of(sfn, execution)
    body, _, tag = token.rpartition(".")
    # The parts a token names are guessable; the tag over them is not.
    forged = f"{body}.{'A' * len(tag)}"
    assert _error(lambda: sfn.send_task_success(taskToken=forged, output="{}"))[:2] == (
        "InvalidToken", 400)
    assert _error(lambda: sfn.send_task_success(taskToken=body, output="{}"))[0] == (
        "InvalidToken")
    sfn.send_task_success(taskToken=token, output='{"ok": true}')
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"
    # A token of a finished Task is stale.
    assert _error(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == (
        "TaskTimedOut")


def _token_of(sfn: Any, execution: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        for event in sfn.get_execution_history(executionArn=execution)["events"]:
            if event["type"] == "TaskScheduled":
                params = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return str(params["Payload"]["token"])
        assert time.monotonic() < deadline, "no TaskScheduled event"
        time.sleep(0.05)


def test_a_function_signs_its_callback_with_its_own_key(secured: Secured, unique: str) -> None:
    """With signatures checked, functions get an access key of their own (never the
    server's secrets), so a handler's SendTaskSuccess still reaches the server."""
    lam = secured.client("lambda")
    lam.create_function(FunctionName=unique, **python_function("""
        import os
        import boto3

        def handler(event, context):
            assert "STATEWRIGHT_SERVER_KEY_FILE" not in os.environ
            boto3.client("stepfunctions").send_task_success(
                taskToken=event["token"], output='{"approved": true}')
            return {}
    """))
    sfn = secured.client("stepfunctions")
    definition = json.dumps({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": unique, "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}}})
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=f"arn:aws:iam::{ACCOUNT}:role/example")
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True}
    listed = keys_cli("list", "--db", secured.db, env=secured.env)
    assert f'"Function": "{unique}"' in listed.stdout


# ----------------------------------------------------------------------------- IAM


def _inline(*functions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "lambda:InvokeFunction",
        "Resource": [DEFINITION_LAMBDA + name for name in functions]}]})


def test_the_order_workflow_runs_under_an_enforced_role(secured: Secured, unique: str) -> None:
    iam = secured.client("iam")
    sfn = secured.client("stepfunctions")
    role = iam.create_role(RoleName=unique, AssumeRolePolicyDocument=TRUST)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{unique}"
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)  # botocore decodes it
    iam.put_role_policy(RoleName=unique, PolicyName="invoke",
                        PolicyDocument=_inline(*HANDLERS))
    definition = (EXAMPLE / "definition.json").read_text()
    machine = sfn.create_state_machine(name=unique, definition=definition,
                                       roleArn=role["Arn"])["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=machine, input='{"orderId": "o-1"}')
    described = wait_for(sfn, run["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"orderId": "o-1", "status": "Completed"}

    # The policy leaves processPayment out: the Task fails as AWS's does, in the history.
    iam.put_role_policy(RoleName=unique, PolicyName="invoke",
                        PolicyDocument=_inline("checkInventory", "updateOrderStatus"))
    run = sfn.start_execution(stateMachineArn=machine, input='{"orderId": "o-2"}')
    described = wait_for(sfn, run["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED",
                                                          "Lambda.AWSLambdaException")
    events = sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    failed = [e["lambdaFunctionFailedEventDetails"] for e in events
              if e["type"] == "LambdaFunctionFailed"]
    assert len(failed) == 1
    assert failed[0]["error"] == "Lambda.AWSLambdaException"
    cause = failed[0]["cause"]
    assert cause.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{unique}/")
    assert (f"is not authorized to perform: lambda:InvokeFunction on resource: "
            f"{DEFINITION_LAMBDA}processPayment because no identity-based policy allows the "
            "lambda:InvokeFunction action (Service: AWSLambda; Status Code: 403; Error Code: "
            "AccessDeniedException; Request ID: ") in cause
    succeeded = [e for e in events if e["type"] == "LambdaFunctionSucceeded"]
    assert len(succeeded) == 1  # checkInventory ran; processPayment never did

    # An explicit Deny wins over the managed policy that allows every function.
    iam.attach_role_policy(RoleName=unique,
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    iam.put_role_policy(RoleName=unique, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "NotAction": "lambda:Get*", "Resource": "*:updateOrderStatus"}]}))
    run = sfn.start_execution(stateMachineArn=machine, input='{"orderId": "o-3"}')
    described = wait_for(sfn, run["executionArn"])
    assert described["error"] == "Lambda.AWSLambdaException"
    assert "updateOrderStatus with an explicit deny in an identity-based policy" in \
        described["cause"]

    # The seed's cleanup, through the APIs: functions, state machine, role policy, role.
    assert _error(lambda: iam.delete_role(RoleName=unique))[:2] == ("DeleteConflict", 409)
    iam.delete_role_policy(RoleName=unique, PolicyName="invoke")
    assert _error(lambda: iam.delete_role(RoleName=unique))[:2] == ("DeleteConflict", 409)
    assert iam.list_attached_role_policies(RoleName=unique)["AttachedPolicies"] == [{
        "PolicyName": "AWSLambdaRole",
        "PolicyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"}]
    iam.detach_role_policy(RoleName=unique,
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    sfn.delete_state_machine(stateMachineArn=machine)
    iam.delete_role(RoleName=unique)
    assert _error(lambda: iam.get_role(RoleName=unique))[:2] == ("NoSuchEntity", 404)


def test_iam_roles_and_policies_round_trip(secured: Secured, unique: str) -> None:
    iam = secured.client("iam")
    iam.create_role(RoleName=unique, AssumeRolePolicyDocument=TRUST, Path="/service-role/",
                    Description="for tests")
    assert _error(lambda: iam.create_role(RoleName=unique, AssumeRolePolicyDocument=TRUST))[
        :2] == ("EntityAlreadyExists", 409)
    got = iam.get_role(RoleName=unique)["Role"]
    assert (got["Path"], got["Description"], got["MaxSessionDuration"]) == (
        "/service-role/", "for tests", 3600)
    assert got["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/{unique}"
    assert unique in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert _error(lambda: iam.put_role_policy(RoleName=unique, PolicyName="p",
                                              PolicyDocument='{"Statement": []}'))[:2] == (
        "MalformedPolicyDocument", 400)
    document = _inline("checkInventory")
    iam.put_role_policy(RoleName=unique, PolicyName="p", PolicyDocument=document)
    assert iam.get_role_policy(RoleName=unique, PolicyName="p")["PolicyDocument"] == \
        json.loads(document)
    assert iam.list_role_policies(RoleName=unique)["PolicyNames"] == ["p"]
    policy = iam.create_policy(PolicyName=unique, PolicyDocument=document)["Policy"]
    assert policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/{unique}"
    iam.attach_role_policy(RoleName=unique, PolicyArn=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    assert _error(lambda: iam.delete_policy(PolicyArn=policy["Arn"]))[:2] == (
        "DeleteConflict", 409)
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")
    assert version["PolicyVersion"]["Document"] == json.loads(document)
    managed = iam.get_policy(
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")["Policy"]
    assert managed["PolicyName"] == "AWSLambdaRole"
    assert _error(lambda: iam.attach_role_policy(
        RoleName=unique, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none"))[0] == "NoSuchEntity"
    iam.detach_role_policy(RoleName=unique, PolicyArn=policy["Arn"])
    iam.delete_policy(PolicyArn=policy["Arn"])
    iam.delete_role_policy(RoleName=unique, PolicyName="p")
    assert _error(lambda: iam.delete_role_policy(RoleName=unique, PolicyName="p"))[:2] == (
        "NoSuchEntity", 404)
    iam.delete_role(RoleName=unique)
    assert _error(lambda: iam.create_role(RoleName="bad name!",
                                          AssumeRolePolicyDocument=TRUST))[0] == "ValidationError"
    unchecked = secured.client("iam", parameter_validation=False)
    code, status, message = _error(lambda: unchecked.create_role(RoleName=unique))
    assert (code, status) == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value null at 'assumeRolePolicyDocument' "
                       "failed to satisfy constraint: Member must not be null")
