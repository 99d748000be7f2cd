"""A failing database is never a 500: writes through ``commit`` (StopExecution, SendTask*)
answer as reads do. A database that is down is ServiceUnavailable (503); one that is up but
busy (the write lock held past the busy timeout) is ThrottlingException, which AWS SDKs retry.
Real SQLite (a second connection holds the write lock) and a real PostgreSQL stopped mid-test.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.unavailable import api_error
from statewright.runtime.worker import Worker
from statewright.store.base import StoreBusy, StoreError
from statewright.store.postgres import PostgresStore
from statewright.store.sqlite import SqliteStore
from tests.conftest import PostgresServer

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
WAITING = json.dumps({"StartAt": "Review", "States": {
    "Review": {"Type": "Task", "Resource": ACTIVITY, "End": True}}})


def _waiting_task(engine: Engine) -> tuple[str, str]:
    """An execution waiting on an activity task: its ARN and the task token."""
    engine.create_activity("review")
    machine = engine.create_state_machine("m", WAITING)
    arn = engine.start_execution(machine.arn, "{}", "e").execution_arn
    worker = Worker(engine, PythonFunctions(), threads=1, poll_seconds=0.05)
    try:
        worker.drain(time.monotonic() + 30)  # schedules the activity task
    finally:
        worker.stop()
    task = engine.get_activity_task(ACTIVITY, "tester", 10)
    assert task is not None
    return arn, task[0]


def test_a_locked_sqlite_database_is_throttling_for_stop_and_send_task(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = SqliteStore(path, busy_timeout=0.2)
    store.migrate()
    engine = Engine(store, Settings(wait_scale=0.0))
    arn, token = _waiting_task(engine)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        for call in (lambda: engine.stop_execution(arn),
                     lambda: engine.send_task_success(token, "{}"),
                     lambda: engine.send_task_failure(token, "E", "c"),
                     lambda: engine.send_task_heartbeat(token)):
            with pytest.raises(errors.AwsError) as caught:
                call()
            assert (caught.value.code, caught.value.status) == ("ThrottlingException", 400)
        assert engine.describe_execution(arn).status == "RUNNING"  # reads still work
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    engine.send_task_success(token, '{"ok": true}')  # the lock is gone: it goes through
    assert engine.describe_execution(arn).status == "SUCCEEDED"
    store.close()


def test_a_stopped_postgresql_is_service_unavailable_for_stop_and_send_task(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    if not postgres_server.owned:
        pytest.skip("stopping the server needs the cluster this session starts itself")
    store = PostgresStore(postgres_url, connect_timeout=1.0)
    try:
        store.migrate()
        engine = Engine(store, Settings(wait_scale=0.0))
        arn, token = _waiting_task(engine)
        postgres_server.stop()
        try:
            for call in (lambda: engine.stop_execution(arn),
                         lambda: engine.send_task_success(token, "{}"),
                         lambda: engine.describe_execution(arn)):
                with pytest.raises(errors.AwsError) as caught:
                    call()
                assert (caught.value.code, caught.value.status) == ("ServiceUnavailable", 503)
        finally:
            postgres_server.start()
    finally:
        store.close()


@pytest.mark.parametrize(("failure", "service", "code", "status"), [
    (StoreError("down"), "states", "ServiceUnavailable", 503),
    (StoreBusy("locked"), "states", "ThrottlingException", 400),
    (StoreError("down"), "lambda", "ServiceUnavailableException", 503),
    (StoreBusy("locked"), "lambda", "TooManyRequestsException", 429),
])
def test_one_mapping_of_store_failures_to_api_errors(
    failure: StoreError, service: str, code: str, status: int
) -> None:
    error = api_error(failure, "lambda" if service == "lambda" else "states")
    assert (error.code, error.status) == (code, status)
