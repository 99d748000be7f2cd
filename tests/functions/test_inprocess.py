"""In-process Python handlers: results, errors, and per-invocation logs under threads."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from statewright.functions.context import LambdaContext
from statewright.functions.inprocess import FunctionSpec, PythonFunctions


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


def test_stack_traces_name_the_file_as_deployed_with_real_line_numbers(tmp_path: Path) -> None:
    # Lambda mounts the package at /var/task: AWS-recorded causes read
    # 'File "/var/task/handler.py", line 2, in handler' (../shared/conformance/README.md).
    (tmp_path / "handler.py").write_text(
        "import failing_helper\n\n\ndef handler(event, context):\n"
        "    return failing_helper.fail()\n")
    (tmp_path / "failing_helper.py").write_text('def fail():\n    raise ValueError("no")\n')
    functions = PythonFunctions([FunctionSpec("fn", tmp_path / "handler.py")])
    error = json.loads(functions.invoke("fn", {}).payload)
    assert [frame.splitlines()[:2] for frame in error["stackTrace"]] == [
        ['  File "/var/task/handler.py", line 5, in handler', "    return failing_helper.fail()"],
        ['  File "/var/task/failing_helper.py", line 2, in fail', '    raise ValueError("no")'],
    ]


def test_load_errors_are_those_of_lambdas_python_runtime(tmp_path: Path) -> None:
    # The process runner (python_runner.py) answers the same; a syntax error is
    # Runtime.UserCodeSyntaxError on Lambda, not an import error.
    (tmp_path / "syntax.py").write_text("def handler(event, context)\n    return 1\n")
    (tmp_path / "raises.py").write_text("X = 1\nraise RuntimeError('at import')\n")
    functions = PythonFunctions.from_directory(tmp_path)
    syntax = json.loads(functions.invoke("syntax", {}).payload)
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError"
    assert syntax["errorMessage"].startswith("Syntax error in module 'syntax': ")
    raises = json.loads(functions.invoke("raises", {}).payload)
    assert (raises["errorType"], raises["errorMessage"]) == ("RuntimeError", "at import")
    assert raises["stackTrace"] == [
        '  File "/var/task/raises.py", line 2, in <module>\n'
        "    raise RuntimeError('at import')\n"]


def test_each_invocation_gets_its_own_request_id_and_a_private_copy_of_the_event() -> None:
    """Lambda's request ids are version-4 UUIDs (``context.aws_request_id``, the id in an
    error object); the handler's event is a copy, as over the wire, so a handler changing
    it cannot change the caller's data."""
    seen: list[str] = []

    def meddle(event: Any, context: LambdaContext) -> Any:
        seen.append(context.aws_request_id)
        event["items"].append("x")
        return event

    functions = PythonFunctions()
    functions.register("meddle", meddle)
    data = {"items": [1]}
    results = [functions.invoke("meddle", data) for _ in range(50)]
    assert data == {"items": [1]}
    assert all(json.loads(r.payload) == {"items": [1, "x"]} for r in results)
    assert [r.request_id for r in results] == seen
    assert len(set(seen)) == 50
    for request_id in seen:
        parsed = uuid.UUID(request_id)
        assert (str(parsed), parsed.version, parsed.variant) == (
            request_id, 4, uuid.RFC_4122)
