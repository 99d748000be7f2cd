"""The pytest plugin (registered by the ``pytest11`` entry point): a ``statewright`` fixture.

    def test_out_of_stock(statewright):
        orders = statewright.workflow("definition.json", handlers="functions/")
        execution = orders.run({"orderId": "1"},
                               mocks={"Check Inventory": statewright.result({"inStock": False})})
        execution.assert_failed("OutOfStockError")

The fixture is ``statewright.testing`` itself plus ``workflow``, which caches the loaded
workflow for the whole test session, so a suite parses each definition once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from statewright import testing
from statewright.runtime.mocks import MockConfig
from statewright.testing.runner import Definition, Handlers, Workflow


class Fixture:
    """What the ``statewright`` fixture gives a test."""

    run = staticmethod(testing.run)
    result = staticmethod(testing.result)
    response = staticmethod(testing.response)
    error = staticmethod(testing.error)
    test_state = staticmethod(testing.test_state)
    load_mock_config = staticmethod(testing.load_mock_config)

    def __init__(self, workflows: dict[tuple[Any, ...], Workflow]) -> None:
        self._workflows = workflows

    def workflow(self, definition: Definition, *, handlers: Handlers = None,
                 mock_config: MockConfig | str | Path | Mapping[str, Any] | None = None,
                 name: str = "statewright-test", wait_scale: float = 0.0) -> Workflow:
        """A loaded workflow, shared by every test of the session that asks for the same one
        (by paths; definitions and handlers given as objects are loaded per call)."""
        key = (_key(definition), _key(handlers), _key(mock_config), name, wait_scale)
        if None in key[:3]:
            return Workflow(definition, handlers=handlers, mock_config=mock_config, name=name,
                            wait_scale=wait_scale)
        found = self._workflows.get(key)
        if found is None:
            found = self._workflows[key] = Workflow(
                definition, handlers=handlers, mock_config=mock_config, name=name,
                wait_scale=wait_scale)
        return found


def _key(value: Any) -> Any:
    """A cache key for paths and text; None for other objects (not cached)."""
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, str):
        return value
    return None if value is not None else "-"


@pytest.fixture(scope="session")
def _statewright_workflows() -> dict[tuple[Any, ...], Workflow]:
    return {}


@pytest.fixture
def statewright(_statewright_workflows: dict[tuple[Any, ...], Workflow]) -> Fixture:
    """Runs state machines in-process: ``statewright.workflow(...)``, ``statewright.run(...)``,
    mocks with ``statewright.result(...)`` and ``statewright.error(...)``."""
    return Fixture(_statewright_workflows)
