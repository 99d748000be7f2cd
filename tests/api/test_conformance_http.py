"""The AWS-recorded conformance cases through the HTTP API, scored by the shared runner.

``../shared/conformance/run.py`` drives the server with boto3 exactly as it would drive AWS:
deploy the case's functions through the Lambda API (``--include-lambda``: a zip per function,
python3.12), create the state machine, start one execution, poll, read the history. The corpus
runs once; the JSONPath cases are held to the in-process score minus a small margin (the API
must add no failures of its own), the JSONata and variables cases to issue 8's bar, Lambda cases
included in both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.api.conftest import Server
from tests.shared_data import CONFORMANCE, SKIP_REASON

#: The in-process JSONPath score (tests/conformance) when this test was written: 295/304.
IN_PROCESS_RATE = 295 / 304
MARGIN = 0.02
HISTORY_BAR = 0.90


JSONATA_OUTCOME_BAR = 0.95


def _all_cases() -> list[dict[str, Any]]:
    cases = []
    for file in sorted((CONFORMANCE / "cases").glob("*.json")):
        case = json.loads(file.read_text())
        if not isinstance(case, dict) or "definition" not in case:
            continue
        cases.append(case)
    return cases


def _is_jsonata(case: dict[str, Any]) -> bool:
    return "jsonata" in case.get("features", []) or "JSONata" in json.dumps(case["definition"])


def _jsonpath_cases() -> list[str]:
    return [case["id"] for case in _all_cases() if not _is_jsonata(case)]


def _jsonata_and_variables_cases() -> list[str]:
    """As tests/conformance: every JSONata case and every variables case."""
    return [case["id"] for case in _all_cases()
            if _is_jsonata(case) or "variables" in case.get("features", [])]


@pytest.fixture(scope="module")
def results(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole corpus through the API, once: case id -> run.py's result."""
    report = tmp_path_factory.mktemp("conformance") / "report.json"
    done = subprocess.run(
        [sys.executable, str(CONFORMANCE / "run.py"), "--endpoint", server.url,
         str(CONFORMANCE / "cases"), "--include-lambda", "--report", str(report), "-q"],
        capture_output=True, text=True, timeout=900,
    )
    assert report.exists(), done.stdout + done.stderr
    return {r["id"]: r for r in json.loads(report.read_text())["results"]}


@pytest.mark.skipif(not (CONFORMANCE / "run.py").is_file(),
                    reason=SKIP_REASON)
def test_jsonata_conformance_over_http(results: dict[str, Any]) -> None:
    scored = [results[case_id] for case_id in _jsonata_and_variables_cases()]
    passed = sum(r["outcome"] == "passed" for r in scored)
    compared = [r for r in scored if r["history"] is not None]
    histories = sum(bool(r["history"]) for r in compared)
    lambda_cases = [r for r in scored if r["category"] == "lambda"]
    failures = "\n".join(f"{r['outcome']}: {r['id']}: {r['reason']}"
                         for r in scored if r["outcome"] != "passed")
    summary = (f"JSONata/variables outcomes over HTTP: {passed}/{len(scored)} (Lambda cases "
               f"{sum(r['outcome'] == 'passed' for r in lambda_cases)}/{len(lambda_cases)}), "
               f"histories {histories}/{len(compared)}\n{failures}")
    print(summary)
    assert len(scored) > 80, "the JSONata corpus shrank unexpectedly"
    assert lambda_cases and not [r for r in lambda_cases if r["outcome"] == "skipped"]
    assert not [r for r in scored if r["outcome"] == "error"], summary  # API faults
    assert passed / len(scored) >= JSONATA_OUTCOME_BAR, summary
    assert histories / len(compared) >= HISTORY_BAR, summary


@pytest.mark.skipif(not (CONFORMANCE / "run.py").is_file(),
                    reason=SKIP_REASON)
def test_jsonpath_conformance_over_http(results: dict[str, Any]) -> None:
    scored = [results[case_id] for case_id in _jsonpath_cases()]
    passed = sum(r["outcome"] == "passed" for r in scored)
    compared = [r for r in scored if r["history"] is not None]
    histories = sum(bool(r["history"]) for r in compared)
    failures = "\n".join(f"{r['outcome']}: {r['id']}: {r['reason']}"
                         for r in scored if r["outcome"] != "passed")
    lambda_cases = [r for r in scored if r["category"] == "lambda"]
    summary = (f"JSONPath outcomes over HTTP: {passed}/{len(scored)} (Lambda cases "
               f"{sum(r['outcome'] == 'passed' for r in lambda_cases)}/{len(lambda_cases)}), "
               f"histories {histories}/{len(compared)}\n{failures}")
    print(summary)
    assert len(scored) > 250, "the JSONPath corpus shrank unexpectedly"
    assert len(lambda_cases) > 20 and not [r for r in lambda_cases if r["outcome"] == "skipped"]
    assert not [r for r in scored if r["outcome"] == "error"], summary  # API faults
    assert passed / len(scored) >= IN_PROCESS_RATE - MARGIN, summary
    assert histories / len(compared) >= HISTORY_BAR, summary
