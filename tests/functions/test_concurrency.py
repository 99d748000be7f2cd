"""Lambda-like concurrency of process functions: an environment per invocation in flight,
forked from a zygote, and throttling (never queuing) past the limits.

Lambda's facts (botocore's lambda model, and the API reference of Invoke): an invocation past
the account's concurrency is refused with TooManyRequestsException, HTTP 429, message "Rate
Exceeded.", Reason ConcurrentInvocationLimitExceeded; past a function's reserved concurrency,
Reason ReservedFunctionConcurrentInvocationLimitExceeded; a reserved concurrency of 0 throttles
every invocation. A throttled invocation never ran (it is safe to retry).
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from statewright.functions.base import InvokeResult, Throttled
from statewright.functions.process import ProcessFunctions
from tests.functions.conftest import Deployment, process_gone, wait_for

#: Runs until the test creates ``release`` in the event's folder; says it started first.
GATE = """
    import os
    import pathlib
    import time

    def handler(event, context):
        folder = pathlib.Path(event["dir"])
        (folder / f"started-{context.aws_request_id}").touch()
        deadline = time.monotonic() + 30
        while not (folder / "release").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never released this invocation")
            time.sleep(0.01)
        return {"pid": os.getpid(), "ppid": os.getppid()}
"""

#: Returns only once ``count`` invocations are inside the handler at the same time.
MEET = """
    import os
    import pathlib
    import random
    import time

    def handler(event, context):
        meeting = pathlib.Path(event["dir"])
        (meeting / context.aws_request_id).touch()
        deadline = time.monotonic() + 30
        while len(list(meeting.iterdir())) < event["count"]:
            if time.monotonic() > deadline:
                raise TimeoutError("the others never came")
            time.sleep(0.01)
        return {"pid": os.getpid(), "ppid": os.getppid(), "random": random.getrandbits(64)}
"""

PIDS = """
    import os

    def handler(event, context):
        return {"pid": os.getpid(), "ppid": os.getppid(),
                "stream": context.log_stream_name}
"""


def started(folder: Path) -> int:
    return len(list(folder.glob("started-*")))


class Background:
    """Invocations running on threads of their own."""

    def __init__(self, functions: ProcessFunctions, name: str, payload: object,
                 count: int) -> None:
        self.results: list[InvokeResult] = []
        self.errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._run, args=(functions, name, payload))
                         for _ in range(count)]
        for thread in self._threads:
            thread.start()

    def _run(self, functions: ProcessFunctions, name: str, payload: object) -> None:
        try:
            self.results.append(functions.invoke(name, payload))
        except BaseException as exc:  # the test looks at it
            self.errors.append(exc)

    def join(self) -> list[InvokeResult]:
        for thread in self._threads:
            thread.join()
        assert self.errors == []
        return self.results


def test_invocations_in_flight_each_get_an_environment(
    deploy: Deployment, functions: ProcessFunctions, tmp_path: Path
) -> None:
    # 24 is past the 8 worker threads and 4 workers per function of before: all 24 must be
    # inside the handler at once for any of them to return.
    deploy.python("meet", MEET, timeout=60)
    together = Background(functions, "meet", {"dir": str(tmp_path), "count": 24}, 24)
    results = together.join()
    assert [r.function_error for r in results] == [None] * 24
    answers = [json.loads(r.payload) for r in results]
    assert len({a["pid"] for a in answers}) == 24
    assert len({a["random"] for a in answers}) == 24  # forked environments share no seed
    assert functions.worker_count("meet") == 24
    # Forked by one zygote per configuration, not started by this process.
    assert len({a["ppid"] for a in answers}) == 1
    assert answers[0]["ppid"] != os.getpid()


def test_past_the_concurrency_limit_an_invocation_is_throttled(
    deploy: Deployment, tmp_path: Path
) -> None:
    deploy.python("gate", GATE, timeout=60)
    deploy.python("other", PIDS)
    with ProcessFunctions(deploy.resolve, concurrency=2) as functions:
        running = Background(functions, "gate", {"dir": str(tmp_path)}, 2)
        wait_for(lambda: started(tmp_path) == 2)
        # The limit counts all functions together, as Lambda's account concurrency.
        for name in ("gate", "other"):
            with pytest.raises(Throttled) as throttled:
                functions.invoke(name, {"dir": str(tmp_path)})
            assert throttled.value.reason == "ConcurrentInvocationLimitExceeded"
            assert str(throttled.value) == "Rate Exceeded."
        assert started(tmp_path) == 2  # the throttled one never ran
        (tmp_path / "release").touch()
        assert [r.function_error for r in running.join()] == [None, None]
        assert functions.running() == 0
        assert functions.invoke("other", {}).function_error is None


def test_a_reserved_concurrency_limits_its_function_only(
    deploy: Deployment, functions: ProcessFunctions, tmp_path: Path
) -> None:
    deploy.python("gate", GATE, timeout=60, reserved_concurrency=1)
    deploy.python("other", PIDS)
    running = Background(functions, "gate", {"dir": str(tmp_path)}, 1)
    wait_for(lambda: started(tmp_path) == 1)
    with pytest.raises(Throttled) as throttled:
        functions.invoke("gate", {"dir": str(tmp_path)})
    assert throttled.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert functions.invoke("other", {}).function_error is None
    (tmp_path / "release").touch()
    assert [r.function_error for r in running.join()] == [None]
    assert functions.invoke("gate", {"dir": str(tmp_path)}).function_error is None


def test_a_reserved_concurrency_of_zero_throttles_every_invocation(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.python("off", PIDS, reserved_concurrency=0)
    with pytest.raises(Throttled) as throttled:
        functions.invoke("off", {})
    assert throttled.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert functions.worker_count("off") == 0
    deploy.update("off", reserved_concurrency=None)
    assert functions.invoke("off", {}).function_error is None


def test_environments_are_reused_warm_and_have_their_own_log_streams(
    deploy: Deployment, functions: ProcessFunctions, tmp_path: Path
) -> None:
    deploy.python("meet", MEET, timeout=60)
    (tmp_path / "a").mkdir()
    first = Background(functions, "meet", {"dir": str(tmp_path / "a"), "count": 2}, 2)
    pids = {json.loads(r.payload)["pid"] for r in first.join()}
    assert len(pids) == 2
    deploy.python("pids", PIDS)
    one = json.loads(functions.invoke("pids", {}).payload)
    again = json.loads(functions.invoke("pids", {}).payload)
    assert one["pid"] == again["pid"] and one["stream"] == again["stream"]
    (tmp_path / "b").mkdir()
    second = Background(functions, "meet", {"dir": str(tmp_path / "b"), "count": 2}, 2)
    assert {json.loads(r.payload)["pid"] for r in second.join()} == pids  # warm, reused
    assert functions.worker_count("meet") == 2


def test_a_killed_zygote_takes_its_environments_and_is_replaced(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.python("pids", PIDS)
    first = json.loads(functions.invoke("pids", {}).payload)
    os.kill(first["ppid"], signal.SIGKILL)
    wait_for(lambda: process_gone(first["pid"]))
    second = functions.invoke("pids", {})
    assert second.function_error is None, second.payload
    answer = json.loads(second.payload)
    assert answer["ppid"] not in (first["ppid"], os.getpid())


def test_without_fork_each_environment_is_an_interpreter_of_its_own(
    deploy: Deployment
) -> None:
    deploy.python("pids", PIDS)
    with ProcessFunctions(deploy.resolve, fork=False) as functions:
        answer = json.loads(functions.invoke("pids", {}).payload)
    assert answer["ppid"] == os.getpid()


def test_an_idle_zygote_is_retired_with_its_environments(deploy: Deployment) -> None:
    deploy.python("pids", PIDS)
    with ProcessFunctions(deploy.resolve, idle_seconds=0.2) as functions:
        answer = json.loads(functions.invoke("pids", {}).payload)
        wait_for(lambda: process_gone(answer["pid"]) and process_gone(answer["ppid"]))
        assert functions.invoke("pids", {}).function_error is None


def test_a_runtime_that_cannot_start_fails_the_invocation_not_the_server(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    # The function's own PYTHONHOME breaks the interpreter before it runs anything: the
    # invocation fails with Runtime.ExitError and what the interpreter printed.
    deploy.python("broken", PIDS, environment={"PYTHONHOME": "/nonexistent"})
    result = functions.invoke("broken", {})
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ExitError"
    assert "could not start" in error["errorMessage"]
    assert "Python" in error["errorMessage"]  # the interpreter's own words
    assert functions.running() == 0
    deploy.update("broken", environment={})
    assert functions.invoke("broken", {}).function_error is None
