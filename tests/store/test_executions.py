"""Contract: executions, their listing and history, and ``apply``, on every backend."""

from __future__ import annotations

import dataclasses

import pytest

from statewright.store.base import (
    AlreadyExists,
    Applied,
    ApplyRequest,
    Conflict,
    ExecutionRecord,
    InvalidToken,
    NotFound,
    Store,
)
from tests.store.helpers import MACHINE, event, execution, started, work


def all_history(store: Store, arn: str, limit: int, reverse: bool) -> tuple[list[int], int]:
    """Every event id, paging ``limit`` at a time; returns the ids and the page count."""
    ids: list[int] = []
    token = None
    pages = 0
    while True:
        page = store.get_history(arn, limit, token, reverse)
        pages += 1
        ids += [e.id for e in page.items]
        token = page.next_token
        if token is None:
            return ids, pages


# ---------------------------------------------------------------------- create, get


def test_create_execution_stores_record_events_and_work(store: Store) -> None:
    record = execution()
    events = [
        event(record.arn, 1, "ExecutionStarted", '{"input": "{}"}'),
        event(record.arn, 2, "PassStateEntered", None),
    ]
    assert store.create_execution(record, events, [work(record.arn, 5.0)]) == record
    assert store.get_execution(record.arn) == record
    assert store.get_history(record.arn, 10, None, False).items == events
    claimed = store.claim_work("w", 5.0, 10, 30.0)
    assert [(w.execution_arn, w.kind, w.due_at) for w in claimed] == [(record.arn, "wake", 5.0)]


def test_create_execution_with_a_taken_name_returns_the_existing_row_unchanged(
    store: Store,
) -> None:
    first = execution()
    store.create_execution(first, [event(first.arn, 1, "ExecutionStarted")], [])
    again = dataclasses.replace(first, input='{"other": true}', start_date=9999.0)
    returned = store.create_execution(again, [event(first.arn, 1, "Different")], [work(first.arn)])
    assert returned == first
    assert store.get_execution(first.arn) == first
    assert [e.type for e in store.get_history(first.arn, 10, None, False).items] == [
        "ExecutionStarted"
    ]
    assert store.next_due() is None


def test_get_of_a_missing_execution_is_none(store: Store) -> None:
    assert store.get_execution("arn:aws:states:us-east-1:1:execution:x:y") is None


def test_output_error_and_stop_date_round_trip(store: Store) -> None:
    record, _ = started(store)
    done = dataclasses.replace(
        record,
        status="FAILED",
        error="States.TaskFailed",
        cause="boom \u2603",
        stop_date=2500.5,
        output=None,
    )
    store.apply(done, record.version, [], [], [])
    assert store.get_execution(record.arn) == dataclasses.replace(done, version=2)


# ---------------------------------------------------------------------- listing


def names(page_items: list[ExecutionRecord]) -> list[str]:
    return [e.name for e in page_items]


def test_list_executions_newest_first_across_pages(store: Store) -> None:
    for i in range(7):
        store.create_execution(execution(f"run-{i}", start=1000.0 + i), [], [])
    store.create_execution(execution("other", machine_arn=MACHINE + "-2"), [], [])
    seen: list[str] = []
    token = None
    while True:
        page = store.list_executions(MACHINE, None, 3, token)
        seen += names(page.items)
        token = page.next_token
        if token is None:
            break
    assert seen == [f"run-{i}" for i in range(6, -1, -1)]


def test_list_executions_breaks_start_date_ties_without_skipping(store: Store) -> None:
    for name in ("a", "b", "c", "d", "e"):
        store.create_execution(execution(name, start=1234.5678), [], [])
    first = store.list_executions(MACHINE, None, 2, None)
    second = store.list_executions(MACHINE, None, 2, first.next_token)
    third = store.list_executions(MACHINE, None, 2, second.next_token)
    assert names(first.items) + names(second.items) + names(third.items) == [
        "e",
        "d",
        "c",
        "b",
        "a",
    ]
    assert third.next_token is None


def test_list_executions_filters_by_status(store: Store) -> None:
    for i, status in enumerate(["RUNNING", "SUCCEEDED", "RUNNING", "FAILED", "RUNNING"]):
        store.create_execution(execution(f"run-{i}", start=1000.0 + i, status=status), [], [])
    running = store.list_executions(MACHINE, "RUNNING", 2, None)
    assert names(running.items) == ["run-4", "run-2"]
    rest = store.list_executions(MACHINE, "RUNNING", 2, running.next_token)
    assert names(rest.items) == ["run-0"] and rest.next_token is None
    assert names(store.list_executions(MACHINE, "FAILED", 10, None).items) == ["run-3"]
    assert store.list_executions(MACHINE, "ABORTED", 10, None).items == []


def test_list_executions_sees_status_changes_made_by_apply(store: Store) -> None:
    record, _ = started(store)
    store.apply(
        dataclasses.replace(record, status="SUCCEEDED", output="{}", stop_date=3.0),
        record.version,
        [],
        [],
        [],
    )
    assert store.list_executions(MACHINE, "RUNNING", 10, None).items == []
    assert names(store.list_executions(MACHINE, "SUCCEEDED", 10, None).items) == ["run-1"]


def test_list_executions_rejects_a_history_token(store: Store) -> None:
    record, _ = started(store)
    store.apply(record, record.version, [event(record.arn, 2)], [], [])
    token = store.get_history(record.arn, 1, None, False).next_token
    assert token is not None
    with pytest.raises(InvalidToken):
        store.list_executions(MACHINE, None, 10, token)


def test_a_page_size_below_one_means_the_default(store: Store) -> None:
    for i in range(3):
        store.create_execution(execution(f"run-{i}", start=float(i)), [], [])
    assert len(store.list_executions(MACHINE, None, 0, None).items) == 3


# ---------------------------------------------------------------------- history


def test_history_pages_forward_and_reverse(store: Store) -> None:
    record = execution()
    store.create_execution(record, [event(record.arn, i) for i in range(1, 8)], [])
    assert all_history(store, record.arn, 3, False) == ([1, 2, 3, 4, 5, 6, 7], 3)
    assert all_history(store, record.arn, 3, True) == ([7, 6, 5, 4, 3, 2, 1], 3)
    assert all_history(store, record.arn, 7, False) == ([1, 2, 3, 4, 5, 6, 7], 1)


def test_history_tokens_do_not_cross_directions(store: Store) -> None:
    record = execution()
    store.create_execution(record, [event(record.arn, i) for i in range(1, 4)], [])
    token = store.get_history(record.arn, 1, None, False).next_token
    assert token is not None
    with pytest.raises(InvalidToken):
        store.get_history(record.arn, 1, token, True)


def test_history_of_an_unknown_execution_is_empty(store: Store) -> None:
    page = store.get_history("arn:nothing", 10, None, False)
    assert page.items == [] and page.next_token is None


def test_history_keeps_details_text_exactly(store: Store) -> None:
    record = execution()
    details = '{"output":"{\\"a\\": 1.50, \\"b\\": \\"\\u00e9\\"}",  "z" : null}'
    store.create_execution(
        record, [event(record.arn, 1, details=details), event(record.arn, 2, details=None)], []
    )
    items = store.get_history(record.arn, 10, None, False).items
    assert [e.details for e in items] == [details, None]


# ---------------------------------------------------------------------- apply


def test_apply_writes_row_events_and_work_and_bumps_version(store: Store) -> None:
    record, (first_work,) = started(store, due=[5.0])
    assert record.version == 1
    updated = dataclasses.replace(record, cursor='{"frames": [1]}')
    applied = store.apply(
        updated,
        1,
        [event(record.arn, 2), event(record.arn, 3)],
        [work(record.arn, 7.0), work(record.arn, 6.0, kind="invoke")],
        [first_work],
    )
    assert applied.version == 2 and len(applied.work_ids) == 2
    assert len(set(applied.work_ids) | {first_work}) == 3
    assert store.get_execution(record.arn) == dataclasses.replace(updated, version=2)
    assert all_history(store, record.arn, 10, False)[0] == [1, 2, 3]
    claimed = store.claim_work("w", 100.0, 10, 30.0)
    assert [(w.id, w.kind) for w in claimed] == [
        (applied.work_ids[1], "invoke"),
        (applied.work_ids[0], "wake"),
    ]


def test_apply_with_a_stale_version_raises_conflict_and_writes_nothing(store: Store) -> None:
    record, (first_work,) = started(store, due=[5.0])
    before = store.get_execution(record.arn)
    with pytest.raises(Conflict):
        store.apply(
            dataclasses.replace(record, status="SUCCEEDED", cursor="{}"),
            0,
            [event(record.arn, 2)],
            [work(record.arn, 1.0)],
            [first_work],
        )
    assert store.get_execution(record.arn) == before
    assert all_history(store, record.arn, 10, False)[0] == [1]
    assert [w.id for w in store.claim_work("w", 100.0, 10, 30.0)] == [first_work]


def test_a_stale_apply_whose_events_collide_is_still_a_conflict(store: Store) -> None:
    """Two workers racing on one execution both append the same next event id; the loser
    must see Conflict (redo the step), not AlreadyExists."""
    record, _ = started(store)
    winner = store.apply(record, record.version, [event(record.arn, 2)], [], [])
    with pytest.raises(Conflict):
        store.apply(record, record.version, [event(record.arn, 2)], [], [])
    assert store.get_execution(record.arn) == dataclasses.replace(record, version=winner.version)


def test_apply_that_fails_midway_writes_nothing(store: Store) -> None:
    record, (first_work,) = started(store, due=[5.0])
    before = store.get_execution(record.arn)
    # Event 1 exists already: the version check passes, then the events insert fails.
    with pytest.raises(AlreadyExists):
        store.apply(
            dataclasses.replace(record, cursor='{"moved": 1}'),
            record.version,
            [event(record.arn, 2), event(record.arn, 1)],
            [work(record.arn, 1.0)],
            [first_work],
        )
    assert store.get_execution(record.arn) == before
    assert all_history(store, record.arn, 10, False)[0] == [1]
    assert [w.id for w in store.claim_work("w", 100.0, 10, 30.0)] == [first_work]


def test_apply_to_a_missing_execution_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.apply(execution("ghost"), 0, [], [], [])


def test_apply_done_work_only_deletes_the_executions_own_items(store: Store) -> None:
    _, (one_work,) = started(store, "one", due=[5.0])
    two, _ = started(store, "two")
    store.apply(two, two.version, [], [], [one_work])
    assert [w.id for w in store.claim_work("w", 100.0, 10, 30.0)] == [one_work]


def test_apply_many_commits_each_request_or_reports_its_error(store: Store) -> None:
    one, _ = started(store, "one")
    two, _ = started(store, "two")
    three, _ = started(store, "three")
    results = store.apply_many(
        [
            ApplyRequest(one, one.version, [event(one.arn, 2)], [work(one.arn, 3.0)]),
            ApplyRequest(two, 0, [event(two.arn, 2)], [work(two.arn, 4.0)]),  # stale
            ApplyRequest(three, three.version, [event(three.arn, 1)], [work(three.arn, 5.0)]),
            ApplyRequest(execution("ghost"), 0),
        ]
    )
    assert isinstance(results[0], Applied) and results[0].version == 2
    assert isinstance(results[1], Conflict)
    assert isinstance(results[2], AlreadyExists)  # event 1 is taken: only its writes undone
    assert isinstance(results[3], NotFound)
    assert all_history(store, one.arn, 10, False)[0] == [1, 2]
    for untouched in (two, three):
        assert store.get_execution(untouched.arn) == untouched
        assert all_history(store, untouched.arn, 10, False)[0] == [1]
    assert [w.execution_arn for w in store.claim_work("w", 100.0, 10, 30.0)] == [one.arn]
    assert store.apply_many([]) == []
