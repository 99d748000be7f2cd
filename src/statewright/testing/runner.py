"""``run``: one execution in-process, with handlers as Python callables or a folder and Tasks
mocked per state; ``Workflow``: a definition loaded once and run many times."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from statewright.asl import StateMachine, parse
from statewright.functions.base import Invoker
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.mocks import (
    EVERY,
    Answer,
    MockConfig,
    MockedResponse,
    Returns,
    TestCase,
    Throws,
    load_mock_config,
    parse_mock_config,
    parse_mocked_response,
)
from statewright.runtime.sync import run_execution
from statewright.testing.execution import Execution

Definition = StateMachine | str | Path | Mapping[str, Any]
"""A parsed machine, ASL JSON text, a path to a JSON file, or the decoded JSON."""
Handlers = Mapping[str, Callable[..., Any]] | str | Path | Invoker | None
"""Functions by name (``handler(event, context)``), a folder of ``NAME.py`` files (handler
``handler``), or any Invoker."""
Mock = Answer | Sequence[Answer] | MockedResponse | Mapping[str, Any]
"""A state's mock: one answer for every invocation, a list of answers by invocation number
(0, 1, ...), a MockedResponse, or a ``MockedResponses`` entry as the mock config writes it
(``{"0": {"Throw": {...}}, "1-2": {"Return": {...}}}``)."""

_ACCOUNT = "123456789012"
_REGION = "us-east-1"


def result(value: Any) -> Returns:
    """A mock that makes the Task's result ``value`` (no service response to unwrap)."""
    return Returns(value, is_result=True)


def response(value: Any) -> Returns:
    """A mock giving the service's whole response, as the mock config's ``Return`` does (for
    a function ARN, the Task's result is its ``Payload``)."""
    return Returns(value)


def error(name: str, cause: str | None = None) -> Throws:
    """A mock that fails the Task with error ``name`` (Retry and Catch see it as real)."""
    return Throws(name, cause)


class Workflow:
    """A state machine loaded once (parsed, handlers warm), to run many test executions."""

    def __init__(self, definition: Definition, *, handlers: Handlers = None,
                 mock_config: MockConfig | str | Path | Mapping[str, Any] | None = None,
                 name: str = "statewright-test", wait_scale: float = 0.0) -> None:
        self.state_machine = _machine(definition)
        """The parsed definition."""
        self.invoker = invoker_for(handlers)
        """What unmocked Lambda Tasks call."""
        self.mock_config = _config(mock_config)
        """Step Functions Local's mock config, for ``run(test_case=...)``."""
        self.name = name
        """The state machine's name: which ``StateMachines`` entry test cases come from."""
        self.wait_scale = wait_scale
        """Real seconds slept per second of Wait and Retry back-off (0: none)."""
        self.arn = f"arn:aws:states:{_REGION}:{_ACCOUNT}:stateMachine:{name}"

    def run(self, input: Any = None, *, mocks: Mapping[str, Mock] | None = None,
            test_case: str | None = None, wait_scale: float | None = None,
            execution_name: str | None = None,
            clock: Callable[[], float] = time.time) -> Execution:
        """Runs one execution on ``input`` ({} when None) to its end."""
        states: dict[str, MockedResponse] = {}
        case_name = test_case or "statewright.testing"
        if test_case is not None:
            if self.mock_config is None:
                raise ValueError(f"test case {test_case!r} needs a mock_config")
            states.update(self.mock_config.test_case(self.name, test_case).states)
        for state, mock in (mocks or {}).items():
            states[state] = _response(state, mock)
        unknown = sorted(set(states) - _state_names(self.state_machine))
        if unknown:
            raise ValueError(f"mocks name states the definition does not have: {unknown}")
        case = TestCase(case_name, states) if states else None
        name = execution_name or uuid.uuid4().hex
        return Execution(run_execution(
            self.state_machine, {} if input is None else input, self.invoker,
            state_machine_arn=self.arn, name=name,
            wait_scale=self.wait_scale if wait_scale is None else wait_scale,
            clock=clock, test_case=case,
        ))


def run(definition: Definition, input: Any = None, *, handlers: Handlers = None,
        mocks: Mapping[str, Mock] | None = None,
        mock_config: MockConfig | str | Path | Mapping[str, Any] | None = None,
        test_case: str | None = None, state_machine_name: str | None = None,
        wait_scale: float = 0.0) -> Execution:
    """Runs ``definition`` on ``input`` in this process and returns the finished execution.

    ``mocks`` (state name -> mock) and ``test_case`` (a test case of ``mock_config``'s state
    machine ``state_machine_name``, which may be left out when the config has one) answer
    Tasks without calling anything; other Tasks call ``handlers``."""
    config = _config(mock_config)
    name = state_machine_name
    if name is None and config is not None and len(config.state_machines) == 1:
        name = next(iter(config.state_machines))
    workflow = Workflow(definition, handlers=handlers, mock_config=config,
                        name=name or "statewright-test", wait_scale=wait_scale)
    return workflow.run(input, mocks=mocks, test_case=test_case)


# ----------------------------------------------------------------------------- helpers

_PARSED: dict[str, StateMachine] = {}
"""Definitions parsed so far, by text: a test suite parses each definition once."""
_FILES: dict[tuple[str, int], StateMachine] = {}
"""Definition files parsed so far, by path and modification time."""
_FOLDERS: dict[Path, PythonFunctions] = {}
"""Handler folders loaded so far: their modules stay imported (warm), as on the server."""


def _machine(definition: Definition) -> StateMachine:
    if isinstance(definition, StateMachine):
        return definition
    if isinstance(definition, Path) or (
            isinstance(definition, str) and not definition.lstrip().startswith("{")):
        path = Path(definition)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        cached = _FILES.get(key)
        if cached is None:
            cached = _FILES[key] = _machine(path.read_text(encoding="utf-8"))
        return cached
    text = definition if isinstance(definition, str) else json.dumps(definition)
    machine = _PARSED.get(text)
    if machine is None:
        machine = _PARSED[text] = parse(text)
    return machine


def invoker_for(handlers: Handlers) -> Invoker:
    """What unmocked Tasks call, from ``handlers`` (folders are loaded once)."""
    if handlers is None:
        return PythonFunctions()
    if isinstance(handlers, str | Path):
        folder = Path(handlers).resolve()
        if not folder.is_dir():
            raise ValueError(f"handlers: {handlers} is not a folder")
        functions = _FOLDERS.get(folder)
        if functions is None:
            functions = _FOLDERS[folder] = PythonFunctions.from_directory(folder)
        return functions
    if isinstance(handlers, Mapping):
        functions = PythonFunctions()
        for name, handler in handlers.items():
            functions.register(name, handler)
        return functions
    return handlers


def _config(value: MockConfig | str | Path | Mapping[str, Any] | None) -> MockConfig | None:
    if value is None or isinstance(value, MockConfig):
        return value
    if isinstance(value, Mapping):
        return parse_mock_config(value)
    return load_mock_config(value)


def _response(state: str, mock: Mock) -> MockedResponse:
    match mock:
        case MockedResponse():
            return mock
        case Returns() | Throws():
            return MockedResponse(state, ((0, EVERY, mock),))
        case Mapping():
            return parse_mocked_response(state, mock, f"mocks/{state}")
        case Sequence() if not isinstance(mock, str):
            answers = []
            for number, answer in enumerate(mock):
                if not isinstance(answer, Returns | Throws):
                    raise TypeError(f"mocks[{state!r}][{number}]: use testing.result(...), "
                                    "testing.response(...) or testing.error(...)")
                answers.append((number, number, answer))
            return MockedResponse(state, tuple(answers))
    raise TypeError(f"mocks[{state!r}]: use testing.result(...), testing.error(...), a list "
                    "of them, or a MockedResponses entry")


def _state_names(machine: StateMachine) -> set[str]:
    names: set[str] = set()
    pending = [machine.machine]
    while pending:
        current = pending.pop()
        for name, state in current.states.items():
            names.add(name)
            pending.extend(getattr(state, "branches", ()))
            processor = getattr(state, "processor", None)
            if processor is not None:
                pending.append(processor)
    return names
