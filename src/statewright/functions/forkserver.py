"""The parent's half of a Python zygote: a fork server that makes function environments.

A zygote is ``python_runner.py --zygote`` started with one function configuration's
environment (the runner's docstring gives its protocol). ``spawn`` hands it an environment's
pipes and log file and gets back the pid of the forked environment; since only the zygote can
reap its children, their exit statuses come back on the same socket, read by one thread that
hands them to the ``ForkedProcess`` of each environment. A ``ForkedProcess`` stands in for the
``subprocess.Popen`` of a started worker (``pid``, ``returncode``, ``poll``, ``wait``).

If the zygote dies, its environments are killed (nothing could report how they end) and the
zygote is no longer ``alive``: the pool starts another.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
from typing import Any

#: How long a zygote has to start (an interpreter and the runner, nothing of the handler's).
START_TIMEOUT = 10.0


class ForkedProcess:
    """An environment forked by a zygote, as much of ``subprocess.Popen`` as workers use."""

    def __init__(self, pid: int, cond: threading.Condition) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._cond = cond

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self._cond:
            if not self._cond.wait_for(lambda: self.returncode is not None, timeout):
                raise subprocess.TimeoutExpired(f"environment {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


class Zygote:
    """One started zygote; ``spawn`` is safe from any thread."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, log_fd: int) -> None:
        """``argv`` holds ``{control}`` where the socket's descriptor goes. Raises OSError
        when the zygote cannot start or does not report ready in time."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [arg.replace("{control}", str(theirs.fileno())) for arg in argv],
                stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd, env=env, cwd=cwd,
                pass_fds=(theirs.fileno(),), start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self._socket = ours
        self._cond = threading.Condition()
        self._children: dict[int, ForkedProcess] = {}
        self._answers: dict[int, dict[str, Any]] = {}
        self._next_id = 0
        self._alive = True
        ours.settimeout(START_TIMEOUT)
        try:
            ready = ours.recv(4096)
        except OSError as exc:
            self._kill()
            raise OSError(f"the runtime's fork server did not start: {exc}") from exc
        if ready != b'{"ready": true}':
            self._kill()
            raise OSError("the runtime's fork server exited while starting")
        ours.settimeout(None)
        self._reader = threading.Thread(target=self._read, name="statewright-zygote",
                                        daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        with self._cond:
            return self._alive

    def spawn(self, requests_fd: int, responses_fd: int, log_fd: int, stream: str
              ) -> ForkedProcess:
        """Forks an environment that serves on these pipes and logs to this file (the zygote
        gets copies: the caller still closes its own). Raises OSError."""
        with self._cond:
            if not self._alive:
                raise OSError("the runtime's fork server is gone")
            self._next_id += 1
            request_id = self._next_id
        message = json.dumps({"id": request_id, "stream": stream}).encode()
        try:
            socket.send_fds(self._socket, [message], [requests_fd, responses_fd, log_fd])
        except OSError:
            self._lost()
            raise
        with self._cond:
            self._cond.wait_for(lambda: request_id in self._answers or not self._alive)
            answer = self._answers.pop(request_id, None)
            if answer is None:
                raise OSError("the runtime's fork server is gone")
            if "error" in answer:
                raise OSError(f"the runtime's fork server could not fork: {answer['error']}")
            return self._children[int(answer["pid"])]

    def close(self) -> None:
        """Stops the zygote, and with it any environment it still has (its pool closes it
        once its environments are gone)."""
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        self._kill()

    def _read(self) -> None:
        while True:
            try:
                message = self._socket.recv(4096)
            except OSError:
                message = b""
            if not message:
                self._lost()
                return
            answer = json.loads(message)
            with self._cond:
                if "exit" in answer:
                    child = self._children.pop(int(answer["exit"]), None)
                    if child is not None:
                        child.returncode = int(answer["status"])
                else:
                    if "pid" in answer:
                        pid = int(answer["pid"])
                        self._children[pid] = ForkedProcess(pid, self._cond)
                    self._answers[int(answer["id"])] = answer
                self._cond.notify_all()

    def _lost(self) -> None:
        """The zygote is gone: its environments are killed, for nobody can reap them now."""
        with self._cond:
            if not self._alive:
                return
            self._alive = False
            orphans, self._children = list(self._children.values()), {}
            for child in orphans:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.returncode = -signal.SIGKILL
            self._cond.notify_all()
        self._kill()

    def _kill(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):
            self._socket.close()


__all__ = ["ForkedProcess", "Zygote"]
