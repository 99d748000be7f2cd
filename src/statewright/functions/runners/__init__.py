"""The programs that run inside function worker processes, one per runtime family.

They are started by path (``python_runner.py``, ``node_runner.mjs``) rather than imported, so
nothing of statewright is loaded next to user code; the protocol is in ``process.py``.
"""

from __future__ import annotations

from pathlib import Path

#: Where the runner programs are, inside the installed package.
RUNNERS_DIR = Path(__file__).resolve().parent
PYTHON_RUNNER = RUNNERS_DIR / "python_runner.py"
NODE_RUNNER = RUNNERS_DIR / "node_runner.mjs"

__all__ = ["NODE_RUNNER", "PYTHON_RUNNER", "RUNNERS_DIR"]
