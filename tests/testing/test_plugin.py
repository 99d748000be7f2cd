"""The pytest plugin: installing statewright registers the ``statewright`` fixture (entry
point ``pytest11``), so a test file needs no import or conftest to use it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent


def test_the_fixture_is_available_without_imports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_orders=f'''
DEFINITION = {str(HERE / "aws_sample_definition.json")!r}
CONFIG = {str(HERE / "aws_sample_mock_config.json")!r}

def test_retry_path(statewright):
    sample = statewright.workflow(DEFINITION, mock_config=CONFIG, name="LambdaSQSIntegration")
    execution = sample.run({{}}, test_case="RetryPath")
    execution.assert_succeeded()
    assert execution.invocations("LambdaState") == 4

def test_same_workflow_object_within_the_session(statewright):
    first = statewright.workflow(DEFINITION)
    assert statewright.workflow(DEFINITION) is first

def test_a_failing_assertion_fails_the_test(statewright):
    execution = statewright.run(DEFINITION, {{}},
                                mocks={{"LambdaState": statewright.error("Boom", "no")}})
    execution.assert_succeeded()
''')
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=2, failed=1)
    outcome.stdout.fnmatch_lines(["*expected SUCCEEDED, got FAILED with error 'Boom', cause 'no'*"])
