"""Request authentication: once the database holds an access key, every API request must be
signed with one (SigV4, ``sigv4.py``); until then the server is open, as before.

An ASGI middleware in front of the app: it tells which service a request is for (Lambda by
its path, Step Functions by ``X-Amz-Target``, IAM by its Query-protocol form), reads the body
(SigV4 covers it), checks the signature in the thread pool (it reads the key from the
database), and either answers with the service's own error or hands the request, body
replayed, to the app. Nothing runs and nothing is stored for a refused request.

The error codes and HTTP statuses are each protocol's. Step Functions (awsJson, Coral) answers
400 with ``{"__type": ...}``: "Status Code: 400; Error Code: UnrecognizedClientException" is
what SDKs log for a bad key against states. Lambda (restJson) answers 403 with the code in
``x-amzn-ErrorType``, as logged for MissingAuthenticationTokenException,
UnrecognizedClientException and InvalidSignatureException on /2015-03-31/functions. IAM
(Query, XML) uses its own codes: MissingAuthenticationToken, IncompleteSignature,
InvalidClientTokenId and SignatureDoesNotMatch.

A request signed with a key bound to a role (``keys create --role``, a function's own key) is
then authorised against the role's policies (``authz.needs`` says what it needs; the engine
decides): a refusal is AWS's AccessDenied for the protocol, Step Functions 400
``AccessDeniedException``, Lambda 403 ``AccessDeniedException``, IAM 403 ``AccessDenied``,
with the message "User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to
perform: ACTION on resource: ARN because no identity-based policy allows the ACTION action".
A function's key must come with its session token (``X-Amz-Security-Token``), as AWS's
temporary credentials must.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from statewright import console
from statewright.api import authz, iam, lambda_, protocol, sigv4, threads
from statewright.console import auth as console_auth
from statewright.errors import AwsError
from statewright.runtime.engine import Engine, Grant

log = logging.getLogger("statewright.api")

#: Paths anyone may read without signing: the load balancer's health check. The console
#: (``/console``) signs in with a session instead (``statewright.console.auth``).
OPEN_PATHS = frozenset({"/health"})
#: The largest body read to check a signature: Lambda's largest request (a 50 MB zip,
#: base64 in JSON); the app applies each operation's own limit afterwards.
MAX_SIGNED_BODY_BYTES = lambda_.MAX_CODE_REQUEST_BYTES

#: Per service: the error code and HTTP status of each refusal.
_CODES: dict[str, dict[str, tuple[str, int]]] = {
    "states": {
        "missing": ("MissingAuthenticationTokenException", 400),
        "incomplete": ("IncompleteSignatureException", 400),
        "unknown_key": ("UnrecognizedClientException", 400),
        "bad_signature": ("InvalidSignatureException", 400),
        "too_large": ("RequestEntityTooLargeException", 413),
        "denied": ("AccessDeniedException", 400),
    },
    "lambda": {
        "missing": ("MissingAuthenticationTokenException", 403),
        "incomplete": ("IncompleteSignatureException", 403),
        "unknown_key": ("UnrecognizedClientException", 403),
        "bad_signature": ("InvalidSignatureException", 403),
        "too_large": ("RequestTooLargeException", 413),
        "denied": ("AccessDeniedException", 403),
    },
    "iam": {
        "missing": ("MissingAuthenticationToken", 403),
        "incomplete": ("IncompleteSignature", 400),
        "unknown_key": ("InvalidClientTokenId", 403),
        "bad_signature": ("SignatureDoesNotMatch", 403),
        "too_large": ("RequestEntityTooLarge", 413),
        "denied": ("AccessDenied", 403),
    },
}


def service_of(path: str, headers: dict[str, str], query: str) -> str:
    """Which service's API a request calls: ``states``, ``lambda`` or ``iam``."""
    if path.startswith("/20") and path[1:5].isdigit():
        return "lambda"
    if "x-amz-target" in headers:
        return "states"
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in query:
        return "iam"
    return "states"


class SigV4Middleware:
    """Refuses unsigned or badly signed requests whenever access keys exist."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.console = console_auth.Guard(app, engine)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if is_console(scope):  # a browser: a login session instead of signatures
            await self.console(scope, receive, send)
            return
        required = self.engine.access_keys_required_now()  # from memory: no thread, no query
        if required is None:
            required = await threads.run(self.engine.access_keys_required)
        if not required:
            await self.app(scope, receive, send)
            return
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                   for k, v in scope["headers"]]
        query = scope.get("query_string", b"").decode("latin-1")
        service = service_of(scope["path"], dict(headers), query)
        head = sigv4.Request(scope["method"], _raw_path(scope), query, headers, b"")
        try:
            # Form, time and key first: a request that fails them is refused unread.
            signature = sigv4.check_head(head, service, datetime.now(UTC))
            grant = await run_in_threadpool(self.engine.access_key, signature.access_key_id)
            if grant is None:
                raise sigv4.unknown_key()
            _check_session_token(grant, dict(headers), query)
            body = await _read(receive)
            if body is None:
                raise sigv4.AuthFailure("too_large", "Request body is too large")
            request = sigv4.Request(head.method, head.raw_path, query, headers, body)
            # Hashing a large body takes a while: not on the event loop.
            await run_in_threadpool(sigv4.check_signature, request, signature, grant.secret)
            if grant.role_arn is not None:
                denial = await run_in_threadpool(
                    self._denial, grant, service, scope, query, dict(headers), body,
                    signature.region)
                if denial is not None:
                    raise sigv4.AuthFailure("denied", denial)
        except sigv4.AuthFailure as failure:
            await _refuse(service, failure.kind, failure.message)(scope, receive, send)
            return
        except AwsError as exc:  # the database is unavailable
            await _render(service, exc)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


    def _denial(self, grant: Grant, service: str, scope: Scope, query: str,
                headers: dict[str, str], body: bytes, region: str) -> str | None:
        """AWS's AccessDenied message when the key's role may not make the request."""
        needs = authz.needs(service, scope["method"], scope["path"], query, headers, body,
                            self.engine.partition,
                            lambda name: self.engine.call_iam(lambda ops: ops.role_arn(name)))
        client = scope.get("client")
        context = {"aws:RequestedRegion": region,
                   "aws:SecureTransport": "true" if scope.get("scheme") == "https" else "false",
                   **({"aws:SourceIp": client[0]} if client else {})}
        return self.engine.request_denial(grant, needs, context)


def _check_session_token(grant: Grant, headers: dict[str, str], query: str) -> None:
    """A function's key signs with its session token, as AWS's temporary credentials."""
    expected = grant.session_token
    if expected is None:
        return
    given = headers.get("x-amz-security-token")
    if given is None:
        given = dict(parse_qsl(query)).get("X-Amz-Security-Token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise sigv4.unknown_key()


def is_console(scope: Scope) -> bool:
    """Whether a request is the console's: under ``/console``, or a browser's plain
    ``GET /`` (no IAM ``Action``, no signature), which the app redirects to the console."""
    path: str = scope["path"]
    if path == console.PREFIX or path.startswith(console.PREFIX + "/"):
        return True
    if path != "/" or scope["method"] not in ("GET", "HEAD"):
        return False
    query = scope.get("query_string", b"").decode("latin-1")
    signed = any(k.lower() == b"authorization" for k, _ in scope["headers"])
    return not signed and "Action=" not in query and "X-Amz-" not in query


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if raw:
        return str(raw.decode("latin-1").partition("?")[0])
    return str(scope["path"])


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SIGNED_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _refuse(service: str, kind: str, message: str) -> Response:
    code, status = _CODES[service][kind]
    error = type(code, (AwsError,), {"code": code, "status": status})(message)
    return _render(service, error)


def _render(service: str, error: AwsError) -> Response:
    request_id = protocol.new_request_id()
    if service == "lambda":
        return lambda_.failure(error, request_id)
    if service == "iam":
        return iam.failure(error, request_id)
    return protocol.failure(error, request_id)
