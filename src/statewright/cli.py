"""The ``statewright`` command line: run and validate state machines, serve the API, run
workers, manage deployed functions.

Exit codes: 0 success; 1 the execution did not succeed, the definition is invalid, or a
``functions`` command was refused (the AWS error is printed); 2 bad input (unreadable file,
invalid JSON, a definition that does not parse).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import json
import math
import os
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statewright import __version__, demo
from statewright.arns import check_name
from statewright.asl import InvalidDefinition, StateMachine, parse, validate
from statewright.asl.events import to_json
from statewright.asl.model import Machine, MapState, ParallelState, TaskState
from statewright.asl.step import unsupported
from statewright.config import Settings
from statewright.errors import AwsError
from statewright.functions.base import Invoker, InvokeResult
from statewright.functions.bundle import BundleError, bundle, folder_functions
from statewright.functions.folder import FolderFunctions
from statewright.functions.inprocess import PythonFunctions
from statewright.functions.process import ProcessFunctions
from statewright.runtime.access_keys import ServerKeyError
from statewright.runtime.driver import HistoryEvent
from statewright.runtime.engine import MAX_INPUT_BYTES, Engine
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.mocks import MockConfig, MockConfigError, load_mock_config
from statewright.runtime.sync import ExecutionResult, run_execution
from statewright.runtime.tasks import unsupported_resource
from statewright.runtime.worker import Worker
from statewright.store.base import Store, StoreError


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        print(f"statewright: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statewright",
        description="Run AWS Step Functions state machines unchanged, on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"statewright {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run one execution in-process and print it",
        description="Run one execution of DEFINITION in this process, with Python handlers "
        "from --functions, and print it shaped like DescribeExecution.",
    )
    run.add_argument("definition", help="the state machine definition (ASL JSON file)")
    run.add_argument("--input", default="{}",
                     help="execution input: JSON text, or @FILE to read it (default {})")
    run.add_argument("--functions", metavar="DIR",
                     help="folder of Python handlers: NAME.py with handler(event, context) "
                     "serves arn:aws:lambda:...:function:NAME")
    run.add_argument("--name", help="execution name (default: a UUID)")
    run.add_argument("--history", action="store_true",
                     help="include the history events (GetExecutionHistory's shape)")
    run.add_argument("--json", action="store_true",
                     help="print only the JSON object, even on a terminal")
    run.add_argument("--wait-scale", type=float,
                     default=None,
                     help="multiply Wait/Retry delays by this (0: no waiting); "
                     "default $STATEWRIGHT_WAIT_SCALE or 1")
    run.add_argument("--mock-config", metavar="FILE", default=os.environ.get("SFN_MOCK_CONFIG"),
                     help="Step Functions Local's mock config (default $SFN_MOCK_CONFIG)")
    run.add_argument("--test-case", metavar="NAME",
                     help="run the mock config's test case NAME (MACHINE#NAME when several "
                     "state machines have one so named): its states are mocked")
    run.set_defaults(handler=_run)

    check = commands.add_parser(
        "validate",
        help="check a definition",
        description="Check DEFINITION and print diagnostics shaped like "
        "ValidateStateMachineDefinition's.",
    )
    check.add_argument("definition", help="the state machine definition (ASL JSON file)")
    check.set_defaults(handler=_validate)

    worker = commands.add_parser(
        "worker",
        help="run a worker: carry out due work of executions stored in --db",
        description="Claim and run work items (Tasks, Waits, retries) of executions stored in "
        "the database, until interrupted. Run as many as you like, on any machine.",
    )
    _db_option(worker)
    worker.add_argument("--functions", metavar="DIR",
                        help="deploy every handler in DIR at start (NAME.py, NAME.mjs...; see "
                        "`statewright serve --help`); deployed functions run in any case")
    worker.add_argument("--threads", type=int, default=8,
                        help="steps other than function invocations carried out at once "
                        "(default 8; invocations: --function-concurrency)")
    _function_options(worker)
    worker.add_argument("--function-logs", action="store_true",
                        help="print what each function invocation logged to stderr")
    worker.add_argument("--endpoint-url", default=os.environ.get("STATEWRIGHT_ENDPOINT_URL"),
                        help="the statewright API its functions' AWS SDKs should call "
                        "(AWS_ENDPOINT_URL_SFN and AWS_ENDPOINT_URL_LAMBDA inside functions; "
                        "default $STATEWRIGHT_ENDPOINT_URL)")
    worker.add_argument("--lease-seconds", type=float, default=30.0,
                        help="how long claimed work stays this worker's without a heartbeat; "
                        "a crashed worker's work is taken over after it (default 30)")
    _mock_config_option(worker)
    worker.set_defaults(handler=_worker)

    serve = commands.add_parser(
        "serve",
        help="serve the AWS Step Functions and Lambda APIs (boto3, the AWS CLI) with one "
        "worker",
        description="Serve the AWS Step Functions API and Lambda's function API over the "
        "database in --db, with one worker in this process carrying out executions. Point "
        "boto3 or the AWS CLI (stepfunctions, lambda) at it "
        "with endpoint_url / --endpoint-url http://HOST:PORT. For StartSyncExecution set "
        "AWS_DISABLE_HOST_PREFIX_INJECTION=true (botocore otherwise sends it to sync-HOST).",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8083, help="port (default 8083)")
    _db_option(serve)
    serve.add_argument("--functions", metavar="DIR",
                       help="deploy every handler in DIR at start, as the Lambda API would: "
                       "NAME.py is function NAME (python3.12, handler NAME.handler), "
                       "NAME.mjs/.js/.cjs is nodejs20.x; each is packaged with the whole "
                       "folder, so shared modules beside it import. Functions run in isolated "
                       "worker processes with Lambda's timeout (3 s unless redeployed with "
                       "`statewright functions deploy --timeout`)")
    serve.add_argument("--wait-scale", type=float, default=None,
                       help="multiply Wait/Retry delays by this (0: no waiting); "
                       "default $STATEWRIGHT_WAIT_SCALE or 1")
    serve.add_argument("--lease-seconds", type=float, default=30.0,
                       help="how long work claimed by this server's worker stays its own "
                       "without a heartbeat; after a crash, other workers (or the restarted "
                       "server) take it over after this (default 30)")
    _function_options(serve)
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="serve a non-loopback --host even though the database holds no "
                       "access key: anyone who reaches the port may deploy and run code")
    serve.add_argument("--iam", choices=("permissive", "strict"), default="permissive",
                       help="permissive (default): a state machine's role is enforced when it "
                       "exists in statewright's IAM; strict: it must exist and trust "
                       "states.amazonaws.com, and Tasks of a missing role are denied")
    serve.add_argument("--function-logs", action="store_true",
                       help="print what each function invocation logged (prints, errors) to "
                       "stderr, each line prefixed with the function name")
    _mock_config_option(serve)
    serve.set_defaults(handler=_serve)

    _function_commands(commands)
    _key_commands(commands)
    demo.add_parser(commands).set_defaults(handler=_demo)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="{migrate}")
    migrate = db_commands.add_parser("migrate", help="create or upgrade the schema")
    _db_option(migrate)
    migrate.set_defaults(handler=_migrate)
    return parser


def _port(text: str) -> int:
    """A TCP port number, for argparse (which prints the message and exits 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def _endpoint_url(args: argparse.Namespace) -> str | None:
    """Where functions' SDKs reach this API: the served address, or ``--endpoint-url``."""
    if getattr(args, "endpoint_url", None):
        return str(args.endpoint_url)
    if getattr(args, "port", None) is None:
        return None
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    return f"http://[{host}]:{args.port}" if ":" in host else f"http://{host}:{args.port}"


def _settings(**options: Any) -> Settings:
    """Settings from flags and STATEWRIGHT_* variables; a malformed variable is bad input."""
    try:
        return Settings(**options)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _function_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--function-concurrency", type=int, default=None, metavar="N",
        help="function invocations run at once by this process, all functions together, as "
        "Lambda's account concurrency; one more is throttled (TooManyRequestsException; "
        "PutFunctionConcurrency limits a function further). Default "
        "$STATEWRIGHT_FUNCTION_CONCURRENCY or 100")
    parser.add_argument(
        "--function-idle-seconds", type=float, default=None, metavar="SECONDS",
        help="how long an idle function environment stays warm before it is retired "
        "(default $STATEWRIGHT_FUNCTION_IDLE_SECONDS or 300)")


def _function_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The --function-* flags given, as Settings options (unset ones come from the
    environment)."""
    options: dict[str, Any] = {}
    if args.function_concurrency is not None:
        if args.function_concurrency < 1:
            raise UsageError("--function-concurrency must be at least 1")
        options["function_concurrency"] = args.function_concurrency
    if args.function_idle_seconds is not None:
        if not args.function_idle_seconds > 0:
            raise UsageError("--function-idle-seconds must be more than 0")
        options["function_idle_seconds"] = args.function_idle_seconds
    return options


def _mock_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mock-config", metavar="FILE", default=os.environ.get("SFN_MOCK_CONFIG"),
        help="Step Functions Local's mock config (default $SFN_MOCK_CONFIG): StartExecution "
        "on STATE_MACHINE_ARN#TEST_CASE runs that test case with its Tasks mocked")


def _mock_config(path: str | None) -> MockConfig | None:
    if not path:
        return None
    try:
        return load_mock_config(path)
    except MockConfigError as exc:
        raise UsageError(f"--mock-config: {exc}") from exc


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default=os.environ.get("STATEWRIGHT_DB", ""),
        help="database URL: sqlite:///PATH (default: the file in $STATEWRIGHT_HOME) or "
        "postgresql://USER@HOST:PORT/DB; default $STATEWRIGHT_DB",
    )


# ----------------------------------------------------------------------------- run


def _run(args: argparse.Namespace) -> int:
    state_machine = _load_machine(args.definition)
    data = _load_input(args.input)
    if args.name is not None:
        try:  # the server's rule, so a name that runs here also starts there
            check_name(args.name)
        except AwsError as exc:
            raise UsageError(f"--name: {exc.message} (1-80 characters; no spaces, brackets, "
                             "wildcards, punctuation like ?*\"#%\\^|~`$&,;:/ or control "
                             "characters)") from exc
    wait_scale = _wait_scale(args.wait_scale if args.wait_scale is not None
                             else _settings().wait_scale)
    test_case, machine_arn = None, None
    if args.test_case is not None:
        config = _mock_config(args.mock_config)
        if config is None:
            raise UsageError("--test-case needs --mock-config FILE (or SFN_MOCK_CONFIG)")
        try:
            machine, test_case = config.find_test_case(args.test_case)
        except MockConfigError as exc:
            raise UsageError(f"--test-case: {exc}") from exc
        settings = _settings()
        machine_arn = f"arn:aws:states:{settings.region}:{settings.account}:stateMachine:{machine}"
    with _load_functions(args.functions) as functions, _progress() as on_events:
        result = run_execution(state_machine, data, functions, name=args.name,
                               state_machine_arn=machine_arn, wait_scale=wait_scale,
                               on_events=on_events, test_case=test_case)
    described = describe(result, with_history=args.history)
    code = 0 if result.status == "SUCCEEDED" else 1
    try:
        if args.json or not sys.stdout.isatty():
            print(json.dumps(described, indent=2, ensure_ascii=False))
        else:
            _print_summary(result, described)
        sys.stdout.flush()
    except BrokenPipeError:  # `run ... | head -1`: the reader left; the execution's status stands
        _stdout_to_devnull()
    return code


def _stdout_to_devnull() -> None:
    """After a broken pipe: later writes (and the flush at exit) go nowhere, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _wait_scale(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"--wait-scale must be a number of 0 or more, not {value:g}")
    return value


#: Seconds of silence before ``run`` shows progress on a terminal.
PROGRESS_AFTER_SECONDS = 1.0


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[list[HistoryEvent]], None] | None]:
    """On a terminal (stderr), a line showing the current state and the time elapsed, once
    an execution runs longer than a moment (a long Wait, a slow handler); erased at the end."""
    if not sys.stderr.isatty():
        yield None
        return
    began = time.monotonic()
    current = ["(starting)"]
    stop = threading.Event()
    shown = [False]

    def on_events(events: list[HistoryEvent]) -> None:
        for event in events:
            if event.type.endswith("StateEntered") and event.details:
                current[0] = str(event.details.get("name", current[0]))

    def show() -> None:
        while not stop.wait(0.5):
            elapsed = time.monotonic() - began
            if elapsed >= PROGRESS_AFTER_SECONDS:
                sys.stderr.write(f"\r\x1b[Krunning: {current[0]} ({elapsed:.0f} s)")
                sys.stderr.flush()
                shown[0] = True

    thread = threading.Thread(target=show, name="statewright-progress", daemon=True)
    thread.start()
    try:
        yield on_events
    finally:
        stop.set()
        thread.join()
        if shown[0]:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def describe(result: ExecutionResult, *, with_history: bool = False) -> dict[str, Any]:
    """DescribeExecution's shape (dates as ISO 8601, as the AWS CLI prints them)."""
    info = result.info
    out: dict[str, Any] = {
        "executionArn": info.execution_arn,
        "stateMachineArn": info.state_machine_arn,
        "name": info.name,
        "status": result.status,
        "startDate": _iso(info.start_time),
        "stopDate": _iso(result.stop_time),
        "input": to_json(info.input),
    }
    if result.status == "SUCCEEDED":
        out["output"] = to_json(result.output)
    elif result.failure is not None:
        if result.failure.error is not None:
            out["error"] = result.failure.error
        if result.failure.cause is not None:
            out["cause"] = result.failure.cause
    if with_history:
        out["events"] = [
            {**event.to_aws(), "timestamp": _iso(event.timestamp)} for event in result.events
        ]
    return out


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds")


def _print_summary(result: ExecutionResult, described: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # No highlighter (it coloured digits inside ARNs at random) and no wrapping (an ARN cut
    # at 80 columns cannot be copied).
    console = Console(highlight=False, soft_wrap=True)
    colour = {"SUCCEEDED": "green", "FAILED": "red"}.get(result.status, "yellow")
    duration = result.stop_time - result.info.start_time
    console.print(f"[bold {colour}]{result.status}[/] in {_duration(duration)}  "
                  f"{escape(described['executionArn'])}")
    if "output" in described:
        console.print_json(described["output"])
    if "error" in described or "cause" in described:
        console.print(f"[red]error:[/] {escape(str(described.get('error')))}")
        console.print(f"[red]cause:[/] {escape(str(described.get('cause')))}")
    if "events" in described:
        table = Table("id", "prev", "type", "details")
        for event in result.events:
            detail = json.dumps(event.details, ensure_ascii=False) if event.details else ""
            table.add_row(str(event.id), str(event.previous_event_id), event.type, detail[:100])
        console.print(table)


def _duration(seconds: float) -> str:
    """``0.12 s``, ``4.5 s``, ``2 min 5 s``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


# ----------------------------------------------------------------------------- validate


def _validate(args: argparse.Namespace) -> int:
    text = _read(args.definition)
    try:
        decoded = json.loads(text)
    except ValueError as exc:
        faults = [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                   "message": f"Invalid JSON: {exc}", "location": "/"}]
    else:
        errors = validate(decoded)
        machine = None
        if not errors:
            try:
                machine = parse(decoded)
            except InvalidDefinition as exc:
                errors = exc.errors
        faults = [
            {"severity": "ERROR", "code": e.code, "message": e.message, "location": e.location}
            for e in errors
        ]
        if machine is not None:
            faults += _unsupported(machine.machine, "")
    failed = any(fault["severity"] == "ERROR" for fault in faults)
    print(json.dumps({"result": "FAIL" if failed else "OK", "diagnostics": faults,
                      "truncated": False}, indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _unsupported(machine: Machine, prefix: str) -> list[dict[str, str]]:
    """WARNING diagnostics for states statewright cannot run yet (AWS would run them): the
    same checks that fail them at run time."""
    found = []
    for name, state in machine.states.items():
        location = f"{prefix}/States/{name}"
        reasons = [unsupported(state)]
        if isinstance(state, TaskState):
            reasons.append(unsupported_resource(state.resource))
        found += [{"severity": "WARNING", "code": "UNSUPPORTED_BY_STATEWRIGHT",
                   "message": reason, "location": location} for reason in reasons if reason]
        if isinstance(state, ParallelState):
            for i, branch in enumerate(state.branches):
                found += _unsupported(branch, f"{location}/Branches[{i}]")
        elif isinstance(state, MapState):
            found += _unsupported(state.processor, f"{location}/ItemProcessor")
    return found


# ----------------------------------------------------------------------------- durable


def _open_store(url: str) -> Store:
    from statewright.store import open_store  # the backends load only when a command needs them

    try:
        return open_store(url)
    except (StoreError, ValueError) as exc:
        raise UsageError(f"cannot open the database {url or '(default)'}: {exc}") from exc


def _migrate(args: argparse.Namespace) -> int:
    store = _open_store(args.db)
    try:
        version = store.migrate()
    except StoreError as exc:
        raise UsageError(f"migration failed: {exc}") from exc
    finally:
        store.close()
    print(f"schema at version {version}")
    return 0


def _worker(args: argparse.Namespace) -> int:
    store = _open_store(args.db)
    try:
        store.migrate()
        settings = _settings(db=args.db, worker_threads=max(1, args.threads),
                             lease_seconds=max(1.0, args.lease_seconds),
                             **_function_settings(args))
        with _isolated_functions(store, settings, args.functions, args.function_logs,
                                 _endpoint_url(args)) as (
                engine, functions):
            engine.mock_config = _mock_config(args.mock_config)
            worker = Worker(engine, functions, threads=settings.worker_threads)
            print(f"statewright worker {worker.name} running; Ctrl-C stops it",
                  file=sys.stderr)
            signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
            with contextlib.suppress(KeyboardInterrupt):
                worker.run()
            worker.stop()
    finally:
        store.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from statewright.api import create_app

    options: dict[str, Any] = {"db": args.db, "lease_seconds": max(1.0, args.lease_seconds)}
    if args.wait_scale is not None:
        options["wait_scale"] = _wait_scale(args.wait_scale)
    options["iam_strict"] = args.iam == "strict"
    settings = _settings(**options, **_function_settings(args))
    _check_port_free(args.host, args.port)
    store = _open_store(args.db)
    try:
        try:
            store.migrate()
        except StoreError as exc:
            raise UsageError(f"migration failed: {exc}") from exc
        with _isolated_functions(store, settings, args.functions, args.function_logs,
                                 _endpoint_url(args)) as (
                engine, functions):
            _check_access(engine, args)
            engine.mock_config = _mock_config(args.mock_config)
            worker = Worker(engine, functions)
            worker.start()
            # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the
            # handler it found; this one turns that into an exception, so the worker stops and
            # the store closes instead of the process dying on the spot.
            signal.signal(signal.SIGTERM, _terminated)
            try:
                print(f"statewright serving http://{args.host}:{args.port} "
                      f"(database: {_shown_db(args.db)})", file=sys.stderr)
                print(f"statewright console http://{args.host}:{args.port}/console/",
                      file=sys.stderr)
                with contextlib.suppress(_Terminated):
                    uvicorn.run(create_app(engine), host=args.host, port=args.port,
                                access_log=args.access_log, log_level="info")
            finally:
                worker.stop()
    finally:
        store.close()
    return 0


def _check_access(engine: Engine, args: argparse.Namespace) -> None:
    """Refuses to serve a non-loopback address without access keys (anyone reaching the
    port could deploy and run code), and checks the server key opens the stored keys."""
    try:
        required = engine.access_keys_required()
        if required:
            engine.check_server_key()
    except ServerKeyError as exc:
        raise UsageError(str(exc)) from exc
    except AwsError as exc:
        raise UsageError(exc.message) from exc
    if required or _is_loopback(args.host):
        return
    if not args.insecure_no_auth:
        raise UsageError(
            f"refusing to serve on {args.host} without access keys: anyone who can reach the "
            "port could deploy functions and run them. Create a key with `statewright keys "
            "create` (same --db), configure it as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for "
            "your clients, and start again; or pass --insecure-no-auth to serve unsigned "
            "requests anyway")
    print(f"statewright: warning: serving on {args.host} with no access key "
          "(--insecure-no-auth): anyone who reaches the port can deploy and run code",
          file=sys.stderr)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def _check_port_free(host: str, port: int) -> None:
    """Fails before anything starts (or gets deployed) when the port cannot be listened on."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            raise UsageError(
                f"cannot listen on {host}:{port}: "
                + ("the port is in use (another statewright serve?); stop that program or "
                   "choose another --port" if in_use else str(exc.strerror or exc))) from exc


def _shown_db(url: str) -> str:
    """The database a command uses, as a URL without its password."""
    if not url:
        from statewright.store import default_path

        return f"sqlite:///{default_path()}"
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@contextlib.contextmanager
def _isolated_functions(store: Store, settings: Settings, folder: str | None,
                        echo_logs: bool = False, endpoint_url: str | None = None,
                        ) -> Iterator[tuple[Engine, Invoker]]:
    """An engine whose functions (all those deployed in the database) run in warm, isolated
    worker processes with hard timeouts; ``folder``'s handlers are deployed first."""
    registry = FunctionRegistry(store)
    engines: list[Engine] = []
    functions = ProcessFunctions(registry.resolve, region=settings.region,
                                 account=settings.account, endpoint_url=endpoint_url,
                                 concurrency=settings.function_concurrency,
                                 idle_seconds=settings.function_idle_seconds,
                                 credentials=lambda config: engines[0].function_credentials(
                                     config.name, config.role))
    invoker: Invoker = _EchoedLogs(functions) if echo_logs else functions
    try:
        engine = Engine(store, settings, invoker=invoker, functions=registry)
        engines.append(engine)
        if folder is not None:
            _deploy_folder(engine, folder)
        yield engine, invoker
    finally:
        functions.close()
        registry.close()


class _EchoedLogs:
    """An invoker that prints each invocation's log to stderr, line by line, as
    ``[NAME] line``."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        result = self._invoker.invoke(name, payload, timeout)
        if result.logs:
            sys.stderr.write("".join(f"[{name}] {line}\n" for line in result.logs.splitlines()))
        return result


def _deploy_folder(engine: Engine, folder: str) -> None:
    path = Path(folder)
    if not path.is_dir():
        raise UsageError(f"--functions {folder}: not a folder")
    try:
        bundles = folder_functions(path)
    except (BundleError, OSError) as exc:
        raise UsageError(f"--functions {folder}: {exc}") from exc
    for found in bundles:
        try:
            _, action = engine.deploy_function(found.name, found.runtime, found.handler,
                                               found.code)
        except AwsError as exc:
            raise UsageError(f"--functions {folder}: {found.name}: {exc.message}") from exc
        print(f"function {found.name} ({found.runtime}, {found.handler}): {action}",
              file=sys.stderr)


class _Terminated(Exception):
    """SIGTERM arrived: shut down like Ctrl-C."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _demo(args: argparse.Namespace) -> int:
    """``statewright demo`` (``demo.py``)."""
    try:
        return demo.run(args)
    except demo.DemoError as exc:
        raise UsageError(str(exc)) from exc


# ----------------------------------------------------------------------------- functions


def _function_commands(commands: Any) -> None:
    group = commands.add_parser(
        "functions", help="deploy, list and delete functions (as the Lambda API does)",
        description="Manage the functions stored in the database, which every server and "
        "worker using it runs. The Lambda API (boto3, `aws lambda`) does the same.")
    actions = group.add_subparsers(dest="functions_command", required=True,
                                   metavar="{deploy,list,delete}")

    deploy = actions.add_parser(
        "deploy", help="create or update a function",
        description="Create function NAME, or update its code and settings. PATH is a handler "
        "file (NAME.py -> python3.12, NAME.mjs/.js/.cjs -> nodejs20.x, handler FILE.handler), "
        "a folder (packaged whole; the handler is NAME.handler, index.handler or "
        "lambda_function.lambda_handler by the files found) or a ready .zip.")
    deploy.add_argument("name", help="the function name (what function:NAME in a Lambda ARN "
                        "resolves to)")
    deploy.add_argument("path", help="a handler file, a folder or a .zip")
    deploy.add_argument("--runtime", help="python3.9-3.13 or nodejs18.x/20.x/22.x "
                        "(default: from the handler file's suffix)")
    deploy.add_argument("--handler", dest="entry_point", metavar="FILE.FUNCTION",
                        help="the handler (default: see above)")
    deploy.add_argument("--timeout", type=int,
                        help="seconds an invocation may run, 1-900 (Lambda's default: 3)")
    deploy.add_argument("--memory", type=int,
                        help="MB an invocation may use, 128-10240 (default 128)")
    deploy.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable (repeatable; replaces all variables)")
    deploy.add_argument("--description", help="free text")
    _db_option(deploy)
    deploy.set_defaults(handler=_functions_deploy)

    listing = actions.add_parser("list", help="list the deployed functions")
    _db_option(listing)
    listing.set_defaults(handler=_functions_list)

    delete = actions.add_parser("delete", help="delete a function")
    delete.add_argument("name", help="the function name")
    _db_option(delete)
    delete.set_defaults(handler=_functions_delete)


def _functions_deploy(args: argparse.Namespace) -> int:
    try:
        found = bundle(args.name, Path(args.path), args.runtime, args.entry_point)
    except (BundleError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    env: dict[str, str] | None = None
    if args.env:
        pairs = [item.partition("=") for item in args.env]
        if any(not sep or not key for key, sep, _ in pairs):
            raise UsageError("--env takes KEY=VALUE")
        env = {key: value for key, _, value in pairs}

    def deploy(engine: Engine) -> None:
        record, action = engine.deploy_function(
            found.name, found.runtime, found.handler, found.code, args.timeout, args.memory,
            env, None, args.description)
        print(f"function {record.name} {action}: {found.runtime}, {found.handler}, "
              f"{record.code_size} bytes, CodeSha256 {record.code_sha256}", file=sys.stderr)
        print(json.dumps(_configuration(engine, record), indent=2, ensure_ascii=False))

    return _with_engine(args.db, deploy)


def _functions_list(args: argparse.Namespace) -> int:
    def show(engine: Engine) -> None:
        marker: str | None = None
        rows = [("NAME", "RUNTIME", "HANDLER", "TIMEOUT", "MEMORY", "CODE SIZE",
                 "LAST MODIFIED")]
        while True:
            page = engine.list_functions(100, marker)
            rows += [(f.name, f.runtime, f.handler, str(f.timeout), str(f.memory_size),
                      str(f.code_size), _iso(f.last_modified)) for f in page.items]
            marker = page.next_token
            if marker is None:
                break
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                  .rstrip())

    return _with_engine(args.db, show)


def _functions_delete(args: argparse.Namespace) -> int:
    def delete(engine: Engine) -> None:
        engine.delete_function(args.name)
        print(f"function {args.name} deleted", file=sys.stderr)

    return _with_engine(args.db, delete)


def _with_engine(db: str, action: Any) -> int:
    """Runs ``action(engine)`` over the database; a refusal (AWS's error) exits with 1."""
    store = _open_store(db)
    try:
        try:
            store.migrate()
        except StoreError as exc:
            raise UsageError(f"migration failed: {exc}") from exc
        engine = Engine(store, _settings(db=db))
        try:
            action(engine)
        except AwsError as exc:
            print(f"statewright: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
        finally:
            engine.functions.close()
    finally:
        store.close()
    return 0


def _configuration(engine: Engine, record: Any) -> dict[str, Any]:
    from statewright.api.lambda_ import configuration  # the API's shape, loaded on demand

    return configuration(engine, record)


# ----------------------------------------------------------------------------- keys


def _key_commands(commands: Any) -> None:
    group = commands.add_parser(
        "keys", help="create, list and delete API access keys (SigV4)",
        description="Once the database holds an access key, every API request (Step "
        "Functions, Lambda, IAM) must be signed with one, as AWS's are: configure the key as "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile) for boto3 and the AWS CLI. "
        "Secrets are stored sealed under the server key file ($STATEWRIGHT_SERVER_KEY_FILE, "
        "default ~/.config/statewright/server.key), which every server of the database needs.")
    actions = group.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser("create", help="create a key; prints its id and secret once")
    create.add_argument("--name", default="", help="a label shown by `keys list`")
    create.add_argument(
        "--role", metavar="ROLE_ARN_OR_NAME", default=None,
        help="bind the key to an IAM role (which must exist: `aws iam create-role`): requests "
        "signed with it may do only what the role's policies allow, as a session of the "
        "role on AWS. Without --role the key is an administrator's (every operation)")
    _db_option(create)
    create.set_defaults(handler=_keys_create)
    listing = actions.add_parser("list", help="list the keys (never their secrets)")
    _db_option(listing)
    listing.set_defaults(handler=_keys_list)
    delete = actions.add_parser("delete", help="delete a key: requests signed with it fail")
    delete.add_argument("access_key_id", metavar="ACCESS_KEY_ID")
    _db_option(delete)
    delete.set_defaults(handler=_keys_delete)


def _keys_create(args: argparse.Namespace) -> int:
    def create(engine: Engine) -> None:
        try:
            key_id, secret = engine.create_access_key(args.name, args.role)
        except ServerKeyError as exc:
            raise UsageError(str(exc)) from exc
        except AwsError as exc:  # no such role
            raise UsageError(exc.message) from exc
        print(json.dumps({"AccessKeyId": key_id, "SecretAccessKey": secret}))

    return _with_engine(args.db, create)


def _keys_list(args: argparse.Namespace) -> int:
    def show(engine: Engine) -> None:
        for record in engine.list_access_keys():
            print(json.dumps({"AccessKeyId": record.access_key_id, "Name": record.name,
                              "CreateDate": _iso(record.created_at),
                              **({"Role": record.role_arn} if record.role_arn else {}),
                              **({"Function": record.function_name}
                                 if record.function_name else {})}))

    return _with_engine(args.db, show)


def _keys_delete(args: argparse.Namespace) -> int:
    def delete(engine: Engine) -> None:
        if not engine.delete_access_key(args.access_key_id):
            raise UsageError(f"no access key {args.access_key_id}")
        print(f"access key {args.access_key_id} deleted", file=sys.stderr)

    return _with_engine(args.db, delete)


# ----------------------------------------------------------------------------- loading


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc


def _load_machine(path: str) -> StateMachine:
    text = _read(path)
    try:
        return parse(text)
    except InvalidDefinition as exc:
        raise UsageError(f"{path}: {exc}") from exc


def _load_input(value: str) -> Any:
    text = _read(value[1:]) if value.startswith("@") else value
    size = len(text.encode("utf-8"))
    if size > MAX_INPUT_BYTES:  # as StartExecution refuses it (InvalidExecutionInput)
        raise UsageError(f"the input is {size} bytes; executions take at most "
                         f"{MAX_INPUT_BYTES} bytes (256 KiB), as on AWS")
    try:
        return json.loads(text)
    except ValueError as exc:
        hint = ""
        if not value.startswith("@") and (value.endswith(".json") or Path(value).is_file()):
            hint = f"; did you mean @{value} (read the input from that file)?"
        raise UsageError(f"the input is not JSON: {exc}{hint}") from exc


@contextlib.contextmanager
def _load_functions(directory: str | None) -> Iterator[Invoker]:
    if directory is None:
        yield PythonFunctions()
        return
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"--functions {directory}: not a folder")
    try:
        functions = FolderFunctions(folder, echo_logs=True)
    except (BundleError, OSError) as exc:
        raise UsageError(f"--functions {directory}: {exc}") from exc
    try:
        if functions.node is None and functions.node_functions():
            print(f"statewright: warning: {', '.join(functions.node_functions())} "
                  "(JavaScript) need Node.js, and no `node` program is on PATH: install "
                  "Node.js 18 or later, or their Tasks fail with Runtime.NodeNotFound",
                  file=sys.stderr)
        yield functions
    finally:
        functions.close()


if __name__ == "__main__":
    sys.exit(main())
