"""Where the tests find ``../shared``, and what they do when it is not there.

``../shared`` is the folder beside the repository that the project's sessions share: the
AWS-recorded conformance cases (``conformance/cases``, recorded from LocalStack's snapshot
tests taken against real AWS Step Functions, with the Lambda functions they deployed in
``conformance/functions``) and the design notes. A fresh clone has no such folder, so the tests
that read it skip, each with a reason that says so (``SKIP_REASON``); everything else a test
needs lives in this repository.

In CI, ``STATEWRIGHT_REQUIRE_SHARED=1`` (set by ``.ci/run``) turns those skips into failures,
so the recorded cases can never silently drop out of the suite (tests/conftest.py does that).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CONFORMANCE = SHARED / "conformance"
CASES = CONFORMANCE / "cases"
REQUIRE_ENV = "STATEWRIGHT_REQUIRE_SHARED"

#: Every skip for missing shared data starts so; the conftest hook recognises them by it.
SKIP_REASON = (
    "needs ../shared/conformance beside the repository (the AWS-recorded conformance cases; "
    "see README, 'Run the tests')"
)


def required() -> bool:
    """True in CI: missing shared data fails instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def have_cases() -> bool:
    return CASES.is_dir() and any(CASES.glob("*.json"))


#: Mark a test that reads the conformance cases.
needs_cases = pytest.mark.skipif(not have_cases(), reason=SKIP_REASON)


def case_params(pattern: str) -> list[object]:
    """The case files matching ``pattern`` as parameters; without the folder, one parameter
    that skips with ``SKIP_REASON`` (an empty parameter list would skip with pytest's own,
    unhelpful reason)."""
    files = sorted(CASES.glob(pattern)) if CASES.is_dir() else []
    if not files:
        return [pytest.param(None, id="no-shared-cases", marks=pytest.mark.skip(SKIP_REASON))]
    return files
