"""The console's routes: the single-page app under ``/console/`` and its JSON API under
``/console/api/``.

Every route sits under ``PREFIX`` so one middleware can guard the whole console. ARNs travel in
query parameters (``?arn=...``), never in the path: names may hold characters a path would
mangle. Errors answer ``{"error": {"code", "message"}}`` with the AWS error's HTTP status, plus
``diagnostics`` (code, message, location) when a definition is refused.

Following a running execution (``/console/api/execution/stream``) is a server-sent event
stream: the server reads the store for new events every ``STREAM_POLL_SECONDS`` (one indexed
query per open page) and the browser holds one connection. A stream ends after
``STREAM_SECONDS`` and the page reconnects from the last event it has, so no connection outlives
a server shutdown by long.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from statewright import errors
from statewright.runtime.engine import Engine

log = logging.getLogger("statewright.console")

PREFIX = "/console"
STATIC = Path(__file__).parent / "static"

#: How often an open stream looks for new events while the execution runs.
STREAM_POLL_SECONDS = 0.25
#: How long one stream lasts before the page reconnects.
STREAM_SECONDS = 15.0
#: Events per history page (and per stream message).
HISTORY_PAGE = 1000
#: Statuses an execution can have, in the order the console shows them.
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

#: The pages' policy: everything from this server, nothing inline, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it browsers send "Origin: null" on the pages' own writes, and
    # console/auth.py checks that writes come from the console's origin.
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[Request], Any]


def routes(engine: Engine) -> list[BaseRoute]:
    """Everything under ``PREFIX`` (the app redirects a browser's ``GET /`` here)."""
    api = _Api(engine)
    return [
        Route(PREFIX, _home_redirect, methods=["GET", "HEAD"]),
        Route(PREFIX + "/", _index, methods=["GET", "HEAD"]),
        Mount(PREFIX + "/static", app=_Static(directory=STATIC), name="console-static"),
        Route(PREFIX + "/api/overview", api.overview, methods=["GET"]),
        Route(PREFIX + "/api/state-machines", api.state_machines, methods=["GET"]),
        Route(PREFIX + "/api/state-machine", api.state_machine,
              methods=["GET", "POST", "DELETE"]),
        Route(PREFIX + "/api/validate", api.validate, methods=["POST"]),
        Route(PREFIX + "/api/executions", api.executions, methods=["GET", "POST"]),
        Route(PREFIX + "/api/execution", api.execution, methods=["GET"]),
        Route(PREFIX + "/api/execution/stop", api.stop, methods=["POST"]),
        Route(PREFIX + "/api/execution/history", api.history, methods=["GET"]),
        Route(PREFIX + "/api/execution/stream", api.stream, methods=["GET"]),
        Route(PREFIX + "/api/functions", api.functions, methods=["GET"]),
        Route(PREFIX + "/api/function", api.function, methods=["GET"]),
    ]


async def _home_redirect(request: Request) -> Response:
    return RedirectResponse(PREFIX + "/", status_code=307)


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={**SECURITY_HEADERS,
                                                        "Cache-Control": "no-cache"})


class _Static(StaticFiles):
    """The console's files, with the pages' security headers and revalidation."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response


class BadRequest(errors.AwsError):
    """The console's own request was malformed (missing field, not JSON)."""

    code = "ValidationException"
    status = 400


def _answer(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status, headers={"Cache-Control": "no-store"})


def _failure(exc: errors.AwsError, **extra: Any) -> JSONResponse:
    body = {"error": {"code": exc.code, "message": exc.message}, **extra}
    return _answer(body, exc.status)


def _json_endpoint(fn: Callable[..., Any]) -> Callable[[Request], Any]:
    """Runs a synchronous handler on the thread pool; AWS errors become JSON answers."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await _body(request) if request.method in ("POST", "PUT") else {}
            result = await run_in_threadpool(fn, request, body)
        except errors.AwsError as exc:
            return _failure(exc, **getattr(exc, "extra", {}))
        except Exception:
            log.exception("console request %s failed", request.url.path)
            return _failure(errors.AwsError("An internal error occurred; see the server log"))
        if isinstance(result, Response):
            return result
        return _answer(result)

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    # Only JSON: a page on another site can send a form or text/plain POST here without the
    # browser asking first, but not application/json (that needs CORS, which we never allow).
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadRequest("The console's API accepts only application/json requests")
    raw = await request.body()
    if len(raw) > 2 * 1024 * 1024:
        raise BadRequest("The request body is too large")
    try:
        value = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest(f"The request body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object")
    return value


def _param(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise BadRequest(f"The query parameter '{name}' is required")
    return value


def _text(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    return value


class _Refused(errors.AwsError):
    """A definition the engine refused, with its located diagnostics."""

    code = "InvalidDefinition"
    status = 400

    def __init__(self, message: str, diagnostics: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.extra = {"diagnostics": diagnostics}


class _Api:
    """The handlers; each reads or writes through the engine only."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.overview = _json_endpoint(self._overview)
        self.state_machines = _json_endpoint(self._state_machines)
        self.state_machine = _json_endpoint(self._state_machine)
        self.validate = _json_endpoint(self._validate)
        self.executions = _json_endpoint(self._executions)
        self.execution = _json_endpoint(self._execution)
        self.stop = _json_endpoint(self._stop)
        self.history = _json_endpoint(self._history)
        self.functions = _json_endpoint(self._functions)
        self.function = _json_endpoint(self._function)

    # ------------------------------------------------------------------ state machines

    def _all_machines(self) -> list[Any]:
        machines: list[Any] = []
        token = None
        while True:
            page = self.engine.list_state_machines(1000, token)
            machines.extend(page.items)
            token = page.next_token
            if token is None:
                return machines

    def _machine_summary(self, record: Any) -> dict[str, Any]:
        return {
            "arn": record.arn, "name": record.name, "type": record.type,
            "createdAt": record.created_at, "updatedAt": record.updated_at,
            "counts": self.engine.count_executions(record.arn),
        }

    def _overview(self, request: Request, body: dict[str, Any]) -> Any:
        machines = [self._machine_summary(m) for m in self._all_machines()]
        totals = dict.fromkeys(STATUSES, 0)
        for machine in machines:
            for status, count in machine["counts"].items():
                totals[status] = totals.get(status, 0) + count
        functions = self.engine.list_functions(1000).items
        return {"stateMachines": machines, "totals": totals, "functionCount": len(functions)}

    def _state_machines(self, request: Request, body: dict[str, Any]) -> Any:
        return {"stateMachines": [self._machine_summary(m) for m in self._all_machines()]}

    def _state_machine(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            return self._create(body)
        arn = _param(request, "arn")
        if request.method == "DELETE":
            self.engine.delete_state_machine(arn)
            return {"deleted": arn}
        record = self.engine.describe_state_machine(arn)
        # What the role may invoke (function name -> allowed); None: the role is not enforced.
        return {**self._machine_summary(record), "definition": record.definition,
                "roleArn": record.role_arn, "revisionId": record.revision_id,
                "rolePermissions": self.engine.role_permissions(arn),
                "iamStrict": self.engine.settings.iam_strict}

    def _create(self, body: dict[str, Any]) -> Any:
        name = _text(body, "name")
        definition = _text(body, "definition")
        kind = _text(body, "type", required=False) or "STANDARD"
        assert name is not None and definition is not None
        faults = self.engine.validate_definition(definition)
        if faults:
            raise _Refused(
                f"Invalid State Machine Definition: {len(faults)} problem(s)",
                [{"code": f.code, "message": f.message, "location": f.location}
                 for f in faults])
        record = self.engine.create_state_machine(name, definition, type=kind)
        return {"arn": record.arn, "name": record.name}

    def _validate(self, request: Request, body: dict[str, Any]) -> Any:
        definition = _text(body, "definition")
        assert definition is not None
        faults = self.engine.validate_definition(definition)
        return {"result": "FAIL" if faults else "OK", "diagnostics": [
            {"code": f.code, "message": f.message, "location": f.location} for f in faults]}

    # ------------------------------------------------------------------ executions

    def _executions(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            return self._start(body)
        arn = _param(request, "stateMachineArn")
        status = request.query_params.get("status") or None
        if status is not None and status not in STATUSES:
            raise BadRequest(f"Unknown status '{status}'")
        name = request.query_params.get("name", "")
        try:
            limit = min(max(int(request.query_params.get("limit", "50")), 1), 1000)
        except ValueError as exc:
            raise BadRequest("'limit' must be a number") from exc
        token = request.query_params.get("nextToken") or None
        if name:
            page = self.engine.search_executions(arn, status, name, limit, token)
        else:
            page = self.engine.list_executions(arn, status, limit, token)
        return {"executions": [_execution_summary(e) for e in page.items],
                "nextToken": page.next_token}

    def _start(self, body: dict[str, Any]) -> Any:
        arn = _text(body, "stateMachineArn")
        assert arn is not None
        text = _text(body, "input", required=False) or "{}"
        started = self.engine.start_execution(arn, text, _text(body, "name", required=False))
        return {"executionArn": started.execution_arn, "startDate": started.start_date}

    def _execution(self, request: Request, body: dict[str, Any]) -> Any:
        arn = _param(request, "arn")
        record = self.engine.describe_execution(arn)
        machine = self.engine.describe_state_machine_for_execution(arn)
        return {**_execution_summary(record), "input": record.input, "output": record.output,
                "error": record.error, "cause": record.cause,
                "stateMachineName": machine.name, "definition": machine.definition,
                "invocations": self._invocations(arn)}

    def _invocations(self, arn: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.engine.list_invocations(arn, 1000, token)
            found.extend(_invocation(i) for i in page.items)
            token = page.next_token
            if token is None:
                return found

    def _stop(self, request: Request, body: dict[str, Any]) -> Any:
        arn = _text(body, "arn")
        assert arn is not None
        stopped = self.engine.stop_execution(
            arn, _text(body, "error", required=False), _text(body, "cause", required=False))
        return {"stopDate": stopped}

    def _history(self, request: Request, body: dict[str, Any]) -> Any:
        arn = _param(request, "arn")
        try:
            after = max(int(request.query_params.get("after", "0")), 0)
        except ValueError as exc:
            raise BadRequest("'after' must be a number") from exc
        events = self.engine.history_after(arn, after, HISTORY_PAGE)
        return {"events": [_event(e) for e in events],
                "more": len(events) == HISTORY_PAGE}

    async def stream(self, request: Request) -> Response:
        """Server-sent events: ``events`` (new history events), ``execution`` (status
        changes), then ``end`` once the execution is over and every event was sent."""
        try:
            arn = _param(request, "arn")
            after = max(int(request.query_params.get("after", "0")), 0)
            await run_in_threadpool(self.engine.describe_execution, arn)  # it exists
        except ValueError:
            return _failure(BadRequest("'after' must be a number"))
        except errors.AwsError as exc:
            return _failure(exc)

        async def messages() -> AsyncIterator[str]:
            nonlocal after
            status: str | None = None
            deadline = time.monotonic() + STREAM_SECONDS
            while time.monotonic() < deadline:
                # The row first: once it says the execution ended, every event is stored.
                current = await run_in_threadpool(self.engine.describe_execution, arn)
                events = await run_in_threadpool(self.engine.history_after, arn, after,
                                                 HISTORY_PAGE)
                if events:
                    after = events[-1].id
                    yield _sse("events", [_event(e) for e in events])
                if current.status != status:
                    status = current.status
                    invocations = await run_in_threadpool(self._invocations, arn)
                    yield _sse("execution", {**_execution_summary(current),
                                             "output": current.output, "error": current.error,
                                             "cause": current.cause,
                                             "invocations": invocations})
                elif events:
                    invocations = await run_in_threadpool(self._invocations, arn)
                    yield _sse("invocations", invocations)
                if current.status != "RUNNING" and len(events) < HISTORY_PAGE:
                    yield _sse("end", {"status": current.status})
                    return
                if len(events) < HISTORY_PAGE:
                    await anyio.sleep(STREAM_POLL_SECONDS)
            yield ": reconnect\n\n"

        return StreamingResponse(messages(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    # ------------------------------------------------------------------ functions

    def _functions(self, request: Request, body: dict[str, Any]) -> Any:
        records = []
        token = None
        while True:
            page = self.engine.list_functions(50, token)
            records.extend(page.items)
            token = page.next_token
            if token is None:
                break
        return {"functions": [_function(f) for f in records]}

    def _function(self, request: Request, body: dict[str, Any]) -> Any:
        name = _param(request, "name")
        record = self.engine.get_function(name)
        recent = self.engine.list_function_invocations(name, 50)
        return {**_function(record), "environment": json.loads(record.environment or "{}"),
                "role": record.role, "revisionId": record.revision_id,
                "codeSha256": record.code_sha256,
                "invocations": [_invocation(i) for i in recent]}


def _sse(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _execution_summary(record: Any) -> dict[str, Any]:
    return {"arn": record.arn, "name": record.name, "status": record.status,
            "stateMachineArn": record.state_machine_arn, "startDate": record.start_date,
            "stopDate": record.stop_date}


def _event(record: Any) -> dict[str, Any]:
    return {"id": record.id, "previousEventId": record.previous_event_id,
            "timestamp": record.timestamp, "type": record.type,
            "details": json.loads(record.details) if record.details else None}


def _invocation(record: Any) -> dict[str, Any]:
    return {"id": record.id, "executionArn": record.execution_arn, "eventId": record.event_id,
            "scheduledEventId": record.scheduled_event_id, "stateName": record.state_name,
            "functionName": record.function_name, "requestId": record.request_id,
            "startedAt": record.started_at, "durationMs": record.duration_ms,
            "status": record.status, "errorType": record.error_type, "logs": record.logs}


def _function(record: Any) -> dict[str, Any]:
    return {"name": record.name, "runtime": record.runtime, "handler": record.handler,
            "timeout": record.timeout, "memorySize": record.memory_size,
            "codeSize": record.code_size, "description": record.description,
            "createdAt": record.created_at, "lastModified": record.last_modified}
