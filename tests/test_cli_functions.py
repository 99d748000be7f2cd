"""``statewright functions ...`` and ``worker --functions``, as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from statewright.cli import _EchoedLogs
from statewright.functions.base import InvokeResult
from tests.test_cli import ORDER, REPO, statewright

SEED = ORDER / "javascript"  # the tutorial's original handlers


def test_deploy_list_delete(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    handler = ORDER / "functions" / "checkInventory.py"
    done = statewright("functions", "deploy", "checkInventory", str(handler), "--timeout",
                       "10", "--memory", "256", "--env", "STAGE=test", "--db", db)
    assert done.returncode == 0, done.stderr
    configuration = json.loads(done.stdout)
    assert (configuration["FunctionArn"], configuration["Runtime"], configuration["Handler"],
            configuration["Timeout"], configuration["MemorySize"],
            configuration["Environment"]) == (
        "arn:aws:lambda:us-east-1:123456789012:function:checkInventory", "python3.12",
        "checkInventory.handler", 10, 256, {"Variables": {"STAGE": "test"}})
    assert "function checkInventory created" in done.stderr

    again = statewright("functions", "deploy", "checkInventory", str(handler), "--timeout",
                        "10", "--memory", "256", "--env", "STAGE=test", "--db", db)
    assert "function checkInventory unchanged" in again.stderr
    assert json.loads(again.stdout)["RevisionId"] == configuration["RevisionId"]

    node = statewright("functions", "deploy", "pay", str(SEED / "processPayment.mjs"),
                       "--db", db)
    assert node.returncode == 0, node.stderr
    assert json.loads(node.stdout)["Runtime"] == "nodejs20.x"

    listed = statewright("functions", "list", "--db", db)
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "RUNTIME", "HANDLER"]
    assert lines[1].split()[:5] == ["checkInventory", "python3.12", "checkInventory.handler",
                                    "10", "256"]

    assert statewright("functions", "delete", "checkInventory", "--db", db).returncode == 0
    missing = statewright("functions", "delete", "checkInventory", "--db", db)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "statewright: ResourceNotFoundException: Function not found: "
        "arn:aws:lambda:us-east-1:123456789012:function:checkInventory")


def test_deploy_refusals(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    handler = str(ORDER / "functions" / "checkInventory.py")
    bad_timeout = statewright("functions", "deploy", "f", handler, "--timeout", "0", "--db", db)
    assert bad_timeout.returncode == 1
    assert "ValidationException" in bad_timeout.stderr and "'timeout'" in bad_timeout.stderr
    no_file = statewright("functions", "deploy", "f", str(tmp_path / "absent.py"), "--db", db)
    assert (no_file.returncode, no_file.stderr.strip()) == (
        2, f"statewright: {tmp_path / 'absent.py'}: no such file or folder")
    bad_env = statewright("functions", "deploy", "f", handler, "--env", "NOEQUALS", "--db", db)
    assert bad_env.returncode == 2
    assert statewright("functions", "list", "--db", db).stdout.splitlines()[1:] == []


def test_a_worker_deploys_its_folder_at_start(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "statewright.cli", "worker", "--db", db, "--functions",
             str(ORDER / "functions")], stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while "running" not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    text = log.read_text()
    for name in ("checkInventory", "processPayment", "updateOrderStatus"):
        assert f"function {name} (python3.12, {name}.handler): created" in text
    listed = statewright("functions", "list", "--db", db).stdout
    assert [line.split()[0] for line in listed.splitlines()[1:]] == [
        "checkInventory", "processPayment", "updateOrderStatus"]


def test_function_logs_are_echoed_per_line_with_the_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    class Fixed:
        def invoke(self, name: str, payload: Any, timeout: float | None = None
                   ) -> InvokeResult:
            return InvokeResult(b"1", None, "first\nsecond\n")

    result = _EchoedLogs(Fixed()).invoke("orders", {})
    assert result.payload == b"1"
    assert capsys.readouterr().err == "[orders] first\n[orders] second\n"
