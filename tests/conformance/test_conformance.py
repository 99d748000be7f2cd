"""The AWS-recorded JSONPath conformance cases, through ``statewright run``.

The score is the issue's bar: at least 95% of outcomes and 90% of history type sequences.
Every failing case is printed (run with ``-s`` or see the assertion message); none is hidden.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.harness import CASES, load_cases, run_all

OUTCOME_BAR = 0.95
HISTORY_BAR = 0.90


@pytest.mark.skipif(not CASES.is_dir(), reason="../shared/conformance is not beside the repo")
def test_jsonpath_conformance_score(tmp_path: Path) -> None:
    cases = load_cases()
    scores = list(run_all(cases, tmp_path))
    outcomes = sum(s.outcome_ok for s in scores)
    compared = [s for s in scores if s.history_ok is not None]
    histories = sum(bool(s.history_ok) for s in compared)
    failures = [f"{s.case_id}: {s.reason}" for s in scores if not s.outcome_ok or
                s.history_ok is False]
    report = (
        f"outcomes {outcomes}/{len(scores)} ({outcomes / len(scores):.1%}), "
        f"histories {histories}/{len(compared)} ({histories / len(compared):.1%})\n"
        + "\n".join(failures)
    )
    print(report)
    assert len(scores) > 250, "the JSONPath corpus shrank unexpectedly"
    assert outcomes / len(scores) >= OUTCOME_BAR, report
    assert histories / len(compared) >= HISTORY_BAR, report
