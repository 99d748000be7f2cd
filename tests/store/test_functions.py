"""Contract: deployed functions (configuration + zip), on every backend."""

from __future__ import annotations

import dataclasses
import os

import pytest

from statewright.store.base import (
    AlreadyExists,
    Conflict,
    FunctionRecord,
    InvalidToken,
    NotFound,
    Store,
)
from tests.store.helpers import machine


def function(name: str = "checkInventory", code: bytes | None = b"PK\x03\x04zip\x00\xff",
             revision: str = "rev-1", created_at: float = 1000.0) -> FunctionRecord:
    return FunctionRecord(
        name=name,
        runtime="python3.12",
        handler=f"{name}.handler",
        code=code,
        code_sha256="sha-" + revision,
        code_size=len(code or b""),
        timeout=3,
        memory_size=128,
        environment='{"GREETING": "héllo"}',
        role="arn:aws:iam::123456789012:role/r",
        description="checks stock",
        created_at=created_at,
        last_modified=created_at,
        revision_id=revision,
    )


def test_create_then_get_returns_the_record_and_its_bytes_exactly(store: Store) -> None:
    record = function(code=os.urandom(70_000) + b"\x00")
    store.put_function(record, create=True)
    assert store.get_function(record.name) == record
    assert store.get_function("missing") is None


def test_a_read_without_code_has_everything_but_the_package(store: Store) -> None:
    record = function()
    store.put_function(record, create=True)
    assert store.get_function(record.name, with_code=False) == dataclasses.replace(
        record, code=None)


def test_create_of_a_taken_name_raises_already_exists_and_changes_nothing(store: Store) -> None:
    store.put_function(function(), create=True)
    with pytest.raises(AlreadyExists, match="already exists"):
        store.put_function(function(code=b"other", revision="rev-2"), create=True)
    assert store.get_function("checkInventory") == function()


def test_names_are_case_sensitive(store: Store) -> None:
    store.put_function(function("orders"), create=True)
    store.put_function(function("Orders"), create=True)
    assert [f.name for f in store.list_functions(10, None).items] == ["Orders", "orders"]


def test_a_new_function_needs_its_code(store: Store) -> None:
    with pytest.raises(ValueError, match="needs its code"):
        store.put_function(function(code=None), create=True)


def test_update_replaces_all_but_the_creation_date(store: Store) -> None:
    store.put_function(function(), create=True)
    changed = dataclasses.replace(
        function(code=b"new zip", revision="rev-2", created_at=2000.0),
        runtime="nodejs20.x", handler="index.handler", timeout=30, memory_size=512,
        environment="{}", description="", role="arn:aws:iam::123456789012:role/other",
    )
    store.put_function(changed, create=False)
    assert store.get_function("checkInventory") == dataclasses.replace(changed, created_at=1000.0)


def test_an_update_without_code_keeps_the_stored_package(store: Store) -> None:
    original = function()
    store.put_function(original, create=True)
    store.put_function(dataclasses.replace(original, code=None, timeout=60, revision_id="rev-2",
                                           last_modified=1500.0), create=False)
    stored = store.get_function("checkInventory")
    assert stored is not None
    assert (stored.code, stored.timeout, stored.revision_id) == (original.code, 60, "rev-2")


def test_update_of_a_missing_function_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.put_function(function(), create=False)
    assert store.get_function("checkInventory") is None


def test_a_conditional_update_needs_the_current_revision(store: Store) -> None:
    store.put_function(function(), create=True)
    second = function(code=b"v2", revision="rev-2")
    with pytest.raises(Conflict):
        store.put_function(second, create=False, expected_revision="rev-0")
    assert store.get_function("checkInventory") == function()
    store.put_function(second, create=False, expected_revision="rev-1")
    assert store.get_function("checkInventory") == second
    with pytest.raises(NotFound):
        store.put_function(function("other"), create=False, expected_revision="rev-1")


def test_delete_reports_whether_it_existed(store: Store) -> None:
    store.put_function(function(), create=True)
    assert store.delete_function("checkInventory") is True
    assert store.get_function("checkInventory") is None
    assert store.delete_function("checkInventory") is False
    store.put_function(function(), create=True)  # the name is free again


def test_listing_pages_by_name_without_code(store: Store) -> None:
    names = [f"fn-{i:02d}" for i in range(7)]
    for name in reversed(names):
        store.put_function(function(name), create=True)
    seen: list[str] = []
    token: str | None = None
    while True:
        page = store.list_functions(3, token)
        assert all(f.code is None and f.code_size == len(function().code or b"")
                   for f in page.items)
        seen += [f.name for f in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == names
    assert store.list_functions(0, None).items[0] == dataclasses.replace(
        function("fn-00"), code=None)


def test_listing_nothing_is_one_empty_page(store: Store) -> None:
    page = store.list_functions(10, None)
    assert (page.items, page.next_token) == ([], None)


def test_a_foreign_token_is_refused(store: Store) -> None:
    for name in ("a", "b"):
        store.put_function(function(name), create=True)
        store.create_state_machine(machine(name), {})
    machines_token = store.list_state_machines(1, None).next_token
    assert machines_token is not None
    for token in ("garbage!", "e30", machines_token):
        with pytest.raises(InvalidToken):
            store.list_functions(1, token)
    token = store.list_functions(1, None).next_token
    assert token is not None
    assert [f.name for f in store.list_functions(1, token).items] == ["b"]
