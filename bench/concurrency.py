"""I/O-bound function concurrency over the API: N executions of Task -> Task -> Task, each
handler sleeping 100 ms, started at once against ``statewright serve``.

Run from the repository root::

    .venv/bin/python bench/concurrency.py [--executions 200 300] [--function-concurrency N]
                                          [--baseline DIR] [--json FILE]

For each N a fresh ``statewright serve`` (SQLite in a temporary folder) gets the function
(python3.12, ``time.sleep(0.1)``) and the state machine over the Lambda and Step Functions APIs
with boto3; then 16 client threads start the N executions as fast as the server takes them. The
wall time runs from the first execution's startDate to the last one's stopDate as the server
recorded them (ListExecutions), so client polling adds nothing. Three rounds per N: ``cold``
(every environment is created during the run), ``warm`` (the same server again, its
environments kept warm) and ``released``: the same Tasks behind a Wait until one timestamp,
far enough ahead for every execution to have started, so all N reach their first Task
together; its wall runs from that timestamp to the last stopDate, leaving out how fast the
server takes N StartExecution calls. Effective concurrency = total handler sleep (N x 3 x
0.1 s) / wall.

"Peak Tasks at once" is the most Tasks between their LambdaFunctionStarted and
LambdaFunctionSucceeded events at one moment (from the histories, after the round).

Memory per warm environment: after the runs, RSS, PSS and USS (private pages) of every
environment process of the server (``/proc/PID/smaps_rollup``), and of the zygote that forked
them; PSS divides shared pages among the processes sharing them, so it is the honest "cost of
one more environment".

``--baseline DIR`` runs the same measurement, in the same run, against the statewright source
tree in DIR (e.g. a checkout of main before this change: ``--baseline /work/main``), started with
``PYTHONPATH=DIR/src`` and this venv's interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"
SLEEP_SECONDS = 0.1
TASKS = 3
CLIENT_THREADS = 16

HANDLER = f"""
import time


def handler(event, context):
    time.sleep({SLEEP_SECONDS})
    return event
"""


@dataclass
class Row:
    server: str
    executions: int
    round: str
    wall_seconds: float
    start_seconds: float
    effective_concurrency: float
    succeeded: int
    server_cpu_seconds: float
    client_cpu_seconds: float
    peak_tasks: int
    loadavg: str


@dataclass
class Memory:
    server: str
    environments: int
    rss_mb: float
    pss_mb: float
    uss_mb: float
    zygote_rss_mb: float | None
    zygote_pss_mb: float | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, nargs="+", default=[200, 300])
    parser.add_argument("--function-concurrency", type=int, default=None,
                        help="passed to serve (default: its own, 100)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="also measure the statewright tree in this folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    servers: list[tuple[str, Path]] = [("this tree", REPO)]
    if args.baseline is not None:
        servers.append((f"baseline {args.baseline}", args.baseline.resolve()))
    rows: list[Row] = []
    memories: list[Memory] = []
    for label, tree in servers:
        for count in args.executions:
            with _server(tree, args.function_concurrency if tree == REPO else None) as (
                    url, pid):
                arn = _deploy(url)
                for round_name in ("cold", "warm", "released"):
                    rows.append(_measure(label, url, arn, count, round_name, pid))
                    print(_row_line(rows[-1]), flush=True)
                if count == max(args.executions):
                    memories.append(_memory(label, pid))
    print()
    print(f"machine: {os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}")
    print("| server | executions | round | wall s | starting s | effective concurrency "
          "| succeeded | peak Tasks at once | server CPU s | client CPU s | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.server} | {row.executions} | {row.round} | {row.wall_seconds:.2f} | "
              f"{row.start_seconds:.2f} | {row.effective_concurrency:.1f} | {row.succeeded} | "
              f"{row.peak_tasks} | {row.server_cpu_seconds:.2f} | "
              f"{row.client_cpu_seconds:.2f} | {row.loadavg} |")
    print()
    print("| server | warm environments | RSS MB each | PSS MB each | USS MB each | zygote RSS MB "
          "| zygote PSS MB |")
    print("|---|---|---|---|---|---|---|")
    for memory in memories:
        print(f"| {memory.server} | {memory.environments} | {memory.rss_mb:.1f} | "
              f"{memory.pss_mb:.1f} | {memory.uss_mb:.1f} | {_mb(memory.zygote_rss_mb)} | "
              f"{_mb(memory.zygote_pss_mb)} |")
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows],
                                         "memory": [asdict(m) for m in memories]}, indent=2))


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _row_line(row: Row) -> str:
    return (f"{row.server}: N={row.executions} {row.round}: wall {row.wall_seconds:.2f} s, "
            f"effective concurrency {row.effective_concurrency:.1f}, "
            f"{row.succeeded}/{row.executions} succeeded (load {row.loadavg})")


@contextlib.contextmanager
def _server(tree: Path, concurrency: int | None) -> Any:
    with tempfile.TemporaryDirectory(prefix="statewright-bench-") as folder:
        port = _free_port()
        command = [sys.executable, "-m", "statewright.cli", "serve", "--port", str(port),
                   "--db", f"sqlite:///{folder}/db.sqlite"]
        if concurrency is not None:
            command += ["--function-concurrency", str(concurrency)]
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=folder)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, Path(folder) / "server.log")
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"mode": "standard", "max_attempts": 10},
                                      max_pool_connections=CLIENT_THREADS))


def _deploy(url: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    lam = _client("lambda", url)
    lam.create_function(FunctionName="sleep100", Runtime="python3.12", Role=ROLE,
                        Handler="app.handler", Code={"ZipFile": buffer.getvalue()}, Timeout=30)
    task = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sleep100"
    definition = {"StartAt": "T1", "States": {
        "T1": {"Type": "Task", "Resource": task, "Next": "T2"},
        "T2": {"Type": "Task", "Resource": task, "Next": "T3"},
        "T3": {"Type": "Task", "Resource": task, "End": True}}}
    sfn = _client("stepfunctions", url)
    arn: str = sfn.create_state_machine(name="io-bound", definition=json.dumps(definition),
                                        roleArn=ROLE)["stateMachineArn"]
    # The same Tasks behind a Wait until one timestamp for all: they are released together.
    released = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "TimestampPath": "$.at", "Next": "T1"},
        **definition["States"]}}
    sfn.create_state_machine(name="io-bound-released", definition=json.dumps(released),
                             roleArn=ROLE)
    return arn


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and its reaped children (the environments are the
    zygote's, so not counted: their handlers only sleep)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _measure(label: str, url: str, machine: str, count: int, round_name: str,
             server_pid: int) -> Row:
    sfn = _client("stepfunctions", url)
    local = threading.local()
    released = round_name == "released"
    if released:
        machine += "-released"
    # Released rounds: every execution waits until ``at``, far enough ahead for all to start.
    at = time.time() + max(3.0, count / 30)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"

    def start(i: int) -> str:
        if not hasattr(local, "client"):
            local.client = _client("stepfunctions", url)
        answer = local.client.start_execution(stateMachineArn=machine,
                                              name=f"{round_name}-{count}-{i}",
                                              input=json.dumps({"i": i, "at": stamp}))
        return str(answer["executionArn"])

    server_cpu = _cpu_seconds(server_pid)
    client_cpu = time.process_time()
    began = time.monotonic()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        arns = set(pool.map(start, range(count)))
    start_seconds = time.monotonic() - began
    deadline = time.monotonic() + 600
    while True:
        mine = [e for e in _executions(sfn, machine) if e["executionArn"] in arns]
        if all(e["status"] != "RUNNING" for e in mine) and len(mine) == count:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("executions still running after 600 s")
        time.sleep(0.1)
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    first = min(e["startDate"] for e in mine)
    last = max(e["stopDate"] for e in mine)
    wall = (last - first).total_seconds()
    if released:
        if time.time() - (time.monotonic() - began) + start_seconds > at:
            print(f"warning: the last start came after the release time ({start_seconds:.1f} s)")
        wall = last.timestamp() - at
    succeeded = sum(e["status"] == "SUCCEEDED" for e in mine)
    sleep_total = count * TASKS * SLEEP_SECONDS
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return Row(label, count, round_name, wall, start_seconds, sleep_total / wall, succeeded,
               server_cpu, client_cpu, _peak_tasks(url, sorted(arns)), loadavg)


def _peak_tasks(url: str, arns: list[str]) -> int:
    """The most Tasks running at one moment: from each history's LambdaFunctionStarted to its
    LambdaFunctionSucceeded/Failed/TimedOut (timestamps as the server recorded them)."""
    local = threading.local()

    def intervals(arn: str) -> list[tuple[float, int]]:
        if not hasattr(local, "client"):
            local.client = _client("stepfunctions", url)
        events = local.client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        found = []
        for event in events:
            kind = event["type"]
            if kind == "LambdaFunctionStarted":
                found.append((event["timestamp"].timestamp(), 1))
            elif kind in ("LambdaFunctionSucceeded", "LambdaFunctionFailed",
                          "LambdaFunctionTimedOut"):
                found.append((event["timestamp"].timestamp(), -1))
        return found

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        changes = sorted(change for found in pool.map(intervals, arns) for change in found)
    peak = running = 0
    for _, step in changes:  # at one timestamp, ends sort before starts: no false overlap
        running += step
        peak = max(peak, running)
    return peak


def _executions(sfn: Any, machine: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.list_executions(stateMachineArn=machine, maxResults=1000,
                                   **({"nextToken": token} if token else {}))
        found += page["executions"]
        token = page.get("nextToken")
        if not token:
            return found


def _memory(label: str, server_pid: int) -> Memory:
    """RSS/PSS/USS of the server's function environments (its descendants running the Python
    runner, other than the zygote), averaged, and of the zygote."""
    children = _descendants(server_pid)
    environments, zygotes = [], []
    for pid, parent in children:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(arg.endswith(b"python_runner.py") for arg in argv):
            continue
        # A forked environment keeps its zygote's command line: the zygote is the one the
        # server started.
        zygote = b"--zygote" in argv and parent == server_pid
        (zygotes if zygote else environments).append(pid)
    sizes = [s for s in (_smaps(pid) for pid in environments) if s is not None]
    zygote = _smaps(zygotes[0]) if zygotes else None
    count = max(1, len(sizes))
    return Memory(
        label, len(sizes),
        sum(s["Rss"] for s in sizes) / count / 1024,
        sum(s["Pss"] for s in sizes) / count / 1024,
        sum(s["Private_Clean"] + s["Private_Dirty"] for s in sizes) / count / 1024,
        None if zygote is None else zygote["Rss"] / 1024,
        None if zygote is None else zygote["Pss"] / 1024,
    )


def _descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of every process under ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry))
    found: list[tuple[int, int]] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child in parents.get(parent, []):
            found.append((child, parent))
            todo.append(child)
    return found


def _smaps(pid: int) -> dict[str, int] | None:
    """The kB figures of /proc/PID/smaps_rollup."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    sizes: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            sizes[key] = int(parts[0])
    return sizes


if __name__ == "__main__":
    main()
