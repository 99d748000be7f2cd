"""statewright: run AWS Step Functions state machines unchanged, on your own machines."""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
