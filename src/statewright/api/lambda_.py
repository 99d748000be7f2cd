"""Lambda's REST API (restJson1) for functions: create, read, update, delete, invoke.

Paths are Lambda's: ``/2015-03-31/functions`` (POST CreateFunction, GET ListFunctions),
``/2015-03-31/functions/{name}`` (GET GetFunction, DELETE DeleteFunction), ``.../configuration``
(GET, PUT), ``.../code`` (PUT UpdateFunctionCode; GET downloads the zip, the ``Code.Location``
that GetFunction returns), ``.../invocations`` (POST Invoke), and the concurrency paths
``/2017-10-31/functions/{name}/concurrency`` (PUT PutFunctionConcurrency, DELETE
DeleteFunctionConcurrency) and ``/2019-09-30/...`` (GET GetFunctionConcurrency). ``{name}`` may
be a name or an ARN with a qualifier, as in Lambda.

A request's members come from the path, headers, query string and JSON body, as botocore's
``lambda`` model places them, and pass the same model check as Step Functions requests
(``shapes.py``), with Lambda's lowerCamelCase member names in the messages. Errors are Lambda's:
the HTTP status means something (404 for a missing function, 409 for a taken name), the code
travels in the ``x-amzn-ErrorType`` header, the body is ``{"Type": "User", "message": "..."}``
(``Message`` for the error shapes that spell it so), which botocore turns into the typed
exceptions of ``client.exceptions``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.model import NoShapeFoundError  # type: ignore[import-untyped]
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from statewright import errors
from statewright.api import protocol, shapes
from statewright.arns import function_arn
from statewright.runtime.engine import Engine
from statewright.runtime.function_ops import MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD

log = logging.getLogger("statewright.api")

SERVICE = "lambda"
CONTENT_TYPE = "application/json"
#: Lambda's request limit for a package sent in the body (a 50 MB zip, base64 and JSON).
MAX_CODE_REQUEST_BYTES = 70_167_211
#: Bodies of the other operations are small JSON objects.
MAX_CONFIG_REQUEST_BYTES = 1 << 20
#: Invoke reads one byte past Lambda's synchronous payload quota, so the engine can refuse it.
MAX_INVOKE_REQUEST_BYTES = MAX_SYNC_PAYLOAD + 1
#: How much of an oversized body is read (and dropped) before it is refused.
MAX_DRAINED_BYTES = 4 * MAX_CODE_REQUEST_BYTES
#: LogType Tail returns the last 4 KB of the invocation's log.
TAIL_BYTES = 4096

Members = dict[str, Any]


class _Function(Protocol):
    """The Engine's function records, as this module reads them."""

    @property
    def name(self) -> str: ...
    @property
    def runtime(self) -> str: ...
    @property
    def handler(self) -> str: ...
    @property
    def code_sha256(self) -> str: ...
    @property
    def code_size(self) -> int: ...
    @property
    def timeout(self) -> int: ...
    @property
    def memory_size(self) -> int: ...
    @property
    def environment(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def last_modified(self) -> float: ...
    @property
    def revision_id(self) -> str: ...
    @property
    def reserved_concurrency(self) -> int | None: ...


# ----------------------------------------------------------------------------- operations


async def create_function(engine: Engine, request: Request) -> Response:
    members = await _members("CreateFunction", request, MAX_CODE_REQUEST_BYTES)
    _refuse_unsupported(members)
    code = _zip_file(members.get("Code", {}))
    record = await run_in_threadpool(
        engine.create_function, members["FunctionName"], members.get("Runtime"),
        members.get("Handler"), code, members.get("Timeout"), members.get("MemorySize"),
        _variables(members), members["Role"], members.get("Description"),
    )
    return _json(configuration(engine, record), 201)


async def get_function(engine: Engine, request: Request) -> Response:
    members = await _members("GetFunction", request)
    record = await run_in_threadpool(engine.get_function, _qualified(members))
    location = f"{str(request.base_url).rstrip('/')}/2015-03-31/functions/{record.name}/code"
    out: Members = {
        "Configuration": configuration(engine, record),
        "Code": {"RepositoryType": "S3", "Location": location},
    }
    if record.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": record.reserved_concurrency}
    return _json(out)


async def get_function_configuration(engine: Engine, request: Request) -> Response:
    members = await _members("GetFunctionConfiguration", request)
    record = await run_in_threadpool(engine.get_function, _qualified(members))
    return _json(configuration(engine, record))


async def get_function_code(engine: Engine, request: Request) -> Response:
    """Not a Lambda operation: where GetFunction's ``Code.Location`` points (on AWS, a
    presigned S3 URL), so the package can be downloaded as from Lambda."""
    code = await run_in_threadpool(engine.get_function_code, request.path_params["name"])
    return Response(code, 200, {"Content-Type": "application/zip"})


async def list_functions(engine: Engine, request: Request) -> Response:
    members = await _members("ListFunctions", request)
    page = await run_in_threadpool(
        engine.list_functions, members.get("MaxItems") or 50, members.get("Marker"))
    out: Members = {"Functions": [configuration(engine, f) for f in page.items]}
    if page.next_token is not None:
        out["NextMarker"] = page.next_token
    return _json(out)


async def update_function_code(engine: Engine, request: Request) -> Response:
    members = await _members("UpdateFunctionCode", request, MAX_CODE_REQUEST_BYTES)
    _refuse_unsupported(members)
    record = await run_in_threadpool(
        engine.update_function_code, members["FunctionName"], _zip_file(members),
        members.get("RevisionId"), bool(members.get("DryRun", False)),
    )
    return _json(configuration(engine, record))


async def update_function_configuration(engine: Engine, request: Request) -> Response:
    members = await _members("UpdateFunctionConfiguration", request)
    _refuse_unsupported(members)
    record = await run_in_threadpool(
        lambda: engine.update_function_configuration(
            members["FunctionName"], runtime=members.get("Runtime"),
            handler=members.get("Handler"), timeout=members.get("Timeout"),
            memory=members.get("MemorySize"), env=_variables(members),
            role=members.get("Role"), description=members.get("Description"),
            revision_id=members.get("RevisionId"),
        ))
    return _json(configuration(engine, record))


async def delete_function(engine: Engine, request: Request) -> Response:
    members = await _members("DeleteFunction", request)
    await run_in_threadpool(engine.delete_function, _qualified(members))
    return Response(b"", 204)


async def put_function_concurrency(engine: Engine, request: Request) -> Response:
    members = await _members("PutFunctionConcurrency", request)
    reserved: int = members["ReservedConcurrentExecutions"]
    await run_in_threadpool(engine.put_function_concurrency, members["FunctionName"], reserved)
    return _json({"ReservedConcurrentExecutions": reserved})


async def get_function_concurrency(engine: Engine, request: Request) -> Response:
    members = await _members("GetFunctionConcurrency", request)
    record = await run_in_threadpool(engine.get_function, members["FunctionName"])
    if record.reserved_concurrency is None:
        return _json({})  # Lambda answers an empty object when none is reserved
    return _json({"ReservedConcurrentExecutions": record.reserved_concurrency})


async def delete_function_concurrency(engine: Engine, request: Request) -> Response:
    members = await _members("DeleteFunctionConcurrency", request)
    await run_in_threadpool(engine.delete_function_concurrency, members["FunctionName"])
    return Response(b"", 204)


async def invoke(engine: Engine, request: Request) -> Response:
    payload = await _read_body(request, MAX_INVOKE_REQUEST_BYTES, "Invoke")
    members = await _members("Invoke", request, body=b"")
    invocation_type = members.get("InvocationType", "RequestResponse")
    result = await run_in_threadpool(
        engine.invoke_function, _qualified(members), payload, invocation_type)
    if result is None:
        return Response(b"", 202 if invocation_type == "Event" else 204)
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Executed-Version": "$LATEST"}
    if result.function_error is not None:
        headers["X-Amz-Function-Error"] = result.function_error
    if members.get("LogType") == "Tail":
        tail = result.logs.encode("utf-8", "replace")[-TAIL_BYTES:]
        headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode("ascii")
    return Response(result.payload, 200, headers)


def configuration(engine: Engine, record: _Function) -> Members:
    """Lambda's FunctionConfiguration of a function (its ``$LATEST``)."""
    out: Members = {
        "FunctionName": record.name,
        "FunctionArn": function_arn(engine.partition, record.name),
        "Runtime": record.runtime,
        "Role": record.role,
        "Handler": record.handler,
        "CodeSize": record.code_size,
        "Description": record.description,
        "Timeout": record.timeout,
        "MemorySize": record.memory_size,
        "LastModified": lambda_time(record.last_modified),
        "CodeSha256": record.code_sha256,
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": record.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{record.name}"},
    }
    variables = json.loads(record.environment or "{}")
    if variables:
        out["Environment"] = {"Variables": variables}
    return out


def lambda_time(epoch: float) -> str:
    """A time as Lambda's LastModified writes it: ``2025-03-01T10:00:03.004+0000``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


# ----------------------------------------------------------------------------- requests


async def _members(operation: str, request: Request, limit: int = MAX_CONFIG_REQUEST_BYTES,
                   body: bytes | None = None) -> Members:
    """The operation's members from wherever the model places them, checked against it."""
    model = shapes.operation_model(operation, SERVICE)
    assert model is not None, operation
    raw = await _read_body(request, limit, operation) if body is None else body
    try:
        decoded = protocol.decode_body(raw)
    except protocol.SerializationException as exc:
        raise errors.InvalidRequestContentException(
            f"Could not parse request body into json: {exc.message}") from exc
    members: Members = {}
    for name, shape in model.input_shape.members.items():
        location = shape.serialization.get("location")
        if location is None:
            if name in decoded:
                members[name] = decoded[name]
            continue
        if location == "uri":
            value: str | None = request.path_params.get("name")
        elif location == "header":
            value = request.headers.get(shape.serialization["name"])
        else:
            value = request.query_params.get(shape.serialization["name"])
        if value is not None:
            members[name] = _from_text(value, shape.type_name, name)
    try:
        return shapes.check_input(model, members, camel_paths=True)
    except protocol.SerializationException as exc:
        raise errors.InvalidRequestContentException(exc.message) from exc


def _from_text(value: str, kind: str, name: str) -> Any:
    """A header or query string value as its model type."""
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise errors.InvalidRequestContentException(
                f"Could not parse {name}: '{value}' is not an integer") from None
    if kind == "boolean":
        return value.lower() == "true"
    return value


async def _read_body(request: Request, limit: int, operation: str) -> bytes:
    """The body, up to ``limit`` bytes. Past it the rest is read and dropped (up to a bound)
    before the refusal is sent: a client still sending would otherwise see its connection
    reset instead of the error."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > MAX_DRAINED_BYTES:
            break
    if size > limit:
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else size
        raise _too_large(request, size, limit, operation)
    return b"".join(chunks)


def _too_large(request: Request, size: int, limit: int, operation: str) -> errors.AwsError:
    if operation == "Invoke":
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        return errors.RequestEntityTooLargeException(
            f"{size} byte payload is too large for the {kind} invocation type "
            f"(limit {MAX_ASYNC_PAYLOAD if kind == 'Event' else MAX_SYNC_PAYLOAD} bytes)")
    return errors.RequestEntityTooLargeException(
        f"Request must be smaller than {limit} bytes for the {operation} operation")


def _qualified(members: Members) -> str:
    """The FunctionName with the Qualifier parameter folded in, as Lambda reads the two."""
    name: str = members["FunctionName"]
    qualifier = members.get("Qualifier")
    if qualifier is None:
        return name
    parts = name.split(":")
    derived = parts[-1] if len(parts) in (2, 4, 8) else None  # NAME:Q, ACCT:function:NAME:Q...
    if derived is not None and derived != qualifier:
        raise errors.InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified "
            "qualifier.")
    return name if derived is not None else f"{name}:{qualifier}"


def _zip_file(code: Members) -> bytes:
    if code.get("ZipFile") is None:
        if code.get("S3Bucket") or code.get("S3Key") or code.get("ImageUri"):
            raise errors.InvalidParameterValueException(
                "statewright takes a function's code as ZipFile only (S3 and container images "
                "are not supported)")
        raise errors.InvalidParameterValueException("Please provide a source for function code.")
    data: bytes = code["ZipFile"]
    return data


def _variables(members: Members) -> dict[str, str] | None:
    environment = members.get("Environment")
    if environment is None:
        return None
    variables: dict[str, str] = environment.get("Variables", {})
    return variables


def _refuse_unsupported(members: Members) -> None:
    """Members whose meaning statewright cannot honour: refused rather than ignored, since a
    deploy tool would then rely on something that does not exist."""
    if members.get("Publish"):
        raise errors.InvalidParameterValueException(
            "statewright does not support function versions yet: Publish must be false")
    if members.get("PackageType") == "Image":
        raise errors.InvalidParameterValueException(
            "statewright does not support container image functions: PackageType must be Zip")
    if members.get("Layers"):
        raise errors.InvalidParameterValueException("statewright does not support layers yet")


# ----------------------------------------------------------------------------- answers


def _json(body: Members, status: int = 200) -> Response:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(text.encode("utf-8", "backslashreplace"), status,
                    {"Content-Type": CONTENT_TYPE})


def failure(error: errors.AwsError, request_id: str) -> Response:
    """An error as Lambda sends it."""
    body = {"Type": "User" if error.status < 500 else "Service",
            _message_member(error.code): error.message}
    if isinstance(error, errors.TooManyRequestsException) and error.reason is not None:
        body["Reason"] = error.reason  # what the limit was: ThrottleReason
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code,
               "Content-Type": CONTENT_TYPE}
    return Response(json.dumps(body).encode("utf-8"), error.status, headers)


@functools.cache
def _message_member(code: str) -> str:
    """``Message`` or ``message``: Lambda's error shapes spell it both ways."""
    try:
        members = shapes.service_model(SERVICE).shape_for(code).members
    except NoShapeFoundError:
        return "message"
    return "Message" if "Message" in members else "message"


Handler = Callable[[Engine, Request], Awaitable[Response]]


async def _drain(request: Request) -> None:
    """Reads what is left of a body an error answers early (up to a bound): a client still
    sending would otherwise see its connection reset instead of the error."""
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_DRAINED_BYTES:
                return
    except (RuntimeError, ClientDisconnect):  # already read, or the client left
        return


def routes(engine: Engine) -> list[BaseRoute]:
    """The Lambda paths, then a catch-all under Lambda's path prefixes that names what is not
    implemented (Lambda's other operations) instead of answering a bare 404."""

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            request_id = protocol.new_request_id()
            try:
                response = await handler(engine, request)
            except errors.AwsError as exc:
                await _drain(request)
                return failure(exc, request_id)
            except ClientDisconnect:  # the client went away mid-request: nobody to answer
                return Response(status_code=400)
            except Exception:
                log.exception("request %s failed", request_id)
                return failure(errors.ServiceException(
                    f"An internal error occurred; see the server log for request {request_id}"),
                    request_id)
            response.headers["x-amzn-RequestId"] = request_id
            return response

        return serve

    async def unknown(engine: Engine, request: Request) -> Response:
        raise protocol.UnknownOperationException(
            f"statewright does not implement the Lambda operation {request.method} "
            f"{request.url.path}")

    base = "/2015-03-31/functions"
    table: list[tuple[str, Handler, list[str]]] = [
        (base, create_function, ["POST"]),
        (base, list_functions, ["GET"]),
        (base + "/", list_functions, ["GET"]),
        (base + "/{name}", get_function, ["GET"]),
        (base + "/{name}", delete_function, ["DELETE"]),
        (base + "/{name}/configuration", get_function_configuration, ["GET"]),
        (base + "/{name}/configuration", update_function_configuration, ["PUT"]),
        (base + "/{name}/code", update_function_code, ["PUT"]),
        (base + "/{name}/code", get_function_code, ["GET"]),
        (base + "/{name}/invocations", invoke, ["POST"]),
        # The concurrency paths carry other dates, as botocore's model has them.
        ("/2017-10-31/functions/{name}/concurrency", put_function_concurrency, ["PUT"]),
        ("/2017-10-31/functions/{name}/concurrency", delete_function_concurrency, ["DELETE"]),
        ("/2019-09-30/functions/{name}/concurrency", get_function_concurrency, ["GET"]),
    ]
    found: list[BaseRoute] = [Route(path, endpoint(handler), methods=methods)
                              for path, handler, methods in table]
    every = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    found += [Route(f"/{prefix}/{{rest:path}}", endpoint(unknown), methods=every)
              for prefix in _path_prefixes()]
    return found


def _path_prefixes() -> list[str]:
    """The dated first segments of Lambda's request paths (``2015-03-31``...)."""
    model = shapes.service_model(SERVICE)
    return sorted({model.operation_model(name).http["requestUri"].split("/")[1]
                   for name in model.operation_names})
