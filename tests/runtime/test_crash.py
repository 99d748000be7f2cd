"""Crash and chaos tests with real processes: kill -9 a worker, restart the database.

Each test starts hundreds of executions (a slow Task, a Wait, another Task) through the Engine,
runs ``statewright worker`` processes on the same database, breaks something mid-flight, and
then checks that every execution finished with a complete, gap-free history: ids 1..n, exactly
one terminal event, each Task's success recorded exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from statewright.config import Settings
from statewright.runtime.engine import Engine
from statewright.store import open_store
from statewright.store.base import Store
from tests.conftest import PostgresServer
from tests.runtime.helpers import history

EXECUTIONS = 200
#: The first executions pause briefly; the rest long enough (15 s at the tests' wait scale)
#: that a kill after the first ones finish always lands mid-flight, however loaded the machine.
SHORT_PAUSE, LONG_PAUSE, SHORT_PAUSED = 5, 150, 40
SLOW_HANDLER = '''
import time


def handler(event, context):
    time.sleep(0.02)
    return {"n": event["n"], "pause": event["pause"], "steps": event.get("steps", 0) + 1}
'''
DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:slow",
                  "Next": "Pause"},
        "Pause": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:slow",
                   "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "slow.py").write_text(SLOW_HANDLER)
    return folder


class Workers:
    """``statewright worker`` processes on one database."""

    def __init__(self, db: str, functions: Path, log_dir: Path) -> None:
        self.db = db
        self.functions = functions
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "statewright.cli", "worker", "--db", self.db,
             "--functions", str(self.functions), "--threads", "8", "--lease-seconds", "2"],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "STATEWRIGHT_WAIT_SCALE": "0.1"},
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def workers_factory(tmp_path: Path, functions_dir: Path) -> Iterator[Callable[[str], Workers]]:
    made: list[Workers] = []

    def make(db: str) -> Workers:
        workers = Workers(db, functions_dir, tmp_path)
        made.append(workers)
        return workers

    yield make
    for workers in made:
        workers.stop_all()


def _start_executions(engine: Engine) -> list[str]:
    machine = engine.create_state_machine("crashy", json.dumps(DEFINITION))
    return [engine.start_execution(machine.arn, json.dumps({"n": i, "pause": _pause(i)}),
                                   f"e-{i}").execution_arn
            for i in range(EXECUTIONS)]


def _pause(n: int) -> int:
    return SHORT_PAUSE if n < SHORT_PAUSED else LONG_PAUSE


def _statuses(engine: Engine, arns: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for arn in arns:
        status = engine.describe_execution(arn).status
        counts[status] = counts.get(status, 0) + 1
    return counts


def _wait_until(condition: Callable[[], bool], seconds: float, what: str,
                workers: Workers) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.1)


def _assert_all_complete(engine: Engine, arns: list[str]) -> None:
    for arn in arns:
        record = engine.describe_execution(arn)
        assert record.status == "SUCCEEDED", (arn, record.error, record.cause)
        n = int(arn.rsplit("-", 1)[1])
        assert json.loads(record.output or "") == {"n": n, "pause": _pause(n), "steps": 2}
        events = history(engine, arn)
        assert [e.id for e in events] == list(range(1, len(events) + 1)), arn
        types = [e.type for e in events]
        assert types.count("ExecutionSucceeded") == 1 and types[-1] == "ExecutionSucceeded"
        assert types.count("LambdaFunctionSucceeded") == 2, (arn, types)
        assert types.count("WaitStateExited") == 1


def _crash_and_recover(store: Store, db: str, workers: Workers, *, second_worker: bool
                       ) -> None:
    engine = Engine(store, Settings(wait_scale=0.1))
    arns = _start_executions(engine)
    victim = workers.start()
    survivor = workers.start() if second_worker else None
    # Kill mid-flight: some executions done, others still running Tasks or waiting.
    _wait_until(lambda: _statuses(engine, arns).get("SUCCEEDED", 0) >= 20, 90,
                "the first executions to finish", workers)
    workers.kill(victim)
    assert _statuses(engine, arns).get("RUNNING", 0) > 0, "killed too late to prove anything"
    if survivor is None:
        workers.start()  # a restart, as after a power cut
    _wait_until(lambda: _statuses(engine, arns).get("RUNNING", 0) == 0, 180,
                "every execution to finish", workers)
    _assert_all_complete(engine, arns)


def test_kill_9_the_worker_on_sqlite_and_restart(tmp_path: Path,
                                                  workers_factory: Callable[[str], Workers]
                                                  ) -> None:
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(db)
    store.migrate()
    try:
        _crash_and_recover(store, db, workers_factory(db), second_worker=False)
    finally:
        store.close()


def test_two_workers_on_postgres_one_killed(postgres_url: str,
                                            workers_factory: Callable[[str], Workers]) -> None:
    store = open_store(postgres_url)
    store.migrate()
    try:
        _crash_and_recover(store, postgres_url, workers_factory(postgres_url),
                           second_worker=True)
    finally:
        store.close()


def test_two_workers_through_pgbouncer_one_killed(pgbouncer_url: str,
                                                  workers_factory: Callable[[str], Workers]
                                                  ) -> None:
    """The same through PgBouncer in transaction mode (``?pooler=transaction``, LISTEN on the
    direct ``listen_url``): every execution completes, nothing lost with the killed worker."""
    store = open_store(pgbouncer_url)
    store.migrate()
    try:
        _crash_and_recover(store, pgbouncer_url, workers_factory(pgbouncer_url),
                           second_worker=True)
    finally:
        store.close()


def test_postgres_restarts_while_executions_run(postgres_server: PostgresServer,
                                                postgres_url: str,
                                                workers_factory: Callable[[str], Workers]
                                                ) -> None:
    if not postgres_server.owned:
        pytest.fail("the chaos test restarts PostgreSQL: it needs the cluster the tests start "
                    "(unset STATEWRIGHT_TEST_POSTGRES)")
    store = open_store(postgres_url)
    store.migrate()
    workers = workers_factory(postgres_url)
    try:
        engine = Engine(store, Settings(wait_scale=0.1))
        arns = _start_executions(engine)
        workers.start()
        workers.start()
        _wait_until(lambda: _statuses(engine, arns).get("SUCCEEDED", 0) >= 10, 90,
                    "the first executions to finish", workers)
        postgres_server.stop()
        time.sleep(1.5)  # the database is really gone for a while: workers must ride it out
        postgres_server.start()
        _wait_until(lambda: _statuses(engine, arns).get("RUNNING", 0) == 0, 180,
                    "every execution to finish after the restart", workers)
        _assert_all_complete(engine, arns)
        assert all(p.poll() is None for p in workers.processes), workers.logs()
    finally:
        store.close()
