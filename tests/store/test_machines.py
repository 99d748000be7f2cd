"""Contract: state machines, their revisions and tags, on every backend."""

from __future__ import annotations

import dataclasses

import pytest

from statewright.store.base import AlreadyExists, InvalidToken, NotFound, Store
from tests.store.helpers import machine


def test_create_then_get_returns_the_record_exactly(store: Store) -> None:
    record = machine(definition='{"Comment": "é ü 漢字", "StartAt": "A"}')
    store.create_state_machine(record, {})
    assert store.get_state_machine(record.arn) == record
    assert store.get_state_machine(record.arn + "-missing") is None


def test_create_twice_raises_already_exists(store: Store) -> None:
    store.create_state_machine(machine(), {})
    with pytest.raises(AlreadyExists, match="already exists"):
        store.create_state_machine(machine(revision="rev-2"), {})


def test_update_makes_a_new_current_revision_and_keeps_the_old(store: Store) -> None:
    first = machine()
    store.create_state_machine(first, {})
    second = dataclasses.replace(
        first,
        revision_id="rev-2",
        definition='{"B": 2}',
        updated_at=1500.0,
        role_arn="arn:aws:iam::1:role/other",
    )
    store.update_state_machine(second)
    assert store.get_state_machine(first.arn) == second
    assert store.get_state_machine(first.arn, "rev-1") == first
    assert store.get_state_machine(first.arn, "rev-2") == second
    assert store.get_state_machine(first.arn, "rev-3") is None


def test_update_keeps_the_creation_time(store: Store) -> None:
    first = machine(created_at=1000.0)
    store.create_state_machine(first, {})
    store.update_state_machine(
        dataclasses.replace(first, revision_id="rev-2", created_at=9999.0, updated_at=1500.0)
    )
    current = store.get_state_machine(first.arn)
    assert current is not None
    assert (current.created_at, current.updated_at) == (1000.0, 1500.0)


def test_update_of_a_missing_machine_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.update_state_machine(machine())


def test_delete_removes_machine_and_tags_but_keeps_revisions(store: Store) -> None:
    record = machine()
    store.create_state_machine(record, {"team": "a"})
    assert store.delete_state_machine(record.arn) is True
    assert store.get_state_machine(record.arn) is None
    assert store.get_tags(record.arn) == {}
    # Executions still running it load their revision.
    assert store.get_state_machine(record.arn, "rev-1") == record
    assert store.delete_state_machine(record.arn) is False


def test_a_deleted_name_can_be_created_again(store: Store) -> None:
    store.create_state_machine(machine(), {})
    store.delete_state_machine(machine().arn)
    again = machine(revision="rev-9", definition='{"again": true}')
    store.create_state_machine(again, {})
    assert store.get_state_machine(again.arn) == again


def test_list_pages_through_all_machines_in_creation_order(store: Store) -> None:
    names = [f"m{i:02d}" for i in range(7)][::-1]  # created in reverse name order
    for name in names:
        store.create_state_machine(machine(name), {})
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.list_state_machines(3, token)
        pages += 1
        seen += [m.name for m in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == names
    assert pages == 3


def test_list_page_that_ends_exactly_has_no_token(store: Store) -> None:
    for name in ("a", "b"):
        store.create_state_machine(machine(name), {})
    page = store.list_state_machines(2, None)
    assert [m.name for m in page.items] == ["a", "b"]
    assert page.next_token is None
    assert store.list_state_machines(5, None).next_token is None


def test_list_skips_deleted_machines(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.create_state_machine(machine(name), {})
    first = store.list_state_machines(1, None)
    store.delete_state_machine(machine("b").arn)
    rest = store.list_state_machines(10, first.next_token)
    assert [m.name for m in rest.items] == ["c"]


def test_list_of_nothing_is_an_empty_page(store: Store) -> None:
    page = store.list_state_machines(10, None)
    assert page.items == [] and page.next_token is None


@pytest.mark.parametrize("token", ["garbage!", "WyJoaXN0b3J5IiwxXQ", "", "e30"])
def test_a_foreign_or_malformed_token_raises_invalid_token(store: Store, token: str) -> None:
    # "WyJoaXN0b3J5IiwxXQ" is a valid history token; "e30" is base64 of {}.
    with pytest.raises(InvalidToken):
        store.list_state_machines(10, token)


def test_tags_are_added_replaced_and_removed(store: Store) -> None:
    arn = machine().arn
    store.create_state_machine(machine(), {"team": "a", "env": "dev"})
    assert store.get_tags(arn) == {"team": "a", "env": "dev"}
    store.set_tags(arn, {"env": "prod", "cost": "42"}, ["team"])
    assert store.get_tags(arn) == {"env": "prod", "cost": "42"}
    store.set_tags(arn, {}, ["missing", "cost"])
    assert store.get_tags(arn) == {"env": "prod"}


def test_tags_of_any_resource_are_independent(store: Store) -> None:
    store.set_tags("arn:activity:1", {"k": "1"}, [])
    store.set_tags("arn:activity:2", {"k": "2"}, [])
    assert store.get_tags("arn:activity:1") == {"k": "1"}
    assert store.get_tags("arn:activity:3") == {}
