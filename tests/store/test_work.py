"""Contract: work items, leases and waking, on every backend. Time is the ``now`` argument,
so expiry is tested without sleeping."""

from __future__ import annotations

import threading
import time

import pytest

from statewright.store.base import Store, WorkItem
from tests.conftest import BACKENDS, open_backend
from tests.store.helpers import started, work


def ids(items: list[WorkItem]) -> list[int]:
    return [w.id for w in items]


def test_claim_takes_only_due_items_oldest_first(store: Store) -> None:
    _, (late, early, middle) = started(store, due=[30.0, 10.0, 20.0])
    assert store.claim_work("w", 9.99, 10, 500.0) == []
    assert ids(store.claim_work("w", 20.0, 10, 500.0)) == [early, middle]
    assert ids(store.claim_work("w", 100.0, 10, 500.0)) == [late]


def test_claim_respects_the_limit_and_ties_go_by_id(store: Store) -> None:
    _, work_ids = started(store, due=[10.0] * 5)
    first = store.claim_work("w", 10.0, 2, 500.0)
    second = store.claim_work("w", 10.0, 2, 500.0)
    third = store.claim_work("w", 10.0, 2, 500.0)
    assert ids(first) + ids(second) + ids(third) == sorted(work_ids)
    assert store.claim_work("w", 10.0, 0, 5.0) == []


def test_claim_sets_the_lease_and_counts_attempts(store: Store) -> None:
    record, (item_id,) = started(store, due=[10.0])
    (item,) = store.claim_work("worker-a", 12.0, 10, 30.0)
    assert item == WorkItem(item_id, record.arn, "wake", 10.0, '{"frame": 0}', "worker-a", 42.0, 1)


def test_a_leased_item_is_claimable_again_only_after_the_lease_expires(store: Store) -> None:
    _, (item_id,) = started(store, due=[10.0])
    assert ids(store.claim_work("a", 10.0, 10, 30.0)) == [item_id]
    assert store.claim_work("b", 39.99, 10, 30.0) == []
    (again,) = store.claim_work("b", 40.0, 10, 30.0)
    assert (again.id, again.lease_owner, again.lease_until, again.attempts) == (
        item_id,
        "b",
        70.0,
        2,
    )


def test_renew_extends_only_the_owners_leases(store: Store) -> None:
    _, (mine, theirs) = started(store, due=[10.0, 10.0])
    store.claim_work("a", 10.0, 1, 30.0)
    store.claim_work("b", 10.0, 1, 30.0)
    store.renew_leases("a", [mine, theirs], 100.0)
    store.renew_leases("a", [], 100.0)
    # At 50 b's lease (until 40) has expired, a's was renewed to 100.
    assert ids(store.claim_work("c", 50.0, 10, 1000.0)) == [theirs]
    assert ids(store.claim_work("c", 100.0, 10, 1000.0)) == [mine]


def test_renew_after_losing_the_lease_changes_nothing(store: Store) -> None:
    _, (item_id,) = started(store, due=[10.0])
    store.claim_work("a", 10.0, 1, 30.0)
    store.claim_work("b", 45.0, 1, 30.0)  # a's lease expired; b took it until 75
    store.renew_leases("a", [item_id], 1000.0)
    assert store.claim_work("c", 74.0, 10, 30.0) == []
    assert ids(store.claim_work("c", 75.0, 10, 30.0)) == [item_id]


def test_release_gives_items_back_optionally_re_due(store: Store) -> None:
    _, (first, second) = started(store, due=[10.0, 10.0])
    store.claim_work("a", 10.0, 10, 30.0)
    store.release_work("a", [first], None)
    store.release_work("a", [second], 50.0)
    store.release_work("intruder", [first, second], 0.0)  # not the owner: ignored
    (again,) = store.claim_work("b", 11.0, 10, 1000.0)
    assert (again.id, again.due_at, again.attempts) == (first, 10.0, 2)
    assert store.claim_work("b", 49.0, 10, 1000.0) == []
    assert ids(store.claim_work("b", 50.0, 10, 1000.0)) == [second]


def test_next_due_covers_unleased_items_and_running_out_leases(store: Store) -> None:
    assert store.next_due() is None
    record, (first, second) = started(store, due=[20.0, 10.0])
    assert store.next_due() == 10.0
    store.claim_work("a", 15.0, 1, 100.0)  # leases `second` until 115
    assert store.next_due() == 20.0
    store.claim_work("a", 25.0, 1, 30.0)  # leases `first` until 55
    assert store.next_due() == 55.0
    store.apply(record, record.version, [], [], [first, second])
    assert store.next_due() is None


def test_wait_for_work_returns_at_the_timeout_without_work(store: Store) -> None:
    store.wait_for_work(0.0)  # may consume signals from set-up
    started_at = time.monotonic()
    store.wait_for_work(0.2)
    assert time.monotonic() - started_at >= 0.15


def test_wait_for_work_wakes_when_another_thread_adds_work(store: Store) -> None:
    record, _ = started(store)
    store.wait_for_work(0.0)
    woke = threading.Event()

    def waiter() -> None:
        store.wait_for_work(30.0)
        woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        # Keep adding work until the waiter wakes: it may not be waiting yet when the first
        # lands, and that first signal must not be what the test relies on.
        deadline = time.monotonic() + 10.0
        version = record.version
        while not woke.is_set() and time.monotonic() < deadline:
            current = store.get_execution(record.arn)
            assert current is not None
            version = store.apply(current, current.version, [], [work(record.arn)], []).version
            woke.wait(0.05)
        assert woke.is_set(), "wait_for_work did not wake on new work"
        assert version >= 2
    finally:
        thread.join(10.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_store_objects_never_claim_the_same_item(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Separate store objects on one database stand for separate worker processes."""
    first = open_backend(backend, request)
    second = open_backend(backend, request)
    total = 200
    started(first, due=[float(i % 7) for i in range(total)])
    claimed: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def claimer(store: Store, slot: int) -> None:
        try:
            barrier.wait(10.0)
            deadline = time.monotonic() + 30.0
            while sum(map(len, claimed)) < total and time.monotonic() < deadline:
                claimed[slot] += ids(store.claim_work(f"w{slot}", 100.0, 2, 1000.0))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=claimer, args=(store, slot))
        for slot, store in enumerate([first, second, first, second])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60.0)
    assert errors == []
    everything = [i for part in claimed for i in part]
    assert len(everything) == len(set(everything)) == total
    assert second.next_due() == 1100.0  # every item leased, until 100 + 1000
