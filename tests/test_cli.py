"""The command line, as a user runs it: a real ``statewright`` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from statewright.asl import parse
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import run_execution

REPO = Path(__file__).resolve().parents[1]
ORDER = REPO / "examples" / "order_processing"


def statewright(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "statewright.cli", *args],
        capture_output=True, text=True, input=stdin, timeout=60, cwd=REPO,
    )


def test_run_the_order_workflow_prints_describe_execution() -> None:
    done = statewright("run", str(ORDER / "definition.json"), "--functions",
                       str(ORDER / "functions"), "--input", '{"orderId": "o-1"}', "--history")
    described = json.loads(done.stdout)
    assert done.returncode == (0 if described["status"] == "SUCCEEDED" else 1)
    assert set(described) >= {"executionArn", "stateMachineArn", "name", "status",
                              "startDate", "stopDate", "input", "events"}
    assert json.loads(described["input"]) == {"orderId": "o-1"}
    assert described["executionArn"].startswith("arn:aws:states:us-east-1:")
    assert described["events"][0]["type"] == "ExecutionStarted"
    assert described["events"][-1]["type"].startswith("Execution")
    assert "Checking inventory for order: o-1" in done.stderr  # handler logs go to stderr


def test_input_from_a_file(tmp_path: Path) -> None:
    definition = tmp_path / "d.json"
    definition.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                      "End": True}}}))
    data = tmp_path / "in.json"
    data.write_text('{"a": [1, 2]}')
    done = statewright("run", str(definition), "--input", f"@{data}", "--json")
    assert done.returncode == 0
    assert json.loads(json.loads(done.stdout)["output"]) == {"a": [1, 2]}


def test_failed_execution_exits_1_with_error_and_cause(tmp_path: Path) -> None:
    definition = tmp_path / "d.json"
    definition.write_text(json.dumps({"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "PaymentError", "Cause": "Payment processing failed"}}}))
    done = statewright("run", str(definition))
    assert done.returncode == 1
    described = json.loads(done.stdout)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED", "PaymentError", "Payment processing failed")
    assert "output" not in described


@pytest.mark.parametrize(("args", "message"), [
    (["run", "/no/such/file.json"], "cannot read /no/such/file.json"),
    (["run", "{definition}", "--input", "[not json"], "the input is not JSON"),
    (["run", "{bad}"], "Invalid State Machine Definition"),
    (["run", "{notjson}"], "INVALID_JSON_DESCRIPTION"),
    (["run", "{definition}", "--functions", "/no/such/dir"], "not a folder"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str
                                          ) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"StartAt": "Nope", "States": {"P": {"Type": "Pass",
                                                                  "End": True}}}))
    notjson = tmp_path / "notjson.json"
    notjson.write_text("{")
    files = {"{definition}": good, "{bad}": bad, "{notjson}": notjson}
    argv = [str(files.get(a, a)) for a in args]
    done = statewright(*argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_validate_reports_diagnostics(tmp_path: Path) -> None:
    ok = statewright("validate", str(ORDER / "definition.json"))
    assert ok.returncode == 0
    assert json.loads(ok.stdout) == {"result": "OK", "diagnostics": [], "truncated": False}
    broken = json.loads((ORDER / "definition.json").read_text())
    broken["States"]["Is In Stock?"]["Choices"][0]["Next"] = "Nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    bad = statewright("validate", str(path))
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["result"] == "FAIL"
    locations = {(d["code"], d["location"]) for d in report["diagnostics"]}
    # AWS writes array members with brackets (Choices[0]), as in its deploy errors.
    assert ("MISSING_TRANSITION_TARGET", "/States/Is In Stock?/Choices[0]/Next") in locations


def test_order_workflow_outcomes_follow_the_handlers_odds() -> None:
    """checkInventory and processPayment each succeed 90% of the time, as in the seed."""
    machine = parse((ORDER / "definition.json").read_text())
    functions = PythonFunctions.from_directory(ORDER / "functions")
    runs = 2000
    outcomes: Counter[str] = Counter()
    for i in range(runs):
        result = run_execution(machine, {"orderId": f"o-{i}"}, functions, wait_scale=0)
        if result.status == "SUCCEEDED":
            assert result.output == {"orderId": f"o-{i}", "status": "Completed"}
            outcomes["ok"] += 1
        else:
            assert result.failure is not None
            outcomes[result.failure.error or ""] += 1
            expected_cause = {"OutOfStockError": "Item is out of stock",
                              "PaymentError": "Payment processing failed"}
            assert result.failure.cause == expected_cause[result.failure.error or ""]
    # expected shares 0.81 / 0.10 / 0.09; bounds are > 4 standard deviations wide
    assert 0.76 < outcomes["ok"] / runs < 0.86
    assert 0.07 < outcomes["OutOfStockError"] / runs < 0.13
    assert 0.06 < outcomes["PaymentError"] / runs < 0.12
    assert sum(outcomes.values()) == runs


def test_a_malformed_environment_variable_is_bad_input_not_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "statewright.cli", "run", str(ORDER / "definition.json")],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "STATEWRIGHT_WAIT_SCALE": "abc"},
    )
    assert done.returncode == 2
    assert "STATEWRIGHT_WAIT_SCALE must be a number, not 'abc'" in done.stderr
    assert "Traceback" not in done.stderr
