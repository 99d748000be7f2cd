"""ProcessFunctions with Python handlers: results, errors, context, logs and warm reuse."""

from __future__ import annotations

import json
import os
import re
import threading

import pytest

from statewright.functions.base import FunctionNotFound, InvokeResult
from statewright.functions.process import ProcessFunctions
from tests.functions.conftest import Deployment, process_gone, wait_for

ECHO = """
    def handler(event, context):
        return {"got": event}
"""

FAILING = """
    class OutOfStockError(Exception):
        pass


    def handler(event, context):
        check(event)


    def check(event):
        raise OutOfStockError(f"no stock for {event['orderId']}")
"""


def error_of(result: InvokeResult) -> dict[str, object]:
    assert result.function_error == "Unhandled", result
    error = json.loads(result.payload)
    assert isinstance(error, dict)
    return error


def test_a_handler_result_is_its_json(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.python("echo", ECHO)
    result = functions.invoke("echo", {"orderId": "o-1", "items": [1, 2.5, None, "é"]})
    assert result.function_error is None
    assert json.loads(result.payload) == {"got": {"orderId": "o-1", "items": [1, 2.5, None, "é"]}}


def test_an_unknown_function_is_not_found(functions: ProcessFunctions) -> None:
    with pytest.raises(FunctionNotFound):
        functions.invoke("nope", {})


def test_an_exception_becomes_lambdas_python_error(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.python("fail", FAILING)
    result = functions.invoke("fail", {"orderId": "o-9"})
    error = error_of(result)
    # Lambda's Python runtime: these four keys in this order, json.dumps' default separators
    # (the Cause Step Functions records is this text verbatim), frames under /var/task.
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert result.payload == json.dumps(error).encode()
    assert error["errorMessage"] == "no stock for o-9"
    assert error["errorType"] == "OutOfStockError"
    assert error["stackTrace"] == [
        '  File "/var/task/app.py", line 7, in handler\n    check(event)\n',
        '  File "/var/task/app.py", line 11, in check\n'
        "    raise OutOfStockError(f\"no stock for {event['orderId']}\")\n",
    ]
    assert "[ERROR] OutOfStockError: no stock for o-9\nTraceback" in result.logs


def test_bytes_are_returned_raw(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.python("raw", "def handler(event, context):\n    return b'\\x00not json'\n")
    assert functions.invoke("raw", {}).payload == b"\x00not json"


def test_an_unencodable_result_is_a_marshal_error(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.python("odd", "def handler(event, context):\n    return {1, 2}\n")
    error = error_of(functions.invoke("odd", {}))
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_prints_are_kept_per_invocation(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.python(
        "chatty",
        """
        import os
        import sys
        print("loading")

        def handler(event, context):
            print("to stdout", event["n"])
            print("to stderr", event["n"], file=sys.stderr)
            os.system(f"echo from a child process {event['n']}")
            return None
        """,
    )
    first = functions.invoke("chatty", {"n": 1})
    second = functions.invoke("chatty", {"n": 2})
    assert first.payload == b"null"
    # The module's own output belongs to the invocation that started the worker, as on Lambda.
    assert first.logs == "loading\nto stdout 1\nto stderr 1\nfrom a child process 1\n"
    assert second.logs == "to stdout 2\nto stderr 2\nfrom a child process 2\n"


def test_the_environment_is_the_functions_own(
    deploy: Deployment, functions: ProcessFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEWRIGHT_SERVER_SECRET", "do-not-leak")
    config = deploy.python(
        "env",
        """
        import os

        def handler(event, context):
            return {key: os.environ.get(key) for key in event}
        """,
        environment={"TABLE_NAME": "orders", "AWS_REGION": "mars-1"},
        memory_mb=256,
    )
    keys = [
        "TABLE_NAME",
        "STATEWRIGHT_SERVER_SECRET",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_EXECUTION_ENV",
        "LAMBDA_TASK_ROOT",
        "_HANDLER",
        "TZ",
    ]
    assert json.loads(functions.invoke("env", keys).payload) == {
        "TABLE_NAME": "orders",
        "STATEWRIGHT_SERVER_SECRET": None,  # the server's environment is not inherited
        "AWS_REGION": "us-east-1",  # reserved by Lambda: the function cannot override it
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "env",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(config.code_dir),
        "_HANDLER": "app.handler",
        "TZ": ":UTC",
    }


def test_the_context_has_lambdas_attributes(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.python(
        "ctx",
        """
        import os

        def handler(event, context):
            return {
                "aws_request_id": context.aws_request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "cwd": os.getcwd(),
            }
        """,
        timeout=5,
    )
    seen = json.loads(functions.invoke("ctx", {}).payload)
    assert len(seen.pop("aws_request_id")) == 36
    assert 0 < seen.pop("remaining") <= 5000
    assert seen.pop("cwd") == str(deploy.configs["ctx"].code_dir)
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", seen.pop("log_stream_name"))
    assert seen == {
        "function_name": "ctx",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:ctx",
        "memory_limit_in_mb": "128",  # a string, as Lambda's runtime reads it from the env
        "log_group_name": "/aws/lambda/ctx",
    }


def test_a_worker_stays_warm(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.python(
        "counter",
        """
        import os
        calls = 0

        def handler(event, context):
            global calls
            calls += 1
            return [calls, os.getpid()]
        """,
    )
    answers = [json.loads(functions.invoke("counter", {}).payload) for _ in range(3)]
    assert [calls for calls, _ in answers] == [1, 2, 3]
    assert len({pid for _, pid in answers}) == 1
    assert functions.worker_count("counter") == 1


# Each invocation waits until two invocations have arrived: it can only finish if both run
# at the same time, so passing proves parallel workers without timing anything.
RENDEZVOUS = """
    import os
    import pathlib
    import time

    def handler(event, context):
        meeting = pathlib.Path(event["dir"])
        (meeting / str(os.getpid())).touch()
        while len(list(meeting.iterdir())) < 2:
            time.sleep(0.01)
        return os.getpid()
"""


def invoke_together(
    functions: ProcessFunctions, name: str, payload: object, count: int = 2
) -> list[InvokeResult]:
    results: list[InvokeResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(functions.invoke(name, payload)))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_invocations_run_in_parallel_workers(
    deploy: Deployment, functions: ProcessFunctions, tmp_path: os.PathLike[str]
) -> None:
    deploy.python("meet", RENDEZVOUS, timeout=10)
    results = invoke_together(functions, "meet", {"dir": str(tmp_path)})
    assert [r.function_error for r in results] == [None, None]
    assert len({int(r.payload) for r in results}) == 2


def test_new_code_gets_new_workers(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.python(
        "v",
        "import os\n\ndef handler(event, context):\n    return os.getpid()\n",
        code_sha256="one",
    )
    old_pid = int(functions.invoke("v", {}).payload)
    deploy.update("v", code_sha256="two")
    new_pid = int(functions.invoke("v", {}).payload)
    assert new_pid != old_pid
    wait_for(lambda: process_gone(old_pid))
    assert functions.worker_count("v") == 1


def test_idle_workers_are_reaped(deploy: Deployment) -> None:
    deploy.python("idle", "import os\n\ndef handler(event, context):\n    return os.getpid()\n")
    with ProcessFunctions(deploy.resolve, idle_seconds=0.2) as functions:
        pid = int(functions.invoke("idle", {}).payload)
        wait_for(lambda: functions.worker_count("idle") == 0)
        wait_for(lambda: process_gone(pid))
        assert functions.invoke("idle", {}).function_error is None


def test_close_stops_every_worker(deploy: Deployment) -> None:
    deploy.python("c", "import os\n\ndef handler(event, context):\n    return os.getpid()\n")
    functions = ProcessFunctions(deploy.resolve)
    pid = int(functions.invoke("c", {}).payload)
    functions.close()
    wait_for(lambda: process_gone(pid))
    with pytest.raises(RuntimeError):
        functions.invoke("c", {})


@pytest.mark.parametrize(
    ("handler", "source", "error_type", "message"),
    [
        (
            "missing.handler",
            None,
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            "app.absent",
            "x = 1\n",
            "Runtime.HandlerNotFound",
            "Handler 'absent' missing on module 'app'",
        ),
        (
            "app.handler",
            "def handler(:\n",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app': invalid syntax (app.py, line 1)",
        ),
        (
            "nodots",
            "x = 1\n",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)",
        ),
        ("app.handler", "raise KeyError('TABLE')\n", "KeyError", "'TABLE'"),
    ],
)
def test_init_failures_are_reported_like_lambdas(
    deploy: Deployment,
    functions: ProcessFunctions,
    handler: str,
    source: str | None,
    error_type: str,
    message: str,
) -> None:
    deploy.files("init", {"app.py": source} if source else {}, handler, runtime="python3.12")
    error = error_of(functions.invoke("init", {}))
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


def test_a_failed_init_is_retried_on_the_next_invocation(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    config = deploy.python("late", "raise RuntimeError('not yet')\n")
    assert error_of(functions.invoke("late", {}))["errorType"] == "RuntimeError"
    (config.code_dir / "app.py").write_text(ECHO.replace("\n    ", "\n"))
    assert json.loads(functions.invoke("late", 7).payload) == {"got": 7}
