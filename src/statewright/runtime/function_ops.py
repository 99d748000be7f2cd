"""Lambda's function operations behind the Engine: AWS's checks, then the store and invoker.

Every check runs before anything is written, so a refused request stores nothing. The checks
the Lambda API model expresses (types, lengths, patterns, enums) also run at the API edge;
the ones here are Lambda's own rules beyond the model (the runtimes statewright can run, the
1-900 s timeout, 128-10240 MB of memory, reserved environment variables, a package that unzips
safely), plus the model's, for callers that do not pass through the API (the CLI, tests).

Versions and aliases are not implemented: a function is its ``$LATEST``, ``Publish`` is
refused, and any other qualifier names a version that does not exist.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import ParamSpec, TypeVar

from statewright import errors
from statewright.arns import Partition, function_arn, parse_function_name
from statewright.asl.jsonlimits import MAX_DEPTH, too_deep
from statewright.functions.base import FunctionNotFound, Invoker, InvokeResult, Throttled
from statewright.functions.packages import PackageError, code_sha256
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.unavailable import api_error
from statewright.store.base import (
    AlreadyExists,
    Conflict,
    FunctionRecord,
    InvalidToken,
    NotFound,
    Page,
    Store,
    StoreError,
)

log = logging.getLogger("statewright.functions")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: The runtimes statewright runs (python3.x and nodejs*.x workers); Lambda's identifiers.
SUPPORTED_RUNTIMES = (
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
    "nodejs18.x", "nodejs20.x", "nodejs22.x",
)
#: Runtimes Lambda itself no longer accepts for new or updated functions.
_DEPRECATED_RUNTIME = re.compile(
    r"python2\.7|python3\.[678]|nodejs(4\.3(-edge)?|6\.10|8\.10|1[0246]\.x)?|dotnetcore.*|"
    r"go1\.x|ruby2\..*|java8"
)
#: Lambda's defaults for CreateFunction.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
#: Lambda's quotas (the model allows longer and bigger for other kinds of functions).
MAX_TIMEOUT = 900
MIN_MEMORY, MAX_MEMORY = 128, 10240
#: A zip uploaded directly (Code.ZipFile) may be at most 50 MB.
MAX_ZIP_BYTES = 52_428_800
#: The environment variables, as JSON, may take 4 KB.
MAX_ENVIRONMENT_BYTES = 4096
#: Invoke payload quotas: 6 MB synchronous, 1 MB asynchronous (the Invoke API reference).
MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
#: Variables Lambda sets itself and refuses in a function's configuration.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")

_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_VARIABLE = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
#: How many times an update is redone after another writer changed the function meanwhile.
_UPDATE_ATTEMPTS = 5
#: Asynchronous (Event) invocations run on this many background threads, queued beyond.
_EVENT_THREADS = 4
#: How long a throttled asynchronous invocation is tried again (Lambda's default maximum
#: event age).
MAX_EVENT_AGE_SECONDS = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class Settings:
    """A function's configuration as CreateFunction and UpdateFunctionConfiguration take it;
    None leaves a member as it is (or at Lambda's default, on create)."""

    runtime: str | None = None
    """Lambda's runtime identifier."""
    handler: str | None = None
    """``module.function`` or ``file.export``."""
    timeout: int | None = None
    """Seconds, 1-900."""
    memory_size: int | None = None
    """MB, 128-10240."""
    environment: Mapping[str, str] | None = None
    """The environment variables (replacing all of them)."""
    role: str | None = None
    """The execution role ARN (stored, not enforced)."""
    description: str | None = None
    """Free text, up to 256 characters."""


class FunctionOps:
    """Create, read, update, delete and invoke functions; one per Engine."""

    def __init__(self, store: Store, registry: FunctionRegistry, partition: Partition,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.registry = registry
        self.partition = partition
        self.clock = clock
        self._events: queue.SimpleQueue[tuple[Invoker, str, bytes]] = queue.SimpleQueue()
        self._event_threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control plane

    def create(self, name: str, code: bytes, settings: Settings) -> FunctionRecord:
        name = self._plain_name(name)
        if settings.runtime is None or settings.handler is None:
            raise errors.InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages.")
        _check_settings(settings)
        sha256 = self._check_code(code)
        now = self.clock()
        record = FunctionRecord(
            name=name, runtime=settings.runtime, handler=settings.handler, code=code,
            code_sha256=sha256, code_size=len(code),
            timeout=DEFAULT_TIMEOUT if settings.timeout is None else settings.timeout,
            memory_size=DEFAULT_MEMORY if settings.memory_size is None
            else settings.memory_size,
            environment=json.dumps(dict(settings.environment or {})),
            role=settings.role or f"arn:aws:iam::{self.partition.account}:role/statewright",
            description=settings.description or "", created_at=now, last_modified=now,
            revision_id=str(uuid.uuid4()),
        )
        try:
            self._call(self.store.put_function, record, create=True)
        except AlreadyExists as exc:
            raise errors.ResourceConflictException(f"Function already exist: {name}") from exc
        self.registry.forget(name)
        return replace(record, code=None)

    def get(self, name: str) -> FunctionRecord:
        """The function without its code."""
        plain = self._name(name)
        record = self._call(self.store.get_function, plain, with_code=False)
        if record is None:
            raise self._not_found(plain)
        return record

    def code(self, name: str) -> bytes:
        """The function's deployment package."""
        plain = self._name(name)
        record = self._call(self.store.get_function, plain)
        if record is None or record.code is None:
            raise self._not_found(plain)
        return record.code

    def list(self, limit: int, marker: str | None) -> Page[FunctionRecord]:
        try:
            return self._call(self.store.list_functions, limit, marker)
        except InvalidToken as exc:
            raise errors.InvalidParameterValueException(
                f"Invalid marker: {(marker or '')[:80]}") from exc

    def update_code(self, name: str, code: bytes, revision_id: str | None = None,
                    dry_run: bool = False) -> FunctionRecord:
        sha256 = self._check_code(code)
        return self._update(name, revision_id, dry_run, lambda current: replace(
            current, code=code, code_sha256=sha256, code_size=len(code)))

    def update_configuration(self, name: str, settings: Settings,
                             revision_id: str | None = None) -> FunctionRecord:
        _check_settings(settings)
        return self._update(name, revision_id, False, lambda current: _configured(
            current, settings))

    def deploy(self, name: str, code: bytes, settings: Settings
               ) -> tuple[FunctionRecord, str]:
        """Creates the function, or updates its code and configuration in one revision;
        returns it with what happened: ``created``, ``updated`` or ``unchanged`` (the same
        code and settings: nothing is written, so warm workers stay)."""
        try:
            return self.create(name, code, settings), "created"
        except errors.ResourceConflictException:
            pass
        sha256 = self._check_code(code)
        current = self.get(name)
        wanted = replace(_configured(current, settings), code_sha256=sha256,
                         code_size=len(code))
        if wanted == current:
            return current, "unchanged"
        return self._update(name, None, False, lambda latest: replace(
            _configured(latest, settings), code=code, code_sha256=sha256,
            code_size=len(code))), "updated"

    def delete(self, name: str) -> None:
        plain, qualifier = self._parse(name)
        if qualifier == "$LATEST":
            raise errors.InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function.")
        if qualifier is not None or not self._call(self.store.delete_function, plain):
            raise self._not_found(plain, qualifier)
        self.registry.forget(plain)

    def set_concurrency(self, name: str, reserved: int | None) -> None:
        """PutFunctionConcurrency (a number) or DeleteFunctionConcurrency (None). Every
        worker reads it with the function's configuration (within the registry's ttl)."""
        plain = self._name(name)
        if not self._call(self.store.set_function_concurrency, plain, reserved):
            raise self._not_found(plain)
        self.registry.forget(plain)

    # ------------------------------------------------------------------ data plane

    def invoke(self, invoker: Invoker | None, name: str, payload: bytes,
               invocation_type: str = "RequestResponse") -> InvokeResult | None:
        """Runs the function: its result (RequestResponse), or None once the invocation is
        queued (Event) or merely allowed (DryRun). Handler errors are results."""
        if invocation_type not in INVOCATION_TYPES:
            raise _validation(invocation_type, "invocationType",
                              "Member must satisfy enum value set: [" +
                              ", ".join(INVOCATION_TYPES) + "]")
        record = self.get(name)
        limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise errors.RequestEntityTooLargeException(
                f"{len(payload)} byte payload is too large for the {invocation_type} "
                f"invocation type (limit {limit} bytes)")
        payload = payload if payload.strip() else b"{}"
        try:
            if too_deep(payload):
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: "
                f"{exc}") from exc
        if invoker is None:
            raise errors.ServiceException("This statewright server runs no functions")
        if invocation_type == "DryRun":
            return None
        if invocation_type == "Event":
            self._queue_event(invoker, record.name, payload)
            return None
        try:
            return invoker.invoke(record.name, payload)
        except FunctionNotFound as exc:  # deleted between the check and the call
            raise self._not_found(record.name) from exc
        except Throttled as exc:
            raise errors.TooManyRequestsException(str(exc), reason=exc.reason) from exc

    def _queue_event(self, invoker: Invoker, name: str, payload: bytes) -> None:
        # Lambda queues asynchronous events and runs them on its own schedule; a few daemon
        # threads stand in for that queue (events still queued at exit are lost, as Lambda
        # warns they may be).
        with self._lock:
            if len(self._event_threads) < _EVENT_THREADS:
                thread = threading.Thread(target=self._run_events, daemon=True,
                                          name="statewright-function-events")
                self._event_threads.append(thread)
                thread.start()
        self._events.put((invoker, name, payload))

    def _run_events(self) -> None:
        while True:
            invoker, name, payload = self._events.get()
            try:
                result = self._invoke_event(invoker, name, payload)
            except Exception:
                log.exception("asynchronous invocation of %s failed", name)
                continue
            if result.function_error is not None:
                log.info("asynchronous invocation of %s failed: %s", name,
                         result.payload[:1000].decode("utf-8", "replace"))

    def _invoke_event(self, invoker: Invoker, name: str, payload: bytes) -> InvokeResult:
        """An asynchronous invocation; throttled, it is tried again with back-off, as Lambda
        retries throttled events (for up to 6 hours, its default maximum event age)."""
        delay, deadline = 0.05, time.monotonic() + MAX_EVENT_AGE_SECONDS
        while True:
            try:
                return invoker.invoke(name, payload)
            except Throttled:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    # ------------------------------------------------------------------ helpers

    def _update(self, name: str, revision_id: str | None, dry_run: bool,
                change: Callable[[FunctionRecord], FunctionRecord]) -> FunctionRecord:
        """Read, change, write with the revision as a guard; redone when another writer won,
        unless the caller named the revision it expected."""
        plain = self._name(name)
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.get(plain)
            if revision_id is not None and revision_id != current.revision_id:
                raise _precondition_failed()
            updated = replace(change(current), last_modified=self.clock(),
                              revision_id=str(uuid.uuid4()))
            if dry_run:
                return replace(updated, code=None)
            try:
                self._call(self.store.put_function, updated, create=False,
                           expected_revision=current.revision_id)
            except NotFound as exc:
                raise self._not_found(plain) from exc
            except Conflict as exc:
                if revision_id is not None:
                    raise _precondition_failed() from exc
                continue
            self.registry.forget(plain)
            return replace(updated, code=None)
        raise errors.ResourceConflictException(
            f"An update is in progress for resource: {function_arn(self.partition, plain)}")

    def _check_code(self, code: bytes) -> str:
        """The package's CodeSha256, once it is known to unzip safely (unpacked into the
        registry's cache, where the first invocation finds it)."""
        if len(code) > MAX_ZIP_BYTES:
            raise errors.RequestEntityTooLargeException(
                f"Zipped size must be smaller than {MAX_ZIP_BYTES} bytes")
        sha256 = code_sha256(code)
        try:
            self.registry.unpack(sha256, code)
        except PackageError as exc:
            raise errors.InvalidParameterValueException(str(exc)) from exc
        return sha256

    def _parse(self, name: str) -> tuple[str, str | None]:
        try:
            return parse_function_name(name)
        except ValueError:
            raise _validation(name, "functionName", "Member must satisfy regular expression "
                              "pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-"
                              r"\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|"
                              "[a-zA-Z0-9-_]+))?") from None

    def _name(self, name: str) -> str:
        """The function name; a qualifier other than $LATEST names a missing version."""
        plain, qualifier = self._parse(name)
        if qualifier not in (None, "$LATEST"):
            raise self._not_found(plain, qualifier)
        return plain

    def _plain_name(self, name: str) -> str:
        plain, qualifier = self._parse(name)
        if qualifier is not None:
            raise errors.InvalidParameterValueException(
                "A function name cannot carry a qualifier when the function is created")
        return plain

    def _not_found(self, name: str, qualifier: str | None = None) -> errors.AwsError:
        return errors.ResourceNotFoundException(
            f"Function not found: {function_arn(self.partition, name, qualifier)}")

    @staticmethod
    def _call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """A store call; a failure of the database becomes Lambda's ServiceException (the
        store's verdicts on the request pass through for the caller to translate)."""
        try:
            return fn(*args, **kwargs)
        except (AlreadyExists, NotFound, Conflict, InvalidToken):
            raise
        except StoreError as exc:
            raise api_error(exc, "lambda") from exc


def _check_settings(settings: Settings) -> None:
    """Lambda's rules for the configuration members given; raises before anything is stored."""
    runtime = settings.runtime
    if runtime is not None and runtime not in SUPPORTED_RUNTIMES:
        if _DEPRECATED_RUNTIME.fullmatch(runtime):
            raise errors.InvalidParameterValueException(
                f"The runtime parameter of {runtime} is no longer supported for creating or "
                "updating AWS Lambda functions. We recommend you use a supported runtime while "
                "creating or updating functions.")
        raise errors.InvalidParameterValueException(
            f"The runtime parameter of {runtime} is not supported by statewright; use one of: "
            + ", ".join(SUPPORTED_RUNTIMES))
    handler = settings.handler
    if handler is not None:
        if not handler or len(handler) > 128 or re.search(r"\s", handler):
            raise _validation(handler, "handler", r"Member must satisfy regular expression "
                              r"pattern: [^\s]+")
        module, _, function = handler.rpartition(".")
        if not module or not function:
            # Lambda accepts this and fails every invocation (Runtime.MalformedHandlerName);
            # refusing it up front saves a deploy that cannot work.
            raise errors.InvalidParameterValueException(
                f"The handler {handler!r} is not of the form file.function (module.function "
                "for Python, file.export for Node.js)")
    if settings.timeout is not None and not 1 <= settings.timeout <= MAX_TIMEOUT:
        raise _validation(settings.timeout, "timeout", "Member must have value " + (
            "greater than or equal to 1" if settings.timeout < 1
            else f"less than or equal to {MAX_TIMEOUT}"))
    memory = settings.memory_size
    if memory is not None and not MIN_MEMORY <= memory <= MAX_MEMORY:
        raise _validation(memory, "memorySize", "Member must have value " + (
            f"greater than or equal to {MIN_MEMORY}" if memory < MIN_MEMORY
            else f"less than or equal to {MAX_MEMORY}"))
    if settings.role is not None and not _ROLE.fullmatch(settings.role):
        raise _validation(settings.role, "role", "Member must satisfy regular expression "
                          r"pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
    if settings.description is not None and len(settings.description) > 256:
        raise _validation(settings.description, "description",
                          "Member must have length less than or equal to 256")
    if settings.environment is not None:
        _check_environment(settings.environment)


def _check_environment(variables: Mapping[str, str]) -> None:
    for key, value in variables.items():
        if not isinstance(key, str) or not _VARIABLE.fullmatch(key) or not isinstance(value, str):
            # The variables are sensitive: AWS's message leaves the value out.
            raise errors.ValidationException(
                "1 validation error detected: Value at 'environment.variables' failed to "
                "satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                "regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
    reserved = sorted(set(variables) & RESERVED_VARIABLES)
    if reserved:
        raise errors.InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            "supported for modification. Reserved keys used in this request: "
            + ", ".join(reserved))
    measured = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > MAX_ENVIRONMENT_BYTES:
        raise errors.InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured)


def _configured(current: FunctionRecord, settings: Settings) -> FunctionRecord:
    """``current`` with the members ``settings`` gives."""
    return replace(
        current,
        runtime=_pick(settings.runtime, current.runtime),
        handler=_pick(settings.handler, current.handler),
        timeout=_pick(settings.timeout, current.timeout),
        memory_size=_pick(settings.memory_size, current.memory_size),
        environment=current.environment if settings.environment is None
        else json.dumps(dict(settings.environment)),
        role=_pick(settings.role, current.role),
        description=_pick(settings.description, current.description),
    )


def _validation(value: object, member: str, constraint: str) -> errors.AwsError:
    return errors.ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}")


def _precondition_failed() -> errors.AwsError:
    return errors.PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id")


def _pick(given: T | None, current: T) -> T:
    return current if given is None else given


__all__ = ["INVOCATION_TYPES", "SUPPORTED_RUNTIMES", "FunctionOps", "Settings"]
