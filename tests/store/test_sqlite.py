"""SQLite-only behaviour: WAL, write locking, and clear errors for broken files."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from statewright.store import SqliteStore
from statewright.store.base import Conflict, StoreError
from tests.store.helpers import execution, machine, started, work


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "statewright.db"


@pytest.fixture
def sqlite_store(path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(path)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def write_lock_holder(path: Path, sqlite_store: SqliteStore) -> Iterator[sqlite3.Connection]:
    """Another process's connection, holding the database's write lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_the_database_is_in_wal_mode(path: Path, sqlite_store: SqliteStore) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_write_queues_behind_another_writer_then_succeeds(
    path: Path, write_lock_holder: sqlite3.Connection
) -> None:
    store = SqliteStore(path, busy_timeout=30.0)
    done = threading.Event()

    def write() -> None:
        store.create_state_machine(machine(), {})
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive(), "the write should wait for the lock, not fail"
    write_lock_holder.execute("COMMIT")
    thread.join(30.0)
    assert done.is_set()
    assert store.get_state_machine(machine().arn) == machine()
    store.close()


def test_a_locked_database_is_a_clear_store_error_and_reads_go_on(
    path: Path, sqlite_store: SqliteStore, write_lock_holder: sqlite3.Connection
) -> None:
    impatient = SqliteStore(path, busy_timeout=0.05)
    try:
        with pytest.raises(StoreError, match="database is locked") as caught:
            impatient.create_state_machine(machine(), {})
        assert not isinstance(caught.value, sqlite3.Error)
        # WAL: readers are not blocked by the writer.
        assert impatient.get_state_machine(machine().arn) is None
        assert impatient.next_due() is None
    finally:
        impatient.close()


def test_a_file_that_is_not_a_database_is_a_clear_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a SQLite database, or it is corrupt"):
        SqliteStore(bad)


def test_a_corrupted_database_is_a_clear_store_error(path: Path) -> None:
    store = SqliteStore(path)
    store.migrate()
    for i in range(200):
        store.create_execution(execution(f"run-{i}", start=float(i)), [], [])
    store.close()  # the last connection checkpoints the WAL into the file
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[4096:] = b"\xff" * (len(data) - 4096)  # all but page 1 (header and schema)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"corrupt|malformed"):
        broken = SqliteStore(path)
        try:
            broken.list_executions(execution().state_machine_arn, None, 1000, None)
        finally:
            broken.close()


def test_a_full_disk_is_a_clear_store_error_and_nothing_half_written(path: Path) -> None:
    store = SqliteStore(path)
    store.migrate()
    store.close()
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    # max_page_count caps the file as a full disk would.
    store = SqliteStore(path, pragmas={"max_page_count": pages + 4})
    try:
        record, _ = started(store)
        huge = dataclasses.replace(record, cursor="x" * 200_000)
        with pytest.raises(StoreError, match="database or disk is full"):
            store.apply(huge, record.version, [], [work(record.arn)], [])
        assert store.get_execution(record.arn) == record
        assert store.next_due() is None
        # Small writes still fit after the failed one was rolled back.
        assert store.apply(record, record.version, [], [], []).version == 2
    finally:
        store.close()


def test_a_missing_directory_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the database file"):
        SqliteStore(tmp_path / "no" / "such" / "dir" / "x.db")


def test_a_closed_store_raises_store_error(sqlite_store: SqliteStore) -> None:
    sqlite_store.close()
    with pytest.raises(StoreError, match="closed"):
        sqlite_store.get_execution("arn:x")
    with pytest.raises(StoreError, match="closed"):
        sqlite_store.create_state_machine(machine(), {})
    sqlite_store.close()  # twice is fine
    sqlite_store.wait_for_work(5.0)  # returns at once


def test_bad_pragmas_are_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="pragma"):
        SqliteStore(path, pragmas={"cache_size; DROP TABLE work": 1})


def test_threads_sharing_one_store_apply_without_errors(sqlite_store: SqliteStore) -> None:
    records = [started(sqlite_store, f"run-{i}")[0] for i in range(4)]
    errors: list[BaseException] = []

    def stepper(arn: str) -> None:
        try:
            for _ in range(50):
                current = sqlite_store.get_execution(arn)
                assert current is not None
                with contextlib.suppress(Conflict):
                    sqlite_store.apply(current, current.version, [], [], [])
                sqlite_store.next_due()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    # Two threads per execution, so some applies conflict and must be reported as such.
    threads = [threading.Thread(target=stepper, args=(r.arn,)) for r in records * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60.0)
    assert errors == []
    for record in records:
        current = sqlite_store.get_execution(record.arn)
        assert current is not None and current.version > 50
