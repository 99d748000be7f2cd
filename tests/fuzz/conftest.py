"""The fuzz suite's server and helpers.

One ``statewright serve`` (SQLite in a temp folder, waits scaled to 0, the order example's
functions) takes every fuzz test's requests; at the end of the session it must still run an
order, stop cleanly, and have logged no traceback. Every answer is checked as it comes: a 5xx
other than 503 is a fault.

Volume and seed: ``STATEWRIGHT_FUZZ_SCALE`` multiplies every test's example count (1 in CI,
well under a minute; 50 for a release check, see tests/fuzz/README.md) and
``STATEWRIGHT_FUZZ_SEED`` picks the seed (default 0, so CI runs the same cases every time).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
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
from hypothesis import HealthCheck, settings

from tests.api.conftest import start_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "order_processing"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/statewright-fuzz"
SCALE = max(1, int(os.environ.get("STATEWRIGHT_FUZZ_SCALE", "1") or 1))
SEED = int(os.environ.get("STATEWRIGHT_FUZZ_SEED", "0") or 0)

settings.register_profile(
    "fuzz", database=None, deadline=None, derandomize=False, print_blob=True,
    suppress_health_check=list(HealthCheck),
)


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for a test of ``examples`` cases (times the scale)."""
    return settings(settings.get_profile("fuzz"), max_examples=examples * SCALE)


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class FuzzServer:
    """The running server and what the fuzz tests saw."""

    url: str
    log: Path
    faults: list[str] = field(default_factory=list)
    """Requests answered with a 5xx other than 503, or without a parsable error body."""
    requests: int = 0
    """Requests sent."""
    executions: list[str] = field(default_factory=list)
    """Executions the tests started (each must end)."""

    def send(self, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> Answer:
        """Sends one raw request; records it as a fault when the answer is a 5xx but 503."""
        self.requests += 1
        request = urllib.request.Request(self.url + path, data=body or None, method=method)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, dict(error.headers), error.read())
        if answer.status >= 500 and answer.status != 503:
            self.faults.append(f"{method} {path} {headers} {body[:300]!r} -> "
                               f"{answer.status} {answer.body[:300]!r}")
        return answer

    def sfn(self, operation: str, body: bytes, headers: dict[str, str] | None = None
            ) -> Answer:
        return self.send("POST", "/", body, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AWSStepFunctions.{operation}", **(headers or {})})

    def client(self, service: str = "stepfunctions") -> Any:
        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": 3},
                          read_timeout=120))


def _start(folder: Path) -> tuple[subprocess.Popen[bytes], FuzzServer]:
    functions = folder / "functions"
    shutil.copytree(EXAMPLE / "functions", functions)
    process, running = start_server(
        folder, functions, env={"STATEWRIGHT_ACTIVITY_POLL_SECONDS": "0.2"})
    return process, FuzzServer(running.url, running.log)


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


def run_order(server: FuzzServer) -> None:
    """The order workflow still runs on the server to one of its outcomes (its handlers fail
    an order at random: out of stock, payment declined)."""
    sfn = server.client()
    name = f"order-check-{time.monotonic_ns()}"
    machine = sfn.create_state_machine(
        name=name, definition=(EXAMPLE / "definition.json").read_text(), roleArn=ROLE,
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(
        {"orderId": "fuzz-1"}))["executionArn"]
    described = wait_ended(sfn, arn, 60)
    outcome = (described["status"], described.get("error"))
    assert outcome in (("SUCCEEDED", None), ("FAILED", "OutOfStockError"),
                       ("FAILED", "PaymentError")), described
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] in ("ExecutionSucceeded", "ExecutionFailed")


def wait_ended(sfn: Any, arn: str, seconds: float) -> dict[str, Any]:
    """DescribeExecution once the execution is no longer RUNNING (None after ``seconds``)."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def still_running(sfn: Any, arns: list[str], seconds: float) -> list[str]:
    """The executions of ``arns`` still RUNNING after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    running = list(dict.fromkeys(arns))
    while running:
        running = [a for a in running
                   if sfn.describe_execution(executionArn=a)["status"] == "RUNNING"]
        if not running or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return running


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    folder = tmp_path_factory.mktemp("fuzz")
    process, server = _start(folder)
    try:
        yield server
        # Afterwards: every started execution ended, an order still runs, a clean stop.
        sfn = server.client()
        running = still_running(sfn, server.executions, 5)
        for arn in running:  # waiting for a callback or an activity: it stops when asked
            sfn.stop_execution(executionArn=arn, error="fuzz", cause="the fuzz run ended")
        stuck = still_running(sfn, running, 15)
        assert stuck == [], f"executions that did not stop: {stuck[:5]}"
        run_order(server)
        print(f"\nfuzz: {server.requests} requests, {len(set(server.executions))} executions "
              f"started (scale {SCALE}, seed {SEED})")
    finally:
        code = _stop(process)
    log = server.log.read_text(errors="replace")
    assert code == 0, f"the server exited with {code}:\n{log[-5000:]}"
    assert "Traceback" not in log, log[-20000:]
    assert server.faults == [], "\n".join(server.faults[:20])
