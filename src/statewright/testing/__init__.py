"""Testing state machines: run a definition in-process with mocked Tasks and assert on it.

    from statewright import testing

    execution = testing.run("definition.json", {"orderId": "1"},
                            handlers="functions/",
                            mocks={"Check Inventory": testing.result({"inStock": False})})
    execution.assert_failed("OutOfStockError")
    assert execution.path == ["Check Inventory", "Is In Stock?", "Out of Stock"]

Mocks follow Step Functions Local's mock config (``MockedResponses`` semantics: answers by
invocation number, counting retries and loop visits); a state that is not mocked runs for real
against ``handlers``. Waits and Retry back-off are skipped by default (``wait_scale=0``): the
history still shows the times AWS would record. Installing statewright also gives pytest a
``statewright`` fixture (``statewright.testing.plugin``).
"""

from __future__ import annotations

from statewright.runtime.mocks import (
    MockConfig,
    MockConfigError,
    MockedResponse,
    Returns,
    TestCase,
    Throws,
    load_mock_config,
    parse_mock_config,
)
from statewright.testing.execution import Execution
from statewright.testing.runner import Workflow, error, response, result, run
from statewright.testing.states import test_state

__all__ = [
    "Execution",
    "MockConfig",
    "MockConfigError",
    "MockedResponse",
    "Returns",
    "TestCase",
    "Throws",
    "Workflow",
    "error",
    "load_mock_config",
    "parse_mock_config",
    "response",
    "result",
    "run",
    "test_state",
]
