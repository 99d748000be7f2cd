"""Deployed functions in the runtime: the registry that turns records into runnable folders,
and the Engine's Lambda operations (AWS's checks, create-or-update, invoke)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statewright import errors
from statewright.functions.process import ProcessFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.functions import FunctionRegistry
from statewright.store.base import FunctionRecord, Store
from statewright.store.sqlite import SqliteStore


def package(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


V1 = package(**{"app.py": "def handler(event, context):\n    return 'v1'\n"})
V2 = package(**{"app.py": "def handler(event, context):\n    return 'v2'\n"})


class Counting:
    """A store that counts the reads of whole packages."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.package_reads = 0

    def get_function(self, name: str, *, with_code: bool = True) -> FunctionRecord | None:
        self.package_reads += with_code
        return self.store.get_function(name, with_code=with_code)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def engine(store: SqliteStore, tmp_path: Path) -> Iterator[Engine]:
    registry = FunctionRegistry(store, tmp_path / "code")
    with ProcessFunctions(registry.resolve) as invoker:
        yield Engine(store, invoker=invoker, functions=registry)


# ----------------------------------------------------------------------------- the registry


def test_resolve_unpacks_the_code_once_per_sha(store: SqliteStore, tmp_path: Path) -> None:
    counting = Counting(store)
    clock = Clock()
    registry = FunctionRegistry(counting, tmp_path / "code", clock=clock)  # type: ignore[arg-type]
    engine = Engine(store, functions=registry)
    assert registry.resolve("app") is None
    engine.create_function("app", "python3.12", "app.handler", V1, timeout=7, memory=256,
                           env={"STAGE": "test"})
    engine.create_function("twin", "python3.12", "app.handler", V1)
    first = registry.resolve("app")
    assert first is not None
    assert (first.runtime, first.handler, first.timeout, first.memory_mb) == (
        "python3.12", "app.handler", 7.0, 256)
    assert dict(first.environment) == {"STAGE": "test"}
    assert (first.code_dir / "app.py").read_text().endswith("'v1'\n")
    twin = registry.resolve("twin")
    assert twin is not None and twin.code_dir == first.code_dir
    assert counting.package_reads == 0  # create unpacked the code already
    clock.now += 5
    assert registry.resolve("app") == first  # the revision is checked, nothing read again
    assert counting.package_reads == 0


def test_changes_from_elsewhere_are_seen_after_the_ttl(store: SqliteStore, tmp_path: Path
                                                       ) -> None:
    clock = Clock()
    worker_side = FunctionRegistry(store, tmp_path / "worker", clock=clock)
    api_side = Engine(store, functions=FunctionRegistry(store, tmp_path / "api"))
    api_side.create_function("app", "python3.12", "app.handler", V1)
    before = worker_side.resolve("app")
    assert before is not None
    api_side.update_function_code("app", V2)
    clock.now += 0.5
    assert worker_side.resolve("app") == before  # still within the TTL
    clock.now += 1.0
    after = worker_side.resolve("app")
    assert after is not None and after.code_sha256 != before.code_sha256
    assert (after.code_dir / "app.py").read_text().endswith("'v2'\n")
    api_side.delete_function("app")
    clock.now += 1.5
    assert worker_side.resolve("app") is None


def test_the_engine_sees_its_own_changes_at_once(engine: Engine) -> None:
    engine.create_function("app", "python3.12", "app.handler", V1)
    assert _invoke(engine, "app") == "v1"
    engine.update_function_code("app", V2)
    assert _invoke(engine, "app") == "v2"
    engine.update_function_configuration("app", handler="missing.handler")
    result = engine.invoke_function("app", b"{}")
    assert result is not None and result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Runtime.ImportModuleError"


def test_a_temporary_cache_is_removed_on_close(store: SqliteStore) -> None:
    registry = FunctionRegistry(store)
    Engine(store, functions=registry).create_function("app", "python3.12", "app.handler", V1)
    config = registry.resolve("app")
    assert config is not None and config.code_dir.is_dir()
    registry.close()
    assert not config.code_dir.parent.exists()


# ----------------------------------------------------------------------------- operations


def _invoke(engine: Engine, name: str, payload: bytes = b"{}") -> Any:
    result = engine.invoke_function(name, payload)
    assert result is not None and result.function_error is None, result
    return json.loads(result.payload)


REFUSED: list[tuple[str, dict[str, Any], type[errors.AwsError], str]] = [
    ("a qualified name", {"name": "app:1"}, errors.InvalidParameterValueException, "qualifier"),
    ("a long name", {"name": "n" * 65}, errors.ValidationException, "functionName"),
    ("a handler without a dot", {"handler": "app"}, errors.InvalidParameterValueException,
     "file.function"),
    ("a handler with a space", {"handler": "a b.c"}, errors.ValidationException, "handler"),
    ("an unknown runtime", {"runtime": "ruby3.3"}, errors.InvalidParameterValueException,
     "not supported by statewright"),
    ("no handler", {"handler": None}, errors.InvalidParameterValueException, "mandatory"),
    ("a reserved variable", {"env": {"AWS_SESSION_TOKEN": "x"}},
     errors.InvalidParameterValueException,
     "AWS_SESSION_TOKEN"),
    ("a one-letter variable", {"env": {"A": "x"}}, errors.ValidationException,
     "environment.variables"),
    ("a bad role", {"role": "arn:aws:iam::1:role/r"}, errors.ValidationException, "role"),
    ("an empty package", {"code": b""}, errors.InvalidParameterValueException, "unzip"),
    ("a package with a symlink", {"code": "symlink"}, errors.InvalidParameterValueException,
     "symbolic link"),
]


@pytest.mark.parametrize(("case", "change", "error", "text"), REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refused_creates_store_nothing(engine: Engine, store: SqliteStore, case: str,
                                       change: dict[str, Any], error: type[errors.AwsError],
                                       text: str) -> None:
    arguments: dict[str, Any] = {"name": "app", "runtime": "python3.12",
                                 "handler": "app.handler", "code": V1, **change}
    if arguments["code"] == "symlink":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            link = zipfile.ZipInfo("link")
            link.external_attr = 0o120777 << 16
            archive.writestr(link, "/etc/passwd")
        arguments["code"] = buffer.getvalue()
    with pytest.raises(error, match=text):
        engine.create_function(arguments["name"], arguments["runtime"], arguments["handler"],
                               arguments["code"], env=arguments.get("env"),
                               role=arguments.get("role"))
    assert store.list_functions(10, None).items == []


def test_deploy_creates_then_updates_only_on_change(engine: Engine) -> None:
    record, action = engine.deploy_function("app", "python3.12", "app.handler", V1)
    assert action == "created"
    again, action = engine.deploy_function("app", "python3.12", "app.handler", V1)
    assert (action, again.revision_id) == ("unchanged", record.revision_id)
    changed, action = engine.deploy_function("app", "python3.12", "app.handler", V2, timeout=9)
    assert action == "updated"
    assert (changed.timeout, changed.created_at) == (9, record.created_at)
    assert changed.code_sha256 != record.code_sha256
    assert _invoke(engine, "app") == "v2"


def test_an_update_naming_an_old_revision_is_refused(engine: Engine) -> None:
    created = engine.create_function("app", "python3.12", "app.handler", V1)
    engine.update_function_configuration("app", timeout=5, revision_id=created.revision_id)
    with pytest.raises(errors.PreconditionFailedException):
        engine.update_function_configuration("app", timeout=6, revision_id=created.revision_id)
    assert engine.get_function("app").timeout == 5


def test_invoke_types_and_faults(engine: Engine, store: SqliteStore) -> None:
    engine.create_function("app", "python3.12", "app.handler", V1)
    assert engine.invoke_function("app", b"{}", "DryRun") is None
    assert engine.invoke_function("app", b"{}", "Event") is None
    with pytest.raises(errors.InvalidRequestContentException):
        engine.invoke_function("app", b"{nope")
    with pytest.raises(errors.ValidationException):
        engine.invoke_function("app", b"{}", "Sometime")
    with pytest.raises(errors.ResourceNotFoundException, match=r"function:app:2$"):
        engine.invoke_function("app:2", b"{}")
    with pytest.raises(errors.ServiceException):
        Engine(store).invoke_function("app", b"{}")  # an engine without an invoker
    assert engine.get_function_code("app") == V1
    with pytest.raises(errors.InvalidParameterValueException, match="LATEST"):
        engine.delete_function("app:$LATEST")
    engine.delete_function("arn:aws:lambda:eu-west-1:210987654321:function:app")
    with pytest.raises(errors.ResourceNotFoundException):
        engine.get_function("app")
