"""One function worker process: starting it, one invocation over its pipes, and its log.

The parent's half of the protocol the runners describe: frames of a 4-byte big-endian length
and that many bytes, on a request pipe and a response pipe passed by descriptor. Waiting for an
answer polls the response pipe against the invocation's deadline and, every ``WATCH_SECONDS``,
checks the worker's resident memory; whatever goes wrong becomes the payload Lambda returns
for it, and the worker is not reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from statewright.functions.base import FunctionConfig, InvokeResult
from statewright.functions.forkserver import Zygote

#: Lambda's Init phase limit: a handler module has this long to import.
INIT_TIMEOUT = 10.0
#: Lambda's limit on a synchronous invocation's response payload (6 MB).
MAX_RESPONSE_BYTES = 6_291_556
#: How often resident memory is checked while an invocation runs.
WATCH_SECONDS = 0.05
#: The most log text kept per invocation; beyond it the tail is kept (errors come last).
MAX_LOG_BYTES = 1 << 20

_LENGTH = struct.Struct(">I")
_READY = b'{"ready": true}'
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CAN_WATCH_MEMORY = os.path.exists("/proc/self/statm")


@dataclass(frozen=True, slots=True)
class Command:
    """How to start a worker of one function configuration."""

    argv: list[str]
    """The program and its arguments; ``{requests}`` and ``{responses}`` stand for the pipes."""
    env: dict[str, str]
    """The worker's whole environment."""
    config: FunctionConfig
    """The function it runs."""
    zygote_argv: list[str] | None = None
    """How to start a zygote that forks workers (``{control}`` stands for its socket); None:
    each worker is started as a process of its own with ``argv``."""


class WorkerFailed(Exception):
    """A worker could not be started; ``result`` is what the invocation returns instead."""

    def __init__(self, result: InvokeResult) -> None:
        super().__init__(result.payload.decode(errors="replace"))
        self.result = result


class _Died(Exception):
    """The worker closed its response pipe: it exited or crashed."""


class _TimedOut(Exception):
    """The deadline passed before the answer came."""


class _OutOfMemory(Exception):
    """The worker's resident memory passed the function's memory size."""


class _TooLarge(Exception):
    """The answer is larger than Lambda allows."""


class Process(Protocol):
    """A worker's process: a ``subprocess.Popen``, or a ``ForkedProcess`` of a zygote."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...


def start_worker(command: Command, request_id: str, zygote: Zygote | None = None) -> Worker:
    """Starts a worker (forked by ``zygote`` when given, else a process of its own) and waits
    until its handler module is imported (Lambda's Init phase)."""
    try:
        requests_read, requests_write, responses_read, responses_write, log = _channels()
    except OSError as exc:  # out of descriptors: this invocation fails, and says why
        raise could_not_start(request_id, exc) from exc
    argv = [
        arg.replace("{requests}", str(requests_read)).replace("{responses}", str(responses_write))
        for arg in command.argv
    ]
    process: Process
    try:
        if zygote is not None:
            process = zygote.spawn(requests_read, responses_write, log.fd,
                                   _log_stream(command.config))
        else:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log.fd,
                stderr=log.fd,
                env={**command.env, "AWS_LAMBDA_LOG_STREAM_NAME": _log_stream(command.config)},
                cwd=command.config.code_dir,
                pass_fds=(requests_read, responses_write),
                start_new_session=True,  # its own process group: a kill takes its children too
            )
    except OSError as exc:
        for fd in (requests_write, responses_read):
            os.close(fd)
        log.close()
        raise could_not_start(request_id, exc) from exc
    finally:
        os.close(requests_read)
        os.close(responses_write)
    worker = Worker(process, requests_write, responses_read, log, command.config.memory_mb)
    worker.wait_ready(request_id)
    return worker


def _channels() -> tuple[int, int, int, int, _LogFile]:
    """A new worker's request pipe, response pipe and log; nothing is left open on failure."""
    opened: list[int] = []
    try:
        opened += os.pipe()
        opened += os.pipe()
        log = _LogFile()
    except OSError:
        for fd in opened:
            os.close(fd)
        raise
    return opened[0], opened[1], opened[2], opened[3], log


def could_not_start(request_id: str, exc: OSError) -> WorkerFailed:
    """The failure of an invocation whose worker could not be started."""
    message = f"RequestId: {request_id} Error: the runtime could not start: {exc}"
    return WorkerFailed(
        InvokeResult(exit_error_payload("Runtime.ExitError", message), "Unhandled", message + "\n")
    )


def start_zygote(command: Command) -> Zygote:
    """Starts the zygote of ``command`` (it must have ``zygote_argv``). Raises OSError, with
    what the zygote printed when it failed to start."""
    assert command.zygote_argv is not None
    log = _LogFile()
    try:
        return Zygote(command.zygote_argv, command.env, str(command.config.code_dir), log.fd)
    except OSError as exc:
        printed = log.take().strip()
        raise OSError(f"{exc}: {printed[-2000:]}" if printed else str(exc)) from exc
    finally:
        log.close()  # the zygote holds its own copy


class Worker:
    """A started worker process; used by one invocation at a time."""

    def __init__(
        self,
        process: Process,
        requests_fd: int,
        responses_fd: int,
        log: _LogFile,
        memory_mb: int,
    ) -> None:
        self.process = process
        self.last_used = time.monotonic()
        self._requests_fd = requests_fd
        self._responses_fd = responses_fd
        self._log = log
        self._memory_limit = memory_mb * 1024 * 1024
        self._received = bytearray()
        self._poll = select.poll()
        self._poll.register(responses_fd, select.POLLIN)
        self._closed = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, request_id: str) -> None:
        """Waits for the runner's ready frame; raises WorkerFailed with Lambda's error."""
        started = time.monotonic()
        try:
            frame = self._receive(started + INIT_TIMEOUT)
        except _TimedOut:
            result = self._timed_out(request_id, time.monotonic() - started)
        except (_Died, _OutOfMemory, _TooLarge) as exc:
            result = self._crashed(request_id, exc)
        else:
            if frame == _READY:
                return
            result = self._crashed(request_id, _Died())
        self.kill()  # never handed to a pool, so nobody else frees it
        raise WorkerFailed(result)

    def call(
        self, request_id: str, event: bytes, timeout: float, function_arn: str
    ) -> tuple[InvokeResult, bool]:
        """Runs one invocation: the result, and whether this worker may serve another."""
        started = time.monotonic()
        deadline = started + timeout
        header = compact_json(
            {
                "requestId": request_id,
                "deadlineMs": int((time.time() + timeout) * 1000),
                "invokedFunctionArn": function_arn,
            }
        )
        try:
            self._send(header, event)
            status = json.loads(self._receive(deadline))
            payload = self._receive(deadline, MAX_RESPONSE_BYTES)
        except _TimedOut:
            return self._timed_out(request_id, time.monotonic() - started), False
        except (_Died, _OutOfMemory, _TooLarge) as exc:
            return self._crashed(request_id, exc), False
        function_error = None if status["ok"] else "Unhandled"
        return InvokeResult(payload, function_error, self._log.take()), not status["retire"]

    def terminate(self) -> None:
        """Kills the worker's process group; safe from any thread, even during a call."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
                os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Kills the worker and frees its pipes and log; only its user may call this."""
        self._stop()
        if not self._closed:
            self._closed = True
            os.close(self._requests_fd)
            os.close(self._responses_fd)
            self._log.close()

    def _stop(self) -> None:
        """Kills the worker but keeps its log readable (``kill`` frees it later)."""
        self.terminate()
        self.process.wait()

    def _timed_out(self, request_id: str, elapsed: float) -> InvokeResult:
        """The result for an invocation past its deadline; the worker is stopped."""
        self._stop()
        # Lambda's payload for a timed-out invocation: no errorType, so Step Functions reports
        # Lambda.Unknown with the payload in its cause (sources: test_process_failures.py).
        message = f"{_timestamp()} {request_id} Task timed out after {elapsed:.2f} seconds"
        return InvokeResult(
            compact_json({"errorMessage": message}), "Unhandled", self._log.take() + message + "\n",
            request_id, timed_out=True,
        )

    def _crashed(self, request_id: str, cause: Exception) -> InvokeResult:
        """The result for a worker that died or had to be stopped; the worker is stopped."""
        if isinstance(cause, _Died):
            # Let it finish exiting, for its real exit status; if it lingers, it is stopped.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=1.0)
        self._stop()
        logs = self._log.take()
        if isinstance(cause, _TooLarge):
            payload = compact_json(
                {
                    "errorMessage": "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            )
            return InvokeResult(payload, "Unhandled", logs)
        status = (
            "signal: killed"
            if isinstance(cause, _OutOfMemory)
            else _exit_status(self.process.returncode)
        )
        out_of_memory = isinstance(cause, _OutOfMemory) or "heap out of memory" in logs
        error_type = "Runtime.OutOfMemory" if out_of_memory else "Runtime.ExitError"
        message = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
        return InvokeResult(
            exit_error_payload(error_type, message), "Unhandled", f"{logs}{message}\n{error_type}\n"
        )

    def _send(self, *frames: bytes) -> None:
        view = memoryview(b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames))
        try:
            while view:
                view = view[os.write(self._requests_fd, view) :]
        except OSError as exc:  # EPIPE: it died between two invocations
            raise _Died() from exc

    def _receive(self, deadline: float, max_size: int | None = None) -> bytes:
        """The next frame, polling the pipe against the deadline and the memory limit."""
        received = self._received
        while True:
            if len(received) >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(received)
                if max_size is not None and size > max_size:
                    raise _TooLarge()
                end = _LENGTH.size + size
                if len(received) >= end:
                    frame = bytes(received[_LENGTH.size : end])
                    del received[:end]
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _TimedOut()
            if not self._poll.poll(min(remaining, WATCH_SECONDS) * 1000):
                if self._over_memory():
                    raise _OutOfMemory()
                continue
            chunk = os.read(self._responses_fd, 1 << 20)
            if not chunk:
                raise _Died()
            received += chunk

    def _over_memory(self) -> bool:
        if not _CAN_WATCH_MEMORY or self._memory_limit <= 0:
            return False
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                resident_pages = int(statm.read().split()[1])
        except (OSError, ValueError, IndexError):
            return False  # exiting: the pipe will say so
        return resident_pages * _PAGE_SIZE > self._memory_limit


class _LogFile:
    """An unlinked file that is the worker's stdout and stderr, read after each invocation.

    Opened for appending, so the worker's writes always land at the end even after the parent
    truncates it, and the parent reads with ``pread``, which moves no shared offset.
    """

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="statewright-fn-", suffix=".log")
        os.unlink(path)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
        self.fd = fd
        self._closed = False

    def take(self) -> str:
        """What was written since the last call (the tail, past MAX_LOG_BYTES)."""
        size = os.fstat(self.fd).st_size
        if size == 0:
            return ""
        start = max(0, size - MAX_LOG_BYTES)
        data = os.pread(self.fd, size - start, start)
        os.ftruncate(self.fd, 0)
        text = data.decode("utf-8", errors="replace")
        return f"[{start} bytes of log left out]\n{text}" if start else text

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def exit_error_payload(error_type: str, message: str) -> bytes:
    return compact_json({"errorType": error_type, "errorMessage": message})


def _exit_status(returncode: int | None) -> str:
    """How Lambda words a runtime's exit: ``exit status 1``, ``signal: segmentation fault``."""
    if returncode is None:
        return "signal: killed"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.strsignal(-returncode)
    except ValueError:
        name = None
    return f"signal: {name.lower()}" if name else f"signal {-returncode}"


def _log_stream(config: FunctionConfig) -> str:
    """One per worker, as Lambda names one per execution environment."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[{config.version}]{uuid.uuid4().hex}"


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
