"""``statewright demo`` as a user runs it: a subprocess, its output, its exit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.api.conftest import REPO, free_port

SUMMARY = re.compile(r"statewright demo: orders started (\d+)(?:/(\d+))? · running (\d+) · "
                     r"succeeded (\d+) · failed (\d+)$")


def demo(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "STATEWRIGHT_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "statewright.cli", "demo", "--port", str(free_port()), *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_orders_then_exit(tmp_path: Path) -> None:
    process = demo(tmp_path, "--orders", "8", "--exit", "--rate", "20")
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output
    lines = output.splitlines()
    assert re.match(r"statewright demo: open http://127\.0\.0\.1:\d+/console/ ", lines[0])
    last = SUMMARY.match(lines[-1])
    assert last is not None, output
    started, limit, running, succeeded, failed = (int(g) for g in last.groups())
    assert (started, limit, running) == (8, 8, 0)
    assert succeeded + failed == 8
    assert "Traceback" not in output
    # Its own folder: the default database beside it is never created.
    assert (tmp_path / "demo" / "demo.db").exists()
    assert not (tmp_path / "statewright.db").exists()


def test_ctrl_c_stops_it_cleanly_and_the_console_is_served(tmp_path: Path) -> None:
    process = demo(tmp_path, "--rate", "5")
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)/console/", first)
    assert found, first
    with urllib.request.urlopen(found.group(1) + "/", timeout=10) as response:
        assert "statewright console" in response.read().decode()
    progress = process.stdout.readline()  # the first summary line: orders are flowing
    assert progress.startswith("orders started"), progress
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 60
    rest, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    assert process.returncode == 0, rest
    assert "Traceback" not in rest, rest
    assert SUMMARY.match(rest.splitlines()[-1]), rest


def test_exit_needs_orders(tmp_path: Path) -> None:
    process = demo(tmp_path, "--exit")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--exit needs --orders N" in output
