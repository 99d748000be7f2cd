"""``statewright run --mock-config FILE --test-case NAME`` and a bad mock config given to
``serve``: a real ``statewright`` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DEFINITION = str(HERE / "aws_sample_definition.json")
CONFIG = str(HERE / "aws_sample_mock_config.json")


def statewright(*args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "statewright.cli", *args], capture_output=True, text=True,
        timeout=60, cwd=REPO, env={**os.environ, **(env or {})},
    )


def test_run_a_test_case_of_the_aws_sample() -> None:
    done = statewright("run", DEFINITION, "--mock-config", CONFIG, "--test-case", "RetryPath",
                       "--wait-scale", "0", "--history")
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineArn"].endswith(":stateMachine:LambdaSQSIntegration")
    assert [e["type"] for e in described["events"]].count("TaskFailed") == 3


def test_sfn_mock_config_is_read_as_step_functions_local_reads_it() -> None:
    done = statewright("run", DEFINITION, "--test-case", "LambdaSQSIntegration#HappyPath",
                       env={"SFN_MOCK_CONFIG": CONFIG})
    assert done.returncode == 0, done.stderr
    assert json.loads(json.loads(done.stdout)["output"])["MessageId"].startswith("3bcb6e8e")


def test_test_case_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        (["--test-case", "HappyPath"], "--test-case needs --mock-config FILE"),
        (["--mock-config", CONFIG, "--test-case", "Nope"],
         "no state machine has a test case named 'Nope'"),
        (["--mock-config", DEFINITION, "--test-case", "HappyPath"],
         "aws_sample_definition.json: /Comment: unknown field"),
    ]
    for args, message in cases:
        done = statewright("run", DEFINITION, *args, env={"SFN_MOCK_CONFIG": ""})
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_serve_refuses_a_bad_mock_config_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "MockConfigFile.json"
    bad.write_text(json.dumps({"MockedResponses": {"R": {"0": {"Throw": {"Error": 1}}}}}))
    done = statewright("serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 'db.sqlite'}",
                       env={"SFN_MOCK_CONFIG": str(bad)})
    assert done.returncode == 2
    assert "/MockedResponses/R/0/Throw/Error: must be a string" in done.stderr
    assert "Traceback" not in done.stderr
