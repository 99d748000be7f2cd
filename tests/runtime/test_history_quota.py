"""AWS's history quota applies to STANDARD executions only.

What AWS documents: "Quotas for Standard Workflows" gives the maximum execution history size as
25,000 events ("If the execution history reaches this quota, the execution will fail"), while
"Quotas for Express Workflows" gives it as "Unlimited" (Express histories go to CloudWatch
Logs, not to Step Functions). So a loop writing 28,000 events fails at event 25,000 as a
STANDARD execution and succeeds as an EXPRESS one, in memory and durably alike.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from statewright.asl import parse
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.sync import run_execution
from statewright.runtime.worker import Worker
from statewright.store.sqlite import SqliteStore
from tests.runtime.test_step_budget import loop

ITERATIONS = 7_000  # 4 events each: 28,000 events, past the STANDARD quota


def test_in_memory_standard_fails_at_the_quota_and_express_runs_on() -> None:
    machine = parse(json.dumps(loop(ITERATIONS)))
    standard = run_execution(machine, {"n": 0}, PythonFunctions(), wait_scale=0.0)
    assert (standard.status, standard.failure and standard.failure.error) == (
        "FAILED", "States.Runtime")
    assert len(standard.events) == 25_000
    express = run_execution(machine, {"n": 0}, PythonFunctions(), wait_scale=0.0,
                            express=True)
    assert express.status == "SUCCEEDED"
    assert express.output == {"n": ITERATIONS}
    assert len(express.events) > 25_000


def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.migrate()
    return store


def test_start_sync_execution_of_an_express_machine_has_no_quota(tmp_path: Path) -> None:
    engine = Engine(_store(tmp_path), Settings(wait_scale=0.0))
    machine = engine.create_state_machine("long-express", json.dumps(loop(ITERATIONS)),
                                          type="EXPRESS")
    result = engine.start_sync_execution(machine.arn, '{"n": 0}')
    assert result.status == "SUCCEEDED"
    assert result.output == {"n": ITERATIONS}


def test_a_durable_express_execution_has_no_quota_either(tmp_path: Path) -> None:
    engine = Engine(_store(tmp_path),
                    Settings(wait_scale=0.0, step_budget=2000))
    machine = engine.create_state_machine("long-express", json.dumps(loop(ITERATIONS)),
                                          type="EXPRESS")
    started = engine.start_execution(machine.arn, '{"n": 0}', "x-1")
    worker = Worker(engine, PythonFunctions(), threads=2, poll_seconds=0.2)
    try:
        worker.drain(time.monotonic() + 120)
    finally:
        worker.stop()
    record = engine.describe_execution(started.execution_arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    assert json.loads(record.output or "") == {"n": ITERATIONS}
