"""IAM enforcement in the engine: a state machine's role checked before each function call,
the denial a Task failure that Retry and Catch see, and ``--iam strict``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.store.sqlite import SqliteStore

ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "states.amazonaws.com"}}]})


def _engine(path: Path, strict: bool = False) -> Engine:
    store = SqliteStore(path)
    store.migrate()
    functions = PythonFunctions()
    functions.register("allowed", lambda event, context: {"ran": "allowed"})
    functions.register("other", lambda event, context: {"ran": "other"})
    return Engine(store, Settings(wait_scale=0, iam_strict=strict), invoker=functions)


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = _engine(tmp_path / "db.sqlite")
    yield built
    built.store.close()


def _role(engine: Engine, name: str, *functions: str) -> str:
    role = engine.call_iam(lambda ops: ops.create_role(name, TRUST))
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "lambda:InvokeFunction",
        "Resource": [FN + f for f in functions]}]})
    engine.call_iam(lambda ops: ops.put_role_policy(name, "invoke", document))
    return role.arn


def _express(engine: Engine, name: str, role_arn: str, states: dict[str, Any]) -> Any:
    definition = json.dumps({"StartAt": next(iter(states)), "States": states})
    machine = engine.create_state_machine(name, definition, role_arn, type="EXPRESS")
    return engine.start_sync_execution(machine.arn, "{}")


def test_a_denied_call_is_a_lambda_error_that_catch_sees(engine: Engine) -> None:
    role = _role(engine, "r", "allowed")
    result = _express(engine, "m", role, {
        "A": {"Type": "Task", "Resource": FN + "allowed", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "other"},
              "Retry": [{"ErrorEquals": ["Lambda.AWSLambdaException"], "MaxAttempts": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.denied",
                         "Next": "Done"}], "End": True},
        "Done": {"Type": "Pass", "End": True}})
    assert result.status == "SUCCEEDED"
    assert result.output["a"] == {"ran": "allowed"}
    assert result.output["denied"]["Error"] == "Lambda.AWSLambdaException"
    assert (f"is not authorized to perform: lambda:InvokeFunction on resource: {FN}other "
            "because no identity-based policy allows") in result.output["denied"]["Cause"]
    # Retried once, denied both times; the function never ran.
    failed = [e for e in result.events if e.type == "TaskFailed"]
    assert len(failed) == 2
    assert [i.function_name for i in result.invocations] == ["allowed"]


def test_a_role_unknown_to_statewright_is_not_enforced(engine: Engine) -> None:
    result = _express(engine, "m", f"arn:aws:iam::{ACCOUNT}:role/tutorial-example", {
        "B": {"Type": "Task", "Resource": FN + "other", "End": True}})
    assert (result.status, result.output) == ("SUCCEEDED", {"ran": "other"})


def test_the_policy_is_read_at_each_call(engine: Engine) -> None:
    role = _role(engine, "r", "allowed")
    states = {"B": {"Type": "Task", "Resource": FN + "other", "End": True}}
    assert _express(engine, "m", role, states).status == "FAILED"
    engine.call_iam(lambda ops: ops.attach_role_policy(
        "r", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"))
    assert _express(engine, "m", role, states).status == "SUCCEEDED"


def test_the_console_can_show_what_a_role_may_invoke(engine: Engine) -> None:
    zipped = _zip("def handler(event, context):\n    return event\n")
    for name in ("allowed", "other"):
        engine.create_function(name, "python3.12", "index.handler", zipped,
                               role=f"arn:aws:iam::{ACCOUNT}:role/fn")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    enforced = engine.create_state_machine("m", definition, _role(engine, "r", "allowed"))
    assert engine.role_permissions(enforced.arn) == {"allowed": True, "other": False}
    free = engine.create_state_machine("n", definition, f"arn:aws:iam::{ACCOUNT}:role/x")
    assert engine.role_permissions(free.arn) is None


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def test_strict_mode_requires_a_role_that_trusts_step_functions(tmp_path: Path) -> None:
    strict = _engine(tmp_path / "db.sqlite", strict=True)
    try:
        definition = json.dumps({"StartAt": "B", "States": {
            "B": {"Type": "Task", "Resource": FN + "allowed", "End": True}}})
        with pytest.raises(errors.AccessDeniedException) as raised:
            strict.create_state_machine("m", definition, f"arn:aws:iam::{ACCOUNT}:role/none")
        assert raised.value.message.startswith(
            "Neither the global service principal states.amazonaws.com")
        lambda_only = json.dumps({"Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"}}]})
        other = strict.call_iam(lambda ops: ops.create_role("lambda-role", lambda_only))
        with pytest.raises(errors.AccessDeniedException):
            strict.create_state_machine("m", definition, other.arn)
        role = _role(strict, "r", "allowed")
        machine = strict.create_state_machine("m", definition, role, type="EXPRESS")
        assert strict.start_sync_execution(machine.arn).status == "SUCCEEDED"
        with pytest.raises(errors.AccessDeniedException):
            strict.update_state_machine(machine.arn, role_arn=other.arn.replace(
                "lambda-role", "gone"))
    finally:
        strict.store.close()


def _grant(engine: Engine, role_arn: str | None, function: str | None = None) -> Any:
    if function is not None:
        key_id = engine._access_keys.for_function(function, role_arn or "")[0]
    else:
        key_id = engine._access_keys.create("k", role_arn)[0]
    return engine.access_key(key_id)


def test_request_denial_follows_the_key_binding(tmp_path: Path, monkeypatch: Any) -> None:
    """An administrator's key may do anything; a role-bound key what its role allows; a key
    whose role is not in IAM nothing, except a function's key, not enforced unless strict."""
    monkeypatch.setenv("STATEWRIGHT_SERVER_KEY_FILE", str(tmp_path / "server.key"))
    for strict in (False, True):
        engine = _engine(tmp_path / f"db-{strict}.sqlite", strict)
        try:
            role = _role(engine, "r", "allowed")
            need = [("lambda:InvokeFunction", FN + "allowed", {})]
            other = [("lambda:InvokeFunction", FN + "other", {})]
            admin = _grant(engine, None)
            assert engine.request_denial(admin, other, {}) is None
            bound = _grant(engine, role)
            assert engine.request_denial(bound, need, {}) is None
            denied = engine.request_denial(bound, other, {})
            assert denied == (
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/r/k is not authorized to perform: "
                f"lambda:InvokeFunction on resource: {FN}other because no identity-based "
                "policy allows the lambda:InvokeFunction action")
            missing = f"arn:aws:iam::{ACCOUNT}:role/not-here"
            assert engine.request_denial(_grant(engine, missing), need, {}) is not None
            function_key = _grant(engine, missing, function="f")
            assert function_key.session_token is not None
            assert (engine.request_denial(function_key, need, {}) is None) is not strict
            # The function's own key, bound to a role that exists: that role's session.
            scoped = _grant(engine, role, function="g")
            assert "assumed-role/r/g " in (engine.request_denial(scoped, other, {}) or "")
        finally:
            engine.store.close()
