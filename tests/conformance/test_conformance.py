"""The AWS-recorded conformance cases (JSONPath, and JSONata/variables), through
``statewright run``.

The score is the issue's bar: at least 95% of outcomes and 90% of history type sequences.
Every failing case is printed (run with ``-s`` or see the assertion message); none is hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.harness import (
    CASES,
    load_cases,
    load_jsonata_and_variables_cases,
    run_all,
    run_case,
)
from tests.shared_data import SKIP_REASON, have_cases

OUTCOME_BAR = 0.95
HISTORY_BAR = 0.90


@pytest.mark.skipif(not CASES.is_dir(), reason=SKIP_REASON)
def test_jsonpath_conformance_score(tmp_path: Path) -> None:
    _score(load_cases(), tmp_path, minimum=250)


@pytest.mark.skipif(not CASES.is_dir(), reason=SKIP_REASON)
def test_jsonata_conformance_score(tmp_path: Path) -> None:
    """The JSONata and variables cases (issue 8), Lambda-backed ones included, at the same bar."""
    _score(load_jsonata_and_variables_cases(), tmp_path, minimum=80)


def _score(cases: list[dict[str, Any]], tmp_path: Path, minimum: int) -> None:
    scores = list(run_all(cases, tmp_path))
    outcomes = sum(s.outcome_ok for s in scores)
    compared = [s for s in scores if s.history_ok is not None]
    histories = sum(bool(s.history_ok) for s in compared)
    failures = [
        f"{s.case_id}: {s.reason}"
        for s in scores if not s.outcome_ok or s.history_ok is False
    ]
    report = (
        f"outcomes {outcomes}/{len(scores)} ({outcomes / len(scores):.1%}), "
        f"histories {histories}/{len(compared)} ({histories / len(compared):.1%})\n"
        + "\n".join(failures)
    )
    print(report)
    assert len(scores) > minimum, "the corpus shrank unexpectedly"
    assert outcomes / len(scores) >= OUTCOME_BAR, report
    assert histories / len(compared) >= HISTORY_BAR, report


def _lambda_cases() -> list[Any]:
    if not have_cases():
        return [pytest.param(None, id="no-shared-cases", marks=pytest.mark.skip(SKIP_REASON))]
    return [
        pytest.param(case, id=case["id"].rsplit("::", 1)[-1])
        for case in load_cases() + load_cases(jsonata=True)
        if case.get("category") == "lambda"
    ]


@pytest.mark.parametrize("case", _lambda_cases())
def test_lambda_case_matches_aws(case: dict[str, Any], tmp_path: Path) -> None:
    """Every AWS-recorded case that calls Lambda functions, JSONata ones included: output or
    error and cause exactly (stack traces included), and the history's event types."""
    score = run_case(case, tmp_path)
    assert score.outcome_ok and score.history_ok is not False, score.reason
