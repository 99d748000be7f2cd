"""Contract: activities and the activity task queue, on every backend."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from statewright.store.base import (
    ActivityRecord,
    ActivityTaskRecord,
    Applied,
    ApplyRequest,
    Conflict,
    ExecutionRecord,
    InvalidToken,
    Store,
)
from tests.conftest import BACKENDS, open_backend
from tests.store.helpers import event, started

PREFIX = "arn:aws:states:us-east-1:123456789012:activity:"


def activity(name: str = "review", created_at: float = 1000.0, config: str = "{}"
             ) -> ActivityRecord:
    return ActivityRecord(PREFIX + name, name, created_at, config)


def task(execution: ExecutionRecord, token: str, name: str = "review", created_at: float = 5.0
         ) -> ActivityTaskRecord:
    return ActivityTaskRecord(token, PREFIX + name, execution.arn, f'{{"t": "{token}"}}',
                              created_at)


def queue(store: Store, execution: ExecutionRecord, *tasks: ActivityTaskRecord) -> None:
    current = store.get_execution(execution.arn)
    assert current is not None
    store.apply(current, current.version, [], [], [], list(tasks))


def drain(store: Store, name: str = "review") -> list[str]:
    tokens = []
    while (claimed := store.claim_activity_task(PREFIX + name)) is not None:
        tokens.append(claimed.token)
    return tokens


# ---------------------------------------------------------------------- activities


def test_create_get_and_delete_an_activity_with_its_tags(store: Store) -> None:
    record = activity(config='{"encryptionConfiguration": {"type": "AWS_OWNED_KEY"}}')
    assert store.create_activity(record, {"team": "ops"}) == record
    assert store.get_activity(record.arn) == record
    assert store.get_tags(record.arn) == {"team": "ops"}
    assert store.delete_activity(record.arn) is True
    assert store.get_activity(record.arn) is None
    assert store.get_tags(record.arn) == {}
    assert store.delete_activity(record.arn) is False


def test_creating_an_existing_activity_returns_it_unchanged(store: Store) -> None:
    first = activity(created_at=1000.0)
    store.create_activity(first, {"v": "1"})
    again = store.create_activity(activity(created_at=2000.0, config='{"x": 1}'), {"v": "2"})
    assert again == first
    assert store.get_tags(first.arn) == {"v": "1"}  # AWS: tags of a repeat are ignored


def test_list_activities_by_creation_across_pages(store: Store) -> None:
    names = ["zeta", "alpha", "mid", "beta", "omega"]
    for index, name in enumerate(names):
        store.create_activity(activity(name, 1000.0 + index), {})
    seen, token, pages = [], None, 0
    while True:
        page = store.list_activities(2, token)
        seen += [a.name for a in page.items]
        pages += 1
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == names and pages == 3
    assert [a.name for a in store.list_activities(0, None).items] == names
    with pytest.raises(InvalidToken):
        store.list_activities(2, "garbage")
    with pytest.raises(InvalidToken):  # a token of another listing
        store.list_state_machines(2, store.list_activities(2, None).next_token)


# ---------------------------------------------------------------------- the queue


def test_tasks_are_claimed_oldest_first_once_each_per_activity(store: Store) -> None:
    record, _ = started(store)
    queue(store, record, task(record, "a"), task(record, "other", "billing"))
    queue(store, record, task(record, "b"), task(record, "a"))  # "a" again: not queued twice
    claimed = store.claim_activity_task(PREFIX + "review")
    assert claimed == task(record, "a")
    assert drain(store) == ["b"]
    assert store.claim_activity_task(PREFIX + "review") is None
    assert drain(store, "billing") == ["other"]
    assert store.claim_activity_task(PREFIX + "nobody") is None


def test_a_conflicting_apply_queues_nothing(store: Store) -> None:
    record, _ = started(store)
    with pytest.raises(Conflict):
        store.apply(record, record.version + 5, [], [], [], [task(record, "lost")])
    assert drain(store) == []


def test_apply_many_queues_only_the_tasks_of_requests_that_commit(store: Store) -> None:
    one, _ = started(store, "one")
    two, _ = started(store, "two")
    results = store.apply_many([
        ApplyRequest(one, one.version, [event(one.arn, 2)], activity_tasks=[task(one, "t1")]),
        ApplyRequest(two, 0, activity_tasks=[task(two, "t2")]),  # stale
    ])
    assert isinstance(results[0], Applied) and isinstance(results[1], Conflict)
    assert drain(store) == ["t1"]


def test_an_apply_that_ends_the_execution_drops_its_queued_tasks(store: Store) -> None:
    ending, _ = started(store, "ending")
    other, _ = started(store, "other")
    queue(store, ending, task(ending, "e1"), task(ending, "e2"))
    queue(store, other, task(other, "o1"))
    current = store.get_execution(ending.arn)
    assert current is not None
    # The step that queues a task may also end the execution: nothing of it stays queued.
    store.apply(dataclasses.replace(current, status="ABORTED", stop_date=9.0),
                current.version, [], [], [], [task(ending, "e3")])
    assert drain(store) == ["o1"]


def test_wait_for_work_wakes_when_a_task_is_queued(store: Store) -> None:
    record, _ = started(store)
    store.wait_for_work(0.0)
    woke = threading.Event()

    def waiter() -> None:
        store.wait_for_work(30.0)
        woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        count = 0
        while not woke.is_set() and time.monotonic() < deadline:
            queue(store, record, task(record, f"w{count}"))
            count += 1
            woke.wait(0.05)
        assert woke.is_set(), "wait_for_work did not wake on a queued activity task"
    finally:
        thread.join(10.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_pollers_never_take_the_same_task(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Separate store objects on one database stand for separate API processes."""
    first = open_backend(backend, request)
    second = open_backend(backend, request)
    record, _ = started(first)
    total = 120
    queue(first, record, *[task(record, f"t{i:03}") for i in range(total)])
    taken: list[list[str]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def poller(store: Store, slot: int) -> None:
        try:
            barrier.wait(10.0)
            while (claimed := store.claim_activity_task(PREFIX + "review")) is not None:
                taken[slot].append(claimed.token)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=poller, args=(store, slot))
               for slot, store in enumerate([first, second, first, second])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60.0)
    assert errors == []
    everything = [token for part in taken for token in part]
    assert sorted(everything) == [f"t{i:03}" for i in range(total)]
    for part in taken:  # each poller saw its share oldest first
        assert part == sorted(part)
