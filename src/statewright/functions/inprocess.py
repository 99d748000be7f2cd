"""Python handlers loaded into this process: the fast mode for the CLI, tests and benchmarks.

A function is a Python file and a handler name (``handler(event, context)``). Handlers share
the interpreter with the engine, so a timeout cannot be enforced here (the process runner of
the server does that); what they print is captured per invocation.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO, cast

from statewright.functions.base import FunctionNotFound, InvokeResult
from statewright.functions.context import LambdaContext

Handler = Callable[[Any, LambdaContext], Any]

#: Lambda's default function timeout.
DEFAULT_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Where a function's code is."""

    name: str
    """The function name (what a Lambda ARN's ``function:NAME`` resolves to)."""
    file: Path
    """The Python source file."""
    handler: str = "handler"
    """The handler attribute in that file."""


class PythonFunctions:
    """An Invoker over Python files, loaded once and kept warm."""

    def __init__(self, specs: list[FunctionSpec] | None = None, *, echo_logs: bool = False
                 ) -> None:
        self._specs: dict[str, FunctionSpec] = {s.name: s for s in specs or []}
        self._handlers: dict[str, Handler] = {}
        self._echo_logs = echo_logs

    @classmethod
    def from_directory(cls, directory: Path, *, echo_logs: bool = False) -> PythonFunctions:
        """Every ``NAME.py`` in ``directory`` is function NAME with handler ``handler``."""
        specs = [
            FunctionSpec(path.stem, path)
            for path in sorted(directory.glob("*.py"))
            if not path.name.startswith("_")
        ]
        return cls(specs, echo_logs=echo_logs)

    def add(self, spec: FunctionSpec) -> None:
        """Deploys (or replaces) a function from a file."""
        self._specs[spec.name] = spec
        self._handlers.pop(spec.name, None)

    def register(self, name: str, handler: Handler) -> None:
        """Deploys (or replaces) a function from a Python callable."""
        self._specs.pop(name, None)
        self._handlers[name] = handler

    def names(self) -> list[str]:
        return sorted(set(self._specs) | set(self._handlers))

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        request_id = _request_id()
        began = time.monotonic()
        handler = self._handlers.get(name)
        loaded = began
        if handler is None:
            try:
                handler = self._handler(name)
            except FunctionNotFound:
                raise
            except Exception as exc:
                return self._init_error(name, exc, request_id, began)
            loaded = time.monotonic()  # as on Lambda, loading the module is not run time
        context = LambdaContext(name, request_id, loaded + (timeout or DEFAULT_TIMEOUT))
        # The handler gets its own copy, as over the wire; bytes are the JSON text itself.
        event = json.loads(payload if isinstance(payload, bytes | bytearray)
                           else _encode(payload))
        out = io.StringIO()
        _install_streams()
        previous = getattr(_capture, "buffer", None)
        _capture.buffer = out
        try:
            value = handler(event, context)
        except Exception as exc:
            error = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": request_id,
                "stackTrace": _stack_trace(exc, self._task_root(name)),
            }
            return self._result(json.dumps(error).encode(), out.getvalue(), "Unhandled",
                                request_id, began)
        finally:
            _capture.buffer = previous
        try:
            body = (bytes(value) if isinstance(value, bytes | bytearray)
                    else _response_text(value).encode())
        except (TypeError, ValueError) as exc:  # as Lambda's Python runtime answers
            return self._error("Runtime.MarshalError",
                               f"Unable to marshal response: {exc}", request_id,
                               out.getvalue(), began)
        return self._result(body, out.getvalue(), None, request_id, began)

    def _init_error(self, name: str, exc: Exception, request_id: str, began: float
                    ) -> InvokeResult:
        """What Lambda's Python runtime reports when the handler's module fails to load
        (the process runner, python_runner.py, answers the same)."""
        spec = self._specs.get(name)
        module = spec.file.stem if spec is not None else name
        if isinstance(exc, SyntaxError):
            return self._error("Runtime.UserCodeSyntaxError",
                               f"Syntax error in module '{module}': {exc}", request_id, "",
                               began)
        if isinstance(exc, ImportError):
            return self._error("Runtime.ImportModuleError",
                               f"Unable to import module '{module}': {exc}", request_id, "",
                               began)
        error = {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": "",
                 "stackTrace": _stack_trace(exc, self._task_root(name))}
        return self._result(json.dumps(error).encode(), "", "Unhandled", request_id, began)

    def _task_root(self, name: str) -> Path | None:
        """The folder a function's file is in: what Lambda would mount at /var/task."""
        spec = self._specs.get(name)
        return spec.file.resolve().parent if spec is not None else None

    def _error(self, error_type: str, message: str, request_id: str, logs: str, began: float
               ) -> InvokeResult:
        error = {"errorMessage": message, "errorType": error_type, "requestId": request_id,
                 "stackTrace": []}
        return self._result(json.dumps(error).encode(), logs, "Unhandled", request_id, began)

    def _result(self, body: bytes, logs: str, function_error: str | None, request_id: str,
                began: float) -> InvokeResult:
        duration_ms = (time.monotonic() - began) * 1000
        if self._echo_logs and logs:
            sys.stderr.write(logs)
        return InvokeResult(body, function_error, logs, request_id, duration_ms)

    def _handler(self, name: str) -> Handler:
        handler = self._handlers.get(name)
        if handler is not None:
            return handler
        spec = self._specs.get(name)
        if spec is None:
            raise FunctionNotFound(name)
        folder = str(spec.file.resolve().parent)
        if folder not in sys.path:  # as on Lambda, modules beside the handler import
            sys.path.insert(0, folder)
        module = _load_module(f"statewright_fn_{name}", spec.file.resolve())
        found = getattr(module, spec.handler, None)
        if not callable(found):
            raise FunctionNotFound(f"{name} (no callable {spec.handler!r} in {spec.file})")
        handler = cast(Handler, found)
        self._handlers[name] = handler
        return handler


class _ThreadStream(io.TextIOBase):
    """Stands in for sys.stdout/stderr: writes go to the calling thread's capture buffer when
    it has one, else to the real stream. (contextlib.redirect_stdout swaps the stream for the
    whole process, so handlers running in several threads would mix their output.)"""

    def __init__(self, real: TextIO) -> None:
        self.real = real

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(_capture, "buffer", None)
        return (buffer if buffer is not None else self.real).write(text)

    def flush(self) -> None:
        if getattr(_capture, "buffer", None) is None:
            self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()


_capture = threading.local()
_install_lock = threading.Lock()


def _install_streams() -> None:
    """Puts the per-thread capturing streams in place of sys.stdout/stderr (once, unless
    something replaced them since)."""
    if isinstance(sys.stdout, _ThreadStream) and isinstance(sys.stderr, _ThreadStream):
        return
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadStream):
            sys.stdout = _ThreadStream(sys.stdout)
        if not isinstance(sys.stderr, _ThreadStream):
            sys.stderr = _ThreadStream(sys.stderr)


def _c_encoder(item_separator: str, key_separator: str, ascii_only: bool
               ) -> Callable[[Any], str]:
    """``json.dumps`` with these separators, from one C encoder made once (``json.dumps``
    makes a new one on every call, which costs more than encoding a small value). It does not
    look for circular references (a cycle ends in RecursionError), which also makes it safe to
    share between threads."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C speedups
        return json.JSONEncoder(separators=(item_separator, key_separator),
                                ensure_ascii=ascii_only).encode
    strings = (json.encoder.encode_basestring_ascii if ascii_only
               else json.encoder.encode_basestring)
    chunks = make(None, json.JSONEncoder().default, strings, None, key_separator,
                  item_separator, False, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


#: The event's copy for the handler (compact: only read back here).
_encode = _c_encoder(",", ":", ascii_only=False)
_lambda_text = _c_encoder(", ", ": ", ascii_only=True)


def _response_text(value: Any) -> str:
    """A handler's return value as Lambda's Python runtime writes it (``json.dumps`` with its
    defaults); a cycle gets json's own error ("Circular reference detected")."""
    try:
        return _lambda_text(value)
    except RecursionError:
        return json.dumps(value)


def _request_id() -> str:
    """A random request id in a version-4 UUID's text form, as Lambda's (``uuid4()`` costs
    several times more: it builds a UUID object to print it)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _load_module(module_name: str, file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise FunctionNotFound(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Where Lambda mounts a function's code: stack traces name files under it.
SHOWN_TASK_ROOT = "/var/task/"
_THIS_FILE = str(Path(__file__).resolve())


def _stack_trace(exc: BaseException, task_root: Path | None) -> list[str]:
    """The handler's frames, formatted as Lambda's Python runtime does (statewright's and the
    import machinery's frames left out), files of the function's folder named as deployed
    (``/var/task/handler.py``)."""
    kept = []
    prefix = str(task_root).rstrip("/") + "/" if task_root is not None else None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in (__file__, _THIS_FILE) or frame.filename.startswith("<frozen "):
            continue
        # extract_tb has read each line already, so renaming the file loses nothing.
        if prefix is not None and frame.filename.startswith(prefix):
            frame.filename = SHOWN_TASK_ROOT + frame.filename[len(prefix):]
        kept.append(frame)
    return traceback.format_list(kept)
