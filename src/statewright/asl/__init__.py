"""The Amazon States Language core: pure, no I/O. Parse once, then step states."""

from __future__ import annotations

from statewright.asl.errors import DefinitionError, Failure, InvalidDefinition
from statewright.asl.model import StateMachine
from statewright.asl.parse import parse
from statewright.asl.validate import validate

__all__ = ["DefinitionError", "Failure", "InvalidDefinition", "StateMachine", "parse", "validate"]
