"""The checks every change passes: ruff (lint) on code and tests, mypy --strict on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_ruff_is_clean() -> None:
    done = _run("ruff", "check", "src", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_script_shadows_a_standard_module() -> None:
    # A script's own folder comes first on sys.path: bench/http.py once made
    # `import http.client` (botocore) find the script, and every bench script failed.
    for folder in ("bench", "examples"):
        names = {p.stem for p in (REPO / folder).rglob("*.py")}
        assert not names & sys.stdlib_module_names, (folder, names & sys.stdlib_module_names)
