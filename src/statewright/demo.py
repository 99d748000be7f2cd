"""``statewright demo``: the server, the order workflow and a steady stream of orders, to watch in
the console.

The demo keeps its data in a folder of its own (``demo/`` beside the default database, or
``--folder``) and starts from an empty database each time, so it never touches the user's
data. It deploys ``examples/order_processing`` unchanged (definition and Python handlers, which
succeed 90% of the time each, so orders end in success, ``OutOfStockError`` or
``PaymentError``), starts orders at ``--rate`` per second and prints the console's URL with a
one-line summary that updates in place. Ctrl-C stops it cleanly; ``--orders N`` stops starting
orders after N, and ``--exit`` ends the command once those N are done.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from statewright.config import Settings
from statewright.errors import AwsError
from statewright.functions.bundle import BundleError, folder_functions
from statewright.functions.process import ProcessFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.worker import Worker
from statewright.store import open_store
from statewright.store.base import StoreError

MACHINE_NAME = "order-processing"
#: Seconds between two refreshes of the summary line.
SUMMARY_SECONDS = 0.5
#: How long ``--exit`` waits for the last orders before giving up.
EXIT_TIMEOUT_SECONDS = 300.0


class DemoError(Exception):
    """The demo cannot start (no example files, port taken, database unusable)."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """The ``demo`` subcommand's parser (the caller sets its handler)."""
    demo: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="serve the console with the order workflow and a stream of orders",
        description="Start a server with its own SQLite database, deploy the order workflow "
        "(examples/order_processing) with its handlers, start a few orders per second and "
        "print the console URL to open. Ctrl-C stops it.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8083,
                      help="port (default 8083; a free one when it is taken)")
    demo.add_argument("--orders", type=int, metavar="N",
                      help="stop starting orders after N (default: keep going)")
    demo.add_argument("--exit", action="store_true",
                      help="end once the --orders N orders are done (for scripts)")
    demo.add_argument("--rate", type=float, default=2.0,
                      help="orders started per second (default 2)")
    demo.add_argument("--folder", metavar="DIR",
                      help="the demo's data folder, emptied at start (default: demo/ in "
                      "$STATEWRIGHT_HOME or ~/.local/share/statewright)")
    return demo


def example_folder() -> Path:
    """The order workflow: shipped in the wheel as ``statewright/_examples``, or the
    repository's ``examples/`` when running from a clone."""
    shipped = Path(str(resources.files("statewright"))) / "_examples" / "order_processing"
    if (shipped / "definition.json").is_file():
        return shipped
    clone = Path(__file__).resolve().parents[2] / "examples" / "order_processing"
    if (clone / "definition.json").is_file():
        return clone
    raise DemoError("the order workflow (examples/order_processing) is not installed")


def default_folder() -> Path:
    home = os.environ.get("STATEWRIGHT_HOME")
    if not home:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
        home = os.path.join(data, "statewright")
    return Path(home).expanduser() / "demo"


def _port(host: str, wanted: int) -> int:
    """``wanted`` when it is free, else a free port chosen by the system."""
    for port in (wanted, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
            return chosen
    raise DemoError(f"cannot listen on {host}")


@dataclass
class Tally:
    """What the summary line shows."""

    started: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    other: int = 0

    def line(self, limit: int | None) -> str:
        started = f"{self.started}/{limit}" if limit is not None else str(self.started)
        return (f"orders started {started} · running {self.running} · "
                f"succeeded {self.succeeded} · failed {self.failed}"
                + (f" · other {self.other}" if self.other else ""))


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """The command; returns the exit code."""
    if args.exit and args.orders is None:
        raise DemoError("--exit needs --orders N (the command ends once those are done)")
    if args.orders is not None and args.orders < 0:
        raise DemoError("--orders must be 0 or more")
    example = example_folder()
    folder = Path(args.folder).expanduser() if args.folder else default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob("demo.db*"):
            leftover.unlink()
    except OSError as exc:
        raise DemoError(f"cannot prepare the demo folder {folder}: {exc}") from exc
    port = _port(args.host, args.port)
    url = f"http://{args.host}:{port}"
    try:
        store = open_store(f"sqlite:///{folder / 'demo.db'}")
        store.migrate()
    except StoreError as exc:
        raise DemoError(f"cannot open the demo database in {folder}: {exc}") from exc
    settings = Settings(db=f"sqlite:///{folder / 'demo.db'}")
    registry = FunctionRegistry(store)
    functions = ProcessFunctions(registry.resolve, region=settings.region,
                                 account=settings.account, endpoint_url=url,
                                 concurrency=settings.function_concurrency,
                                 idle_seconds=settings.function_idle_seconds)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        engine = Engine(store, settings, invoker=functions, functions=registry)
        machine_arn = _deploy(engine, example)
        worker = Worker(engine, functions)
        worker.start()
        server = _Server(engine, args.host, port)
        try:
            server.start()
            print(f"statewright demo: open {url}/console/ "
                  f"(data in {folder}; Ctrl-C stops)", file=out, flush=True)
            _orders(engine, machine_arn, example, args, stop, out)
        finally:
            server.stop()
            worker.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
        functions.close()
        registry.close()
        store.close()
    return 0


def _deploy(engine: Engine, example: Path) -> str:
    try:
        for found in folder_functions(example / "functions"):
            engine.deploy_function(found.name, found.runtime, found.handler, found.code)
        definition = (example / "definition.json").read_text(encoding="utf-8")
        return engine.create_state_machine(MACHINE_NAME, definition).arn
    except (BundleError, OSError, AwsError) as exc:
        raise DemoError(f"cannot deploy the order workflow: {exc}") from exc


def _orders(engine: Engine, machine_arn: str, example: Path, args: argparse.Namespace,
            stop: threading.Event, out: TextIO) -> None:
    base = json.loads((example / "input.json").read_text(encoding="utf-8"))
    interval = 1.0 / max(args.rate, 0.01)
    tally = Tally()
    live = out.isatty()
    next_order = time.monotonic()
    last_line = ""
    last_print = 0.0
    done_at: float | None = None
    try:
        while not stop.is_set():
            now = time.monotonic()
            if (args.orders is None or tally.started < args.orders) and now >= next_order:
                tally.started += 1
                name = f"order-{1000 + tally.started}"
                engine.start_execution(machine_arn, json.dumps({**base, "orderId": name}), name)
                next_order += interval
            _count(engine, machine_arn, tally)
            line = tally.line(args.orders)
            all_started = args.orders is not None and tally.started >= args.orders
            finished = all_started and tally.running == 0
            if line != last_line and not finished and (live or now - last_print >= 5):
                print(("\r" + line + "\x1b[K") if live else line, end="" if live else "\n",
                      file=out, flush=True)
                last_line, last_print = line, now
            if finished and args.exit:
                break
            if args.exit and all_started:
                done_at = done_at or now
                if now - done_at > EXIT_TIMEOUT_SECONDS:
                    print(f"\nstatewright demo: {tally.running} orders still running; giving up",
                          file=out)
                    break
            stop.wait(min(SUMMARY_SECONDS, max(0.0, next_order - time.monotonic())) or 0.05)
    except KeyboardInterrupt:
        pass  # Ctrl-C: stop starting orders and shut down
    if live:
        print(file=out)
    print(f"statewright demo: {tally.line(args.orders)}", file=out, flush=True)


def _count(engine: Engine, machine_arn: str, tally: Tally) -> None:
    counts = engine.count_executions(machine_arn)
    tally.running = counts.get("RUNNING", 0)
    tally.succeeded = counts.get("SUCCEEDED", 0)
    tally.failed = counts.get("FAILED", 0)
    tally.other = sum(counts.values()) - tally.running - tally.succeeded - tally.failed


class _Server:
    """uvicorn serving the API and console on a thread of its own."""

    def __init__(self, engine: Engine, host: str, port: int) -> None:
        import uvicorn

        from statewright.api import create_app

        config = uvicorn.Config(create_app(engine), host=host, port=port, log_level="warning",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-server",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive():
                raise DemoError("the server did not start (is the port taken?)")
            if time.monotonic() > deadline:
                raise DemoError("the server did not start within 30 s")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
