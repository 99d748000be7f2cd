"""Scale-out on PostgreSQL: 1, 2 and 4 ``statewright worker`` processes on one database, with
I/O-bound handlers (each Task waits 50 ms, as a call to another service does).

Each row starts the same executions (Task -> Task -> Task, the handler sleeping 50 ms and
returning its input) with ``Engine.start_execution`` while no worker runs, then launches the
worker processes (``statewright worker --db URL --functions DIR --threads T``: the command
itself, handlers in its isolated function processes) and waits until none is RUNNING. The
throughput counts from the moment the last worker printed its "running" line to the last
execution's ``stopDate`` (read from the store), counting the executions that ended in that
time, so process start-up is left out; the issue's
target is 4 workers >= 3.5x the executions per second of 1 worker. CPU per transition: the
workers' user + system time (with their function processes) and the PostgreSQL server's
(postmaster and backends) during that phase, divided by the ``*StateEntered`` events in the
stored histories.

    .venv/bin/python bench/scaleout.py [--executions N] [--threads T] [--workers 1,2,4]
                                       [--postgres URL] [--pgbouncer]

By default a throwaway PostgreSQL cluster is started with the tests' code (as
``bench/durable.py`` does: fsync on, ``synchronous_commit=off``); ``--postgres URL`` uses that
server instead. ``--pgbouncer`` adds the same rows through a PgBouncer in transaction mode
(``?pooler=transaction&listen_url=...``), started the way the tests start it. The load average
is printed before and after every row: on a shared machine other load lowers every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import durable  # noqa: E402  (bench/durable.py: the cluster, worker processes, CPU readers)

from statewright.config import Settings  # noqa: E402
from statewright.runtime.engine import Engine  # noqa: E402

HANDLER_SLEEP_S = 0.05
HANDLER = f'''
import platform
import subprocess
import time


def handler(event, context):
    time.sleep({HANDLER_SLEEP_S})  # a call to another service
    return event
'''
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:callService"
DEFINITION = {
    "Comment": "Three I/O-bound Tasks",
    "StartAt": "One",
    "States": {
        "One": {"Type": "Task", "Resource": FUNCTION_ARN, "Next": "Two"},
        "Two": {"Type": "Task", "Resource": FUNCTION_ARN, "Next": "Three"},
        "Three": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True},
    },
}


@dataclass(frozen=True, slots=True)
class Row:
    setup: str
    workers: int
    executions: int
    phase_s: float
    transitions: int
    worker_cpu_s: float
    server_cpu_s: float | None
    machine_busy: float
    load_before: str
    load_after: str
    statuses: dict[str, int]

    @property
    def executions_per_s(self) -> float:
        return self.executions / self.phase_s


def environment() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD") or "?",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "python": platform.python_version(), "cpus": durable.os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_row(db: str, setup: str, workers: int, executions: int, threads: int,
            functions: Path, logs: Path, postmaster: int | None) -> Row:
    load_before = loadavg()
    store = durable._open(db)
    try:
        engine = Engine(store, Settings(db=db))
        machine = engine.create_state_machine("io", json.dumps(DEFINITION))
        arns = [engine.start_execution(machine.arn, json.dumps({"n": i}), f"io-{i}")
                .execution_arn for i in range(executions)]
        argv = durable.cli_worker(db, functions=functions)
        argv[argv.index("--threads") + 1] = str(threads)
        processes = [durable.WorkerProcess(argv, logs / f"{setup}-{workers}-{k}.log")
                     for k in range(workers)]
        try:
            ready = max(p.wait_ready() for p in processes)
            server_before = durable._server_cpu(postmaster) if postmaster else 0.0
            cpu_before = sum(durable._tree_cpu(p.pid) for p in processes)
            busy_before, total_before = durable._machine_ticks()
            durable._wait_until_done(engine, machine.arn, processes,
                                     timeout=120 + executions / 5)
            busy, total = durable._machine_ticks()
            cpu = sum(durable._tree_cpu(p.pid) for p in processes) - cpu_before
            server_cpu = (durable._server_cpu(postmaster) - server_before
                          if postmaster else None)
        finally:
            for process in processes:
                process.stop()
        records = [engine.describe_execution(arn) for arn in arns]
        # The rate counts the executions that ended once every worker was up.
        last = max(r.stop_date or 0.0 for r in records)
        in_phase = sum((r.stop_date or 0.0) >= ready for r in records)
        transitions = sum(kind.endswith("StateEntered")
                          for arn in arns
                          for kind, _ in durable._history_types_and_times(engine, arn))
    finally:
        store.close()
    return Row(setup, workers, in_phase, last - ready, transitions, cpu, server_cpu,
               (busy - busy_before) / max(1, total - total_before), load_before, loadavg(),
               durable._statuses(records))


def table(rows: list[Row]) -> str:
    lines = [
        "| setup | worker processes | executions | exec/s | vs 1 worker | CPU per transition "
        "(workers + server) | machine busy | load average before → after |",
        "|---|--:|--:|--:|--:|---|--:|---|",
    ]
    base: dict[str, float] = {}
    for row in rows:
        if row.workers == 1:
            base[row.setup] = row.executions_per_s
        ratio = (f"{row.executions_per_s / base[row.setup]:.2f}x"
                 if row.setup in base else "-")
        server = row.server_cpu_s / row.transitions * 1e6 if row.server_cpu_s else None
        worker = row.worker_cpu_s / row.transitions * 1e6
        cpu = (f"{worker + server:,.0f} µs ({worker:,.0f} + {server:,.0f})"
               if server is not None else f"{worker:,.0f} µs (workers only)")
        lines.append(
            f"| {row.setup} | {row.workers} | {row.executions:,} | {row.executions_per_s:,.1f} "
            f"| {ratio} | {cpu} | {row.machine_busy:.0%} | {row.load_before} → "
            f"{row.load_after} |")
    return "\n".join(lines)


@contextlib.contextmanager
def pgbouncer_in_front(server: Any) -> Any:
    """A PgBouncer in transaction mode in front of ``server`` (the tests' fixture code)."""
    conftest = durable._conftest()
    folder = Path(tempfile.mkdtemp(prefix="sw-bench-pgbouncer-"))
    bouncer = conftest.PgBouncer(server, folder)
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=600)
    parser.add_argument("--threads", type=int, default=durable.WORKER_THREADS,
                        help="--threads of each worker (default %(default)s)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server whose user may CREATE DATABASE")
    parser.add_argument("--pgbouncer", action="store_true",
                        help="also run the rows through PgBouncer in transaction mode")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    env = environment()
    print(f"statewright @ {env['commit']}{' (+ uncommitted changes)' if env['dirty'] else ''}, "
          f"Python {env['python']}, {env['cpus']} CPUs, {env['date']}; load average "
          f"{loadavg()}; {args.executions} executions x 3 Tasks of {HANDLER_SLEEP_S * 1000:.0f} "
          f"ms, --threads {args.threads}", flush=True)
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sw-scaleout-")))
        functions = work / "functions"
        functions.mkdir()
        (functions / "callService.py").write_text(HANDLER)
        server = stack.enter_context(durable.postgres_server(args.postgres))
        print(durable.postgres_version(server), flush=True)
        postmaster = durable.postmaster_pid(server)
        setups: list[tuple[str, Any]] = [("PostgreSQL", server.create_schema)]
        if args.pgbouncer:
            bouncer = stack.enter_context(pgbouncer_in_front(server))
            setups.append(("PgBouncer (transaction mode)", bouncer.create_url))
        for setup, new_db in setups:
            for workers in counts:
                print(f"  {setup}, {workers} worker(s)...", file=sys.stderr, flush=True)
                row = run_row(new_db(), setup, workers, args.executions, args.threads,
                              functions, work, postmaster)
                rows.append(row)
                print(f"  {setup}, {workers} worker(s): {row.executions_per_s:.1f} exec/s, "
                      f"{row.statuses}, load {row.load_before} -> {row.load_after}",
                      file=sys.stderr, flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "rows": [
            {**{k: getattr(r, k) for k in Row.__slots__}, "executions_per_s": r.executions_per_s}
            for r in rows]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
