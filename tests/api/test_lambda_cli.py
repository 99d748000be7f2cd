"""``aws lambda`` against the server, as a user would type it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, aws_cli, cli_env
from tests.api.lambda_helpers import ROLE, function_arn, zipped

AWS = aws_cli()
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")


def _aws(server: Server, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    return subprocess.run(
        [AWS, "lambda", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True, text=True, timeout=60, env=cli_env(tmp_path),
    )


def _ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_a_function_from_create_to_delete(server: Server, tmp_path: Path, unique: str) -> None:
    package = tmp_path / "function.zip"
    package.write_bytes(zipped(**{"app.py": """
        def handler(event, context):
            print("adding", event)
            return {"sum": event["a"] + event["b"]}
        """}))
    created = _ok(_aws(server, tmp_path, "create-function", "--function-name", unique,
                       "--runtime", "python3.12", "--handler", "app.handler", "--role", ROLE,
                       "--zip-file", f"fileb://{package}", "--timeout", "10"))
    assert (created["FunctionArn"], created["Timeout"]) == (function_arn(unique), 10)

    out = tmp_path / "out.json"
    invoked = _ok(_aws(server, tmp_path, "invoke", "--function-name", unique, "--payload",
                       '{"a": 2, "b": 40}', "--log-type", "Tail", str(out)))
    assert (invoked["StatusCode"], invoked["ExecutedVersion"]) == (200, "$LATEST")
    assert json.loads(out.read_text()) == {"sum": 42}

    listed = _ok(_aws(server, tmp_path, "list-functions"))
    assert unique in [f["FunctionName"] for f in listed["Functions"]]
    updated = _ok(_aws(server, tmp_path, "update-function-configuration", "--function-name",
                       unique, "--memory-size", "512", "--environment",
                       "Variables={STAGE=test}"))
    assert (updated["MemorySize"], updated["Environment"]) == (
        512, {"Variables": {"STAGE": "test"}})
    got = _ok(_aws(server, tmp_path, "get-function", "--function-name", unique))
    assert got["Configuration"]["RevisionId"] == updated["RevisionId"]
    # The model gives DeleteFunction a StatusCode member (the HTTP status, 204), so newer
    # CLIs print it.
    assert _ok(_aws(server, tmp_path, "delete-function", "--function-name", unique)) in (
        None, {"StatusCode": 204})
    assert _aws(server, tmp_path, "get-function", "--function-name", unique).returncode != 0


def test_errors_read_as_lambdas(server: Server, tmp_path: Path, unique: str) -> None:
    done = _aws(server, tmp_path, "get-function", "--function-name", unique)
    assert done.returncode != 0
    assert ("An error occurred (ResourceNotFoundException) when calling the GetFunction "
            f"operation: Function not found: {function_arn(unique)}") in done.stderr
    bad = tmp_path / "bad.zip"  # a zip (the CLI checks that much) whose entry climbs out
    bad.write_bytes(zipped(**{"..__escaped.py": "print('out')"}))
    done = _aws(server, tmp_path, "create-function", "--function-name", unique, "--runtime",
                "python3.12", "--handler", "app.handler", "--role", ROLE, "--zip-file",
                f"fileb://{bad}")
    assert done.returncode != 0
    assert ("(InvalidParameterValueException) when calling the CreateFunction operation: "
            "The package entry '../escaped.py' points outside the package.") in done.stderr
