"""The AWS-recorded JSONPath conformance cases, through ``statewright run``.

The score is the issue's bar: at least 95% of outcomes and 90% of history type sequences.
Every failing case is printed (run with ``-s`` or see the assertion message); none is hidden.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.harness import CASES, load_cases, run_all, run_case
from tests.shared_data import SKIP_REASON, have_cases

OUTCOME_BAR = 0.95
HISTORY_BAR = 0.90

@pytest.mark.skipif(not CASES.is_dir(), reason=SKIP_REASON)
def test_jsonpath_conformance_score(tmp_path: Path) -> None:
    cases = load_cases()
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
    assert len(scores) > 250, "the JSONPath corpus shrank unexpectedly"
    assert outcomes / len(scores) >= OUTCOME_BAR, report
    assert histories / len(compared) >= HISTORY_BAR, report


#: Lambda cases that need a feature still being built elsewhere, with why.
NEEDS_ELSEWHERE = {
    "jsonata": "uses JSONata (QueryLanguage JSONata), which asl/ does not implement yet",
}


def _lambda_cases() -> list[Any]:
    if not have_cases():
        return [pytest.param(None, id="no-shared-cases", marks=pytest.mark.skip(SKIP_REASON))]
    params = []
    for case in load_cases() + load_cases(jsonata=True):
        if case.get("category") != "lambda":
            continue
        marks = []
        if "jsonata" in case.get("features", []) or "JSONata" in json.dumps(case["definition"]):
            # strict: once JSONata lands, a passing case fails here until this mark goes.
            marks.append(pytest.mark.xfail(reason=NEEDS_ELSEWHERE["jsonata"], strict=True))
        params.append(pytest.param(case, id=case["id"].rsplit("::", 1)[-1], marks=marks))
    return params


@pytest.mark.parametrize("case", _lambda_cases())
def test_lambda_case_matches_aws(case: dict[str, Any], tmp_path: Path) -> None:
    """Every AWS-recorded case that calls Lambda functions: output or error and cause exactly
    (stack traces included), and the history's event types."""
    score = run_case(case, tmp_path)
    assert score.outcome_ok and score.history_ok is not False, score.reason
