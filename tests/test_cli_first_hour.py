"""What a newcomer meets in the first hour with the CLI (issue 11): every rough edge found,
each as the user runs it (a real ``statewright`` process, a real terminal where it matters)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import ORDER, REPO, statewright

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def _definition(tmp_path: Path, text: str = PASS) -> str:
    path = tmp_path / "definition.json"
    path.write_text(text)
    return str(path)


# --- run: refuses what the server refuses ------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    # StartExecution's limit: 262144 bytes (InvalidExecutionInput), as the engine enforces it.
    (["--input", "@{big}"], "the input is 300009 bytes; executions take at most 262144 bytes"),
    (["--wait-scale", "-1"], "--wait-scale must be a number of 0 or more, not -1"),
    (["--wait-scale", "nan"], "--wait-scale must be a number of 0 or more, not nan"),
    (["--name", "bad name with spaces"], "--name: Invalid Name: 'bad name with spaces'"),
    (["--name", "x" * 81], "--name: Invalid Name"),
    # Forgetting the @ before a file name.
    (["--input", "{input}"], "the input is not JSON: Expecting value: line 1 column 1 (char 0); "
                             "did you mean @{input} (read the input from that file)?"),
])
def test_run_refuses_bad_input_as_the_server_does(tmp_path: Path, args: list[str],
                                                  message: str) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"a": "x" * 300_000}))  # 300009 bytes
    data = tmp_path / "input.json"
    data.write_text("{}")
    files = {"{big}": str(big), "{input}": str(data)}

    def fill(text: str) -> str:
        for key, value in files.items():
            text = text.replace(key, value)
        return text

    done = statewright("run", _definition(tmp_path), *[fill(a) for a in args])
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"statewright: {fill(message)}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_named_run_with_a_valid_name_runs(tmp_path: Path) -> None:
    done = statewright("run", _definition(tmp_path), "--name", "order-1001_retry")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "order-1001_retry"


def test_a_closed_pipe_ends_quietly_with_the_executions_status(tmp_path: Path) -> None:
    # `statewright run ... | head -1`: the reader leaves after one line; the JSON is larger
    # than a pipe's buffer, so the writer meets the closed pipe.
    big = tmp_path / "input.json"
    big.write_text(json.dumps({"a": "x" * 200_000}))
    for definition, status in ((PASS, 0), (json.dumps(
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}), 1)):
        done = subprocess.run(
            f"{sys.executable} -m statewright.cli run {_definition(tmp_path, definition)} "
            f"--input @{big} --history | head -1; exit ${{PIPESTATUS[0]}}",
            shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60,
            cwd=REPO)
        assert done.stdout == "{\n"
        assert done.stderr == ""  # no BrokenPipeError traceback
        assert done.returncode == status


# --- run: JavaScript handlers --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_run_runs_the_tutorials_original_javascript_handlers() -> None:
    outcomes = set()
    for i in range(8):
        done = statewright("run", str(ORDER / "definition.json"), "--functions",
                           str(ORDER / "javascript"), "--input", f'{{"orderId": "o-{i}"}}')
        described = json.loads(done.stdout)
        assert "Checking inventory for order: o-" in done.stderr  # console.log, on stderr
        if described["status"] == "SUCCEEDED":
            assert json.loads(described["output"]) == {"orderId": f"o-{i}",
                                                       "status": "Completed"}
        else:
            assert (described["error"], described["cause"]) in {
                ("OutOfStockError", "Item is out of stock"),
                ("PaymentError", "Payment processing failed")}
        outcomes.add(described["status"])
    assert "SUCCEEDED" in outcomes  # 0.81 each time: 8 failures in a row is 2e-6


def test_without_node_run_says_why_javascript_handlers_cannot_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "statewright.cli", "run", str(ORDER / "definition.json"),
         "--functions", str(ORDER / "javascript"), "--input", '{"orderId": "o-1"}'],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PATH": str(tmp_path)},  # nothing on PATH
    )
    assert done.returncode == 1
    assert ("statewright: warning: checkInventory, processPayment, updateOrderStatus "
            "(JavaScript) need Node.js, and no `node` program is on PATH") in done.stderr
    described = json.loads(done.stdout)
    assert described["error"] == "Runtime.NodeNotFound"
    assert "function checkInventory (nodejs20.x) needs Node.js" in described["cause"]
    assert "ProcessFunctions" not in done.stderr + done.stdout


def test_a_handler_with_a_syntax_error_is_lambdas_syntax_error(tmp_path: Path) -> None:
    # Lambda: Runtime.UserCodeSyntaxError; the server's process runner reports the same.
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "broken.py").write_text("def handler(event, context)\n    return 1\n")
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:broken",
        "End": True}}}
    done = statewright("run", _definition(tmp_path, json.dumps(definition)), "--functions",
                       str(functions))
    described = json.loads(done.stdout)
    assert described["error"] == "Runtime.UserCodeSyntaxError"
    assert json.loads(described["cause"])["errorMessage"].startswith(
        "Syntax error in module 'broken': ")


# --- validate: warnings for what cannot run yet --------------------------------------------------


def test_validate_warns_about_what_statewright_cannot_run_yet(tmp_path: Path) -> None:
    definition = {"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "orders", "Item": {}}, "Next": "Fan"},
        "Fan": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": "f"}, "End": True}}}]}}}
    done = statewright("validate", _definition(tmp_path, json.dumps(definition)))
    assert done.returncode == 0  # AWS accepts it: OK, with a warning
    report = json.loads(done.stdout)
    assert report["result"] == "OK"
    assert report["diagnostics"] == [{
        "severity": "WARNING", "code": "UNSUPPORTED_BY_STATEWRIGHT",
        "message": "The resource 'arn:aws:states:::dynamodb:putItem' is not supported yet "
                   "(only Lambda functions, arn:aws:states:::lambda:invoke and activities are)",
        "location": "/States/Put"}]
    # and run fails it with the same words
    ran = statewright("run", _definition(tmp_path, json.dumps(definition)))
    assert report["diagnostics"][0]["message"] in json.loads(ran.stdout)["cause"]


def test_validate_warns_about_jsonata_while_it_cannot_run(tmp_path: Path) -> None:
    from statewright.asl import parse
    from statewright.asl.step import unsupported

    definition = {"StartAt": "J", "States": {"J": {"Type": "Pass", "QueryLanguage": "JSONata",
                                                   "Output": "{% 1 + 1 %}", "End": True}}}
    (state,) = parse(json.dumps(definition)).machine.states.values()
    reason = unsupported(state)  # None once JSONata lands: then no warning either
    report = json.loads(statewright("validate", _definition(tmp_path,
                                                            json.dumps(definition))).stdout)
    expected = [] if reason is None else [{"severity": "WARNING",
                                           "code": "UNSUPPORTED_BY_STATEWRIGHT",
                                           "message": reason, "location": "/States/J"}]
    assert report == {"result": "OK", "diagnostics": expected, "truncated": False}


# --- argparse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "shown"), [
    ([], "COMMAND"), (["functions"], "{deploy,list,delete}"), (["db"], "{migrate}")])
def test_a_missing_subcommand_is_named_in_user_terms(args: list[str], shown: str) -> None:
    done = statewright(*args)
    assert done.returncode == 2
    assert f"error: the following arguments are required: {shown}" in done.stderr
    assert "_command" not in done.stderr


# --- serve ------------------------------------------------------------------------------------


def test_serve_refuses_a_port_out_of_range_before_starting(tmp_path: Path) -> None:
    done = statewright("serve", "--port", "99999", "--db", f"sqlite:///{tmp_path}/db")
    assert done.returncode == 2
    assert "argument --port: 99999 is not a port number (0-65535)" in done.stderr
    assert "serving" not in done.stderr and "Traceback" not in done.stderr


def test_serve_on_a_port_in_use_says_so_before_deploying(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = statewright("serve", "--port", str(port), "--db", f"sqlite:///{tmp_path}/db",
                           "--functions", str(ORDER / "functions"))
    assert done.returncode == 2
    assert done.stderr == (f"statewright: cannot listen on 127.0.0.1:{port}: the port is in "
                           "use (another statewright serve?); stop that program or choose "
                           "another --port\n")


def test_serve_names_its_database_and_the_console(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "statewright.cli", "serve", "--port", str(port)],
        stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "STATEWRIGHT_HOME": str(tmp_path), "STATEWRIGHT_DB": ""})
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # the first line, printed once it is listening
        console = process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert line == (f"statewright serving http://127.0.0.1:{port} "
                    f"(database: sqlite:///{tmp_path}/statewright.db)\n")
    assert console == f"statewright console http://127.0.0.1:{port}/console/\n"


# --- the terminal summary -----------------------------------------------------------------------


def _on_a_terminal(args: list[str], columns: int = 80) -> tuple[int, str, str]:
    """Runs ``statewright`` with stdout and stderr on terminals of their own; returns the exit
    code and what each showed."""
    out_main, out_tty = pty.openpty()
    err_main, err_tty = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "statewright.cli", *args],
                               stdout=out_tty, stderr=err_tty, cwd=REPO, env=env)
    os.close(out_tty)
    os.close(err_tty)
    shown = {out_main: b"", err_main: b""}
    open_fds = [out_main, err_main]
    deadline = time.monotonic() + 60
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(open_fds, [], [], 1)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the program ended
                chunk = b""
            if chunk:
                shown[fd] += chunk
            else:
                open_fds.remove(fd)
                os.close(fd)
    code = process.wait(timeout=30)
    return code, shown[out_main].decode(), shown[err_main].decode()


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_the_summary_shows_arns_whole_uncoloured_with_a_duration(tmp_path: Path) -> None:
    name = "a-long-execution-name-that-pushes-the-arn-past-eighty-columns-0123456789"
    code, out, _ = _on_a_terminal(["run", _definition(tmp_path), "--name", name,
                                   "--input", '{"n": 12345}'])
    assert code == 0
    arn = f"arn:aws:states:us-east-1:123456789012:execution:statewright-local:{name}"
    first = out.splitlines()[0]
    assert arn in first  # on one line, no colour codes inside it
    assert re.fullmatch(r"SUCCEEDED in \d+\.\d\d s  " + re.escape(arn),
                        ANSI.sub("", first).strip())


def test_a_long_wait_shows_progress(tmp_path: Path) -> None:
    definition = json.dumps({"StartAt": "Wait for the payment", "States": {
        "Wait for the payment": {"Type": "Wait", "Seconds": 3, "End": True}}})
    code, out, err = _on_a_terminal(["run", _definition(tmp_path, definition)])
    assert code == 0
    assert "running: Wait for the payment (" in err
    assert err.endswith("\r\x1b[K")  # the progress line is erased at the end
    assert "SUCCEEDED" in out
