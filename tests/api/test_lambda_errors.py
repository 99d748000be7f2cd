"""Every Lambda operation with bad input: Lambda's error code, HTTP status and message, never a
500, and nothing stored. boto3's own parameter checks are off where the server must judge."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.api.lambda_helpers import (
    FUNCTIONS,
    ROLE,
    function_arn,
    lambda_error,
    python_function,
    zipped,
)

ECHO = "def handler(event, context):\n    return event\n"


@pytest.fixture(scope="module")
def lam(server: Server) -> Any:
    return server.lambda_client()


@pytest.fixture(scope="module")
def loose(server: Server) -> Any:
    """A client that sends whatever it is given."""
    return server.lambda_client(parameter_validation=False)


def _traversal_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", ECHO)
        archive.writestr("../../escaped.py", "print('out')")
    return buffer.getvalue()


def _refused(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    assert status < 500, response
    return status, response["Error"]["Code"], response["Error"]["Message"]


NULL = "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member " \
       "must not be null"
CREATE_CASES: list[tuple[str, dict[str, Any], int, str, str | None]] = [
    ("no role", {"Role": None}, 400, "ValidationException", NULL.format("role")),
    ("no code", {"Code": None}, 400, "ValidationException", NULL.format("code")),
    ("timeout of a wrong type", {"Timeout": "soon"}, 400, "InvalidRequestContentException",
     "STRING_VALUE cannot be converted to Integer"),
    ("timeout 0", {"Timeout": 0}, 400, "ValidationException",
     "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"),
    ("timeout over 900", {"Timeout": 901}, 400, "ValidationException",
     "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
     "Member must have value less than or equal to 900"),
    ("memory under 128", {"MemorySize": 64}, 400, "ValidationException",
     "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: "
     "Member must have value greater than or equal to 128"),
    ("memory over 10240", {"MemorySize": 10241}, 400, "ValidationException",
     "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
     "constraint: Member must have value less than or equal to 10240"),
    ("an unknown runtime", {"Runtime": "cobol85"}, 400, "ValidationException", None),
    ("a retired runtime", {"Runtime": "python2.7"}, 400, "InvalidParameterValueException",
     "The runtime parameter of python2.7 is no longer supported for creating or updating AWS "
     "Lambda functions. We recommend you use a supported runtime while creating or updating "
     "functions."),
    ("a runtime statewright cannot run", {"Runtime": "java21"}, 400,
     "InvalidParameterValueException", None),
    ("no runtime", {"Runtime": None}, 400, "InvalidParameterValueException",
     "Runtime and Handler are mandatory parameters for functions created with deployment "
     "packages."),
    ("a handler that is not file.function", {"Handler": "app"}, 400,
     "InvalidParameterValueException", None),
    ("a role that is not a role ARN", {"Role": "admin"}, 400, "ValidationException", None),
    ("a zip that is not a zip", {"Code": {"ZipFile": b"not a zip"}}, 400,
     "InvalidParameterValueException",
     "Could not unzip uploaded file. Please check your file, then try to upload again."),
    ("a zip entry escaping the package", {"Code": {"ZipFile": _traversal_zip()}}, 400,
     "InvalidParameterValueException",
     "The package entry '../../escaped.py' points outside the package."),
    ("code from S3", {"Code": {"S3Bucket": "bucket", "S3Key": "key.zip"}}, 400,
     "InvalidParameterValueException", None),
    ("a reserved variable", {"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}}, 400,
     "InvalidParameterValueException",
     "Lambda was unable to configure your environment variables because the environment "
     "variables you have provided contains reserved keys that are currently not supported "
     "for modification. Reserved keys used in this request: AWS_REGION"),
    ("variables over 4 KB", {"Environment": {"Variables": {"BIG": "x" * 4100}}}, 400,
     "InvalidParameterValueException", None),
    ("a version", {"Publish": True}, 400, "InvalidParameterValueException", None),
    ("a description over 256", {"Description": "d" * 257}, 400, "ValidationException", None),
]


@pytest.mark.parametrize(("case", "change", "status", "code", "message"), CREATE_CASES,
                         ids=[c[0] for c in CREATE_CASES])
def test_create_refusals_store_nothing(loose: Any, lam: Any, unique: str, case: str,
                                       change: dict[str, Any], status: int, code: str,
                                       message: str | None) -> None:
    arguments = {"FunctionName": unique, **python_function(ECHO), **change}
    arguments = {key: value for key, value in arguments.items() if value is not None}
    got = _refused(lambda: loose.create_function(**arguments))
    assert got[:2] == (status, code), got
    if message is not None:
        assert got[2] == message
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=unique)


def test_bad_function_names(loose: Any, unique: str) -> None:
    for name in ("bad name", "x" * 65, "arn:aws:lambda:us-east-1:12:function:f"):
        status, code, message = _refused(lambda name=name: loose.create_function(
            FunctionName=name, **python_function(ECHO)))
        assert (status, code) == (400, "ValidationException"), message
    status, code, message = _refused(lambda: loose.get_function(FunctionName="bad name"))
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("1 validation error detected: Value 'bad name' at "
                              "'functionName' failed to satisfy constraint: Member must "
                              "satisfy regular expression pattern:")


def test_a_taken_name_is_a_conflict_and_the_first_function_stays(lam: Any, unique: str
                                                                  ) -> None:
    first = lam.create_function(FunctionName=unique, **python_function(ECHO))
    with pytest.raises(lam.exceptions.ResourceConflictException) as caught:
        lam.create_function(FunctionName=unique, Description="second",
                            **python_function("def handler(e, c):\n    return 2\n"))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert caught.value.response["Error"]["Message"] == f"Function already exist: {unique}"
    assert lam.get_function(FunctionName=unique)["Configuration"]["CodeSha256"] == \
        first["CodeSha256"]
    lam.delete_function(FunctionName=unique)


def test_every_operation_on_a_missing_function_is_not_found(lam: Any, unique: str) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: lam.get_function(FunctionName=unique),
        lambda: lam.get_function_configuration(FunctionName=unique),
        lambda: lam.delete_function(FunctionName=unique),
        lambda: lam.update_function_configuration(FunctionName=unique, Timeout=5),
        lambda: lam.update_function_code(FunctionName=unique, ZipFile=zipped(**{"a.py": ECHO})),
        lambda: lam.invoke(FunctionName=unique, Payload=b"{}"),
        lambda: lam.invoke(FunctionName=unique, InvocationType="Event", Payload=b"{}"),
    ]
    for call in calls:
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            call()
        response = caught.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert response["Error"]["Message"] == f"Function not found: {function_arn(unique)}"
    lam.create_function(FunctionName=unique, **python_function(ECHO))
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.get_function(FunctionName=unique, Qualifier="7")  # versions do not exist
    assert caught.value.response["Error"]["Message"].endswith(f"function:{unique}:7")
    lam.delete_function(FunctionName=unique)


def test_refused_updates_change_nothing(lam: Any, loose: Any, unique: str) -> None:
    created = lam.create_function(FunctionName=unique, **python_function(ECHO))
    refusals: list[tuple[Callable[[], Any], str]] = [
        (lambda: loose.update_function_configuration(FunctionName=unique, Timeout=0),
         "ValidationException"),
        (lambda: lam.update_function_configuration(FunctionName=unique, Runtime="java21"),
         "InvalidParameterValueException"),
        (lambda: lam.update_function_configuration(FunctionName=unique, Timeout=9,
                                                   RevisionId="not-the-current-one"),
         "PreconditionFailedException"),
        (lambda: lam.update_function_code(FunctionName=unique, ZipFile=b"PK broken"),
         "InvalidParameterValueException"),
        (lambda: lam.update_function_code(FunctionName=unique, ZipFile=_traversal_zip()),
         "InvalidParameterValueException"),
        (lambda: lam.update_function_code(FunctionName=unique, S3Bucket="bucket", S3Key="k"),
         "InvalidParameterValueException"),
    ]
    for call, code in refusals:
        assert _refused(call)[1] == code
    after = lam.get_function_configuration(FunctionName=unique)
    assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"}
    lam.delete_function(FunctionName=unique)


def test_invoke_refusals(lam: Any, loose: Any, unique: str) -> None:
    lam.create_function(FunctionName=unique, **python_function(ECHO))
    status, code, message = _refused(lambda: lam.invoke(FunctionName=unique, Payload=b"{oops"))
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message.startswith("Could not parse request body into json")
    status, code, _ = _refused(lambda: loose.invoke(FunctionName=unique, Payload=b"{}",
                                                    InvocationType="Later"))
    assert (status, code) == (400, "ValidationException")
    big = json.dumps("x" * 6_291_456).encode()
    status, code, message = _refused(lambda: lam.invoke(FunctionName=unique, Payload=big))
    assert (status, code) == (413, "RequestEntityTooLargeException")
    status, code, message = _refused(lambda: lam.invoke(
        FunctionName=unique, InvocationType="Event", Payload=json.dumps("x" * 1_048_576)))
    assert (status, code, message) == (
        413, "RequestEntityTooLargeException",
        "1048578 byte payload is too large for the Event invocation type (limit 1048576 bytes)")
    lam.delete_function(FunctionName=unique)


def test_listing_refusals(lam: Any, loose: Any) -> None:
    assert _refused(lambda: lam.list_functions(Marker="garbage"))[1] == \
        "InvalidParameterValueException"
    assert _refused(lambda: loose.list_functions(MaxItems=0))[1] == "ValidationException"


def test_raw_requests_that_botocore_would_never_send(server: Server, unique: str) -> None:
    url = server.url
    assert lambda_error(url, "POST", FUNCTIONS, b"{not json") == (
        400, "InvalidRequestContentException",
        "Could not parse request body into json: Malformed JSON request body: Expecting "
        "property name enclosed in double quotes: line 1 column 2 (char 1)")
    assert lambda_error(url, "POST", FUNCTIONS, b"[1]")[:2] == (
        400, "InvalidRequestContentException")
    assert lambda_error(url, "GET", FUNCTIONS + "?MaxItems=many")[:2] == (
        400, "InvalidRequestContentException")
    assert lambda_error(url, "GET", "/2015-03-31/functions/x/versions")[:2] == (
        400, "UnknownOperationException")
    assert lambda_error(url, "POST", f"{FUNCTIONS}/{unique}")[:2] == (
        400, "UnknownOperationException")
    body = json.dumps({"FunctionName": unique, "Role": ROLE, "Runtime": "python3.12",
                       "Handler": "a.b", "Code": {"ZipFile": "%%% not base64"}}).encode()
    assert lambda_error(url, "POST", FUNCTIONS, body)[:2] == (
        400, "InvalidRequestContentException")


def test_a_package_over_lambdas_request_limit_is_refused(server: Server, unique: str) -> None:
    import base64

    code = base64.b64encode(os.urandom(52_700_000)).decode()
    body = json.dumps({"FunctionName": unique, "Role": ROLE, "Runtime": "python3.12",
                       "Handler": "a.b", "Code": {"ZipFile": code}}).encode()
    assert lambda_error(server.url, "POST", FUNCTIONS, body) == (
        413, "RequestEntityTooLargeException",
        "Request must be smaller than 70167211 bytes for the CreateFunction operation")
