"""ProcessFunctions with Node.js handlers: the seed's ES modules unchanged, CommonJS, callbacks.

Skipped only where ``node`` is not installed (then one test checks the error instead).
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from statewright.functions.base import InvokeResult
from statewright.functions.process import ProcessFunctions
from tests.functions.conftest import SEED, Deployment

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def error_of(result: InvokeResult) -> dict[str, object]:
    assert result.function_error == "Unhandled", result
    error = json.loads(result.payload)
    assert isinstance(error, dict)
    return error


@needs_node
@pytest.mark.parametrize(
    ("module", "expected_keys", "log_line"),
    [
        ("checkInventory", {"orderId", "inStock"}, "Checking inventory for order: o-1"),
        ("processPayment", {"orderId", "paymentSuccessful"}, "Processing payment for order: o-1"),
        ("updateOrderStatus", {"orderId", "status"}, "Updating status for order: o-1"),
    ],
)
def test_the_seed_handlers_run_unchanged(
    deploy: Deployment,
    functions: ProcessFunctions,
    module: str,
    expected_keys: set[str],
    log_line: str,
) -> None:
    source = (SEED / f"{module}.mjs").read_text()
    deploy.files(module, {f"{module}.mjs": source}, f"{module}.handler")
    result = functions.invoke(module, {"orderId": "o-1"})
    assert result.function_error is None, result
    answer = json.loads(result.payload)
    assert set(answer) == expected_keys
    assert answer["orderId"] == "o-1"
    assert all(isinstance(answer[key], bool) for key in expected_keys - {"orderId", "status"})
    assert answer.get("status", "Completed") == "Completed"
    assert result.logs == f"{log_line}\n"
    # Compact JSON, as JSON.stringify writes it.
    assert result.payload == json.dumps(answer, separators=(",", ":")).encode()


@needs_node
def test_an_async_throw_becomes_lambdas_node_error(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.files(
        "pay",
        {
            "pay.mjs": """
            class PaymentError extends Error {
              constructor(message) { super(message); this.name = "PaymentError"; }
            }
            export const handler = async (event) => {
              throw new PaymentError(`card declined for ${event.orderId}`);
            };
            """,
        },
        "pay.handler",
    )
    result = functions.invoke("pay", {"orderId": "o-2"})
    error = error_of(result)
    # Lambda's Node.js runtime: errorType, errorMessage, and "trace" (not "stackTrace").
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert error["errorType"] == "PaymentError"
    assert error["errorMessage"] == "card declined for o-2"
    trace = error["trace"]
    assert isinstance(trace, list)
    assert trace[0] == "PaymentError: card declined for o-2"
    assert re.fullmatch(r"    at \S*handler \(file:///var/task/pay\.mjs:6:9\)", trace[1]), trace
    assert "Invoke Error" in result.logs


@needs_node
@pytest.mark.parametrize(
    ("files", "handler"),
    [
        (
            {"index.js": "exports.handler = async (event) => ({ style: 'cjs', event });"},
            "index.handler",
        ),
        (
            {"lib/app.cjs": "module.exports = { main: async (event) => ({ event }) };"},
            "lib/app.main",
        ),
        (
            {
                "index.js": "export const handler = async (event) => ({ style: 'esm', event });",
                "package.json": '{"type": "module"}',
            },
            "index.handler",
        ),
        (
            {"nested.mjs": "export const api = { v1: { get: async (event) => ({ event }) } };"},
            "nested.api.v1.get",
        ),
    ],
)
def test_module_kinds_and_handler_names(
    deploy: Deployment, functions: ProcessFunctions, files: dict[str, str], handler: str
) -> None:
    deploy.files("kinds", files, handler)
    result = functions.invoke("kinds", {"n": 1})
    assert result.function_error is None, result
    assert json.loads(result.payload)["event"] == {"n": 1}


@needs_node
def test_callback_style_handlers(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.files(
        "cb",
        {
            "cb.js": """
            exports.handler = function (event, context, callback) {
              setTimeout(() => {
                if (event.fail) callback(new Error("callback failure"));
                else callback(null, { doubled: event.n * 2 });
              }, 5);
            };
            exports.legacy = function (event, context) { context.succeed({ legacy: true }); };
            exports.quiet = function (event) { console.log("returns nothing"); };
            exports.text = function (event, context, callback) { callback("plain text"); };
            """,
        },
        "cb.handler",
    )
    assert json.loads(functions.invoke("cb", {"n": 21}).payload) == {"doubled": 42}
    error = error_of(functions.invoke("cb", {"fail": True}))
    assert (error["errorType"], error["errorMessage"]) == ("Error", "callback failure")
    deploy.update("cb", handler="cb.legacy")
    assert json.loads(functions.invoke("cb", {}).payload) == {"legacy": True}
    # A plain function that never answers completes with null once its event loop is empty.
    deploy.update("cb", handler="cb.quiet")
    assert functions.invoke("cb", {}).payload == b"null"
    deploy.update("cb", handler="cb.text")
    assert error_of(functions.invoke("cb", {})) == {
        "errorType": "string",
        "errorMessage": "plain text",
        "trace": [],
    }


@needs_node
def test_context_environment_and_warm_state(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.files(
        "ctx",
        {
            "ctx.mjs": """
            let calls = 0;
            export const handler = async (event, context) => ({
              calls: ++calls,
              pid: process.pid,
              functionName: context.functionName,
              functionVersion: context.functionVersion,
              memoryLimitInMB: context.memoryLimitInMB,
              invokedFunctionArn: context.invokedFunctionArn,
              awsRequestId: context.awsRequestId,
              remaining: context.getRemainingTimeInMillis(),
              table: process.env.TABLE_NAME,
              region: process.env.AWS_REGION,
            });
            """,
        },
        "ctx.handler",
        environment={"TABLE_NAME": "orders"},
        timeout=4,
    )
    first = json.loads(functions.invoke("ctx", {}).payload)
    second = json.loads(functions.invoke("ctx", {}).payload)
    assert (first["calls"], second["calls"]) == (1, 2)
    assert first["pid"] == second["pid"]
    assert 0 < first["remaining"] <= 4000
    assert len(first["awsRequestId"]) == 36
    assert {
        key: first[key]
        for key in (
            "functionName",
            "functionVersion",
            "memoryLimitInMB",
            "invokedFunctionArn",
            "table",
            "region",
        )
    } == {
        "functionName": "ctx",
        "functionVersion": "$LATEST",
        "memoryLimitInMB": "128",
        "invokedFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:ctx",
        "table": "orders",
        "region": "us-east-1",
    }


@needs_node
def test_a_busy_loop_times_out_and_the_next_call_works(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.files(
        "spin",
        {"spin.mjs": "export const handler = async (e) => { while (e.spin) {} return 'ok'; };"},
        "spin.handler",
        timeout=1,
    )
    started = time.monotonic()
    error = error_of(functions.invoke("spin", {"spin": True}))
    assert time.monotonic() - started < 2.5
    assert "Task timed out after 1." in str(error["errorMessage"])
    assert functions.invoke("spin", {}).payload == b'"ok"'


@needs_node
def test_an_uncaught_exception_fails_the_invocation_and_replaces_the_worker(
    deploy: Deployment, functions: ProcessFunctions
) -> None:
    deploy.files(
        "boom",
        {
            "boom.mjs": """
            export const handler = async (event) => {
              if (event.boom) {
                setTimeout(() => { throw new TypeError("late failure"); }, 1);
                return new Promise(() => {});
              }
              return process.pid;
            };
            """,
        },
        "boom.handler",
    )
    pid = int(functions.invoke("boom", {}).payload)
    error = error_of(functions.invoke("boom", {"boom": True}))
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "late failure")
    assert int(functions.invoke("boom", {}).payload) != pid


@needs_node
@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({}, "missing.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'missing'"),
        (
            {"a.mjs": "export const other = 1;"},
            "a.handler",
            "Runtime.HandlerNotFound",
            "a.handler is undefined or not exported",
        ),
        (
            {"a.mjs": "export const handler = async (e) => {"},
            "a.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: Unexpected end of input",
        ),
        ({"a.mjs": ""}, "nodot", "Runtime.MalformedHandlerName", "Bad handler nodot"),
    ],
)
def test_node_init_failures(
    deploy: Deployment,
    functions: ProcessFunctions,
    files: dict[str, str],
    handler: str,
    error_type: str,
    message: str,
) -> None:
    deploy.files("init", files, handler)
    error = error_of(functions.invoke("init", {}))
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


@needs_node
def test_node_out_of_memory(deploy: Deployment, functions: ProcessFunctions) -> None:
    deploy.files(
        "hog",
        {
            "hog.mjs": """
            export const handler = async () => {
              const kept = [];
              for (;;) kept.push(new Array(1 << 20).fill(kept.length));
            };
        """
        },
        "hog.handler",
        timeout=20,
    )
    error = error_of(functions.invoke("hog", {}))
    assert error["errorType"] == "Runtime.OutOfMemory"


def test_without_node_a_node_function_fails_clearly(
    deploy: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    deploy.files("n", {"n.mjs": "export const handler = async () => 1;"}, "n.handler")
    with ProcessFunctions(deploy.resolve) as functions:
        error = error_of(functions.invoke("n", {}))
    assert error["errorType"] == "Runtime.NodeNotFound"
    assert str(error["errorMessage"]).startswith("RequestId: ")
    # In the user's terms: what is missing and what to do, no internal API.
    assert "function n (nodejs20.x) needs Node.js, and no `node` program is on PATH" in str(
        error["errorMessage"])
    assert "ProcessFunctions" not in str(error["errorMessage"])
