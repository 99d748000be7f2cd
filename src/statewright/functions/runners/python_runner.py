"""The Python worker: one warm function instance, serving one invocation at a time.

``ProcessFunctions`` forks it from a zygote started as ``python python_runner.py --zygote
CONTROL_FD DATA_LIMIT_MB`` (see ``_zygote``), or starts it alone as ``python python_runner.py
REQUEST_FD RESPONSE_FD DATA_LIMIT_MB``, with the function's environment, which carries what
Lambda's runtime reads too (``_HANDLER``, ``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``...).
It is run as a script, never imported from the package, so the handler's interpreter holds
none of statewright's modules; for the same reason it repeats the little protocol code instead
of sharing it.

Frames on both pipes are a 4-byte big-endian length and that many bytes:

- to the parent, once, after the handler module was imported: ``{"ready": true}``;
- from the parent, per invocation: a JSON header ``{"requestId", "deadlineMs",
  "invokedFunctionArn"}`` and the event's JSON bytes;
- to the parent, per invocation: a JSON header ``{"ok", "retire"}`` and the payload bytes
  (the result, or the error object of Lambda's Python runtime).

Stdout and stderr are the worker's log file, read by the parent; the pipes stay private, so
whatever the handler prints cannot corrupt the protocol.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_LENGTH = struct.Struct(">I")
#: Where Lambda mounts the code: stack traces show paths under it, whatever the local folder.
_SHOWN_TASK_ROOT = "/var/task/"
_THIS_FILE = os.path.abspath(__file__)
#: The usual answer's header, encoded once.
_SUCCEEDED = b'{"ok": true, "retire": false}'

Handler = Callable[[Any, "LambdaContext"], Any]


class LambdaContext:
    """The ``context`` argument, with the attributes of Lambda's Python runtime."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_function_arn
        # A string, as Lambda's runtime reads it from the environment.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: object | None = None
        self.client_context: object | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext([aws_request_id={self.aws_request_id}, ...])"


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--zygote"]:
        return _zygote(int(argv[2]), int(argv[3]))
    request_fd, response_fd, data_limit_mb = (int(arg) for arg in argv[1:4])
    _limit_memory(data_limit_mb)
    return _serve(request_fd, response_fd, _enter_task_root())


def _enter_task_root() -> str:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(task_root)
    sys.path[0] = task_root  # it was this script's folder
    return task_root


def _serve(request_fd: int, response_fd: int, task_root: str) -> int:
    """One environment: imports the handler (Lambda's Init), then serves invocations."""
    handler, init_error = _load_handler(os.environ.get("_HANDLER", ""), task_root)
    _flush()
    _write_frames(response_fd, b'{"ready": true}')
    while True:
        header_bytes = _read_frame(request_fd)
        event_bytes = _read_frame(request_fd) if header_bytes is not None else None
        if header_bytes is None or event_bytes is None:
            return 0  # the parent went away
        header = json.loads(header_bytes)
        if handler is None:
            # Lambda reports a failed init on the invocation, then starts a fresh environment.
            ok, body, retire = False, init_error or b"{}", True
        else:
            ok, body, retire = _invoke(handler, header, event_bytes, task_root)
        _flush()
        if ok and not retire:
            status = _SUCCEEDED
        else:
            status = json.dumps({"ok": ok, "retire": retire}).encode()
        _write_frames(response_fd, status, body)
        if retire:
            return 0


def _zygote(control_fd: int, data_limit_mb: int) -> int:
    """The fork server of one function configuration: an interpreter with this runner loaded,
    forked once per environment, so a new environment costs a fork and the handler's import,
    not an interpreter's start, and shares the interpreter's pages with its siblings.

    On the control socket (SOCK_SEQPACKET, one JSON message each) the parent sends
    ``{"id", "stream"}`` with three descriptors (the environment's request pipe, response pipe
    and log file); the zygote forks and answers ``{"id", "pid"}`` (``{"id", "error"}`` when it
    cannot fork), and reports every environment that ends as ``{"exit": pid, "status": code}``
    (``code`` as ``subprocess`` words it: negative for a signal), since only it can reap them.
    It leaves when the parent closes the socket; its environments then leave as they finish
    (their request pipes close too).
    """
    _limit_memory(data_limit_mb)
    task_root = _enter_task_root()
    control = socket.socket(fileno=control_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    control.send(b'{"ready": true}')
    while True:
        for key, _ in selector.select():
            if key.fileobj == wake_read:
                os.read(wake_read, 4096)
                continue
            message, fds, _flags, _address = socket.recv_fds(control, 65536, 3)
            if not message:
                return 0  # the parent went away
            request = json.loads(message)
            try:
                pid = os.fork()
            except OSError as exc:
                control.send(json.dumps({"id": request["id"], "error": str(exc)}).encode())
            else:
                if pid == 0:
                    selector.close()
                    for fd in (control.detach(), wake_read, wake_write):
                        os.close(fd)
                    os._exit(_environment(fds, request["stream"], task_root))
                control.send(json.dumps({"id": request["id"], "pid": pid}).encode())
            finally:
                for fd in fds:
                    os.close(fd)
        _reap(control)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        control.send(json.dumps({"exit": pid, "status": code}).encode())


def _environment(fds: list[int], stream: str, task_root: str) -> int:
    """A forked environment: its own session (killed as a group), its log as stdout and
    stderr, then the same life as a started one. Returns its exit status."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        request_fd, response_fd, log_fd = fds
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
        code = _serve(request_fd, response_fd, task_root)
    except SystemExit as exc:  # a handler's sys.exit ends its environment, as it would
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            sys.stderr.write(f"{exc.code}\n")
    except BaseException:
        traceback.print_exc()
    _flush()
    return code


def _invoke(
    handler: Handler, header: dict[str, Any], event_bytes: bytes, task_root: str
) -> tuple[bool, bytes, bool]:
    """Runs one invocation: ``(succeeded, payload, retire this worker)``."""
    request_id = str(header["requestId"])
    try:
        event = json.loads(event_bytes)
    except ValueError as exc:
        return (
            False,
            _error("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}", request_id),
            False,
        )
    context = LambdaContext(request_id, int(header["deadlineMs"]), header["invokedFunctionArn"])
    try:
        result = handler(event, context)
    except MemoryError:
        # What Lambda reports when a function outgrows its memory; the heap may be left huge
        # and fragmented, so this worker is replaced as Lambda replaces the environment.
        message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
        sys.stderr.write(f"{message}\nRuntime.OutOfMemory\n")
        # The parent's words for a worker it killed, byte for byte.
        oom = {"errorType": "Runtime.OutOfMemory", "errorMessage": message}
        return False, json.dumps(oom, separators=(",", ":")).encode(), True
    except Exception as exc:
        stack = _stack_trace(exc, task_root)
        sys.stderr.write(
            f"[ERROR] {type(exc).__name__}: {exc}\n"
            f"Traceback (most recent call last):\n{''.join(stack)}"
        )
        error = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": stack,
        }
        return False, json.dumps(error).encode(), False
    if isinstance(result, bytes | bytearray):
        return True, bytes(result), False
    try:
        return True, json.dumps(result, default=_decimal).encode(), False
    except (TypeError, ValueError) as exc:
        return (
            False,
            _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id),
            False,
        )


def _load_handler(spec: str, task_root: str) -> tuple[Handler | None, bytes | None]:
    """Imports the handler once (the warm part), or the error Lambda's runtime would report."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        return None, _error("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}", "")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        _log_init_failure()
        return None, _error(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", ""
        )
    except ImportError as exc:
        _log_init_failure()
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", ""
        )
    except Exception as exc:
        _log_init_failure()
        error = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": "",
            "stackTrace": _stack_trace(exc, task_root),
        }
        return None, json.dumps(error).encode()
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, _error(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
            "",
        )
    return handler, None


def _error(error_type: str, message: str, request_id: str) -> bytes:
    error: dict[str, object] = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": [],
    }
    return json.dumps(error).encode()


def _stack_trace(exc: BaseException, task_root: str) -> list[str]:
    """The user's frames as ``traceback.format_list`` lines, paths shown under /var/task."""
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == _THIS_FILE:
        frames.pop(0)
    prefix = task_root.rstrip("/") + "/"
    for frame in frames:
        # extract_tb has read each line already, so renaming the file loses nothing.
        if frame.filename.startswith(prefix):
            frame.filename = _SHOWN_TASK_ROOT + frame.filename[len(prefix) :]
    return traceback.format_list(frames)


def _log_init_failure() -> None:
    sys.stderr.write(traceback.format_exc())


def _decimal(value: object) -> object:
    # boto3's DynamoDB layer hands out Decimals; Lambda's runtime encodes them as numbers.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _limit_memory(data_limit_mb: int) -> None:
    """A backstop against runaway allocation; the parent polices resident memory precisely.

    RLIMIT_DATA counts private writable mappings (heap, anonymous mmap, thread stacks), not
    shared libraries or address space merely reserved, so it suits an interpreter far better
    than RLIMIT_AS. An allocation past it raises MemoryError instead of starving the machine.
    """
    if data_limit_mb <= 0:
        return
    limit = data_limit_mb * 1024 * 1024
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ValueError, OSError):
        pass  # not permitted here: the parent's resident-memory watch still applies


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A handler may have closed or replaced them; its output is then its own business.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _read_frame(fd: int) -> bytes | None:
    head = _read_exact(fd, _LENGTH.size)
    if head is None:
        return None
    return _read_exact(fd, _LENGTH.unpack(head)[0])


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_frames(fd: int, *frames: bytes) -> None:
    view = memoryview(b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames))
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
