"""The order workflow's example test suite (examples/order_processing/tests/, the file users
copy) passes as users run it: ``pytest examples/order_processing/tests``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_example_suite_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/order_processing/tests", "-q", "-o", "addopts=",
         "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"(\d+) passed", done.stdout)
    assert found is not None and int(found.group(1)) >= 9, done.stdout
