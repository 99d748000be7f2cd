"""A real ``statewright serve`` on 127.0.0.1 for the API tests, and clients to drive it.

One server per test session (a subprocess on a free port, SQLite in a temp folder, waits
scaled to 0). Every answer boto3 receives is checked against botocore's output shapes and for
the absence of HTTP 500 (``ShapeChecker``), so each happy-path test also checks the wire format.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.api.wire import RestJsonChecker, ShapeChecker

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "order_processing"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/statewright-tests"
#: The server's GetActivityTask window (seconds) when no task comes.
ACTIVITY_POLL_SECONDS = 3.0

#: A test-only handler: the only way to keep an execution RUNNING with waits scaled to 0.
SLEEP_HANDLER = '''
import time


def handler(event, context):
    time.sleep(float(event.get("seconds", 5)))
    return event
'''


@dataclass
class Server:
    """The running server."""

    url: str
    """``http://127.0.0.1:PORT``."""
    port: int
    """The port."""
    log: Path
    """Its stdout and stderr."""
    checker: ShapeChecker = field(default_factory=ShapeChecker)
    """Checks every answer boto3 parses."""
    lambda_checker: RestJsonChecker = field(default_factory=RestJsonChecker)
    """Checks every Lambda answer boto3 parses."""

    def client(self, **config: Any) -> Any:
        """A boto3 Step Functions client for this server (no retries, so errors show)."""
        client = boto3.client(
            "stepfunctions", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
        )
        client.meta.events.register("before-parse.sfn.*", self.checker.check)
        return client

    def lambda_client(self, **config: Any) -> Any:
        """A boto3 Lambda client for this server (no retries, so errors show)."""
        client = boto3.client(
            "lambda", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
        )
        client.meta.events.register("before-parse.lambda.*", self.lambda_checker.check)
        return client

    def raw(self, target: str | None, body: bytes | str, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], Any]:
        """POSTs ``body`` as-is; returns status, headers and the decoded JSON answer."""
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.url + "/", data=data, method="POST")
        request.add_header("Content-Type", "application/x-amz-json-1.0")
        if target is not None:
            request.add_header("X-Amz-Target", target)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(folder: Path, functions: Path | None, *, env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "statewright.cli", "serve", "--port", str(port),
               "--db", f"sqlite:///{folder / 'db.sqlite'}", "--wait-scale", "0"]
    if functions is not None:
        command += ["--functions", str(functions)]
    command += args or []
    # GetActivityTask's empty polls end after 3 s instead of AWS's 60 s.
    env = {**os.environ, "STATEWRIGHT_ACTIVITY_POLL_SECONDS": str(ACTIVITY_POLL_SECONDS),
           **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                   env=env)
    server = Server(f"http://127.0.0.1:{port}", port, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as response:
                if json.loads(response.read()) == {"status": "ok"}:
                    return process, server
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not answer /health:\n{log.read_text()}")
        time.sleep(0.05)


def stop_and_check(process: subprocess.Popen[bytes], running: Server) -> None:
    """Stops the server and checks it exited cleanly: no traceback, no malformed answer."""
    code = stop_server(process)
    log = running.log.read_text()
    assert code == 0, f"the server exited with {code}:\n{log}"
    assert "Traceback" not in log, log
    assert running.checker.faults == [], running.checker.faults
    assert running.lambda_checker.faults == [], running.lambda_checker.faults


def stop_server(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    functions = folder / "functions"
    # The order example's handlers, unchanged, plus the test-only sleep function.
    shutil.copytree(EXAMPLE / "functions", functions)
    (functions / "sleep.py").write_text(SLEEP_HANDLER)
    process, running = start_server(folder, functions)
    try:
        yield running
    finally:
        stop_and_check(process, running)


@pytest.fixture(scope="session")
def sfn(server: Server) -> Any:
    return server.client()


@pytest.fixture()
def unique() -> str:
    """A name no other test uses."""
    return f"t{time.monotonic_ns()}"


def pass_machine(result: Any = None) -> str:
    state: dict[str, Any] = {"Type": "Pass", "End": True}
    if result is not None:
        state["Result"] = result
    return json.dumps({"StartAt": "P", "States": {"P": state}})


def sleep_machine(seconds: float) -> str:
    return json.dumps({"StartAt": "Sleep", "States": {"Sleep": {
        "Type": "Task", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sleep",
        "Parameters": {"seconds": seconds}, "End": True}}})


def wait_for(sfn: Any, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    """DescribeExecution once the execution left RUNNING (polls, with a deadline)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after {timeout}s"
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def aws_cli() -> str | None:
    """The AWS CLI beside this Python (the test extra installs it), else on PATH."""
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.exists() else shutil.which("aws")


def cli_env(tmp_path: Path) -> dict[str, str]:
    """Dummy credentials and no user configuration for the AWS CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
               AWS_EC2_METADATA_DISABLED="true")
    return env
