"""The functions of a local folder, as ``statewright run --functions DIR`` calls them.

``NAME.py`` is function NAME, loaded into this process (fast; no timeout enforced), handler
``handler``. ``NAME.mjs``/``.js``/``.cjs`` is function NAME run by Node.js in a warm worker
process (``ProcessFunctions``), handler ``NAME.handler`` with the folder as its code, as
``serve --functions DIR`` deploys it. Files starting with ``_`` or ``.`` are helpers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from statewright.functions.base import FunctionConfig, InvokeResult
from statewright.functions.bundle import handler_files
from statewright.functions.inprocess import FunctionSpec, PythonFunctions
from statewright.functions.process import ProcessFunctions

#: How long a Node.js handler may run under ``run`` (Lambda's maximum): as for in-process
#: Python handlers, only a Task's own TimeoutSeconds bounds it.
NODE_TIMEOUT_SECONDS = 900.0
NODE_RUNTIME = "nodejs20.x"


class FolderFunctions:
    """An Invoker over a folder's handler files (Python in process, Node.js in workers)."""

    def __init__(self, folder: Path, *, echo_logs: bool = False, node: str | None = None
                 ) -> None:
        """Raises BundleError when two files define the same function."""
        files = handler_files(folder)
        self._echo_logs = echo_logs
        self._python = PythonFunctions(
            [FunctionSpec(f.stem, f) for f in files if f.suffix == ".py"], echo_logs=echo_logs)
        code_dir = folder.resolve()
        self._node_configs = {
            f.stem: FunctionConfig(f.stem, NODE_RUNTIME, f"{f.stem}.handler", code_dir,
                                   timeout=NODE_TIMEOUT_SECONDS)
            for f in files if f.suffix != ".py"
        }
        self.node = node if node is not None else shutil.which("node")
        self._process: ProcessFunctions | None = None
        if self._node_configs:
            self._process = ProcessFunctions(self._node_configs.get, node=self.node)

    def node_functions(self) -> list[str]:
        """The functions that Node.js runs."""
        return sorted(self._node_configs)

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        if self._process is not None and name in self._node_configs:
            result = self._process.invoke(name, payload, timeout)
            if self._echo_logs and result.logs:
                sys.stderr.write(result.logs)
            return result
        return self._python.invoke(name, payload, timeout)

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
