"""Running user code: Lambda-style functions, resolved by name."""

from __future__ import annotations

from statewright.functions.base import Invoker, InvokeResult
from statewright.functions.inprocess import PythonFunctions

__all__ = ["InvokeResult", "Invoker", "PythonFunctions"]
