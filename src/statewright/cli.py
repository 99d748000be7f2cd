"""The ``statewright`` command line: run and validate state machines, serve the API, run
workers, manage deployed functions.

Exit codes: 0 success; 1 the execution did not succeed, the definition is invalid, or a
``functions`` command was refused (the AWS error is printed); 2 bad input (unreadable file,
invalid JSON, a definition that does not parse).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statewright import __version__
from statewright.asl import InvalidDefinition, StateMachine, parse, validate
from statewright.asl.events import to_json
from statewright.config import Settings
from statewright.errors import AwsError
from statewright.functions.base import Invoker, InvokeResult
from statewright.functions.bundle import BundleError, bundle, folder_functions
from statewright.functions.inprocess import PythonFunctions
from statewright.functions.process import ProcessFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.mocks import MockConfig, MockConfigError, load_mock_config
from statewright.runtime.sync import ExecutionResult, run_execution
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
    commands = parser.add_subparsers(dest="command", required=True)

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
                        help="Task invocations run at once (default 8)")
    worker.add_argument("--function-logs", action="store_true",
                        help="print what each function invocation logged to stderr")
    worker.add_argument("--endpoint-url", default=os.environ.get("STATEWRIGHT_ENDPOINT_URL"),
                        help="the statewright API its functions' AWS SDKs should call "
                        "(AWS_ENDPOINT_URL inside functions; default $STATEWRIGHT_ENDPOINT_URL)")
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
    serve.add_argument("--port", type=int, default=8083, help="port (default 8083)")
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
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.add_argument("--function-logs", action="store_true",
                       help="print what each function invocation logged (prints, errors) to "
                       "stderr, each line prefixed with the function name")
    _mock_config_option(serve)
    serve.set_defaults(handler=_serve)

    _function_commands(commands)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    migrate = db_commands.add_parser("migrate", help="create or upgrade the schema")
    _db_option(migrate)
    migrate.set_defaults(handler=_migrate)
    return parser


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
    functions = _load_functions(args.functions)
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
    result = run_execution(
        state_machine, data, functions, name=args.name, state_machine_arn=machine_arn,
        wait_scale=max(0.0, args.wait_scale if args.wait_scale is not None
                       else _settings().wait_scale),
        test_case=test_case,
    )
    described = describe(result, with_history=args.history)
    if args.json or not sys.stdout.isatty():
        print(json.dumps(described, indent=2, ensure_ascii=False))
    else:
        _print_summary(result, described)
    return 0 if result.status == "SUCCEEDED" else 1


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
    from rich.table import Table

    console = Console()
    colour = {"SUCCEEDED": "green", "FAILED": "red"}.get(result.status, "yellow")
    console.print(f"[bold {colour}]{result.status}[/]  {described['executionArn']}")
    if "output" in described:
        console.print_json(described["output"])
    if "error" in described or "cause" in described:
        console.print(f"[red]error:[/] {described.get('error')}")
        console.print(f"[red]cause:[/] {described.get('cause')}")
    if "events" in described:
        table = Table("id", "prev", "type", "details")
        for event in result.events:
            detail = json.dumps(event.details, ensure_ascii=False) if event.details else ""
            table.add_row(str(event.id), str(event.previous_event_id), event.type, detail[:100])
        console.print(table)


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
        if not errors:
            try:
                parse(decoded)
            except InvalidDefinition as exc:
                errors = exc.errors
        faults = [
            {"severity": "ERROR", "code": e.code, "message": e.message, "location": e.location}
            for e in errors
        ]
    print(json.dumps({"result": "FAIL" if faults else "OK", "diagnostics": faults,
                      "truncated": False}, indent=2, ensure_ascii=False))
    return 1 if faults else 0


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
                             lease_seconds=max(1.0, args.lease_seconds))
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
        options["wait_scale"] = max(0.0, args.wait_scale)
    settings = _settings(**options)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        # SigV4 verification is not implemented yet: anyone who reaches the port can use it.
        print(f"statewright: warning: serving on {args.host} without request signing checks",
              file=sys.stderr)
    store = _open_store(args.db)
    try:
        try:
            store.migrate()
        except StoreError as exc:
            raise UsageError(f"migration failed: {exc}") from exc
        with _isolated_functions(store, settings, args.functions, args.function_logs,
                                 _endpoint_url(args)) as (
                engine, functions):
            engine.mock_config = _mock_config(args.mock_config)
            worker = Worker(engine, functions)
            worker.start()
            # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the
            # handler it found; this one turns that into an exception, so the worker stops and
            # the store closes instead of the process dying on the spot.
            signal.signal(signal.SIGTERM, _terminated)
            try:
                print(f"statewright serving http://{args.host}:{args.port}", file=sys.stderr)
                with contextlib.suppress(_Terminated):
                    uvicorn.run(create_app(engine), host=args.host, port=args.port,
                                access_log=args.access_log, log_level="info")
            finally:
                worker.stop()
    finally:
        store.close()
    return 0


@contextlib.contextmanager
def _isolated_functions(store: Store, settings: Settings, folder: str | None,
                        echo_logs: bool = False, endpoint_url: str | None = None,
                        ) -> Iterator[tuple[Engine, Invoker]]:
    """An engine whose functions (all those deployed in the database) run in warm, isolated
    worker processes with hard timeouts; ``folder``'s handlers are deployed first."""
    registry = FunctionRegistry(store)
    functions = ProcessFunctions(registry.resolve, region=settings.region,
                                 account=settings.account, endpoint_url=endpoint_url)
    invoker: Invoker = _EchoedLogs(functions) if echo_logs else functions
    try:
        engine = Engine(store, settings, invoker=invoker, functions=registry)
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


# ----------------------------------------------------------------------------- functions


def _function_commands(commands: Any) -> None:
    group = commands.add_parser(
        "functions", help="deploy, list and delete functions (as the Lambda API does)",
        description="Manage the functions stored in the database, which every server and "
        "worker using it runs. The Lambda API (boto3, `aws lambda`) does the same.")
    actions = group.add_subparsers(dest="functions_command", required=True)

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
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the input is not JSON: {exc}") from exc


def _load_functions(directory: str | None) -> PythonFunctions:
    if directory is None:
        return PythonFunctions()
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"--functions {directory}: not a folder")
    return PythonFunctions.from_directory(folder, echo_logs=True)


if __name__ == "__main__":
    sys.exit(main())
