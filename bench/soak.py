"""Soak: the order workflow at a steady rate for a long time, with a worker killed and restarted.

Run from the repository root (not part of the test suite)::

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 4] [--kill-every 60]
                                   [--db sqlite:///PATH | postgresql://...] [--json FILE]

What runs: executions of ``examples/order_processing`` are started through ``Engine`` at
``--rate`` per second; two ``statewright worker --functions`` processes (real function
processes, 30-second leases cut to ``--lease-seconds``) carry them out. Worker A runs the whole
time; worker B is killed with SIGKILL (its whole process group, function processes included)
every ``--kill-every`` seconds and started again at once. After the last start, the workers run
until every execution has ended (or ``--drain-minutes`` pass).

What it reports, per interval (``--interval`` seconds): executions started and ended (the
throughput), those still running, and the resident memory of worker A's process tree, of
worker B's and of this driver. At the end: every execution is checked to have ended with one of
the workflow's outcomes and a history of exactly that outcome's event types, ids 1..N with no
gap, so a lost step (an execution left RUNNING, a missing event) or a duplicated one (a state
entered twice, an extra event) is counted. The exit status is 1 when any was.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.orders import HISTORIES  # noqa: E402

from statewright.config import Settings  # noqa: E402
from statewright.runtime.engine import Engine  # noqa: E402
from statewright.store import open_store  # noqa: E402

EXAMPLE = REPO / "examples" / "order_processing"
#: The outcome's key in HISTORIES for a final (status, error).
OUTCOMES = {("SUCCEEDED", None): "SUCCEEDED", ("FAILED", "OutOfStockError"): "OutOfStockError",
            ("FAILED", "PaymentError"): "PaymentError"}


@dataclass
class Sample:
    """One interval."""

    at: float
    """Seconds since the soak began."""
    started: int
    """Executions started in the interval."""
    ended: int
    """Executions that ended in the interval."""
    running: int
    """Executions RUNNING at its end."""
    rss_a_mb: float
    """Resident memory of worker A's process tree (MB)."""
    rss_b_mb: float
    """Resident memory of worker B's process tree (MB), B restarted every --kill-every."""
    rss_driver_mb: float
    """This process (the Engine starting executions)."""


@dataclass
class Report:
    minutes: float
    rate: float
    kills: int
    started: int
    samples: list[Sample] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    """Executions still RUNNING after the drain, or missing events."""
    duplicated: list[str] = field(default_factory=list)
    """Executions whose history holds a step twice."""
    drain_seconds: float = 0.0


def _rss_mb(pid: int, tree: bool = True) -> float:
    """Resident memory of ``pid`` (and all its descendants when ``tree``)."""
    total = 0
    for child in [pid, *(_descendants(pid) if tree else [])]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    children: list[str] = []
    try:  # each thread's children: the worker's task threads start the function processes
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += (task / "children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


class Worker:
    """A ``statewright worker`` in its own process group (so SIGKILL takes its functions)."""

    def __init__(self, db: str, functions: Path, log: Path, lease_seconds: float) -> None:
        self.argv = [sys.executable, "-m", "statewright.cli", "worker", "--db", db,
                     "--functions", str(functions), "--lease-seconds", str(lease_seconds)]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def _check(engine: Engine, arns: list[str], report: Report) -> None:
    """Every execution ended with one outcome and exactly that outcome's history."""
    for arn in arns:
        record = engine.describe_execution(arn)
        outcome = OUTCOMES.get((record.status, record.error))
        if record.status == "RUNNING" or outcome is None:
            report.lost.append(f"{arn}: {record.status} {record.error} {record.cause}")
            continue
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        events, token = [], None
        while True:
            page = engine.get_history(arn, 1000, token)
            events += page.items
            token = page.next_token
            if token is None:
                break
        types = [e.type for e in events]
        if [e.id for e in events] != list(range(1, len(events) + 1)):
            report.lost.append(f"{arn}: event ids {[e.id for e in events]}")
        elif types != HISTORIES[outcome]:
            where = report.duplicated if len(types) > len(HISTORIES[outcome]) else report.lost
            where.append(f"{arn}: {types}")


def soak(args: argparse.Namespace) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="statewright-soak-"))
    db = args.db or f"sqlite:///{folder / 'soak.db'}"
    store = open_store(db)
    store.migrate()
    engine = Engine(store, Settings(db=db))
    machine = engine.create_state_machine(
        f"soak-{int(time.time())}", (EXAMPLE / "definition.json").read_text())
    a = Worker(db, EXAMPLE / "functions", folder / "worker-a.log", args.lease_seconds)
    b = Worker(db, EXAMPLE / "functions", folder / "worker-b.log", args.lease_seconds)
    a.start()
    b.start()
    report = Report(args.minutes, args.rate, 0, 0)
    arns: list[str] = []
    began = time.monotonic()
    end = began + args.minutes * 60
    next_kill = began + args.kill_every + args.interval / 2  # samples fall between kills
    next_sample = began + args.interval
    started_before = ended_before = 0
    print(f"soak: {args.minutes} min at {args.rate}/s on {db}; logs in {folder}", flush=True)
    print("| t (s) | started | ended | running | worker A MB | worker B MB | driver MB |")
    print("|---|---|---|---|---|---|---|", flush=True)
    try:
        n = 0
        while time.monotonic() < end:
            due = began + n / args.rate
            if time.monotonic() < due:
                time.sleep(min(due - time.monotonic(), 0.05))
            else:
                arns.append(engine.start_execution(
                    machine.arn, json.dumps({"orderId": f"soak-{n}"}), f"o-{n}").execution_arn)
                n += 1
            now = time.monotonic()
            if now >= next_kill:
                b.kill()
                b.start()
                report.kills += 1
                next_kill += args.kill_every
            if now >= next_sample:
                next_sample += args.interval
                running = len(engine.list_executions(machine.arn, "RUNNING", 1000).items)
                ended = len(arns) - running
                sample = Sample(round(now - began), len(arns) - started_before,
                                ended - ended_before, running, round(_rss_mb(a.pid), 1),
                                round(_rss_mb(b.pid), 1),
                                round(_rss_mb(os.getpid(), tree=False), 1))
                started_before, ended_before = len(arns), ended
                report.samples.append(sample)
                print(f"| {sample.at} | {sample.started} | {sample.ended} | {sample.running} | "
                      f"{sample.rss_a_mb} | {sample.rss_b_mb} | {sample.rss_driver_mb} |",
                      flush=True)
        report.started = len(arns)
        drained = time.monotonic()
        deadline = drained + args.drain_minutes * 60
        while time.monotonic() < deadline and engine.list_executions(
                machine.arn, "RUNNING", 1).items:
            time.sleep(0.5)
        report.drain_seconds = round(time.monotonic() - drained, 1)
    finally:
        a.stop()
        b.stop()
    _check(engine, arns, report)
    store.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=4.0, help="executions started per second")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds per sample")
    parser.add_argument("--lease-seconds", type=float, default=5.0)
    parser.add_argument("--drain-minutes", type=float, default=5.0)
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args()
    report = soak(args)
    print(f"\nstarted {report.started}, kills {report.kills}, drained in "
          f"{report.drain_seconds} s; outcomes {report.outcomes}")
    print(f"lost: {len(report.lost)}, duplicated: {len(report.duplicated)}")
    for line in (report.lost + report.duplicated)[:10]:
        print("  ", line[:400])
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=2))
    return 1 if report.lost or report.duplicated else 0


if __name__ == "__main__":
    raise SystemExit(main())
