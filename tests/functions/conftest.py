"""Function fixtures: code folders written per test, and a ProcessFunctions serving them.

Everything runs for real: handlers are files in a temporary folder, workers are processes.
"""

from __future__ import annotations

import dataclasses
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from statewright.functions.base import FunctionConfig
from statewright.functions.process import ProcessFunctions

#: The tutorial's original JavaScript handlers.
SEED = Path(__file__).resolve().parents[2] / "examples" / "order_processing" / "javascript"


class Deployment:
    """The functions of one test: name -> configuration, code written under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.configs: dict[str, FunctionConfig] = {}

    def resolve(self, name: str) -> FunctionConfig | None:
        return self.configs.get(name)

    def python(
        self, name: str, source: str, handler: str = "app.handler", **settings: Any
    ) -> FunctionConfig:
        """Deploys ``source`` as ``app.py`` of a function of its own."""
        return self.files(name, {"app.py": source}, handler, runtime="python3.12", **settings)

    def files(
        self,
        name: str,
        files: dict[str, str],
        handler: str,
        *,
        runtime: str = "nodejs20.x",
        **settings: Any,
    ) -> FunctionConfig:
        code_dir = self.root / name
        code_dir.mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            (code_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (code_dir / relative).write_text(textwrap.dedent(text))
        config = FunctionConfig(name, runtime, handler, code_dir, **settings)
        self.configs[name] = config
        return config

    def update(self, name: str, **changes: Any) -> FunctionConfig:
        self.configs[name] = dataclasses.replace(self.configs[name], **changes)
        return self.configs[name]


@pytest.fixture
def deploy(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "functions")


@pytest.fixture
def functions(deploy: Deployment) -> Iterator[ProcessFunctions]:
    with ProcessFunctions(deploy.resolve) as invoker:
        yield invoker


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Waits until ``condition()`` holds, failing the test past ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def process_gone(pid: int) -> bool:
    """True once no process has that id (or it is a zombie nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True
