"""Group commit over a real SQLite store: many threads, fewer transactions, exact results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    store.group_commit = False  # a store whose commits run best in parallel
    store.create_state_machine(machine(), {})
    records = [_started(store, f"e-{i}") for i in range(10)]
    committer = GroupCommitter(store)
    with ThreadPoolExecutor(10) as pool:
        versions = list(pool.map(
            lambda r: committer.commit(ApplyRequest(r, r.version)).version, records))
    assert versions == [r.version + 1 for r in records]
    assert store.batches == [1] * 10
    store.close()


class BuggyStore(SqliteStore):
    """A real SQLite store with a bug: a batch holding ``poison``'s step raises (not a
    StoreError); the first batch waits for ``release`` so that others queue behind it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.poison = ""
        self.release = threading.Event()
        self.calls = 0

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        self.calls += 1
        if self.calls == 1:
            assert self.release.wait(30)
        if any(r.execution.arn == self.poison for r in requests):
            raise RuntimeError("a bug in the store")
        return super().apply_many(requests)


def _wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_an_exception_reaches_every_caller_in_its_batch_and_the_next_commit_goes_through(
    tmp_path: Path,
) -> None:
    store = BuggyStore(tmp_path / "db.sqlite")
    store.migrate()
    store.create_state_machine(machine(), {})
    first, bad, neighbour = (_started(store, n) for n in ("first", "bad", "neighbour"))
    store.poison = bad.arn
    committer = GroupCommitter(store)
    outcomes: dict[str, object] = {}

    def commit(record: ExecutionRecord) -> None:
        try:
            outcomes[record.name] = committer.commit(ApplyRequest(record, record.version)).version
        except Exception as exc:
            outcomes[record.name] = exc

    leader = threading.Thread(target=commit, args=(first,))
    leader.start()
    _wait_until(lambda: store.calls == 1)  # the leader is inside its flush
    others = [threading.Thread(target=commit, args=(r,)) for r in (bad, neighbour)]
    for thread in others:
        thread.start()
    _wait_until(lambda: len(committer._queue) == 2)  # both wait behind the leader
    store.release.set()
    for thread in [leader, *others]:
        thread.join(30)
        assert not thread.is_alive(), "a caller still waits: the committer is stuck"
    assert outcomes["first"] == first.version + 1
    assert isinstance(outcomes["bad"], RuntimeError)
    assert isinstance(outcomes["neighbour"], RuntimeError)  # it shared the bad transaction
    # The committer is not left flushing: the next commits go through.
    assert committer.commit(ApplyRequest(neighbour, neighbour.version)).version == (
        neighbour.version + 1)
    store.poison = ""
    assert committer.commit(ApplyRequest(bad, bad.version)).version == bad.version + 1
    store.close()
