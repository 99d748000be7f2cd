"""The awsJson 1.0 protocol: how a request names its operation and how answers are framed.

A request is ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>`` and a JSON object
body. A success is HTTP 200 with the output object; an error is HTTP 400 (500, 503) with
``{"__type": "<Code>", "message": "..."}``, which botocore turns into its typed exceptions.
Every answer carries ``x-amzn-RequestId``, which botocore reads into ``ResponseMetadata``.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from starlette.responses import Response

from statewright.asl.jsonlimits import MAX_DEPTH, too_deep
from statewright.errors import AwsError

Output = dict[str, Any]
"""An operation's output members."""

#: botocore's ``targetPrefix`` for Step Functions.
TARGET_PREFIX = "AWSStepFunctions."
#: The content type of every awsJson 1.0 answer.
CONTENT_TYPE = "application/x-amz-json-1.0"
#: Largest request body read. Definitions may be 1 MiB of JSON text, which JSON escaping can
#: roughly double; anything far past that is not a Step Functions request.
MAX_BODY_BYTES = 8 * 1024 * 1024

#: What a lone surrogate can decode from (``json.loads`` decodes bytes with "surrogatepass"):
#: a JSON escape of a surrogate code unit (``\\uD800`` to ``\\uDFFF``), a surrogate in UTF-8
#: form (ED A0-BF ..), or a UTF-16/32 body (NUL bytes). A body with none of them skips the check.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]|\x00")
#: One encoder for every answer (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class SerializationException(AwsError):
    """The body is not JSON, or a member has the wrong JSON type."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(AwsError):
    """The X-Amz-Target header names no operation."""

    code = "UnknownOperationException"
    status = 400


class InternalFailure(AwsError):
    """A fault of the server itself (logged; the body never carries a traceback)."""

    code = "InternalFailure"
    status = 500


class MissingRequiredParameter(AwsError):
    """UpdateStateMachine without anything to update."""

    code = "MissingRequiredParameter"
    status = 400


class RequestEntityTooLarge(AwsError):
    """The body is larger than any Step Functions request can be."""

    code = "RequestEntityTooLargeException"
    status = 413


def operation_name(target: str | None) -> str:
    """``AWSStepFunctions.StartExecution`` -> ``StartExecution``."""
    if not target or not target.startswith(TARGET_PREFIX) or target == TARGET_PREFIX:
        # AWS answers a missing or foreign target the same way, without a message.
        raise UnknownOperationException(
            f"Unknown operation: '{target}'" if target else "Missing X-Amz-Target header")
    return target.removeprefix(TARGET_PREFIX)


def decode_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty request, as botocore sends ``{}``."""
    if not raw.strip():
        return {}
    if too_deep(raw):
        raise SerializationException(
            f"Malformed JSON request body: nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationException(f"Malformed JSON request body: {exc}") from exc
    try:
        # A "\ud800" escape decodes to a lone surrogate, which no UTF-8 text (the database,
        # an answer, a log) can hold: refused here rather than failing wherever it lands.
        if _SURROGATE_ESCAPE.search(raw):
            _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationException(
            "Malformed JSON request body: a string holds an unpaired surrogate") from exc
    if isinstance(value, list):
        raise SerializationException("Start of list found where not expected")
    if not isinstance(value, dict):
        raise SerializationException("Request body must be a JSON object")
    return value


def _reject_constant(name: str) -> Any:
    # Python accepts NaN and Infinity; JSON (and AWS) does not.
    raise ValueError(f"'{name}' is not JSON")


def new_request_id() -> str:
    return str(uuid.uuid4())


def success(output: Output, request_id: str) -> Response:
    return Response(_encode(output), 200, _headers(request_id))


def failure(error: AwsError, request_id: str) -> Response:
    return Response(_encode(_error_body(error)), error.status, _headers(request_id))


RawAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""An answer as ASGI sends it: status, headers, body."""


def raw_success(output: Output, request_id: str) -> RawAnswer:
    """``success`` as ASGI's status, headers and body (the app's fast path)."""
    return _raw(200, _encode(output), request_id)


def raw_failure(error: AwsError, request_id: str) -> RawAnswer:
    """``failure`` as ASGI's status, headers and body."""
    return _raw(error.status, _encode(_error_body(error)), request_id)


def _raw(status: int, body: bytes, request_id: str) -> RawAnswer:
    return status, [(b"x-amzn-requestid", request_id.encode("latin-1")),
                    (b"content-type", _CONTENT_TYPE_BYTES),
                    (b"content-length", str(len(body)).encode("latin-1"))], body


_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode("latin-1")


def _error_body(error: AwsError) -> dict[str, Any]:
    return {"__type": error.code, "message": error.message}


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE}


def _encode(value: dict[str, Any]) -> bytes:
    # backslashreplace: an unpaired surrogate that got this far (a message quoting input)
    # becomes its own JSON escape rather than an exception.
    return _ENCODER.encode(value).encode("utf-8", "backslashreplace")


def epoch(seconds: float) -> float | int:
    """A timestamp as awsJson sends it: epoch seconds, milliseconds at most (botocore parses
    both ``1764087185`` and ``1764087185.123``)."""
    rounded = round(seconds, 3)
    return int(rounded) if rounded.is_integer() else rounded
