"""The awsJson 1.0 framing over raw HTTP: targets, bodies, hosts, request ids, errors."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
from typing import Any, cast

import boto3
import pytest

from statewright.api import create_app, protocol
from statewright.runtime.engine import Engine
from tests.api.conftest import ROLE, Server, pass_machine, wait_for

TARGET = "AWSStepFunctions."


def _machine_count(server: Server) -> int:
    status, _, body = server.raw(TARGET + "ListStateMachines", '{"maxResults": 1000}')
    assert status == 200
    return len(body["stateMachines"])


def test_health(server: Server) -> None:
    import urllib.request

    with urllib.request.urlopen(server.url + "/health", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_answers_carry_a_request_id_and_the_json_content_type(server: Server) -> None:
    ok = server.raw(TARGET + "ListStateMachines", "{}")
    failed = server.raw(TARGET + "DescribeStateMachine", "{}")
    ids = set()
    for _status, headers, _ in (ok, failed):
        lowered = {k.lower(): v for k, v in headers.items()}
        assert lowered["content-type"] == "application/x-amz-json-1.0"
        ids.add(lowered["x-amzn-requestid"])
    assert len(ids) == 2
    assert (ok[0], failed[0]) == (200, 400)


@pytest.mark.parametrize("target", [
    TARGET + "NoSuchOperation", None, "DynamoDB_20120810.ListTables", TARGET, "",
])
def test_unknown_operations(server: Server, target: str | None) -> None:
    status, _, body = server.raw(target, "{}")
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert set(body) == {"__type", "message"}


def test_an_operation_not_implemented_yet_says_so(server: Server) -> None:
    status, _, body = server.raw(TARGET + "RedriveExecution", '{"executionArn": "x"}')
    assert status == 400
    assert body == {"__type": "UnknownOperationException",
                    "message": "statewright does not implement RedriveExecution yet"}


@pytest.mark.parametrize(("body", "message"), [
    ('{"name": "x", ', None),
    ("not json", None),
    (b"\xff\xfe", None),
    ('{"name": NaN}', None),
    ('[{"name": "x"}]', "Start of list found where not expected"),
    ('"text"', None),
])
def test_malformed_bodies_store_nothing(server: Server, body: str | bytes,
                                        message: str | None) -> None:
    before = _machine_count(server)
    status, _, answer = server.raw(TARGET + "CreateStateMachine", body)
    assert status == 400
    assert answer["__type"] == "SerializationException"
    assert "Traceback" not in answer["message"]
    if message is not None:
        assert answer["message"] == message
    assert _machine_count(server) == before


def test_an_empty_body_is_an_empty_request(server: Server) -> None:
    status, _, body = server.raw(TARGET + "ListStateMachines", "")
    assert status == 200
    assert isinstance(body["stateMachines"], list)


def test_unknown_members_are_ignored_and_null_is_absent(server: Server, unique: str) -> None:
    request = {"name": unique, "definition": pass_machine(), "roleArn": ROLE,
               "notAMember": {"x": 1}, "type": None}
    status, _, body = server.raw(TARGET + "CreateStateMachine", json.dumps(request))
    assert status == 200, body
    status, _, body = server.raw(TARGET + "DescribeStateMachine",
                                 json.dumps({"stateMachineArn": body["stateMachineArn"]}))
    assert body["type"] == "STANDARD"
    status, _, body = server.raw(TARGET + "DescribeStateMachine", '{"stateMachineArn": null}')
    assert (status, body["__type"]) == (400, "ValidationException")


@pytest.mark.parametrize(("member", "value", "message"), [
    ("name", 5, "NUMBER_VALUE cannot be converted to String"),
    ("name", True, "TRUE_VALUE cannot be converted to String"),
    ("name", ["x"], "Unrecognized collection type class java.lang.String"),
    ("tags", {"k": "v"}, "Start of structure or map found where not expected."),
    ("tags", "k", "STRING_VALUE cannot be converted to List"),
    ("loggingConfiguration", [], "Start of list found where not expected"),
    ("publish", "yes", "STRING_VALUE cannot be converted to Boolean"),
])
def test_wrong_types(server: Server, unique: str, member: str, value: Any,
                     message: str) -> None:
    request = {"name": unique, "definition": pass_machine(), "roleArn": ROLE, member: value}
    status, _, body = server.raw(TARGET + "CreateStateMachine", json.dumps(request))
    assert (status, body) == (400, {"__type": "SerializationException", "message": message})


def test_a_fraction_for_an_integer_is_truncated(server: Server) -> None:
    status, _, body = server.raw(TARGET + "ListStateMachines", '{"maxResults": 1.7}')
    assert status == 200
    assert len(body["stateMachines"]) <= 1


def test_an_oversized_body_is_refused_before_it_is_read(server: Server) -> None:
    # Only the headers are sent: the server answers without waiting for 9 MiB.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("POST", "/")
        connection.putheader("X-Amz-Target", TARGET + "ValidateStateMachineDefinition")
        connection.putheader("Content-Length", str(9 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["__type"] == "RequestEntityTooLargeException"
    finally:
        connection.close()


def test_the_sync_host_prefix_is_accepted(server: Server, unique: str) -> None:
    request = {"name": unique, "definition": pass_machine({"ok": 1}), "roleArn": ROLE,
               "type": "EXPRESS"}
    _, _, created = server.raw(TARGET + "CreateStateMachine", json.dumps(request))
    status, _, result = server.raw(
        TARGET + "StartSyncExecution",
        json.dumps({"stateMachineArn": created["stateMachineArn"]}),
        headers={"Host": f"sync-127.0.0.1:{server.port}"},
    )
    assert status == 200, result
    assert (result["status"], result["output"]) == ("SUCCEEDED", '{"ok":1}')


def test_the_documented_environment_variable_disables_the_prefix(
        server: Server, unique: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the README tells boto3 and AWS CLI users to set.
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    client = boto3.session.Session().client(
        "stepfunctions", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("before-parse.sfn.*", server.checker.check)
    arn = client.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE,
                                      type="EXPRESS")["stateMachineArn"]
    assert client.start_sync_execution(stateMachineArn=arn)["status"] == "SUCCEEDED"


def test_standard_executions_finish_through_raw_calls(server: Server, sfn: Any,
                                                      unique: str) -> None:
    request = {"name": unique, "definition": pass_machine(), "roleArn": ROLE}
    _, _, created = server.raw(TARGET + "CreateStateMachine", json.dumps(request))
    status, _, started = server.raw(
        TARGET + "StartExecution", json.dumps({"stateMachineArn": created["stateMachineArn"]}))
    assert status == 200
    assert isinstance(started["startDate"], int | float)
    assert wait_for(sfn, started["executionArn"])["status"] == "SUCCEEDED"


# ----------------------------------------------------------------------------- internal faults


class _BrokenEngine:
    """Fails as a bug would."""

    def access_keys_required(self) -> bool:
        return False  # no access keys: requests are not signed

    def access_keys_required_now(self) -> bool | None:
        return None  # not known from memory: asks access_keys_required

    def list_state_machines(self, limit: int, token: str | None) -> Any:
        raise RuntimeError("secret internals /etc/passwd")


def _asgi_post(app: Any, target: str, body: bytes) -> tuple[int, dict[str, str], Any]:
    """One request straight through the ASGI app, no network."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"sync-localhost"), (b"x-amz-target", target.encode()),
                    (b"content-type", b"application/x-amz-json-1.0")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, json.loads(payload)


def test_an_unexpected_fault_is_an_internal_failure_without_details(
        caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(cast(Engine, _BrokenEngine()))
    with caplog.at_level(logging.ERROR, logger="statewright.api"):
        status, headers, body = _asgi_post(app, TARGET + "ListStateMachines", b"{}")
    assert status == 500
    assert body["__type"] == "InternalFailure"
    assert set(body) == {"__type", "message"}
    assert "secret" not in body["message"] and "Traceback" not in body["message"]
    assert headers["x-amzn-requestid"] in body["message"]
    assert "secret internals" in caplog.text  # the log has the details


# A lone surrogate fits in no UTF-8 text (the database, an answer): refused whichever form
# brings it in. json.loads decodes bytes with "surrogatepass", so a surrogate written in
# UTF-8 form or in a UTF-16 body decodes too, not only a JSON escape.
@pytest.mark.parametrize("raw", [
    rb'{"input": "\ud800"}',
    rb'{"input": "\uDFFF tail"}',
    '{"input": "\ud800"}'.encode("utf-8", "surrogatepass"),
    '{"input": "\udc00"}'.encode("utf-16-le", "surrogatepass"),
])
def test_a_lone_surrogate_is_refused_in_every_form(raw: bytes) -> None:
    with pytest.raises(protocol.SerializationException, match="unpaired surrogate"):
        protocol.decode_body(raw)


@pytest.mark.parametrize("raw, value", [
    (rb'{"input": "\ud83d\ude00"}', "\U0001f600"),  # a pair: one character
    ('{"input": "é\U0001f600"}'.encode(), "é\U0001f600"),
    (rb'{"input": "\\ud800"}', "\\ud800"),  # an escaped backslash, then text
])
def test_paired_surrogates_and_plain_text_pass(raw: bytes, value: str) -> None:
    assert protocol.decode_body(raw) == {"input": value}
