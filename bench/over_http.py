"""StartExecution + DescribeExecution-until-done over HTTP with boto3, side by side (issue 9).

Run from the repository root::

    .venv/bin/python bench/over_http.py [--seconds 5] [--clients 1,4] [--peers null,moto,ministack]

Every server is started by this script on 127.0.0.1 and measured with the same client code,
one row after the other in one run:

- ``statewright``: ``statewright serve`` on a SQLite file in a temp folder, waits scaled to 0,
  the order workflow's Python handlers deployed from ``examples/order_processing/functions``
  (warm function processes, as the server runs them);
- ``null``: a do-nothing ASGI app on uvicorn (the same server stack, in this venv) answering
  StartExecution and DescribeExecution with canned JSON (``SUCCEEDED`` at once): what the client
  itself costs, the ceiling of any server;
- ``moto``: ``moto_server`` (``moto[server]``) with its state machine execution turned on
  (``POST /moto-api/config`` ``{"stepfunctions": {"execute_state_machine": true}}``; moto runs
  no Lambda without Docker, so it takes the Pass workflow only);
- ``ministack``: MiniStack (PyPI ``ministack``), whose Lambda runs the same Python handlers
  (``LAMBDA_EXECUTOR=local``), deployed through its Lambda API from the same files.

Peers run from their own virtualenvs under ``bench/.venvs/`` (git-ignored), created from PyPI
on first use. Workflows: ``bench/pass_choice.json`` (Pass/Choice only, 4 states) and
``examples/order_processing/definition.json`` (3 Lambda Tasks, a Choice).

Each client process makes its own boto3 client, warms up, then loops for ``--seconds``:
StartExecution, then DescribeExecution until the status is no longer RUNNING. Reported per
row: executions per second (all clients), requests per second, DescribeExecution calls per
execution, and the latency of one request (median / p95) and of one whole execution.
"""

from __future__ import annotations

import sys

# This file is named like the standard library's ``http`` package: run as a script, its own
# folder comes first on sys.path and would shadow it.
if sys.path and sys.path[0] == __file__.rsplit("/", 1)[0]:
    del sys.path[0]

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENVS = REPO / "bench" / ".venvs"
ORDER = REPO / "examples" / "order_processing"
PASS_DEFINITION = REPO / "bench" / "pass_choice.json"
PASS_INPUT = {"orderId": "order-1001", "items": [{"quantity": 3}]}
ORDER_INPUT = {"orderId": "order-1001"}
ROLE = "arn:aws:iam::123456789012:role/bench"
#: What each peer's venv installs (lower bounds as pyproject pins).
PEER_PACKAGES = {"moto": ["moto[server,stepfunctions]>=5.1.10"], "ministack": ["ministack>=1.5"]}
FUNCTIONS = ("checkInventory", "processPayment", "updateOrderStatus")


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def peer_python(name: str) -> Path:
    """The peer's venv interpreter, creating the venv from PyPI on first use."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        print(f"creating {venv} ({' '.join(PEER_PACKAGES[name])})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES[name]],
                       check=True)
        marker.write_text("ok\n")
    return python


def version_of(python: Path, package: str) -> str:
    done = subprocess.run([str(python), "-c", f"import importlib.metadata as m; "
                           f"print(m.version('{package}'))"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


@dataclass
class Running:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    version: str


def _wait_until_up(url: str, process: subprocess.Popen[bytes], path: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (whatever the path means to it)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up; see {log}")


def _start(name: str, command: list[str], folder: Path, env: dict[str, str], path: str,
           version: str, port: int) -> Running:
    log = folder / f"{name}.log"
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               env={**os.environ, **env}, cwd=folder, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, process, path, log)
    return Running(name, url, process, version)


def start_statewright(folder: Path) -> Running:
    port = free_port()
    from statewright import __version__
    command = [sys.executable, "-m", "statewright.cli", "serve", "--port", str(port),
               "--db", f"sqlite:///{folder / 'statewright.db'}", "--wait-scale", "0",
               "--functions", str(ORDER / "functions")]
    return _start("statewright", command, folder, {}, "/health", __version__, port)


def start_null(folder: Path) -> Running:
    import uvicorn
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--null-server", str(port)]
    return _start("null", command, folder, {}, "/", f"uvicorn {uvicorn.__version__}", port)


def start_moto(folder: Path) -> Running:
    python = peer_python("moto")
    port = free_port()
    command = [str(python), "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"]
    running = _start("moto", command, folder, {}, "/moto-api/", version_of(python, "moto"),
                     port)
    request = urllib.request.Request(
        running.url + "/moto-api/config", method="POST",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
    with urllib.request.urlopen(request, timeout=10):
        pass
    return running


def start_ministack(folder: Path) -> Running:
    python = peer_python("ministack")
    port = free_port()
    command = [str(python), "-m", "ministack"]
    env = {"GATEWAY_PORT": str(port), "MINISTACK_HOST": "127.0.0.1", "LAMBDA_EXECUTOR": "local"}
    return _start("ministack", command, folder, env, "/_ministack/health",
                  version_of(python, "ministack"), port)


def cpu_seconds(running: Running) -> float:
    """User + system CPU of the server's processes (its session: it and its children)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == running.process.pid:  # the session id
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def stop(running: Running) -> None:
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGTERM)
        try:
            running.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait()


# ----------------------------------------------------------------------------- the null server


def null_app() -> Callable[..., Any]:
    """A raw ASGI app answering StartExecution/DescribeExecution with canned JSON."""
    arn = "arn:aws:states:us-east-1:123456789012:execution:bench:"
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:bench"
    headers = [(b"content-type", b"application/x-amz-json-1.0"),
               (b"x-amzn-requestid", b"00000000-0000-0000-0000-000000000000")]
    start = json.dumps({"executionArn": arn + "run", "startDate": 1764087185.123}).encode()
    describe = json.dumps({
        "executionArn": arn + "run", "stateMachineArn": machine, "name": "run",
        "status": "SUCCEEDED", "startDate": 1764087185.123, "stopDate": 1764087185.125,
        "input": json.dumps(PASS_INPUT), "inputDetails": {"included": True},
        "output": '{"orderId":"order-1001","quantity":3,"source":"bench","size":"small"}',
        "outputDetails": {"included": True}, "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE"}).encode()
    other = b"{}"

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        target = dict(scope["headers"]).get(b"x-amz-target", b"")
        body = (start if target.endswith(b"StartExecution") else
                describe if target.endswith(b"DescribeExecution") else other)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_null(port: int) -> None:
    import uvicorn
    uvicorn.run(null_app(), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


# ----------------------------------------------------------------------------- in-process


def asgi_cost(rounds: int, count: int) -> dict[str, float]:
    """Server CPU per StartExecution + DescribeExecution of the Pass workflow through the ASGI
    app in this process (no network, no uvicorn, no client; SQLite in a temp folder), best of
    ``rounds`` rounds of ``count``: the figure a loaded machine disturbs least. Twice: with
    the Engine's calls on threads as served, and inline (what the thread hops cost)."""
    import asyncio

    from statewright.api import create_app, threads
    from statewright.config import Settings
    from statewright.runtime.engine import Engine
    from statewright.store.sqlite import SqliteStore

    folder = tempfile.mkdtemp(prefix="bench-asgi-")
    store = SqliteStore(Path(folder) / "db.sqlite")
    store.migrate()
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("bench", PASS_DEFINITION.read_text()).arn
    app = create_app(engine)
    text = json.dumps(PASS_INPUT)

    async def call(target: str, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/", "raw_path": b"/",
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80),
                 "headers": [(b"host", b"127.0.0.1"),
                             (b"content-type", b"application/x-amz-json-1.0"),
                             (b"x-amz-target", f"AWSStepFunctions.{target}".encode()),
                             (b"content-length", str(len(raw)).encode())]}
        messages = [{"type": "http.request", "body": raw, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return json.loads(sent[-1]["body"])

    async def rounds_of() -> float:
        best = float("inf")
        for _ in range(rounds):
            began = time.process_time()
            for _ in range(count):
                arn = (await call("StartExecution", {"stateMachineArn": machine,
                                                     "input": text}))["executionArn"]
                described = await call("DescribeExecution", {"executionArn": arn})
                assert described["status"] == "SUCCEEDED", described
            best = min(best, (time.process_time() - began) / count)
        return 1000 * best

    served = threads.run

    async def inline(fn: Callable[..., Any], *args: object) -> Any:
        return fn(*args)

    out: dict[str, float] = {}
    try:
        out["threads"] = asyncio.run(rounds_of())
        threads.run = inline  # type: ignore[assignment]
        out["inline"] = asyncio.run(rounds_of())
    finally:
        threads.run = served  # type: ignore[assignment]
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------- clients


def _client(url: str, service: str = "stepfunctions") -> Any:
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench",
                        config=Config(retries={"max_attempts": 0}))


def _one(sfn: Any, machine: str, text: str, latencies: list[float]) -> tuple[int, str]:
    """One execution: start, describe until done; returns (describes, status)."""
    begin = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex,
                              input=text)["executionArn"]
    now = time.perf_counter()
    latencies.append(now - begin)
    describes = 0
    while True:
        begin = now
        status = sfn.describe_execution(executionArn=arn)["status"]
        now = time.perf_counter()
        latencies.append(now - begin)
        describes += 1
        if status != "RUNNING":
            return describes, status


def client_process(url: str, machine: str, text: str, seconds: float, barrier: Any,
                   results: Any) -> None:
    sfn = _client(url)
    scratch: list[float] = []
    warm_until = time.monotonic() + min(1.0, seconds / 3)
    warm = 0
    while time.monotonic() < warm_until:
        _one(sfn, machine, text, scratch)
        warm += 1
    barrier.wait()
    latencies: list[float] = []
    executions = describes = 0
    statuses: dict[str, int] = {}
    per_execution: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        count, status = _one(sfn, machine, text, latencies)
        per_execution.append(time.perf_counter() - began)
        executions += 1
        describes += count
        statuses[status] = statuses.get(status, 0) + 1
    results.put({"warm": warm, "executions": executions, "describes": describes,
                 "statuses": statuses,
                 "elapsed": time.perf_counter() - start, "latencies": latencies,
                 "per_execution": per_execution})


def run_clients(url: str, machine: str, text: str, clients: int, seconds: float
                ) -> list[dict[str, Any]]:
    """One round: ``clients`` processes for ``seconds``; each process's figures."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients)
    results = context.Queue()
    processes = [context.Process(target=client_process,
                                 args=(url, machine, text, seconds, barrier, results))
                 for _ in range(clients)]
    for process in processes:
        process.start()
    parts = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join()
    for part in parts:
        part["round_elapsed"] = max(p["elapsed"] for p in parts)
    return parts


def summarise(parts: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """The figures of a server's rounds together (rates over their summed time)."""
    executions = sum(p["executions"] for p in parts)
    elapsed = sum(p["round_elapsed"] for p in parts) / clients  # each round's, once
    latencies = sorted(x for p in parts for x in p["latencies"])
    per_execution = sorted(x for p in parts for x in p["per_execution"])
    statuses: dict[str, int] = {}
    for part in parts:
        for status, count in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    warm = sum(p["warm"] for p in parts)
    return {
        "all_executions": executions + warm, "executions": executions,
        "exec_per_s": executions / elapsed,
        "req_per_s": len(latencies) / elapsed,
        "describes_per_exec": sum(p["describes"] for p in parts) / max(1, executions),
        "req_median_ms": 1000 * statistics.median(latencies),
        "req_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "exec_median_ms": 1000 * statistics.median(per_execution),
        "statuses": statuses,
    }


# ----------------------------------------------------------------------------- set-up


def _zip_functions(folder: Path) -> bytes:
    path = folder / "functions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted((ORDER / "functions").glob("*.py")):
            archive.write(file, file.name)
    return path.read_bytes()


def _definition(path: Path, account: str) -> str:
    return path.read_text().replace("211125437318", account)


def prepare(running: Running, folder: Path, workflow: str) -> str | None:
    """Creates the workflow's state machine (and functions) on ``running``; its ARN, or None
    when the peer cannot run it."""
    sfn = _client(running.url)
    name = f"bench-{workflow}-{uuid.uuid4().hex[:6]}"
    if workflow == "pass":
        definition = PASS_DEFINITION.read_text()
    else:
        if running.name == "moto":
            return None  # moto runs Lambda only in Docker
        account = "000000000000" if running.name == "ministack" else "123456789012"
        definition = _definition(ORDER / "definition.json", account)
        if running.name == "ministack":
            functions = _client(running.url, "lambda")
            code = _zip_functions(folder)
            existing = {f["FunctionName"] for f in functions.list_functions()["Functions"]}
            for function in FUNCTIONS:
                if function not in existing:
                    functions.create_function(
                        FunctionName=function, Runtime="python3.11", Role=ROLE,
                        Handler=f"{function}.handler", Code={"ZipFile": code}, Timeout=30)
    if running.name == "null":
        return "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
    arn: str = sfn.create_state_machine(name=name, definition=definition,
                                        roleArn=ROLE)["stateMachineArn"]
    return arn


@contextmanager
def servers(names: list[str], folder: Path) -> Iterator[list[Running]]:
    starters = {"statewright": start_statewright, "null": start_null, "moto": start_moto,
                "ministack": start_ministack}
    running: list[Running] = []
    try:
        for name in names:
            running.append(starters[name](folder))
        yield running
    finally:
        for server in running:
            stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="measured time per row, split over the rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per row, the servers taking turns (default 3)")
    parser.add_argument("--clients", default="1,4", help="client process counts, e.g. 1,4")
    parser.add_argument("--peers", default="null,moto,ministack",
                        help="which peers to run beside statewright")
    parser.add_argument("--workflows", default="pass,order")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    parser.add_argument("--asgi", action="store_true",
                        help="only the in-process CPU per start + describe through the app")
    parser.add_argument("--null-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.null_server:
        serve_null(args.null_server)
        return
    if args.asgi:
        print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
        cost = asgi_cost(10, 200)
        print(f"in-process, through the ASGI app: CPU per StartExecution + DescribeExecution "
              f"{cost['threads']:.3f} ms (Engine calls on threads, as served), "
              f"{cost['inline']:.3f} ms inline; best of 10 x 200; load "
              f"{Path('/proc/loadavg').read_text().split()[0]}")
        return
    names = ["statewright", *[p for p in args.peers.split(",") if p]]
    counts = [int(c) for c in args.clients.split(",")]
    workflows = args.workflows.split(",")
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)
    rows: list[dict[str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    try:
        with servers(names, folder) as running:
            print("servers: " + ", ".join(f"{r.name} {r.version}" for r in running),
                  flush=True)
            machines = {(r.name, w): prepare(r, folder, w) for r in running for w in workflows}
            for workflow in workflows:
                text = json.dumps(PASS_INPUT if workflow == "pass" else ORDER_INPUT)
                for clients in counts:
                    group = [r for r in running if machines[(r.name, workflow)] is not None]
                    parts: dict[str, list[dict[str, Any]]] = {r.name: [] for r in group}
                    cpu = dict.fromkeys(parts, 0.0)
                    loads: list[float] = []
                    # Rounds, the servers' order turning each time: every server sees the
                    # same stretches of the machine's other load.
                    for round_ in range(args.rounds):
                        turn = round_ % len(group)
                        for server in group[turn:] + group[:turn]:
                            before = cpu_seconds(server)
                            parts[server.name] += run_clients(
                                server.url, machines[(server.name, workflow)] or "", text,
                                clients, args.seconds / args.rounds)
                            cpu[server.name] += cpu_seconds(server) - before
                            loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
                    for server in group:
                        result = summarise(parts[server.name], clients)
                        # Over the whole row: the clients' warm-up executions count too.
                        result["server_cpu_ms_per_exec"] = (
                            1000 * cpu[server.name] / max(1, result["all_executions"]))
                        row = {"workflow": workflow, "clients": clients,
                               "server": f"{server.name} {server.version}",
                               "load": f"{min(loads):.1f}-{max(loads):.1f}", **result}
                        rows.append(row)
                        print(_line(row), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def _line(row: dict[str, Any]) -> str:
    return (f"{row['workflow']:5} x{row['clients']} {row['server']:22} "
            f"{row['exec_per_s']:7.1f} exec/s {row['req_per_s']:7.1f} req/s "
            f"req {row['req_median_ms']:.2f}/{row['req_p95_ms']:.2f} ms "
            f"exec {row['exec_median_ms']:.2f} ms describes/exec "
            f"{row['describes_per_exec']:.2f} "
            f"server CPU {row['server_cpu_ms_per_exec']:.2f} ms/exec "
            f"{row['statuses']} load {row['load']}")


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| workflow | clients | server | exec/s | req/s | describes per exec | "
             "request median / p95 ms | execution median ms | server CPU ms per exec | "
             "of the null endpoint | "
             "statewright vs it | load |",
             "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        group = [r for r in rows
                 if (r["workflow"], r["clients"]) == (row["workflow"], row["clients"])]
        null = next((r for r in group if r["server"].startswith("null")), None)
        ours = next((r for r in group if r["server"].startswith("statewright")), None)
        share = f"{100 * row['exec_per_s'] / null['exec_per_s']:.0f}%" if null else "-"
        ratio = (f"{ours['exec_per_s'] / row['exec_per_s']:.1f}x"
                 if ours and row is not ours and not row["server"].startswith("null") else "")
        lines.append(
            f"| {row['workflow']} | {row['clients']} | {row['server']} | "
            f"{row['exec_per_s']:,.0f} | {row['req_per_s']:,.0f} | "
            f"{row['describes_per_exec']:.2f} | {row['req_median_ms']:.2f} / "
            f"{row['req_p95_ms']:.2f} | {row['exec_median_ms']:.2f} | "
            f"{row['server_cpu_ms_per_exec']:.2f} | {share} | {ratio} | "
            f"{row['load']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
