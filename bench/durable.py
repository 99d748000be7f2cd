"""The durable runtime (Engine + workers over a database): throughput, memory, crash recovery.

Run from the repository root::

    .venv/bin/pip install -e '.[bench,test]'
    .venv/bin/python bench/durable.py [--quick] [--json FILE] [--postgres URL] [--no-peer]
                                      [--profile]

Three measurements, printed as one markdown table (bench/README.md explains every row):

1. Throughput of the order workflow (``examples/order_processing``) through ``Engine`` and
   worker processes: SQLite with one worker, PostgreSQL with one and with four. A worker process
   is this script run with ``--run-worker``: ``statewright worker``'s loop (the same ``Worker``,
   8 threads) with the example handlers loaded in-process by ``PythonFunctions.from_directory``.
   One more SQLite row runs ``statewright worker --functions`` itself, which deploys the
   handlers and runs them in isolated function processes. N executions are started, then the
   workers run until all have ended; the wall time runs from the first start to the last end
   (both read from the stored executions). The in-memory runner and moto's in-memory
   interpreter (the peer of ``asl_core.py``) are measured beside them for reference: neither
   stores anything, and no durable peer runs on this machine.
2. Memory of 100,000 executions waiting in a 1-hour Wait on SQLite: the RSS of a worker process
   polling that database, beside one polling an empty database. A wait is a row, not a thread.
3. Recovery after ``kill -9``: a few hundred executions (Task, Wait of 1 s after scaling, Task)
   under a worker with 2-second leases, killed mid-flight and restarted at once; the time from
   the restart until work moves again and until every execution has ended, and how much of it
   is waiting for the dead worker's leases to run out.

PostgreSQL: ``--postgres URL`` names a server whose user may CREATE DATABASE; otherwise a
throwaway cluster of the PostgreSQL installed under /usr/lib/postgresql is started the way the
tests start theirs (``tests/conftest.py``), then restarted with ``fsync`` and
``full_page_writes`` back on. It keeps ``synchronous_commit=off``: a commit does not wait for
its WAL flush, which is what SQLite's ``synchronous=NORMAL`` in WAL mode does too.

``--profile`` runs the worker loop in one thread under cProfile (on SQLite, and on PostgreSQL)
and prints where a step's time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import io
import json
import os
import pstats
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

import psycopg

from statewright.asl import parse
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.worker import Worker
from statewright.store import open_store
from statewright.store.base import Store

R = TypeVar("R")

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ORDER_DEFINITION = REPO / "examples" / "order_processing" / "definition.json"
ORDER_FUNCTIONS = REPO / "examples" / "order_processing" / "functions"

#: A machine that waits an hour: 100,000 of these sit in the database while the worker idles.
WAIT_HOUR_DEFINITION = {
    "StartAt": "Wait an hour",
    "States": {
        "Wait an hour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}

#: The crash run's workflow: Task, a 1-second Wait, Task. The wait is not scaled: a scaled
#: wait moves the execution's clock ahead (its history shows the wait AWS would record), and
#: this run times recovery from the history's timestamps, which must stay wall-clock times.
RECOVERY_WAIT_SCALE = 1.0
RECOVERY_LEASE_SECONDS = 2.0
RECOVERY_DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:slow",
                  "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:slow",
                   "End": True},
    },
}
#: The crash run's handler: 20 ms of "work", so Tasks are in flight when the worker dies.
SLOW_HANDLER = '''
import time


def handler(event, context):
    time.sleep(0.02)
    return {"n": event["n"], "steps": event.get("steps", 0) + 1}
'''

#: ``statewright worker``'s default, used by every worker process here.
WORKER_THREADS = 8
#: What the worker prints on stderr once it is ready to claim (cli.py's ``_worker``).
READY_LINE = re.compile(r"statewright worker (\S+) running")
#: How often the bench polls the database while it waits for executions to end.
POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work each measurement does (``--quick`` shrinks it)."""

    order_executions: int
    """Executions of the order workflow per durable row."""
    start_budget_s: float
    """The start phase of a durable row stops early after this long."""
    in_memory_budget_s: float
    """Seconds of back-to-back executions per in-memory row."""
    waiting_executions: int
    """Executions parked in the 1-hour Wait."""
    observe_s: float
    """How long the idle workers' RSS and CPU are watched."""
    recovery_executions: int
    """Executions of the crash run."""


FULL = Sizes(2000, 30.0, 2.0, 100_000, 5.0, 300)
QUICK = Sizes(300, 10.0, 0.5, 10_000, 2.0, 100)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DurableRun:
    """The order workflow through the durable runtime: start N, then run workers to the end."""

    backend: str
    """``SQLite`` or ``PostgreSQL``."""
    workers: int
    """Worker processes."""
    cli: bool
    """``statewright worker --functions`` (functions deployed, run in isolated processes)
    rather than this script's worker process with the handlers in-process."""
    executions: int
    """Executions started (and ended)."""
    start_s: float
    """Time to start them all (StartExecution back to back, no worker running)."""
    run_s: float
    """From launching the workers to the last execution's end (includes process start-up)."""
    wall_s: float
    """From the first execution's start to the last one's end."""
    transitions: int
    """``*StateEntered`` events in all the histories."""
    statuses: dict[str, int]
    """How the executions ended (the handlers draw random outcomes)."""
    worker_cpu_s: float
    """CPU time (user + system) the worker processes and their function runners used."""
    server_cpu_s: float | None
    """CPU time the PostgreSQL server's processes used meanwhile (None for SQLite, or for a
    server given by ``--postgres``)."""
    machine_busy: float
    """Share of the machine's CPU time (all cores) that was busy while the workers ran."""

    @property
    def executions_per_s(self) -> float:
        return self.executions / self.wall_s

    @property
    def transitions_per_s(self) -> float:
        return self.transitions / self.wall_s


@dataclass(frozen=True, slots=True)
class InMemoryRun:
    """Whole executions back to back in this process, nothing stored (``asl_core.run_for``)."""

    name: str
    """What ran."""
    executions: int
    """Executions run."""
    executions_per_s: float
    """Executions per second."""
    transitions_per_s: float
    """States entered per second."""
    median_us: float
    """Median time of one execution."""


@dataclass(frozen=True, slots=True)
class WaitingMemory:
    """Executions parked in a long Wait on SQLite, and the worker that polls them."""

    executions: int
    """Executions started into the Wait."""
    start_s: float
    """Time to start them (one Engine, StartExecution back to back)."""
    db_bytes: int
    """The SQLite file (plus its -wal and -shm files) afterwards."""
    starter_rss_growth_mb: float
    """How much this process's RSS grew while starting them."""
    worker_rss_mb: float
    """Largest RSS sampled of the worker polling the waiting executions."""
    worker_peak_mb: float
    """Its high-water mark (VmHWM) at the end."""
    worker_cpu_s: float
    """CPU it used over the observation window (after start-up)."""
    empty_rss_mb: float
    """Largest RSS sampled of a worker polling an empty database, for comparison."""
    observe_s: float
    """The observation window."""


@dataclass(frozen=True, slots=True)
class Recovery:
    """A worker killed with SIGKILL mid-flight and a new one started at once."""

    backend: str
    """``SQLite`` or ``PostgreSQL``."""
    executions: int
    """Executions of Task, Wait, Task."""
    done_at_kill: int
    """Executions that had ended when the worker was killed."""
    orphaned_items: int
    """Work items the dead worker held leases on."""
    startup_s: float
    """From launching the new worker until it printed that it runs."""
    first_progress_s: float
    """From the restart to the first history event the new worker wrote."""
    orphans_resumed_s: float
    """From the restart until the last execution whose work the dead worker held moved again."""
    lease_expiry_s: float
    """From the restart until the last of the dead worker's leases ran out (0: before)."""
    others_done_s: float
    """From the restart until the last execution the dead worker held nothing of ended."""
    all_done_s: float
    """From the restart until the last execution ended."""
    statuses: dict[str, int]
    """How the executions ended (all should succeed)."""


@dataclass(slots=True)
class Report:
    """Everything one run measured."""

    durable: list[DurableRun] = field(default_factory=list)
    in_memory: list[InMemoryRun] = field(default_factory=list)
    memory: WaitingMemory | None = None
    recovery: list[Recovery] = field(default_factory=list)


# ----------------------------------------------------------------------------- processes


def _proc_status(pid: int, key: str) -> float:
    """A ``/proc/PID/status`` size field (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def _stat_fields(pid: int | str) -> list[str]:
    """``/proc/PID/stat`` from the state field on (the name in parentheses is cut off)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(postmaster: int) -> float:
    """CPU time of a PostgreSQL server: the postmaster, its live children (backends, WAL
    writer...) and the children it reaped (an exited backend's time moves to its parent)."""
    ticks = sum(int(f) for f in _stat_fields(postmaster)[11:15])  # utime stime cutime cstime
    for child in _children(postmaster):
        with contextlib.suppress(OSError):  # it exited meanwhile
            ticks += sum(int(f) for f in _stat_fields(child)[11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_busy(seconds: float) -> float:
    """Share of the machine's CPU that was busy over the next ``seconds`` (other load)."""
    busy_before, total_before = _machine_ticks()
    time.sleep(seconds)
    busy, total = _machine_ticks()
    return (busy - busy_before) / max(1, total - total_before)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _tree_cpu(pid: int) -> float:
    """CPU time of a live process and of its live descendants (function runners)."""
    total = 0.0
    for child in _children(pid):
        with contextlib.suppress(OSError):
            total += _tree_cpu(child)
    return total + _cpu_seconds(pid)


def cli_worker(db: str, *, functions: Path | None = None,
               lease_seconds: float = 30.0) -> list[str]:
    """``statewright worker``'s command line."""
    argv = [sys.executable, "-m", "statewright.cli", "worker", "--db", db,
            "--threads", str(WORKER_THREADS), "--lease-seconds", str(lease_seconds)]
    return argv + (["--functions", str(functions)] if functions is not None else [])


def bench_worker(db: str) -> list[str]:
    """This script as a worker process with the order handlers in-process (``run_worker``)."""
    return [sys.executable, str(Path(__file__).resolve()), "--run-worker", db]


def run_worker(db: str) -> int:
    """The loop of ``statewright worker`` (same Worker, threads and leases), with the order
    handlers loaded in this process by ``PythonFunctions.from_directory`` (their prints are
    captured per invocation and dropped): the durable rows time the runtime, not a function
    runner. ``statewright worker --functions`` runs handlers in isolated processes instead."""
    store = _open(db)
    try:
        engine = Engine(store, Settings(db=db, worker_threads=WORKER_THREADS))
        worker = Worker(engine, PythonFunctions.from_directory(ORDER_FUNCTIONS),
                        threads=WORKER_THREADS)
        print(f"statewright worker {worker.name} running (bench)", file=sys.stderr, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
        worker.run()
        worker.stop()
    finally:
        store.close()
    return 0


class WorkerProcess:
    """A worker process (``argv``); its output (and the handlers' prints) go to a log."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.launched = time.time()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        self.name = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Waits for the "running" line; returns when it appeared (epoch seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = READY_LINE.search(self.log.read_text(errors="replace"))
            if found:
                self.name = found.group(1)
                return time.time()
            self.check_alive()
            time.sleep(0.005)
        raise SystemExit(f"the worker did not start in {timeout:.0f} s:\n{self.tail()}")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"the worker exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """``kill -9``: no clean-up at all."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# ----------------------------------------------------------------------------- PostgreSQL


def _conftest() -> ModuleType:
    """``tests/conftest.py``: its throwaway-cluster code is reused, not copied."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return importlib.import_module("tests.conftest")


def durable_options(options: str) -> str:
    """The test cluster's server options with fsync and full-page writes back on (the tests
    turn them off for speed); ``synchronous_commit=off`` stays, as explained at the top."""
    return options.replace("-c fsync=off", "-c fsync=on").replace(
        "-c full_page_writes=off", "-c full_page_writes=on"
    )


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[Any]:
    """A server with a fresh database of this run's (a ``tests.conftest.PostgresServer``):
    ``url``'s, or a throwaway cluster removed at the end."""
    conftest = _conftest()
    server = conftest.PostgresServer(url) if url else conftest._start_cluster()
    try:
        if server.owned:
            server.stop()
            server.options = durable_options(server.options)
            server.start()
        server.create_test_database()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.drop_test_database()
        server.destroy()


def postmaster_pid(server: Any) -> int | None:
    """The pid of a cluster this run started (None for a server given by URL)."""
    if server.cluster is None:
        return None
    try:
        return int((server.cluster / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_version(server: Any) -> str:
    with psycopg.connect(server.admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {str(row[0]).split()[0]}" if row else "PostgreSQL"


# ----------------------------------------------------------------------------- helpers


def _open(db: str) -> Store:
    store = open_store(db)
    store.migrate()
    return store


def _running(engine: Engine, machine_arn: str) -> int:
    """Executions still RUNNING (counted up to a page of 1000)."""
    return len(engine.list_executions(machine_arn, "RUNNING", 1000).items)


def _any_running(engine: Engine, machine_arn: str) -> bool:
    return bool(engine.list_executions(machine_arn, "RUNNING", 1).items)


def _wait_until_done(engine: Engine, machine_arn: str, workers: list[WorkerProcess],
                     timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _any_running(engine, machine_arn):
        if time.monotonic() > deadline:
            logs = "\n".join(w.tail() for w in workers)
            raise SystemExit(f"executions still running after {timeout:.0f} s\n{logs}")
        for worker in workers:
            worker.check_alive()
        time.sleep(POLL_S)


def _history_types_and_times(engine: Engine, arn: str) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    token = None
    while True:
        page = engine.get_history(arn, 1000, token)
        out += [(event.type, event.timestamp) for event in page.items]
        token = page.next_token
        if token is None:
            return out


def _statuses(records: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = record.status if record.error is None else f"{record.status} ({record.error})"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _file_bytes(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


# ----------------------------------------------------------------------------- 1. throughput


def order_durable(db: str, backend: str, workers: int, sizes: Sizes, logs: Path, *,
                  cli: bool = False, postmaster: int | None = None) -> DurableRun:
    """Starts the order executions, then runs ``workers`` worker processes until all ended:
    this script's (handlers in-process), or ``statewright worker --functions`` (``cli``).
    ``postmaster``: the PostgreSQL server's pid, to measure its CPU time too."""
    store = _open(db)
    try:
        engine = Engine(store, Settings(db=db))
        machine = engine.create_state_machine("order", ORDER_DEFINITION.read_text())
        arns: list[str] = []
        deadline = time.monotonic() + sizes.start_budget_s
        start = time.perf_counter()
        for i in range(sizes.order_executions):
            started = engine.start_execution(machine.arn, json.dumps({"orderId": str(i)}),
                                             f"order-{i}")
            arns.append(started.execution_arn)
            if time.monotonic() > deadline:
                break
        start_s = time.perf_counter() - start
        argv = cli_worker(db, functions=ORDER_FUNCTIONS) if cli else bench_worker(db)
        processes = [
            WorkerProcess(argv, logs / f"order-{backend}-{workers}-{cli}-{k}.log")
            for k in range(workers)
        ]
        launched = processes[0].launched
        server_before = _server_cpu(postmaster) if postmaster else 0.0
        busy_before, total_before = _machine_ticks()
        try:
            _wait_until_done(engine, machine.arn, processes, timeout=120 + len(arns) / 20)
            busy, total = _machine_ticks()
            cpu = sum(_tree_cpu(p.pid) for p in processes)
        finally:
            for process in processes:
                process.stop()
        time.sleep(0.2)  # the workers' backends exit and are reaped
        server_cpu = _server_cpu(postmaster) - server_before if postmaster else None
        records = [engine.describe_execution(arn) for arn in arns]
        first = min(r.start_date for r in records)
        last = max(r.stop_date or 0.0 for r in records)
        transitions = sum(
            kind.endswith("StateEntered")
            for arn in arns
            for kind, _ in _history_types_and_times(engine, arn)
        )
    finally:
        store.close()
    return DurableRun(backend, workers, cli, len(arns), start_s, last - launched,
                      last - first, transitions, _statuses(records), cpu, server_cpu,
                      (busy - busy_before) / max(1, total - total_before))


def in_memory_rows(sizes: Sizes, with_peer: bool) -> list[InMemoryRun]:
    """Ours (example handlers, and fixed results) and moto's, via ``asl_core.py``'s code."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    core = importlib.import_module("asl_core")
    order_text = ORDER_DEFINITION.read_text()
    order = parse(order_text)
    budget = sizes.in_memory_budget_s

    def row(name: str, measured: Any) -> InMemoryRun:
        return InMemoryRun(name, measured.executions, measured.executions_per_s,
                           measured.transitions_per_s, measured.median_us)

    examples = PythonFunctions.from_directory(ORDER_FUNCTIONS)
    random.seed(core.HANDLER_SEED)
    with core.stdout_silenced():
        ours_examples = core.run_for(core.executor(order, core.ORDER_INPUT, examples), budget)
    fixed = core.fixed_functions()
    rows = [
        row("ours, example handlers", ours_examples),
        row("ours, fixed Task results",
            core.run_for(core.executor(order, core.ORDER_INPUT, fixed), budget)),
    ]
    peer = core.load_peer(with_peer)
    if peer is None:
        return rows
    pass_text = core.PASS_CHOICE_DEFINITION.read_text()
    bench = core.Bench(budget_s=budget, peer=peer, order_text=order_text, pass_text=pass_text,
                       order=order, pass_choice=parse(pass_text))
    peer_order = bench.peer_executors(fixed, PythonFunctions())["order"]
    rows.append(row(f"{bench.peer_name}, mocked Lambda results", core.run_for(peer_order, budget)))
    return rows


# ----------------------------------------------------------------------------- 2. memory


def waiting_memory(work_dir: Path, sizes: Sizes) -> WaitingMemory:
    """Parks executions in a 1-hour Wait, then watches a worker poll them."""
    path = work_dir / "waiting.db"
    db = f"sqlite:///{path}"
    empty_db = f"sqlite:///{work_dir / 'empty.db'}"
    _open(empty_db).close()
    store = _open(db)
    try:
        engine = Engine(store, Settings(db=db))
        machine = engine.create_state_machine("wait-an-hour", json.dumps(WAIT_HOUR_DEFINITION))
        rss_before = _proc_status(os.getpid(), "VmRSS")
        start = time.perf_counter()
        for i in range(sizes.waiting_executions):
            engine.start_execution(machine.arn, "{}", f"w-{i}")
        start_s = time.perf_counter() - start
        rss_growth = _proc_status(os.getpid(), "VmRSS") - rss_before
    finally:
        store.close()
    db_bytes = _file_bytes(path)

    waiting = WorkerProcess(cli_worker(db), work_dir / "waiting-worker.log")
    empty = WorkerProcess(cli_worker(empty_db), work_dir / "empty-worker.log")
    try:
        waiting.wait_ready()
        empty.wait_ready()
        time.sleep(0.5)  # let both claim once and settle into polling
        cpu_before = _cpu_seconds(waiting.pid)
        samples: dict[int, list[float]] = {waiting.pid: [], empty.pid: []}
        deadline = time.monotonic() + sizes.observe_s
        while time.monotonic() < deadline:
            for worker in (waiting, empty):
                worker.check_alive()
                samples[worker.pid].append(_proc_status(worker.pid, "VmRSS"))
            time.sleep(0.1)
        cpu = _cpu_seconds(waiting.pid) - cpu_before
        peak = _proc_status(waiting.pid, "VmHWM")
    finally:
        waiting.stop()
        empty.stop()
    return WaitingMemory(
        executions=sizes.waiting_executions, start_s=start_s, db_bytes=db_bytes,
        starter_rss_growth_mb=rss_growth, worker_rss_mb=max(samples[waiting.pid]),
        worker_peak_mb=peak, worker_cpu_s=cpu, empty_rss_mb=max(samples[empty.pid]),
        observe_s=sizes.observe_s,
    )


# ----------------------------------------------------------------------------- 3. recovery


def _leases_held(db: str, owner: str) -> list[tuple[str, float]]:
    """(execution ARN, lease end) of the work items ``owner`` holds. The Store API has no such
    read, so this looks at the ``work`` table directly (read-only)."""
    query = "SELECT execution_arn, lease_until FROM work WHERE lease_owner = {}"
    if db.startswith("sqlite:///"):
        path = db.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            rows = conn.execute(query.format("?"), (owner,)).fetchall()
    else:
        with psycopg.connect(db) as pg:
            rows = pg.execute(query.format("%s"), (owner,)).fetchall()
    return [(str(arn), float(until)) for arn, until in rows]


def recovery(db: str, backend: str, sizes: Sizes, work_dir: Path) -> Recovery:
    """Runs the Task-Wait-Task executions under a worker, kills it, restarts, times the rest."""
    functions = work_dir / "recovery-functions"
    functions.mkdir(exist_ok=True)
    (functions / "slow.py").write_text(SLOW_HANDLER)
    env = {"STATEWRIGHT_WAIT_SCALE": str(RECOVERY_WAIT_SCALE)}
    count = sizes.recovery_executions
    store = _open(db)
    workers: list[WorkerProcess] = []

    def launch() -> WorkerProcess:
        argv = cli_worker(db, functions=functions, lease_seconds=RECOVERY_LEASE_SECONDS)
        worker = WorkerProcess(argv, work_dir / f"recovery-{backend}-{len(workers)}.log", env)
        workers.append(worker)
        return worker

    try:
        engine = Engine(store, Settings(db=db, wait_scale=RECOVERY_WAIT_SCALE))
        machine = engine.create_state_machine("crash", json.dumps(RECOVERY_DEFINITION))
        arns = [
            engine.start_execution(machine.arn, json.dumps({"n": i}), f"c-{i}").execution_arn
            for i in range(count)
        ]
        victim = launch()
        victim.wait_ready()
        # Kill mid-flight: a tenth done, the rest running Tasks or waiting.
        wanted = max(1, count // 10)
        deadline = time.monotonic() + 120
        while len(engine.list_executions(machine.arn, "SUCCEEDED", wanted).items) < wanted:
            if time.monotonic() > deadline:
                raise SystemExit(f"no execution finished in 120 s\n{victim.tail()}")
            victim.check_alive()
            time.sleep(0.01)
        victim.kill()
        killed_at = time.time()
        running = _running(engine, machine.arn)
        orphans = _leases_held(db, victim.name)

        restarted_at = time.time()
        survivor = launch()
        ready_at = survivor.wait_ready()
        _wait_until_done(engine, machine.arn, [survivor], timeout=180)
        records = [engine.describe_execution(arn) for arn in arns]
        # Every event after the kill was written by the new worker.
        first_after: dict[str, float] = {}
        for arn in arns:
            later = [t for _, t in _history_types_and_times(engine, arn) if t > killed_at]
            if later:
                first_after[arn] = min(later)
    finally:
        for worker in workers:
            worker.stop()
        store.close()
    orphan_arns = {arn for arn, _ in orphans}
    others = [r.stop_date or 0.0 for r in records if r.arn not in orphan_arns]
    return Recovery(
        backend=backend,
        executions=count,
        done_at_kill=count - running,
        orphaned_items=len(orphans),
        startup_s=ready_at - restarted_at,
        first_progress_s=min(first_after.values()) - restarted_at,
        orphans_resumed_s=max(
            (first_after[arn] for arn in orphan_arns if arn in first_after), default=restarted_at
        ) - restarted_at,
        lease_expiry_s=max([0.0] + [until - restarted_at for _, until in orphans]),
        others_done_s=max(others, default=restarted_at) - restarted_at,
        all_done_s=max(r.stop_date or 0.0 for r in records) - restarted_at,
        statuses=_statuses(records),
    )


# ----------------------------------------------------------------------------- profile

#: The parts of a worker step the profile summary shows: (label, a fragment of the file's path,
#: function name). Their cumulative times overlap (json.dumps runs inside apply and restore).
STEP_PARTS = (
    ("store.claim_work (one claim serves up to 16 items)", "statewright/store/", "claim_work"),
    ("store.get_execution: read the row and its cursor", "statewright/store/", "get_execution"),
    ("store.get_state_machine: the revision, read again every step", "statewright/store/",
     "get_state_machine"),
    ("store.apply / apply_many: commit events, cursor, work", "statewright/store/", "apply"),
    ("store.apply / apply_many: commit events, cursor, work", "statewright/store/",
     "apply_many"),
    ("  of which the pool's connection check and checkout", "psycopg_pool/pool.py", "getconn"),
    ("Driver.restore from the cursor", "statewright/runtime/driver.py", "restore"),
    ("Driver.started + resume (the ASL step)", "statewright/runtime/driver.py", "resume"),
    ("Driver.started + resume (the ASL step)", "statewright/runtime/driver.py", "started"),
    ("records: cursor, events and work as JSON rows", "statewright/runtime/records.py",
     "to_record"),
    ("records: cursor, events and work as JSON rows", "statewright/runtime/records.py",
     "batch_records"),
    ("PythonFunctions.invoke (the handler, output capture)", "functions/inprocess.py", "invoke"),
    ("json.dumps, every caller", "json/__init__.py", "dumps"),
    ("json.loads, every caller", "json/__init__.py", "loads"),
)


class _InlineExecutor(Executor):
    """Runs each submitted call at once in the caller's thread (cProfile sees one thread)."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class _CountingStore:
    """A Store that counts the calls made to it, per method, and the work items claimed
    through it (safe across threads)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.claimed = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            with self._lock:
                self.calls[name] += 1
                if name == "claim_work":
                    self.claimed += len(result)
            return result

        return counted


def _start_orders(engine: Engine, name: str, count: int) -> str:
    machine = engine.create_state_machine(name, ORDER_DEFINITION.read_text())
    for i in range(count):
        engine.start_execution(machine.arn, json.dumps({"orderId": str(i)}), f"{name}-{i}")
    return machine.arn


def profile_worker(db: str, executions: int, top: int = 15) -> str:
    """cProfile of a Worker's loop (``drain``) carrying ``executions`` order executions, with
    its thread pool replaced by inline calls: the same per-item code, in one thread."""
    store = _open(db)
    try:
        engine = Engine(store, Settings(db=db))
        machine_arn = _start_orders(engine, "order-profile", executions)
        worker = Worker(engine, PythonFunctions.from_directory(ORDER_FUNCTIONS),
                        threads=WORKER_THREADS, poll_seconds=0.05)
        worker._pool.shutdown()
        worker._pool = _InlineExecutor()  # type: ignore[assignment]  # bench-only surgery
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        worker.drain(time.monotonic() + 300)
        profiler.disable()
        elapsed = time.perf_counter() - start
        left = _running(engine, machine_arn)
    finally:
        store.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]

    def cumulative(fragment: str, function: str) -> tuple[int, float]:
        found = [v for (file, _, fn), v in raw.items() if fragment in file and fn == function]
        return sum(v[1] for v in found), sum(v[3] for v in found)

    steps = cumulative("statewright/runtime/worker.py", "_run_invoke")[0] + cumulative(
        "statewright/runtime/worker.py", "_run_step")[0]
    total = cumulative("statewright/runtime/worker.py", "drain")[1]
    parts: dict[str, float] = {}
    for label, fragment, function in STEP_PARTS:
        calls, seconds = cumulative(fragment, function)
        if calls:
            parts[label] = parts.get(label, 0.0) + seconds
    out.write(f"{executions} executions, {steps} steps in {elapsed:.2f} s under cProfile "
              f"({left} left running); cumulative µs per step:\n\n")
    out.write("| part of a step | µs per step | share |\n|---|--:|--:|\n")
    out.write(f"| whole step (Worker.drain / steps) | {total / steps * 1e6:,.0f} | 100% |\n")
    for label, seconds in parts.items():
        out.write(f"| {label} | {seconds / steps * 1e6:,.0f} | {seconds / total:.0%} |\n")
    out.write("\n")
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def store_calls(db: str, executions: int) -> str:
    """Store calls per step of the real Worker (its thread pool and loop) in this process."""
    store = _open(db)
    try:
        counting = _CountingStore(store)
        engine = Engine(cast(Store, counting), Settings(db=db))
        machine_arn = _start_orders(engine, "order-calls", executions)
        counting.calls.clear()
        worker = Worker(engine, PythonFunctions.from_directory(ORDER_FUNCTIONS),
                        threads=WORKER_THREADS)
        start = time.perf_counter()
        worker.start()
        while _any_running(engine, machine_arn):
            time.sleep(POLL_S)
        elapsed = time.perf_counter() - start
        worker.stop()
    finally:
        store.close()
    calls = counting.calls
    steps = counting.claimed
    polls = calls["list_executions"]  # this function's own polling, not the worker's
    per_step = ", ".join(
        f"{name} {count / steps:.2f}" for name, count in calls.most_common()
        if name != "list_executions"
    )
    return (f"Worker in this process, {WORKER_THREADS} threads: {executions} executions in "
            f"{elapsed:.2f} s ({executions / elapsed:,.0f} exec/s), {steps} steps (work items); "
            f"store calls per step: {per_step} (and {polls} polls of ours)\n")


# ----------------------------------------------------------------------------- report


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _s(value: float) -> str:
    return f"{value:.2f} s"


def _mb(value: float) -> str:
    return f"{value:,.1f} MB"


def report_table(report: Report) -> str:
    lines = [
        "| measurement | setup | executions | exec/s | transitions/s | details |",
        "|---|---|--:|--:|--:|---|",
    ]
    for run in report.durable:
        plural = "es" if run.workers > 1 else ""
        kind = " (`statewright worker --functions`)" if run.cli else ""
        server = (
            "" if run.server_cpu_s is None
            else f", server {run.server_cpu_s / run.executions * 1e3:.1f} ms"
        )
        lines.append(
            f"| order workflow, durable | {run.backend}, {run.workers} worker process{plural}"
            f"{kind} "
            f"| {_n(run.executions)} | {_n(run.executions_per_s)} | "
            f"{_n(run.transitions_per_s)} | first start → last end {_s(run.wall_s)}: starting "
            f"{_s(run.start_s)} ({_n(run.executions / run.start_s)}/s), then workers "
            f"{_s(run.run_s)} ({_n(run.executions / run.run_s)} exec/s); CPU: workers "
            f"{run.worker_cpu_s / run.executions * 1e3:.1f} ms per execution "
            f"({run.worker_cpu_s / run.transitions * 1e6:,.0f} µs per transition){server}, machine "
            f"{run.machine_busy:.0%} busy |"
        )
    for row in report.in_memory:
        lines.append(
            f"| order workflow, in memory (reference) | {row.name} | {_n(row.executions)} "
            f"| {_n(row.executions_per_s)} | {_n(row.transitions_per_s)} | median "
            f"{row.median_us:,.0f} µs per execution; nothing stored |"
        )
    memory = report.memory
    if memory is not None:
        lines.append(
            f"| executions waiting in a 1-hour Wait | SQLite, 1 worker process "
            f"| {_n(memory.executions)} | - | - | started in {_s(memory.start_s)} "
            f"({_n(memory.executions / memory.start_s)}/s); worker RSS "
            f"{_mb(memory.worker_rss_mb)} (peak {_mb(memory.worker_peak_mb)}) vs "
            f"{_mb(memory.empty_rss_mb)} on an empty database; worker CPU "
            f"{memory.worker_cpu_s:.2f} s in {memory.observe_s:.0f} s; database file "
            f"{_mb(memory.db_bytes / 2**20)} ({memory.db_bytes / memory.executions:,.0f} B "
            "per execution) |"
        )
    for rec in report.recovery:
        lines.append(
            f"| recovery after kill -9 | {rec.backend}, 1 worker, lease "
            f"{RECOVERY_LEASE_SECONDS:g} s | {_n(rec.executions)} | - | - | killed with "
            f"{rec.done_at_kill} ended, {rec.orphaned_items} items leased; after the restart: "
            f"worker up {_s(rec.startup_s)}, first progress {_s(rec.first_progress_s)}, "
            f"the others all ended {_s(rec.others_done_s)}, the leases ran out "
            f"{_s(rec.lease_expiry_s)}, orphaned work resumed {_s(rec.orphans_resumed_s)}, all "
            f"ended {_s(rec.all_done_s)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs: 300 order executions, 10,000 waiting, 100 crashing")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server whose user may CREATE DATABASE "
                        "(default: start a throwaway cluster)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite rows only")
    parser.add_argument("--no-peer", action="store_true", help="leave out moto's row")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the worker loop on each backend")
    parser.add_argument("--run-worker", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_worker:
        return run_worker(args.run_worker)
    sizes = QUICK if args.quick else FULL

    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    env = importlib.import_module("asl_core").environment()
    env["busy_before"] = machine_busy(1.0)
    began = time.perf_counter()
    report = Report()
    profiles: list[str] = []
    with contextlib.ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sw-bench-")))
        server = None
        if not args.no_postgres:
            server = stack.enter_context(postgres_server(args.postgres))
            env["postgres"] = postgres_version(server)
        print(
            f"statewright {env['statewright']} @ {env['commit'] or '?'}"
            f"{' (+ uncommitted changes)' if env['uncommitted_changes'] else ''}, "
            f"Python {env['python']}, {env['cpus']} CPUs, SQLite {sqlite3.sqlite_version}, "
            f"{env.get('postgres', 'no PostgreSQL')}, {env['date']}; machine "
            f"{env['busy_before']:.0%} busy just before",
            flush=True,
        )
        if env["busy_before"] > 0.15:
            print("warning: something else is using the CPU; the numbers will be low",
                  file=sys.stderr)

        def step(what: str) -> None:
            print(f"  [{time.perf_counter() - began:5.1f} s] {what}", file=sys.stderr, flush=True)

        step("order workflow on SQLite, 1 worker")
        report.durable.append(order_durable(f"sqlite:///{work_dir / 'order.db'}", "SQLite", 1,
                                            sizes, work_dir))
        step("order workflow on SQLite, 1 `statewright worker --functions`")
        report.durable.append(order_durable(f"sqlite:///{work_dir / 'order-cli.db'}", "SQLite",
                                            1, sizes, work_dir, cli=True))
        if server is not None:
            for workers in (1, 4):
                step(f"order workflow on PostgreSQL, {workers} worker(s)")
                report.durable.append(order_durable(server.create_schema(), "PostgreSQL",
                                                    workers, sizes, work_dir,
                                                    postmaster=postmaster_pid(server)))
        step("in-memory reference rows")
        report.in_memory = in_memory_rows(sizes, not args.no_peer)
        step(f"{sizes.waiting_executions:,} waiting executions")
        report.memory = waiting_memory(work_dir, sizes)
        step("recovery after kill -9 on SQLite")
        report.recovery.append(recovery(f"sqlite:///{work_dir / 'crash.db'}", "SQLite", sizes,
                                        work_dir))
        if server is not None:
            step("recovery after kill -9 on PostgreSQL")
            report.recovery.append(recovery(server.create_schema(), "PostgreSQL", sizes,
                                            work_dir))
        if args.profile:
            step("profiles")
            count = sizes.order_executions // 2
            dbs = [("SQLite", f"sqlite:///{work_dir / 'profile.db'}")]
            if server is not None:
                dbs.append(("PostgreSQL", server.create_schema()))
            for backend, db in dbs:
                profiles.append(f"### {backend}\n\n{store_calls(db, count)}\n"
                                f"{profile_worker(db, count)}")

    print()
    print(report_table(report))
    print()
    for run in report.durable:
        print(f"- {run.backend}, {run.workers} worker(s): {run.transitions / run.executions:.2f} "
              f"transitions per execution; {run.statuses}")
    for rec in report.recovery:
        print(f"- recovery on {rec.backend}: {rec.statuses}")
    print(f"\n(total {time.perf_counter() - began:.1f} s)")
    for text in profiles:
        print()
        print(text)
    if args.json:
        args.json.write_text(json.dumps({
            "environment": env,
            "sizes": asdict(sizes),
            "durable": [
                {**asdict(run), "executions_per_s": run.executions_per_s,
                 "transitions_per_s": run.transitions_per_s}
                for run in report.durable
            ],
            "in_memory": [asdict(row) for row in report.in_memory],
            "memory": asdict(report.memory) if report.memory else None,
            "recovery": [asdict(rec) for rec in report.recovery],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
