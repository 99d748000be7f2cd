"""In-process Python handlers: results, errors, and per-invocation logs under threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import PythonFunctions


def _chatty(tag: str) -> Any:
    def handler(event: Any, context: LambdaContext) -> Any:
        for i in range(200):
            print(f"{tag}-{i}")
        return {"tag": tag}

    return handler


def test_each_invocation_keeps_only_its_own_output_under_threads() -> None:
    functions = PythonFunctions()
    for tag in "abcd":
        functions.register(tag, _chatty(tag))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: (t, functions.invoke(t, {})), "abcd" * 10))
    for tag, result in results:
        lines = result.logs.splitlines()
        assert lines == [f"{tag}-{i}" for i in range(200)]
        assert json.loads(result.payload) == {"tag": tag}


def test_a_raising_handler_gives_lambdas_error_object() -> None:
    def boom(event: Any, context: LambdaContext) -> Any:
        raise KeyError("orderId")

    functions = PythonFunctions()
    functions.register("boom", boom)
    result = functions.invoke("boom", {})
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'orderId'"
    assert error["requestId"]
    assert any("raise KeyError" in line for line in error["stackTrace"])


def test_import_errors_and_unmarshallable_results_are_function_errors(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("GREETING = 'hi'\n")
    (tmp_path / "uses_helper.py").write_text(
        "import helper\n\ndef handler(event, context):\n    return helper.GREETING\n")
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    (tmp_path / "odd.py").write_text("def handler(event, context):\n    return {1, 2}\n")
    functions = PythonFunctions.from_directory(tmp_path)
    assert json.loads(functions.invoke("uses_helper", {}).payload) == "hi"
    broken = functions.invoke("broken", {})
    assert broken.function_error == "Unhandled"
    assert json.loads(broken.payload)["errorType"] == "Runtime.ImportModuleError"
    odd = functions.invoke("odd", {})
    assert json.loads(odd.payload)["errorType"] == "Runtime.MarshalError"
