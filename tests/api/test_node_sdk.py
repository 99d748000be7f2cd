"""The AWS SDK for JavaScript v3 against ``statewright serve``: the tutorial's flow
(tests/api/node_sdk/tutorial.mjs) with the tutorial's original JavaScript functions.

The npm packages are installed by the test itself, once, into a cache folder
(``$STATEWRIGHT_TEST_CACHE`` or ``~/.cache/statewright-tests``), pinned by
tests/api/node_sdk/package.json. Where ``node`` or ``npm`` is missing the test skips, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import EXAMPLE, ROLE, Server, start_server, stop_and_check
from tests.api.lambda_helpers import zipped

HERE = Path(__file__).resolve().parent / "node_sdk"
NAMES = ("checkInventory", "processPayment", "updateOrderStatus")
OUTCOMES = {("SUCCEEDED", None), ("FAILED", "OutOfStockError"), ("FAILED", "PaymentError")}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="the AWS SDK for JavaScript test needs node and npm (apt-get install nodejs npm)")


def _sdk_folder() -> Path:
    """A folder holding the script and its node_modules, installed once per package.json."""
    manifest = (HERE / "package.json").read_bytes()
    root = Path(os.environ.get("STATEWRIGHT_TEST_CACHE",
                               Path.home() / ".cache" / "statewright-tests"))
    folder = root / f"node-sdk-{hashlib.sha256(manifest).hexdigest()[:12]}"
    if not (folder / "node_modules" / "@aws-sdk" / "client-sfn").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_bytes(manifest)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    shutil.copy(HERE / "tutorial.mjs", folder / "tutorial.mjs")
    return folder


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    process, running = start_server(tmp_path_factory.mktemp("node-sdk-server"), None)
    try:
        yield running
    finally:
        stop_and_check(process, running)


def test_the_tutorial_with_the_javascript_sdk(own_server: Server, tmp_path: Path) -> None:
    folder = _sdk_folder()
    zips = {}
    for name in NAMES:
        source = EXAMPLE / "javascript" / f"{name}.mjs"
        zips[name] = str(tmp_path / f"{name}.zip")
        Path(zips[name]).write_bytes(zipped(**{source.name: source.read_bytes()}))
    config = {"endpoint": own_server.url, "role": ROLE, "name": "orders-js",
              "definition": str(EXAMPLE / "definition.json"), "functions": zips}
    done = subprocess.run(["node", "tutorial.mjs", json.dumps(config)], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout)
    assert seen["invoke"] == {"status": 200,
                              "payload": {"orderId": "o-1", "status": "Completed"}}
    assert seen["validate"] == "OK"
    execution = seen["execution"]
    assert (execution["status"], execution["error"]) in OUTCOMES
    if execution["status"] == "SUCCEEDED":
        assert json.loads(execution["output"]) == {"orderId": "o-2", "status": "Completed"}
    assert seen["history"][0] == "ExecutionStarted"
    assert seen["history"][-1] == f"Execution{execution['status'].title()}"
    assert seen["listed"] == [seen["executionArn"]]
    assert seen["missing"] == "ExecutionDoesNotExist"
    # StartSyncExecution works once the SDK's host prefix is off.
    assert (seen["sync"]["status"], seen["sync"]["error"]) in OUTCOMES
