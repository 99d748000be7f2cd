"""Group commit over a real SQLite store: many threads, fewer transactions, exact results."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from statewright.runtime.commits import GroupCommitter
from statewright.store.base import (
    Applied,
    ApplyRequest,
    Conflict,
    EventRecord,
    ExecutionRecord,
    StoreError,
)
from statewright.store.sqlite import SqliteStore
from tests.store.helpers import execution, machine


class CountingStore(SqliteStore):
    """A real SQLite store that remembers the size of each ``apply_many``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        self.batches.append(len(requests))
        return super().apply_many(requests)


def _started(store: SqliteStore, name: str) -> ExecutionRecord:
    return store.create_execution(execution(name=name), [], [])


def test_concurrent_steps_share_transactions_and_each_gets_its_result(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "db.sqlite")
    store.migrate()
    store.create_state_machine(machine(), {})
    records = [_started(store, f"e-{i}") for i in range(40)]
    committer = GroupCommitter(store)
    barrier = threading.Barrier(len(records))
    results: dict[str, int] = {}

    def step(record: ExecutionRecord) -> None:
        event = EventRecord(record.arn, 1, 0, 1.0, "ExecutionStarted", None)
        barrier.wait()
        applied = committer.commit(ApplyRequest(record, record.version, [event]))
        results[record.arn] = applied.version

    threads = [threading.Thread(target=step, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {r.arn: r.version + 1 for r in records}
    assert sum(store.batches) == len(records)
    assert len(store.batches) < len(records)  # some steps shared a transaction
    for record in records:
        assert [e.id for e in store.get_history(record.arn, 10, None, False).items] == [1]
    store.close()


def test_a_stale_step_raises_conflict_without_harming_its_batch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.migrate()
    store.create_state_machine(machine(), {})
    fresh, stale = _started(store, "fresh"), _started(store, "stale")
    committer = GroupCommitter(store)
    committer.commit(ApplyRequest(stale, stale.version))
    with pytest.raises(Conflict):
        committer.commit(ApplyRequest(stale, stale.version))  # that version is gone
    assert committer.commit(ApplyRequest(fresh, fresh.version)).version == fresh.version + 1
    store.close()


def test_a_store_without_group_commit_is_written_by_each_caller(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "db.sqlite")
    store.migrate()
    store.group_commit = False  # as PostgreSQL declares: parallel commits beat batches
    store.create_state_machine(machine(), {})
    records = [_started(store, f"e-{i}") for i in range(10)]
    committer = GroupCommitter(store)
    with ThreadPoolExecutor(10) as pool:
        versions = list(pool.map(
            lambda r: committer.commit(ApplyRequest(r, r.version)).version, records))
    assert versions == [r.version + 1 for r in records]
    assert store.batches == [1] * 10
    store.close()
