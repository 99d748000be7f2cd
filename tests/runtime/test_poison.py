"""Poison work: an item whose processing raises (a bug, a value nothing expected, a payload
written by another version) is retried a bounded number of times with back-off, then its
execution fails with States.Runtime naming the error; the traceback is logged once and the
worker goes on with other work. Real SQLite store, real worker."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any

import pytest

from statewright.config import Settings
from statewright.functions.base import InvokeResult
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import MAX_ATTEMPTS, Worker
from statewright.store.base import Store
from tests.conftest import open_backend
from tests.runtime.helpers import history

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ARN + "f", "End": True}}}
PASS = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                                   "P": {"Type": "Pass", "End": True}}}


class BrokenInvoker:
    """An invoker with a bug: it raises (rather than returning a function error) for its
    first ``failures`` calls, then runs the function."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.functions = PythonFunctions()
        self.functions.register("f", lambda event, context: {"ok": event})

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"invoker bug #{self.calls}")
        return self.functions.invoke(name, payload, timeout)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Store:
    return open_backend("sqlite", request)


def _drain(engine: Engine, invoker: Any) -> None:
    worker = Worker(engine, invoker, threads=2, poll_seconds=0.1)
    try:
        worker.drain(time.monotonic() + 60)
    finally:
        worker.stop()


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info is not None]


def test_a_work_item_that_keeps_failing_fails_its_execution_and_the_worker_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", json.dumps(TASK))
    other = engine.create_state_machine("other", json.dumps(PASS))
    bad = engine.start_execution(machine.arn, '{"n": 1}', "bad").execution_arn
    fine = engine.start_execution(other.arn, "{}", "fine").execution_arn
    invoker = BrokenInvoker(failures=1000)
    with caplog.at_level(logging.WARNING, logger="statewright.worker"):
        _drain(engine, invoker)
    assert invoker.calls == MAX_ATTEMPTS  # bounded: tried, then given up
    record = engine.describe_execution(bad)
    assert record.status == "FAILED"
    assert record.error == "States.Runtime"
    assert record.cause is not None and "RuntimeError: invoker bug #5" in record.cause
    types = [e.type for e in history(engine, bad)]
    assert types == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                     "ExecutionFailed"]
    assert len(_tracebacks(caplog)) == 1  # the traceback is logged once, when it gives up
    assert engine.describe_execution(fine).status == "SUCCEEDED"
    assert store.next_due() is None  # nothing left to retry forever


def test_a_transient_fault_is_retried_and_the_execution_succeeds(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", json.dumps(TASK))
    arn = engine.start_execution(machine.arn, '{"n": 1}', "e").execution_arn
    invoker = BrokenInvoker(failures=2)
    with caplog.at_level(logging.WARNING, logger="statewright.worker"):
        _drain(engine, invoker)
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == {"ok": {"n": 1}}
    assert _tracebacks(caplog) == []


def test_a_work_payload_that_cannot_be_read_fails_the_execution(
    store: Store, sqlite_path: Any
) -> None:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", json.dumps(PASS))
    arn = engine.start_execution(machine.arn, "{}", "e").execution_arn
    with sqlite3.connect(sqlite_path) as conn:  # as a future version might have written it
        conn.execute("UPDATE work SET payload = '{\"unknown\": []}'")
    _drain(engine, PythonFunctions())
    record = engine.describe_execution(arn)
    assert (record.status, record.error) == ("FAILED", "States.Runtime")
    assert record.cause is not None and f"after {MAX_ATTEMPTS} attempts" in record.cause


class Panic(BaseException):
    """What a Rust extension's panic looks like to Python (pyo3's PanicException derives
    from BaseException, not Exception)."""


class PanickingInvoker(BrokenInvoker):
    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        self.calls += 1
        raise Panic("called `Option::unwrap()` on a `None` value")


def test_a_panic_in_a_native_library_is_poison_work_too(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("m", json.dumps(TASK))
    arn = engine.start_execution(machine.arn, "{}", "panics").execution_arn
    invoker = PanickingInvoker(failures=0)
    _drain(engine, invoker)
    assert invoker.calls == MAX_ATTEMPTS
    record = engine.describe_execution(arn)
    assert record.status == "FAILED" and record.error == "States.Runtime"
    assert record.cause is not None and "Panic" in record.cause
