"""The HTTP server's Starlette app: the Step Functions API at ``POST /``, Lambda's function
operations under ``/2015-03-31/functions`` (``lambda_.py``), ``GET /health`` and the web
console under ``/console`` (``statewright.console``; a ``GET /`` naming no IAM ``Action``
redirects there).

Any ``Host`` is accepted, including ``sync-...``: botocore prefixes the host of
StartSyncExecution (and TestState) with ``sync-`` even for a custom endpoint, and a proxy or a
wildcard loopback name may pass that on.

IAM's Query-protocol calls (form bodies, no ``X-Amz-Target``) share ``/`` (``iam.py``), and
every request is checked for a SigV4 signature once access keys exist (``auth.py``).

Step Functions requests (``POST /`` with an ``AWSStepFunctions.`` target) are served by
``_StepFunctionsApi`` straight on ASGI, in front of Starlette's router; the rest by the router.
The Engine is synchronous (it talks to the database), so each operation runs on a thread
(``threads.py``); the event loop only reads requests and writes answers. GetActivityTask
holds its
request up to 60 s while it waits for a task, so long polls run on threads of their own
(``LONG_POLLS``): a crowd of idle pollers never takes the threads other requests need.
"""

from __future__ import annotations

import functools
import logging

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from statewright import console
from statewright.api import iam, lambda_, protocol, shapes, threads
from statewright.api.auth import SigV4Middleware
from statewright.api.stepfunctions import OPERATIONS
from statewright.errors import AwsError
from statewright.runtime.engine import Engine

log = logging.getLogger("statewright.api")

#: Operations that may hold their request open for long (GetActivityTask's long poll).
LONG_POLLS = frozenset({"GetActivityTask"})
#: Bytes of an oversized body read (and dropped) before answering that it is too large.
MAX_DRAINED_BYTES = 4 * protocol.MAX_BODY_BYTES
#: Long polls served at once; more wait for a thread (their clients time out at ~65 s).
MAX_LONG_POLLS = 256


def create_app(engine: Engine) -> Starlette:
    """The app serving ``engine``; the caller runs workers and closes the store."""

    long_polls = anyio.CapacityLimiter(MAX_LONG_POLLS)

    async def step_functions(request: Request) -> Response:
        if iam.is_iam(request):  # IAM shares the endpoint (Query protocol, form bodies)
            return await iam.handle(engine, request)
        request_id = protocol.new_request_id()
        try:
            return protocol.success(await _call(engine, request, long_polls), request_id)
        except AwsError as exc:
            return protocol.failure(exc, request_id)
        except ClientDisconnect:  # the client went away mid-request: nobody to answer
            return Response(status_code=400)
        except Exception:
            # A bug or an unexpected fault: the details go to the log, never to the client.
            log.exception("request %s failed", request_id)
            error = protocol.InternalFailure(
                f"An internal error occurred; see the server log for request {request_id}")
            return protocol.failure(error, request_id)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def iam_get(request: Request) -> Response:
        # GET / is IAM's Query API when it names an Action; a browser's GET / goes to the console.
        if "Action" not in request.query_params:
            return RedirectResponse(console.PREFIX + "/", status_code=307)
        return await iam.handle(engine, request)

    app = Starlette(routes=[
        Route("/", step_functions, methods=["POST"]),
        Route("/", iam_get, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        *lambda_.routes(engine),
        *console.routes(engine),  # everything under /console
    ])
    # The Step Functions API on its fast path, inside the signature check (the last added
    # middleware is the outermost). Every request but the health check is signed once the
    # database holds an access key.
    app.add_middleware(_StepFunctionsApi, engine=engine, long_polls=long_polls)
    app.add_middleware(SigV4Middleware, engine=engine)
    return app


class _StepFunctionsApi:
    """``POST /`` naming an ``AWSStepFunctions.`` operation, served straight on ASGI: no
    Starlette Request, Response, router or exception layers, which took about a third of the
    event loop's time per request (bench/README.md, "The HTTP path"). Everything else (IAM's
    form posts, a missing or foreign target, other paths) goes on to the Starlette app."""

    def __init__(self, app: ASGIApp, engine: Engine, long_polls: anyio.CapacityLimiter
                 ) -> None:
        self.app = app
        self.engine = engine
        self.long_polls = long_polls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _step_functions_target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        request_id = protocol.new_request_id()
        try:
            raw = await _read_raw_body(scope, receive)
            status, headers, body = protocol.raw_success(
                await _dispatch(self.engine, target, raw, self.long_polls), request_id)
        except AwsError as exc:
            status, headers, body = protocol.raw_failure(exc, request_id)
        except ClientDisconnect:  # the client went away mid-request: nobody to answer
            status, headers, body = 400, [(b"content-length", b"0")], b""
        except Exception:
            # A bug or an unexpected fault: the details go to the log, never to the client.
            log.exception("request %s failed", request_id)
            status, headers, body = protocol.raw_failure(protocol.InternalFailure(
                f"An internal error occurred; see the server log for request {request_id}"),
                request_id)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _step_functions_target(scope: Scope) -> str | None:
    """The X-Amz-Target of a ``POST /`` naming a Step Functions operation, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/":
        return None
    for key, value in scope["headers"]:
        if key == b"x-amz-target":
            target = value.decode("latin-1")
            return target if target.startswith(protocol.TARGET_PREFIX) else None
    return None


async def _call(engine: Engine, request: Request, long_polls: anyio.CapacityLimiter
                ) -> protocol.Output:
    # The body first, whatever is wrong with the request: answering before reading it would
    # reset the connection of a client still sending.
    raw = await _read_body(request)
    return await _dispatch(engine, request.headers.get("x-amz-target"), raw, long_polls)


async def _dispatch(engine: Engine, target: str | None, raw: bytes,
                    long_polls: anyio.CapacityLimiter) -> protocol.Output:
    name = protocol.operation_name(target)
    model = shapes.operation_model(name)
    if model is None:
        raise protocol.UnknownOperationException(f"Unknown operation: '{name}'")
    operation = OPERATIONS.get(name)
    if operation is None:
        raise protocol.UnknownOperationException(
            f"statewright does not implement {name} yet")
    body = protocol.decode_body(raw)
    checked = shapes.check_input(model, body)
    if name in LONG_POLLS:
        return await anyio.to_thread.run_sync(
            functools.partial(operation, engine, checked), limiter=long_polls)
    return await threads.run(operation, engine, checked)


async def _read_body(request: Request) -> bytes:
    return await _read_raw_body(request.scope, request.receive)


async def _read_raw_body(scope: Scope, receive: Receive) -> bytes:
    """The body, refused past ``MAX_BODY_BYTES`` before anything decodes it. A body that grows
    past it without declaring its length is read and dropped (up to a bound) before the
    refusal is sent: a client still sending would otherwise see its connection reset."""
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
    if declared.isdigit() and int(declared) > protocol.MAX_BODY_BYTES:
        # Known too large from the headers: refused without waiting for the body at all.
        raise protocol.RequestEntityTooLarge("Request body is too large")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size <= protocol.MAX_BODY_BYTES:
            chunks.append(chunk)
        elif size > MAX_DRAINED_BYTES:
            break
    if size > protocol.MAX_BODY_BYTES:
        raise protocol.RequestEntityTooLarge("Request body is too large")
    return b"".join(chunks)
