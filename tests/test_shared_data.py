"""The suite passes in a fresh clone without ../shared, and CI notices when ../shared is gone.

A throwaway copy of the suite's conftest and ``tests/shared_data.py`` (nothing beside it) runs a
test that needs the recorded cases: it skips with a reason that says where the cases come from,
and fails when ``STATEWRIGHT_REQUIRE_SHARED=1`` is set, as ``.ci/run`` sets it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.shared_data import REPO, REQUIRE_ENV, SKIP_REASON

SAMPLE = '''
from tests.shared_data import case_params, needs_cases
import pytest

@needs_cases
def test_marked():
    pass

@pytest.mark.parametrize("case", case_params("*.json"))
def test_each_case(case):
    pass

def test_plain():
    pass
'''


def _clone(tmp_path: Path) -> Path:
    repo = tmp_path / "alone" / "repo"  # nothing named shared beside it
    (repo / "tests").mkdir(parents=True)
    for name in ("__init__.py", "conftest.py", "shared_data.py"):
        shutil.copy(REPO / "tests" / name, repo / "tests" / name)
    (repo / "tests" / "test_sample.py").write_text(SAMPLE)
    return repo


def _pytest(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != REQUIRE_ENV} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests"],
        cwd=repo, env=environ, capture_output=True, text=True, timeout=120,
    )


def test_without_shared_the_tests_skip_with_a_reason(tmp_path: Path) -> None:
    done = _pytest(_clone(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 skipped" in done.stdout
    assert done.stdout.count(SKIP_REASON) == 2
    assert "empty parameter set" not in done.stdout


def test_in_ci_missing_shared_is_a_failure(tmp_path: Path) -> None:
    done = _pytest(_clone(tmp_path), **{REQUIRE_ENV: "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 2 errors" in done.stdout  # failed in setup, where the skip was
    assert "STATEWRIGHT_REQUIRE_SHARED is set" in done.stdout


def test_ci_sets_the_switch() -> None:
    assert f"export {REQUIRE_ENV}=1" in (REPO / ".ci" / "run").read_text()


def test_tests_reach_shared_only_through_shared_data() -> None:
    # A test building its own path to ../shared would bypass the skip reason and CI's switch.
    offenders = []
    for file in (REPO / "tests").rglob("*.py"):
        if file.name in ("shared_data.py", "test_shared_data.py"):
            continue
        text = file.read_text()
        if re.search(r'["\']shared["\']|/work/shared|"\.\./shared', text):
            offenders.append(file.relative_to(REPO).as_posix())
    assert offenders == []
