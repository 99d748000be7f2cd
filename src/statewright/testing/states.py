"""``test_state``: the TestState API in this process, for a unit test of one state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from statewright.runtime.mocks import Returns, Throws
from statewright.runtime.teststate import Mock, TestStateRequest, TestStateResult
from statewright.runtime.teststate import test_state as run_test_state
from statewright.testing.runner import Handlers, invoker_for


def test_state(state: Mapping[str, Any] | str, input: Any = None, *,
               state_name: str | None = None, mock: Returns | Throws | None = None,
               variables: Mapping[str, Any] | None = None,
               context: Mapping[str, Any] | None = None, retrier_retry_count: int = 0,
               map_iteration_failure_count: int | None = None,
               field_validation_mode: str = "STRICT", inspection_level: str = "DEBUG",
               handlers: Handlers = None) -> TestStateResult:
    """Runs one state once, as boto3's ``test_state`` does against a server (see
    docs/testing.md): ``state`` is the state's definition (or a whole machine with
    ``state_name``); ``mock`` is ``result(...)``/``response(...)`` or ``error(...)``;
    unmocked Tasks call ``handlers``. Raises ``errors.AwsError`` where AWS refuses."""
    definition = state if isinstance(state, str) else json.dumps(state)
    mocked = None
    if isinstance(mock, Returns):
        mocked = Mock(json.dumps(mock.value), field_validation_mode=field_validation_mode)
    elif isinstance(mock, Throws):
        mocked = Mock(error=mock.error, cause=mock.cause)
    request = TestStateRequest(
        definition=definition, state_name=state_name,
        input=None if input is None else json.dumps(input),
        variables=None if variables is None else json.dumps(variables),
        context=None if context is None else json.dumps(context),
        mock=mocked, retrier_retry_count=retrier_retry_count,
        map_iteration_failure_count=map_iteration_failure_count,
        inspection_level=inspection_level,
    )
    return run_test_state(request, invoker_for(handlers))


test_state.__test__ = False  # type: ignore[attr-defined]  # a library function, not a test
