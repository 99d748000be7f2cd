"""Functions in warm worker processes: the isolated Lambda stand-in of the server.

A function runs in as many workers (Lambda's execution environments) at once as it has
invocations in flight, started on demand and kept warm between invocations: a handler's module
is imported once per worker, and module-level state survives from one invocation to the next.
A worker serves one invocation at a time. Idle workers are retired after ``idle_seconds``.
Invocations in flight are limited as Lambda limits them: ``concurrency`` for all functions
together (Lambda's account concurrency; default 100 per server or worker process) and a
function's reserved concurrency (``PutFunctionConcurrency``). An invocation past a limit is
refused at once with ``Throttled`` (Lambda's ``TooManyRequestsException``), never queued.

A worker is ``python_runner.py`` (``python3.x`` runtimes) or ``node_runner.mjs``
(``nodejs18.x``/``20.x``/``22.x``) with the function's environment. Node.js workers are
processes of their own; Python workers are forked by a zygote, one per function configuration,
an interpreter with the runner loaded (``forkserver.py``), so a new environment costs a fork and
the handler's import and shares the interpreter's memory with its siblings. Requests and
responses travel as length-prefixed frames on two private pipes (the runners' docstrings give
the frames); the worker's stdout and stderr go to a log file of its own, read after each
invocation, so a handler's prints can never corrupt the protocol.

What the server enforces from outside, and reports with Lambda's payloads:

- the timeout, by killing the worker's process group;
- memory: resident memory is polled while an invocation runs and the worker killed past the
  function's ``memory_mb`` (Linux); Python workers also get an RLIMIT_DATA backstop, Node.js
  workers a V8 heap cap;
- crashes (a segfault, ``os._exit``, an uncaught Node.js exception): the worker is replaced.

Every failure is an ``InvokeResult`` with ``function_error="Unhandled"`` and Lambda's payload:
the runtime's error object for an exception (Python: errorMessage, errorType, requestId,
stackTrace; Node.js: errorType, errorMessage, trace); ``{"errorMessage": "<time> <request id>
Task timed out after 3.00 seconds"}`` for a timeout (no errorType: Step Functions calls it
``Lambda.Unknown``); ``Runtime.ExitError``, ``Runtime.OutOfMemory`` and
``Function.ResponseSizeTooLarge`` objects for the rest. Two errorTypes are ours, for what Lambda
cannot meet: ``Runtime.NodeNotFound`` (a Node.js function where ``node`` is not installed) and
``Runtime.UnsupportedRuntime``; both fail the invocation, not the deployment, and say why.

POSIX only (pipes passed by descriptor, process groups).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from statewright.functions.base import (
    FunctionConfig,
    FunctionNotFound,
    InvokeResult,
    Throttled,
)
from statewright.functions.forkserver import Zygote
from statewright.functions.runners import NODE_RUNNER, PYTHON_RUNNER
from statewright.functions.workers import (
    Command,
    Worker,
    WorkerFailed,
    compact_json,
    could_not_start,
    exit_error_payload,
    start_worker,
    start_zygote,
)

Resolve = Callable[[str], FunctionConfig | None]

#: Idle workers older than this are stopped (Lambda recycles idle environments too).
IDLE_SECONDS = 300.0
#: Invocations that run at once, all functions together, unless told otherwise.
DEFAULT_CONCURRENCY = 100
#: Descriptors the server holds per environment: two pipes' ends and the log file.
DESCRIPTORS_PER_ENVIRONMENT = 3
#: Headroom over ``memory_mb`` for the Python RLIMIT_DATA backstop: it counts reserved thread
#: stacks (8 MiB each) and allocator slack, not only resident memory, so it must be generous.
PYTHON_DATA_HEADROOM_MB = 256

_PYTHON_RUNTIME = re.compile(r"python3\.\d+\Z")
_NODE_RUNTIME = re.compile(r"nodejs\d+\.x\Z")


class ProcessFunctions:
    """An Invoker running each function in warm, isolated worker processes."""

    def __init__(
        self,
        resolve: Resolve,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        idle_seconds: float = IDLE_SECONDS,
        fork: bool = True,
        region: str = "us-east-1",
        account: str = "123456789012",
        node: str | None = None,
        endpoint_url: str | None = None,
        credentials: Callable[[FunctionConfig], tuple[str, str, str] | None] | None = None,
    ) -> None:
        """``resolve`` maps a function name to its configuration (None: not deployed);
        ``node`` is the node executable (default: ``node`` on PATH); ``endpoint_url`` is the
        statewright API that functions' AWS SDKs should call (e.g. to SendTaskSuccess);
        ``credentials`` gives a function's own credentials, ``(key id, secret, session
        token)`` bound to its execution role (None: placeholders, when the API checks no
        signatures). ``concurrency`` is how many invocations run at once, all functions
        together (Lambda's account limit); a function's ``reserved_concurrency`` limits it
        further. ``fork``: Python environments are forked from a zygote per configuration
        (False: each starts an interpreter of its own)."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        _raise_descriptor_limit(concurrency)
        self._resolve = resolve
        self._concurrency = concurrency
        self._idle_seconds = idle_seconds
        self._fork = fork
        self._region = region
        self._account = account
        self._node = node if node is not None else shutil.which("node")
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._lock = threading.Lock()
        self._pools: dict[str, _Pool] = {}
        self._running: dict[str, int] = {}
        self._running_total = 0
        self._closed = threading.Event()
        self._reaper = threading.Thread(
            target=self._reap_idle, name="statewright-function-reaper", daemon=True
        )
        self._reaper.start()

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        """Runs the function once; handler errors, timeouts and crashes come back as results."""
        if self._closed.is_set():
            raise RuntimeError("ProcessFunctions is closed")
        config = self._resolve(name)
        if config is None:
            raise FunctionNotFound(name)
        request_id = str(uuid.uuid4())
        pool = self._pool(config)
        if isinstance(pool, _Unavailable):
            message = f"RequestId: {request_id} Error: {pool.message}"
            return InvokeResult(
                exit_error_payload(pool.error_type, message), "Unhandled", message + "\n",
                request_id,
            )
        limit = config.timeout if timeout is None else min(config.timeout, timeout)
        event = bytes(payload) if isinstance(payload, bytes | bytearray) else compact_json(payload)
        arn = f"arn:aws:lambda:{self._region}:{self._account}:function:{config.name}"
        self._admit(config)
        try:
            try:
                worker = pool.acquire(request_id)
            except WorkerFailed as failed:
                return replace(failed.result, request_id=request_id)
            reusable = False
            try:
                began = time.monotonic()
                result, reusable = worker.call(request_id, event, limit, arn)
                duration_ms = (time.monotonic() - began) * 1000
            finally:
                pool.release(worker, reusable)
        finally:
            self._leave(config.name)
        return replace(result, request_id=request_id, duration_ms=duration_ms)

    def _admit(self, config: FunctionConfig) -> None:
        """Counts the invocation in, or refuses it as Lambda throttles one: never queued."""
        with self._lock:
            running = self._running.get(config.name, 0)
            reserved = config.reserved_concurrency
            if reserved is not None and running >= reserved:
                raise Throttled(config.name, "ReservedFunctionConcurrentInvocationLimitExceeded")
            if self._running_total >= self._concurrency:
                raise Throttled(config.name, "ConcurrentInvocationLimitExceeded")
            self._running[config.name] = running + 1
            self._running_total += 1

    def _leave(self, name: str) -> None:
        with self._lock:
            self._running_total -= 1
            left = self._running[name] - 1
            if left:
                self._running[name] = left
            else:
                del self._running[name]

    def running(self, name: str | None = None) -> int:
        """How many invocations run now: of function ``name``, or of all (tests, metrics)."""
        with self._lock:
            return self._running_total if name is None else self._running.get(name, 0)

    def close(self) -> None:
        """Stops every worker, busy or idle; the instance cannot be used afterwards."""
        self._closed.set()
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        if self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)

    def __enter__(self) -> ProcessFunctions:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def worker_count(self, name: str) -> int:
        """How many workers the function has now (busy or idle): for tests and metrics."""
        with self._lock:
            pool = self._pools.get(name)
        return 0 if pool is None else pool.size()

    def _pool(self, config: FunctionConfig) -> _Pool | _Unavailable:
        """The pool for this exact configuration; one for older code or settings is retired."""
        key = _fingerprint(config)
        with self._lock:
            pool = self._pools.get(config.name)
            if pool is not None and pool.key == key:
                return pool
        command = self._command(config)
        if isinstance(command, _Unavailable):
            return command
        with self._lock:
            pool = self._pools.get(config.name)
            if pool is not None and pool.key == key:
                return pool  # another thread made it meanwhile
            fresh = _Pool(key, command)
            self._pools[config.name] = fresh
        if pool is not None:
            pool.retire()
        return fresh

    def _command(self, config: FunctionConfig) -> Command | _Unavailable:
        """How to start a worker for this runtime, or the error every invocation gets."""
        env = self._environment(config)
        if _PYTHON_RUNTIME.match(config.runtime):
            data_limit = config.memory_mb + PYTHON_DATA_HEADROOM_MB
            # UTF-8 mode: text files default to UTF-8 whatever the host's locale, as on Lambda.
            argv = [
                sys.executable,
                "-X",
                "utf8",
                str(PYTHON_RUNNER),
                "{requests}",
                "{responses}",
                str(data_limit),
            ]
            zygote = [*argv[:4], "--zygote", "{control}", str(data_limit)]
            return Command(argv, {**env, "PYTHONUNBUFFERED": "1"}, config,
                           zygote if self._fork else None)
        if _NODE_RUNTIME.match(config.runtime):
            if self._node is None:
                return _Unavailable(
                    "Runtime.NodeNotFound",
                    f"function {config.name} ({config.runtime}) needs Node.js, and no `node` "
                    "program is on PATH; install Node.js 18 or later (e.g. apt-get install "
                    "nodejs) and start statewright again",
                )
            # V8 otherwise sizes its heap from the machine's memory and would grow past the
            # function's limit between two memory polls; near the limit it collects harder.
            heap_mb = max(16, config.memory_mb * 9 // 10)
            argv = [
                self._node,
                f"--max-old-space-size={heap_mb}",
                str(NODE_RUNNER),
                "{requests}",
                "{responses}",
            ]
            return Command(argv, env, config)
        return _Unavailable(
            "Runtime.UnsupportedRuntime",
            f"the runtime {config.runtime!r} is not supported here (python3.x and nodejs*.x are)",
        )

    def _environment(self, config: FunctionConfig) -> dict[str, str]:
        """The function's variables under the ones Lambda reserves and sets itself.

        The server's own environment is not inherited (it may hold database URLs or
        credentials); only what locating programs and text encoding need passes through.
        """
        env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        env.update(config.environment)
        env.update(
            {
                "_HANDLER": config.handler,
                "LAMBDA_TASK_ROOT": str(config.code_dir),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_VERSION": config.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
                "AWS_REGION": self._region,
                "AWS_DEFAULT_REGION": self._region,
                "TZ": ":UTC",
                # Lambda hands its functions the execution role's credentials; while the API
                # checks no signatures, placeholders let an SDK inside a handler sign its calls
                # (with access keys, ``credentials`` replaces them below).
                "AWS_ACCESS_KEY_ID": "statewright",
                "AWS_SECRET_ACCESS_KEY": "statewright",
                "AWS_SESSION_TOKEN": "statewright",
            }
        )
        key = self._credentials(config) if self._credentials is not None else None
        if key is not None:
            # The API checks signatures: the function's own key, bound to its execution role
            # (never the server's secrets), with its session token, as Lambda's.
            (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
             env["AWS_SESSION_TOKEN"]) = key
        if self._endpoint_url is not None:
            # The service-specific variables of AWS's SDKs (boto3 >= 1.28, the AWS CLI, JS v3,
            # Java v2, Go v2): a handler's SendTaskSuccess, StartExecution or Invoke reaches
            # this server, while its S3 or DynamoDB clients keep their normal endpoints
            # (AWS_ENDPOINT_URL would send every service here). A function's own variables win.
            for variable in SERVER_ENDPOINT_VARIABLES:
                env.setdefault(variable, self._endpoint_url)
        return env

    def _reap_idle(self) -> None:
        interval = min(30.0, max(0.05, self._idle_seconds / 4))
        while not self._closed.wait(interval):
            idle_since = time.monotonic() - self._idle_seconds
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                pool.reap(idle_since)


@dataclass(frozen=True, slots=True)
class _Unavailable:
    """Why no worker can run this function here; every invocation reports it."""

    error_type: str
    """The errorType of the payload (ours: Lambda has no such case)."""
    message: str
    """What to do about it."""


#: The variables that point a function's AWS SDK at statewright for the services it serves.
SERVER_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_LAMBDA")

#: Environment variables a worker inherits from the server.
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")


class _Pool:
    """The warm workers of one function configuration, and its zygote (Python)."""

    def __init__(self, key: tuple[object, ...], command: Command) -> None:
        self.key = key
        self._command = command
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._live: set[Worker] = set()
        self._retired = False
        self._starting = 0
        self._last_start = time.monotonic()
        self._zygote: Zygote | None = None
        self._zygote_lock = threading.Lock()

    def acquire(self, request_id: str) -> Worker:
        """An idle worker, or a new one (the caller has checked the concurrency limits)."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()  # the most recently used: warmest caches
                if worker.alive():
                    return worker
                self._live.discard(worker)  # died while idle: replace it silently
                worker.kill()
            self._starting += 1
            self._last_start = time.monotonic()
        started: Worker | None = None
        try:
            try:
                zygote = self._fork_server()
            except OSError as exc:
                raise could_not_start(request_id, exc) from exc
            started = start_worker(self._command, request_id, zygote)
        finally:
            with self._lock:
                self._starting -= 1
                if started is not None:
                    self._live.add(started)
        return started

    def release(self, worker: Worker, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._retired:
                worker.last_used = time.monotonic()
                self._idle.append(worker)
                return
            self._live.discard(worker)
        worker.kill()
        self._close_zygote_when_done()

    def retire(self) -> None:
        """Newer code or settings were deployed: idle workers stop, busy ones after their call."""
        with self._lock:
            self._retired = True
            idle, self._idle = self._idle, []
            self._live.difference_update(idle)
        for worker in idle:
            worker.kill()
        self._close_zygote_when_done()

    def reap(self, idle_since: float) -> None:
        with self._lock:
            stale = [worker for worker in self._idle if worker.last_used < idle_since]
            self._idle = [worker for worker in self._idle if worker.last_used >= idle_since]
            self._live.difference_update(stale)
        for worker in stale:
            worker.kill()
        # The next environment after a long idle starts a zygote again; the check and the
        # detaching happen under both locks, so no environment is being forked meanwhile.
        with self._zygote_lock:
            with self._lock:
                unused = not self._live and not self._starting and self._last_start < idle_since
            zygote = self._zygote if unused else None
            if unused:
                self._zygote = None
        if zygote is not None:
            zygote.close()

    def close(self) -> None:
        """Stops every worker: idle ones now, busy ones by signal (their caller frees them)."""
        with self._lock:
            self._retired = True
            idle = self._idle
            busy = [worker for worker in self._live if worker not in idle]
            self._live, self._idle = set(), []
        for worker in idle:
            worker.kill()
        for worker in busy:
            worker.terminate()
        if not busy:
            self._close_zygote()
        # else the last busy worker's release closes it, once its exit was reported

    def size(self) -> int:
        with self._lock:
            return len(self._live)

    def _fork_server(self) -> Zygote | None:
        """The zygote that forks this configuration's environments (None: Node.js workers are
        started one by one); started on first use and again if it died."""
        if self._command.zygote_argv is None:
            return None
        with self._zygote_lock:
            if self._zygote is None or not self._zygote.alive():
                self._zygote = start_zygote(self._command)
            return self._zygote

    def _close_zygote_when_done(self) -> None:
        with self._lock:
            done = self._retired and not self._live and not self._starting
        if done:
            self._close_zygote()

    def _close_zygote(self) -> None:
        with self._zygote_lock:
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.close()


def _raise_descriptor_limit(concurrency: int) -> None:
    """Each environment holds three descriptors here (its pipes and its log): raises the soft
    limit on open files, within the hard one, so that ``concurrency`` environments fit beside
    the server's own (many systems start programs with a soft limit of 1024)."""
    wanted = DESCRIPTORS_PER_ENVIRONMENT * concurrency + 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, ceiling), hard))
    except (ValueError, OSError):
        pass  # not allowed here: environments past the limit fail to start, and say why


def _fingerprint(config: FunctionConfig) -> tuple[object, ...]:
    """What a warm worker has baked in; any change needs fresh workers (the timeout does not)."""
    return (
        config.runtime,
        config.handler,
        str(config.code_dir),
        config.memory_mb,
        tuple(sorted(config.environment.items())),
        config.version,
        config.code_sha256,
        config.role,  # its credentials are bound to it
    )


__all__ = ["DEFAULT_CONCURRENCY", "IDLE_SECONDS", "ProcessFunctions", "Resolve"]
