"""Access keys, server secrets and IAM rows, on both backends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from statewright.store import sqlite as sqlite_module
from statewright.store.base import (
    AccessKeyRecord,
    AlreadyExists,
    PolicyRecord,
    RoleRecord,
    Store,
)
from statewright.store.migrate import load_migrations
from statewright.store.sqlite import SqliteStore

ROLE = RoleRecord("r", "arn:aws:iam::123456789012:role/r", "AROAX", "/", '{"Statement": []}',
                  "", 3600, 1000.0)
POLICY = PolicyRecord("arn:aws:iam::123456789012:policy/p", "p", "ANPAX", "/", "{}", "d",
                      1000.0)


def test_access_keys(store: Store) -> None:
    assert not store.has_access_keys()
    key = AccessKeyRecord("SWAK1", "ci", "v1:sealed", 1000.0)
    store.put_access_key(key)
    with pytest.raises(AlreadyExists):
        store.put_access_key(key)
    assert store.has_access_keys()
    assert store.get_access_key("SWAK1") == key
    assert store.get_access_key("SWAK2") is None
    assert store.list_access_keys() == [key]
    assert store.delete_access_key("SWAK1") and not store.delete_access_key("SWAK1")
    assert not store.has_access_keys()


def test_keys_bound_to_roles_and_functions(store: Store) -> None:
    """A role-bound key turns signature checks on; a function's keys alone do not."""
    function_key = AccessKeyRecord("SWAS1", "function:f", "v1:a", 1000.0,
                                   ROLE.arn, "f")
    store.put_access_key(function_key)
    assert not store.has_access_keys()
    assert store.get_access_key("SWAS1") == function_key
    newer = AccessKeyRecord("SWAS2", "function:f", "v1:b", 1001.0, ROLE.arn + "2", "f")
    store.put_access_key(newer)
    assert store.function_access_keys("f") == [function_key, newer]
    assert store.function_access_keys("g") == []
    assert store.delete_function_access_keys("f", keep_role=ROLE.arn + "2") == 1
    assert store.function_access_keys("f") == [newer]
    bound = AccessKeyRecord("SWAK3", "reader", "v1:c", 1002.0, ROLE.arn)
    store.put_access_key(bound)
    assert store.has_access_keys()
    assert store.list_access_keys() == [newer, bound]
    assert store.delete_function_access_keys("f") == 1
    assert store.list_access_keys() == [bound]


def test_console_sessions_end_when_signed_out_or_expired(store: Store) -> None:
    store.put_console_session("s1", "SWAK1", 1000.0, 2000.0)
    assert store.console_session_live("s1", 1500.0)
    assert not store.console_session_live("s1", 2000.0)  # expired
    assert not store.console_session_live("s2", 1500.0)
    assert store.delete_console_session("s1") and not store.delete_console_session("s1")
    assert not store.console_session_live("s1", 1500.0)
    # A new sign-in forgets the sessions that have expired.
    store.put_console_session("old", "SWAK1", 1000.0, 1100.0)
    store.put_console_session("new", "SWAK1", 1200.0, 2200.0)
    assert not store.delete_console_session("old")
    assert store.console_session_live("new", 1300.0)


def test_the_first_server_secret_stored_wins(store: Store) -> None:
    assert store.server_secret("token", "first") == "first"
    assert store.server_secret("token", "second") == "first"


def test_roles_with_policies_are_not_deleted(store: Store) -> None:
    store.create_role(ROLE)
    with pytest.raises(AlreadyExists):
        store.create_role(ROLE)
    assert store.get_role("r") == ROLE and store.list_roles() == [ROLE]
    store.put_role_policy("r", "inline", "{1}")
    store.put_role_policy("r", "inline", "{2}")
    assert store.list_role_policies("r") == [("inline", "{2}")]
    assert not store.delete_role("r")
    assert store.delete_role_policy("r", "inline") and store.get_role_policy("r", "inline") is None
    store.create_policy(POLICY)
    store.attach_role_policy("r", POLICY.arn)
    store.attach_role_policy("r", POLICY.arn)
    assert store.list_attached_role_policies("r") == [POLICY.arn]
    assert store.count_policy_attachments(POLICY.arn) == 1
    assert not store.delete_policy(POLICY.arn) and not store.delete_role("r")
    assert store.detach_role_policy("r", POLICY.arn)
    assert store.delete_policy(POLICY.arn) and store.get_policy(POLICY.arn) is None
    assert store.update_assume_role_policy("r", "{}") and store.get_role("r").assume_role_policy == "{}"  # type: ignore[union-attr]  # noqa: E501
    assert store.delete_role("r") and store.get_role("r") is None


def test_the_scoped_keys_migration_drops_the_old_shared_functions_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before it, every function signed with one administrator's key named
    ``statewright-functions``; after it, each function gets its own, so that key goes, and
    the other keys stay administrators' keys."""
    every = load_migrations("sqlite")
    scoped = next(m.version for m in every if m.name == "scoped_keys")
    monkeypatch.setattr(sqlite_module, "load_migrations",
                        lambda dialect: [m for m in every if m.version < scoped])
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    store.migrate()
    store.close()
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO access_keys VALUES (?, ?, ?, ?)", [
            ("SWAKADMIN", "ci", "v1:a", 1.0), ("SWAKFUNCS", "statewright-functions", "v1:b", 2.0)])
    conn.close()
    monkeypatch.setattr(sqlite_module, "load_migrations", lambda dialect: every)
    store = SqliteStore(path)
    try:
        store.migrate()
        assert store.list_access_keys() == [AccessKeyRecord("SWAKADMIN", "ci", "v1:a", 1.0)]
        assert store.has_access_keys()
    finally:
        store.close()
