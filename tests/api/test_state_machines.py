"""State machine operations over HTTP through boto3: happy paths and AWS's errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ACCOUNT, REGION, ROLE, Server, pass_machine


def _arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def _names(sfn: Any) -> set[str]:
    pages = sfn.get_paginator("list_state_machines").paginate()
    return {m["name"] for page in pages for m in page["stateMachines"]}


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


# ----------------------------------------------------------------------------- happy paths


def test_create_and_describe(sfn: Any, unique: str) -> None:
    definition = pass_machine({"hello": "world"})
    created = sfn.create_state_machine(name=unique, definition=definition, roleArn=ROLE)
    assert created["stateMachineArn"] == _arn(unique)
    assert isinstance(created["creationDate"], datetime)

    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert described["name"] == unique
    assert described["definition"] == definition
    assert described["roleArn"] == ROLE
    assert described["type"] == "STANDARD"
    assert described["status"] == "ACTIVE"
    assert described["creationDate"] == created["creationDate"]
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert described["revisionId"]


def test_create_is_idempotent_for_the_same_definition(sfn: Any, unique: str) -> None:
    first = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)
    again = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(name=unique, definition=pass_machine(1), roleArn=ROLE)


def test_create_express_with_tags_and_logging(sfn: Any, unique: str) -> None:
    logging = {"level": "ERROR", "includeExecutionData": True}
    arn = sfn.create_state_machine(
        name=unique, definition=pass_machine(), roleArn=ROLE, type="EXPRESS",
        tags=[{"key": "team", "value": "orders"}], loggingConfiguration=logging,
    )["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "EXPRESS"
    assert described["loggingConfiguration"] == logging
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "team", "value": "orders"}]


def test_update(sfn: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)[
        "stateMachineArn"]
    before = sfn.describe_state_machine(stateMachineArn=arn)
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=pass_machine(2))
    assert isinstance(updated["updateDate"], datetime)
    assert updated["revisionId"] != before["revisionId"]
    after = sfn.describe_state_machine(stateMachineArn=arn)
    assert after["definition"] == pass_machine(2)
    assert after["revisionId"] == updated["revisionId"]
    assert after["creationDate"] == before["creationDate"]

    sfn.update_state_machine(stateMachineArn=arn, roleArn=ROLE + "2",
                             tracingConfiguration={"enabled": True})
    after = sfn.describe_state_machine(stateMachineArn=arn)
    assert after["roleArn"] == ROLE + "2"
    assert after["tracingConfiguration"] == {"enabled": True}
    assert after["definition"] == pass_machine(2)


def test_delete(sfn: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)[
        "stateMachineArn"]
    assert sfn.delete_state_machine(stateMachineArn=arn)["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)
    sfn.delete_state_machine(stateMachineArn=arn)  # deleting twice is fine, as on AWS
    assert unique not in _names(sfn)


def test_list_pages(sfn: Any, unique: str) -> None:
    names = {f"{unique}-{i}" for i in range(5)}
    for name in sorted(names):
        sfn.create_state_machine(name=name, definition=pass_machine(), roleArn=ROLE)
    first = sfn.list_state_machines(maxResults=2)
    assert len(first["stateMachines"]) == 2
    assert first["nextToken"]
    listed = sfn.get_paginator("list_state_machines").paginate(
        PaginationConfig={"PageSize": 2}).build_full_result()["stateMachines"]
    assert names <= {m["name"] for m in listed}
    mine = [m for m in listed if m["name"] in names]
    assert all(m["type"] == "STANDARD" and isinstance(m["creationDate"], datetime)
               for m in mine)
    assert len({m["stateMachineArn"] for m in listed}) == len(listed)


def test_validate_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=pass_machine())
    assert ok["result"] == "OK"
    assert ok["diagnostics"] == []
    assert ok["truncated"] is False

    broken = json.dumps({"StartAt": "Missing", "States": {"P": {"Type": "Pass", "End": True}}})
    failed = sfn.validate_state_machine_definition(definition=broken)
    assert failed["result"] == "FAIL"
    assert failed["diagnostics"]
    assert {d["severity"] for d in failed["diagnostics"]} == {"ERROR"}
    assert all(d["code"] and d["message"] for d in failed["diagnostics"])

    not_json = sfn.validate_state_machine_definition(definition="{")
    assert not_json["result"] == "FAIL"
    assert not_json["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION"

    capped = sfn.validate_state_machine_definition(
        definition=json.dumps({"States": {"A": {"Type": "Nope"}, "B": {"Type": "Nope"}}}),
        maxResults=1)
    assert len(capped["diagnostics"]) == 1
    assert capped["truncated"] is True


def test_jsonata_expressions_are_checked_at_definition_time(sfn: Any, unique: str) -> None:
    # [floci #2745, #2670, measured against AWS] the codes, messages and nested locations.
    definition = json.dumps({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "End": True, "Output": {"a": "{% 1 + %}", "b": "{% phone %}"}}}})
    answer = sfn.validate_state_machine_definition(definition=definition)
    assert answer["result"] == "FAIL"
    assert [(d["code"], d["message"], d["location"]) for d in answer["diagnostics"]] == [
        ("INVALID_JSONATA_EXPRESSION", "Unexpected end of expression", "/States/P/Output/a"),
        ("UNSUPPORTED_JSONATA_EXPRESSION",
         "Reference to 'phone' at the top level is not supported.", "/States/P/Output/b"),
    ]
    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(name=unique, definition=definition, roleArn=ROLE)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert ("INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/P/Output/a"
            in refused.value.response["Error"]["Message"])


def test_tags(sfn: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)[
        "stateMachineArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"},
                                            {"key": "b", "value": "2"}])
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "3"}])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    assert sorted(tags, key=lambda t: t["key"]) == [{"key": "a", "value": "3"},
                                                    {"key": "b", "value": "2"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


# ----------------------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def loose(server: Server) -> Any:
    """A client that sends what it is given (botocore's own checks off), as other SDKs may."""
    return server.client(parameter_validation=False)


def test_create_errors_store_nothing(sfn: Any, loose: Any, unique: str) -> None:
    long = "a" * 81
    cases: list[tuple[dict[str, Any], str, str | None]] = [
        ({"definition": pass_machine(), "roleArn": ROLE}, "ValidationException",
         "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
         "Member must not be null"),
        ({"name": long, "definition": pass_machine(), "roleArn": ROLE}, "ValidationException",
         f"1 validation error detected: Value '{long}' at 'name' failed to satisfy "
         "constraint: Member must have length less than or equal to 80"),
        ({"name": unique, "definition": pass_machine(), "roleArn": ROLE, "type": "FAST"},
         "ValidationException",
         "1 validation error detected: Value 'FAST' at 'type' failed to satisfy constraint: "
         "Member must satisfy enum value set: [STANDARD, EXPRESS]"),
        ({"name": unique}, "ValidationException",
         "2 validation errors detected: Value null at 'definition' failed to satisfy "
         "constraint: Member must not be null; Value null at 'roleArn' failed to satisfy "
         "constraint: Member must not be null"),
        ({"name": unique, "definition": 42, "roleArn": ROLE}, "SerializationException",
         "NUMBER_VALUE cannot be converted to String"),
        ({"name": "a b", "definition": pass_machine(), "roleArn": ROLE}, "InvalidName",
         "Invalid Name: 'a b'"),
        ({"name": unique, "definition": '{"StartAt": "X", "States": {}}', "roleArn": ROLE},
         "InvalidDefinition", None),
        ({"name": unique, "definition": "{", "roleArn": ROLE}, "InvalidDefinition", None),
    ]
    for request, code, message in cases:
        with pytest.raises(ClientError) as raised:
            loose.create_state_machine(**request)
        got = _error(raised)
        assert got[0] == code, request
        if message is not None:
            assert got[1] == message, request
    names = _names(sfn)
    assert unique not in names and "a b" not in names and long not in names


def test_invalid_definition_message(sfn: Any, unique: str) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition) as raised:
        sfn.create_state_machine(name=unique, definition='{"StartAt": "X", "States": {}}',
                                 roleArn=ROLE)
    assert raised.value.response["Error"]["Message"].startswith(
        "Invalid State Machine Definition: '")


def test_unknown_and_malformed_arns(sfn: Any, unique: str) -> None:
    missing = _arn(unique)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as raised:
        sfn.describe_state_machine(stateMachineArn=missing)
    assert _error(raised) == ("StateMachineDoesNotExist",
                              f"State Machine Does Not Exist: '{missing}'")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.update_state_machine(stateMachineArn=missing, definition=pass_machine())
    for call in (sfn.describe_state_machine, sfn.delete_state_machine):
        with pytest.raises(sfn.exceptions.InvalidArn):
            call(stateMachineArn="not-an-arn")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.update_state_machine(stateMachineArn="not-an-arn", definition=pass_machine())


def test_update_errors(sfn: Any, loose: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)[
        "stateMachineArn"]
    before = sfn.describe_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as raised:
        sfn.update_state_machine(stateMachineArn=arn)
    assert _error(raised)[0] == "MissingRequiredParameter"
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.update_state_machine(stateMachineArn=arn, definition='{"States": {}}')
    with pytest.raises(ClientError) as raised:
        loose.update_state_machine(stateMachineArn=arn, definition="")
    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1")
    after = sfn.describe_state_machine(stateMachineArn=arn)
    assert {**after, "ResponseMetadata": None} == {**before, "ResponseMetadata": None}


def test_list_errors(sfn: Any, loose: Any) -> None:
    with pytest.raises(ClientError) as raised:
        loose.list_state_machines(maxResults=1001)
    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000")
    with pytest.raises(ClientError) as raised:
        loose.list_state_machines(maxResults="ten")
    assert _error(raised) == ("SerializationException",
                              "STRING_VALUE cannot be converted to Integer")


def test_list_with_a_bad_token(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="not-a-token")


def test_validate_definition_errors(loose: Any) -> None:
    with pytest.raises(ClientError) as raised:
        loose.validate_state_machine_definition()
    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value null at 'definition' failed to satisfy "
        "constraint: Member must not be null")
    with pytest.raises(ClientError) as raised:
        loose.validate_state_machine_definition(definition=pass_machine(), severity="INFO")
    assert _error(raised)[0] == "ValidationException"


def test_tag_errors(sfn: Any, loose: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=unique, definition=pass_machine(), roleArn=ROLE)[
        "stateMachineArn"]
    missing = _arn(unique + "-missing")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.tag_resource(resourceArn=missing, tags=[{"key": "a", "value": "b"}])
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.untag_resource(resourceArn=missing, tagKeys=["a"])
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=missing)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_tags_for_resource(resourceArn="not-an-arn")
    with pytest.raises(ClientError) as raised:
        loose.tag_resource(resourceArn=arn, tags=[{"key": "k" * 129, "value": "v"}])
    assert _error(raised) == (
        "ValidationException",
        f"1 validation error detected: Value '{'k' * 129}' at 'tags.1.member.key' failed to "
        "satisfy constraint: Member must have length less than or equal to 128")
    with pytest.raises(ClientError) as raised:
        loose.tag_resource(resourceArn=arn)
    assert _error(raised)[0] == "ValidationException"
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []
