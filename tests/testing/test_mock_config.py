"""Loading Step Functions Local's mock config: AWS's sample loads; bad files are refused with
every problem located by a JSON pointer (or line and column)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from statewright.runtime.mocks import (
    MockConfigError,
    Returns,
    Throws,
    load_mock_config,
    parse_mock_config,
)

HERE = Path(__file__).parent
SAMPLE = HERE / "aws_sample_mock_config.json"


def test_aws_sample_loads_with_its_test_cases_and_ranges() -> None:
    # The developer guide's MockConfigFile.json (sfn-local-mock-cfg-file), copied verbatim.
    config = load_mock_config(SAMPLE)
    assert set(config.state_machines["LambdaSQSIntegration"]) == {
        "HappyPath", "RetryPath", "HybridPath"}
    retry = config.test_case("LambdaSQSIntegration", "RetryPath").states["LambdaState"]
    assert retry.answer(0) == Throws("Lambda.ResourceNotReadyException",
                                     "Lambda resource is not ready.")
    assert retry.answer(1) == retry.answer(2) == Throws("Lambda.TimeoutException",
                                                        "Lambda timed out.")
    assert isinstance(retry.answer(3), Returns)
    assert retry.answer(4) is None
    hybrid = config.test_case("LambdaSQSIntegration", "HybridPath")
    assert set(hybrid.states) == {"LambdaState"}  # SQSState runs for real


def test_unknown_machine_or_case_is_named() -> None:
    config = load_mock_config(SAMPLE)
    with pytest.raises(MockConfigError, match=r"no test case 'Nope'.*HappyPath"):
        config.test_case("LambdaSQSIntegration", "Nope")
    with pytest.raises(MockConfigError, match="no state machine named 'Other'"):
        config.test_case("Other", "HappyPath")


BAD: list[tuple[Any, str, str]] = [
    ([], "", "a mock config is a JSON object"),
    ({"StateMachine": {}}, "/StateMachine", "unknown field"),
    ({"MockedResponses": {"R": {"x": {"Return": 1}}}}, "/MockedResponses/R/x",
     "not an invocation number"),
    ({"MockedResponses": {"R": {"01": {"Return": 1}}}}, "/MockedResponses/R/01",
     "not an invocation number"),
    ({"MockedResponses": {"R": {"3-1": {"Return": 1}}}}, "/MockedResponses/R/3-1",
     "ends before it starts"),
    ({"MockedResponses": {"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}},
     "/MockedResponses/R/2", "overlap 0-2"),
    ({"MockedResponses": {"R": {"0": {"Return": 1, "Throw": {}}}}}, "/MockedResponses/R/0",
     "exactly one field"),
    ({"MockedResponses": {"R": {"0": {"Throw": {"Error": 1, "Cause": "c"}}}}},
     "/MockedResponses/R/0/Throw/Error", "must be a string"),
    ({"MockedResponses": {"R": {"0": {"Throw": {"Error": "E"}}}}},
     "/MockedResponses/R/0/Throw/Cause", "must be a string"),
    ({"MockedResponses": {"R": {}}}, "/MockedResponses/R", "invocation numbers"),
    ({"StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}}, "MockedResponses": {}},
     "/StateMachines/M/TestCases/T/S", "MockedResponses does not define"),
    ({"StateMachines": {"M": {"Cases": {}}}}, "/StateMachines/M", "one field, TestCases"),
    ({"StateMachines": {"M": {"TestCases": {"T": {"S": 3}}}}},
     "/StateMachines/M/TestCases/T/S", "name of a mocked response"),
    ({"StateMachines": {"a/b": {"TestCases": {"T": []}}}}, "/StateMachines/a~1b/TestCases/T",
     "must map state names"),
]


@pytest.mark.parametrize(("config", "where", "message"), BAD)
def test_bad_configs_are_refused_with_a_location(config: Any, where: str,
                                                 message: str) -> None:
    with pytest.raises(MockConfigError) as caught:
        parse_mock_config(config)
    assert any(at == where and message in what for at, what in caught.value.problems), (
        caught.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    config = {"MockedResponses": {"A": {"x": {"Return": 1}}, "B": {"0": {}}}}
    with pytest.raises(MockConfigError) as caught:
        parse_mock_config(config)
    assert [at for at, _ in caught.value.problems] == ["/MockedResponses/A/x",
                                                       "/MockedResponses/B/0"]


def test_malformed_json_says_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text('{\n  "MockedResponses": {,}\n}')
    with pytest.raises(MockConfigError, match=r"MockConfigFile.json: /: not valid JSON at "
                       r"line 2, column 23"):
        load_mock_config(path)


def test_missing_file_is_a_mock_config_error(tmp_path: Path) -> None:
    with pytest.raises(MockConfigError, match="cannot read it"):
        load_mock_config(tmp_path / "none.json")


def test_round_trip_of_the_sample_text() -> None:
    text = SAMPLE.read_text()
    assert parse_mock_config(text) == parse_mock_config(json.loads(text))
