"""Mocked Task responses: Step Functions Local's mock config, and answering a Task from it.

The file format is AWS's (developer guide, "Configuration file for mocked service
integrations"): ``StateMachines.<machine>.TestCases.<case>.<state>`` names a mocked response;
``MockedResponses.<name>`` maps invocation numbers (``"0"``, ``"1-2"``) to ``Return`` (the
service's response) or ``Throw`` (``Error`` and ``Cause``). An execution runs a test case when
it is started on ``stateMachineArn#CaseName``.

``answer`` is the one place where a Task meets its mock: the in-memory runner (``sync.py``)
and the durable worker (``worker.py``) ask it before calling anything. A mocked Task calls
nothing, yet the driver writes the history of a real call, and Retry and Catch see a mocked
error as a real one. Invocation numbers count every invocation of the state in the execution
(retries and loop visits); the driver keeps the count in the execution's cursor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statewright.asl.errors import Failure
from statewright.asl.step import TaskResult
from statewright.runtime.frames import Work

#: ``"3"`` or ``"1-2"`` (inclusive), as AWS's MockedResponses keys.
_INVOCATIONS = re.compile(r"^(0|[1-9][0-9]*)(?:-(0|[1-9][0-9]*))?$")
#: The largest invocation number a helper-made answer covers ("every invocation").
EVERY = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Returns:
    """A mocked success."""

    value: Any
    """The service's response (for Lambda, Invoke's ``{"StatusCode", "Payload"}``)."""
    is_result: bool = False
    """True: ``value`` is the Task's result itself (``statewright.testing.result``), not a
    service response to take the result from."""


@dataclass(frozen=True, slots=True)
class Throws:
    """A mocked failure: the Task fails with this error, as if the service had."""

    error: str
    """The error name Retry and Catch match (``Lambda.TimeoutException``...)."""
    cause: str | None = None
    """The cause text."""


Answer = Returns | Throws


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """A named mocked response: answers by invocation number."""

    name: str
    """Its key in ``MockedResponses``."""
    answers: tuple[tuple[int, int, Answer], ...]
    """(first, last, answer): invocation numbers ``first..last`` (inclusive) get ``answer``."""

    def answer(self, number: int) -> Answer | None:
        """The answer for the state's ``number``-th invocation (0-based); None: none given."""
        for first, last, answer in self.answers:
            if first <= number <= last:
                return answer
        return None


@dataclass(frozen=True, slots=True)
class TestCase:
    """Which states of one state machine are mocked, and how."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    """The test case name (what follows ``#`` in the state machine ARN)."""
    states: Mapping[str, MockedResponse]
    """State name -> its mocked response. States not named here run for real."""


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A whole mock config file."""

    state_machines: Mapping[str, Mapping[str, TestCase]]
    """State machine name -> test case name -> test case."""
    responses: Mapping[str, MockedResponse]
    """``MockedResponses`` by name."""

    def test_case(self, state_machine: str, name: str) -> TestCase:
        """The test case ``name`` of ``state_machine``; MockConfigError when there is none."""
        cases = self.state_machines.get(state_machine)
        if cases is None:
            raise MockConfigError([(
                "/StateMachines",
                f"the mock config has no state machine named '{state_machine}'")])
        case = cases.get(name)
        if case is None:
            known = ", ".join(sorted(cases)) or "none"
            raise MockConfigError([(
                f"/StateMachines/{_pointer(state_machine)}/TestCases",
                f"state machine '{state_machine}' has no test case '{name}' (it has: {known})",
            )])
        return case


    def find_test_case(self, name: str) -> tuple[str, TestCase]:
        """The state machine name and test case of ``MACHINE#CASE``, or of ``CASE`` when one
        state machine has it."""
        machine, hash_sign, case = name.rpartition("#")
        if hash_sign:
            return machine, self.test_case(machine, case)
        owners = sorted(m for m, cases in self.state_machines.items() if name in cases)
        if len(owners) == 1:
            return owners[0], self.state_machines[owners[0]][name]
        if not owners:
            raise MockConfigError([("/StateMachines", f"no state machine has a test case "
                                    f"named '{name}'")])
        raise MockConfigError([("/StateMachines", f"state machines {', '.join(owners)} all "
                                f"have a test case '{name}': say which, as MACHINE#{name}")])


class MockConfigError(ValueError):
    """A mock config that cannot be used; ``problems`` are (JSON pointer, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(f"{where or '/'}: {what}"
                                            for where, what in problems))


# ----------------------------------------------------------------------------- loading


def load_mock_config(path: str | Path) -> MockConfig:
    """Reads and checks a mock config file; MockConfigError says where it is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MockConfigError([("", f"cannot read it: {exc.strerror or exc}")],
                              str(path)) from exc
    except UnicodeDecodeError as exc:
        raise MockConfigError([("", "it is not UTF-8 text")], str(path)) from exc
    return parse_mock_config(text, source=str(path))


def parse_mock_config(data: str | Mapping[str, Any], source: str = "") -> MockConfig:
    """A mock config from JSON text or decoded JSON; MockConfigError lists every problem,
    each located by a JSON pointer (and the line and column for malformed JSON)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise MockConfigError([(
                "", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")],
                source) from exc
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise MockConfigError([("", "a mock config is a JSON object")], source)
    for key in data:
        if key not in ("StateMachines", "MockedResponses"):
            problems.append((f"/{_pointer(key)}", "unknown field (a mock config has "
                             "StateMachines and MockedResponses)"))
    responses = _responses(data.get("MockedResponses", {}), problems)
    machines = _state_machines(data.get("StateMachines", {}), responses, problems)
    if problems:
        raise MockConfigError(problems, source)
    return MockConfig(machines, responses)


def parse_mocked_response(name: str, raw: Any, where: str = "") -> MockedResponse:
    """One ``MockedResponses`` entry (``{"0": {"Return": ...}, "1-2": {"Throw": ...}}``)."""
    problems: list[tuple[str, str]] = []
    response = _response(name, raw, where, problems)
    if problems:
        raise MockConfigError(problems)
    return response


def _responses(raw: Any, problems: list[tuple[str, str]]) -> dict[str, MockedResponse]:
    if not isinstance(raw, Mapping):
        problems.append(("/MockedResponses", "must be an object of named mocked responses"))
        return {}
    return {name: _response(name, value, f"/MockedResponses/{_pointer(name)}", problems)
            for name, value in raw.items()}


def _response(name: str, raw: Any, where: str, problems: list[tuple[str, str]]
              ) -> MockedResponse:
    if not isinstance(raw, Mapping) or not raw:
        problems.append((where, "must be an object mapping invocation numbers (\"0\", "
                         "\"1-2\") to a Return or a Throw"))
        return MockedResponse(name, ())
    answers: list[tuple[int, int, Answer]] = []
    for key, value in raw.items():
        at = f"{where}/{_pointer(key)}"
        match = _INVOCATIONS.match(key)
        if match is None:
            problems.append((at, f"'{key}' is not an invocation number (\"0\") or an "
                             "inclusive range (\"1-2\")"))
            continue
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            problems.append((at, f"the range '{key}' ends before it starts"))
            continue
        answer = _answer(value, at, problems)
        if answer is None:
            continue
        for other_first, other_last, _ in answers:
            if first <= other_last and other_first <= last:
                problems.append((at, f"invocations {key} overlap "
                                 f"{_range_text(other_first, other_last)}"))
                break
        else:
            answers.append((first, last, answer))
    return MockedResponse(name, tuple(sorted(answers, key=lambda a: a[0])))


def _answer(raw: Any, where: str, problems: list[tuple[str, str]]) -> Answer | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in (
            "Return", "Throw"):
        problems.append((where, "must hold exactly one field: Return or Throw"))
        return None
    if "Return" in raw:
        return Returns(raw["Return"])
    throw = raw["Throw"]
    at = f"{where}/Throw"
    if not isinstance(throw, Mapping):
        problems.append((at, "must be an object with Error and Cause strings"))
        return None
    unknown = sorted(set(throw) - {"Error", "Cause"})
    if unknown:
        problems.append((f"{at}/{_pointer(unknown[0])}", "unknown field (a Throw has Error "
                         "and Cause)"))
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str):
        problems.append((f"{at}/Error", "must be a string (the error Retry and Catch match)"))
    if not isinstance(cause, str):
        problems.append((f"{at}/Cause", "must be a string"))
    if not isinstance(error, str) or not isinstance(cause, str) or unknown:
        return None
    return Throws(error, cause)


def _state_machines(raw: Any, responses: Mapping[str, MockedResponse],
                    problems: list[tuple[str, str]]) -> dict[str, dict[str, TestCase]]:
    if not isinstance(raw, Mapping):
        problems.append(("/StateMachines", "must be an object keyed by state machine name"))
        return {}
    machines: dict[str, dict[str, TestCase]] = {}
    for machine, spec in raw.items():
        where = f"/StateMachines/{_pointer(machine)}"
        if not isinstance(spec, Mapping) or set(spec) != {"TestCases"}:
            problems.append((where, "must be an object with one field, TestCases"))
            continue
        cases = spec["TestCases"]
        if not isinstance(cases, Mapping):
            problems.append((f"{where}/TestCases", "must be an object keyed by test case "
                             "name"))
            continue
        machines[machine] = {}
        for case_name, states in cases.items():
            at = f"{where}/TestCases/{_pointer(case_name)}"
            if not isinstance(states, Mapping):
                problems.append((at, "must map state names to mocked response names"))
                continue
            mocked: dict[str, MockedResponse] = {}
            for state, response in states.items():
                state_at = f"{at}/{_pointer(state)}"
                if not isinstance(response, str):
                    problems.append((state_at, "must be the name of a mocked response"))
                elif response not in responses:
                    problems.append((state_at, f"names '{response}', which MockedResponses "
                                     "does not define"))
                else:
                    mocked[state] = responses[response]
            machines[machine][case_name] = TestCase(case_name, mocked)
    return machines


def _pointer(key: str) -> str:
    """A key as a JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _range_text(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


# ----------------------------------------------------------------------------- answering


def answer(test_case: TestCase | None, work: Work) -> TaskResult | Failure | None:
    """The mocked outcome of the Task invocation ``work``, or None when the Task is not
    mocked (it runs for real). A callback Task (``.waitForTaskToken``, an activity) that is
    mocked returns at once with the mocked answer as its SendTask* outcome."""
    if test_case is None or work.visit is None or work.invoke is None:
        return None
    response = test_case.states.get(work.visit.state)
    if response is None:
        return None
    number = work.visit.number
    found = response.answer(number)
    if found is None:
        # AWS: "If you do not specify a mocked response for a specific retry attempt ... the
        # state machine execution will fail." States.Runtime is not caught by States.ALL.
        return Failure("States.Runtime", (
            f"The mocked response '{response.name}' (test case '{test_case.name}') has no "
            f"answer for invocation {number} of state '{work.visit.state}'"))
    if isinstance(found, Throws):
        return Failure(found.error, found.cause)
    invoke = work.invoke
    value = found.value
    if (not found.is_result and invoke.resource.kind == "lambda_function"
            and isinstance(value, Mapping) and "Payload" in value):
        # A Task on a function ARN gets the function's return value: Invoke's Payload (AWS's
        # sample RetryPath: "a task success containing state result from Payload section").
        value = value["Payload"]
    return TaskResult(json.dumps(value, ensure_ascii=False, separators=(",", ":")),
                      service_response=True)


def case_for(config: MockConfig | None, cursor: Mapping[str, Any],
                  state_machine_name: str) -> TestCase | None:
    """The test case an execution runs, from its cursor (None: it runs for real)."""
    name = cursor.get("test_case")
    if config is None or not isinstance(name, str):
        return None
    try:
        return config.test_case(state_machine_name, name)
    except MockConfigError:
        return None  # the server restarted with another file: run for real

__all__ = [
    "EVERY",
    "Answer",
    "MockConfig",
    "MockConfigError",
    "MockedResponse",
    "Returns",
    "TestCase",
    "Throws",
    "answer",
    "case_for",
    "load_mock_config",
    "parse_mock_config",
    "parse_mocked_response",
]
