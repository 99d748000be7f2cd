"""Contract: function invocations, written by ``apply`` with their step, on every backend."""

from __future__ import annotations

import dataclasses

import pytest

from statewright.store.base import (
    MAX_INVOCATION_LOG_BYTES,
    AlreadyExists,
    Applied,
    ApplyRequest,
    Conflict,
    ExecutionRecord,
    InvalidToken,
    InvocationRecord,
    Store,
)
from tests.store.helpers import event, started


def invocation(execution: ExecutionRecord, event_id: int = 2, *, logs: str = "hello\n",
               status: str = "Succeeded", error_type: str | None = None,
               request_id: str = "req-1") -> InvocationRecord:
    return InvocationRecord(
        0, execution.arn, event_id, event_id + 1, "Charge", "charge", request_id, 2001.5,
        12.25, status, error_type, logs,
    )


def record(store: Store, execution: ExecutionRecord, *invocations: InvocationRecord) -> None:
    """One step of ``execution`` that records ``invocations``."""
    current = store.get_execution(execution.arn)
    assert current is not None
    store.apply(current, current.version, [], [], [], None, list(invocations))


def everything(store: Store, execution_arn: str, page_size: int = 100) -> list[InvocationRecord]:
    found: list[InvocationRecord] = []
    token = None
    while True:
        page = store.list_invocations(execution_arn, page_size, token)
        found += page.items
        token = page.next_token
        if token is None:
            return found


def test_apply_records_invocations_read_back_by_id_and_by_execution(store: Store) -> None:
    run, _ = started(store)
    other, _ = started(store, "run-2")
    first = invocation(run, 2, error_type=None)
    failed = invocation(run, 5, status="Failed", error_type="ValueError", logs="oops\n")
    record(store, run, first)
    record(store, other, invocation(other, 2))
    record(store, run, failed)
    stored = store.list_invocations(run.arn, 10, None)
    assert stored.next_token is None
    assert [dataclasses.replace(i, id=0) for i in stored.items] == [first, failed]
    ids = [i.id for i in stored.items]
    assert ids == sorted(ids) and ids[0] > 0
    assert store.get_invocation(ids[1]) == stored.items[1]
    assert store.get_invocation(ids[1] + 1000) is None
    assert [i.execution_arn for i in everything(store, other.arn)] == [other.arn]
    assert store.list_invocations("arn:aws:states:us-east-1:1:execution:x:none", 10, None
                                  ).items == []


def test_invocations_page_by_id(store: Store) -> None:
    run, _ = started(store)
    record(store, run, *[invocation(run, 2, request_id=f"r{i}") for i in range(5)])
    assert [i.request_id for i in everything(store, run.arn, 2)] == [f"r{i}" for i in range(5)]
    assert len(store.list_invocations(run.arn, 0, None).items) == 5  # 0: the default size
    with pytest.raises(InvalidToken):
        store.list_invocations(run.arn, 2, "garbage")
    with pytest.raises(InvalidToken):  # a token for another listing
        store.get_history(run.arn, 2, store.list_invocations(run.arn, 2, None).next_token, False)


def test_a_conflicting_apply_records_no_invocation(store: Store) -> None:
    run, _ = started(store)
    with pytest.raises(Conflict):
        store.apply(run, run.version + 3, [event(run.arn, 2)], [], [], None,
                    [invocation(run)])
    assert everything(store, run.arn) == []
    assert [e.id for e in store.get_history(run.arn, 10, None, False).items] == [1]


def test_apply_many_records_only_the_invocations_of_requests_that_commit(store: Store) -> None:
    one, _ = started(store, "one")
    two, _ = started(store, "two")
    three, _ = started(store, "three")
    results = store.apply_many([
        ApplyRequest(one, one.version, [event(one.arn, 2)], invocations=[invocation(one)]),
        ApplyRequest(two, 0, invocations=[invocation(two)]),  # stale: a Conflict
        # Event 1 exists already: the request fails on its own, after its version check.
        ApplyRequest(three, three.version, [event(three.arn, 1)],
                     invocations=[invocation(three)]),
    ])
    assert isinstance(results[0], Applied)
    assert isinstance(results[1], Conflict) and isinstance(results[2], AlreadyExists)
    assert [i.execution_arn for i in everything(store, one.arn)] == [one.arn]
    assert everything(store, two.arn) == [] and everything(store, three.arn) == []


def test_long_logs_keep_their_tail_and_say_so(store: Store) -> None:
    run, _ = started(store)
    # Multi-byte characters throughout: the cut must not leave half a character behind.
    logs = "".join(f"line {i} ✓\n" for i in range(40000)) + "Traceback: the error\n"
    assert len(logs.encode()) > MAX_INVOCATION_LOG_BYTES
    record(store, run, invocation(run, logs=logs), invocation(run, logs="short\n"))
    long, short = everything(store, run.arn)
    assert len(long.logs.encode()) <= MAX_INVOCATION_LOG_BYTES
    notice, _, tail = long.logs.partition("\n")
    left_out = int(notice.removeprefix("[").removesuffix(" bytes of log left out]"))
    assert left_out + len(tail.encode()) == len(logs.encode())
    assert logs.endswith(tail) and tail.endswith("Traceback: the error\n")
    assert short.logs == "short\n"


def test_text_a_handler_may_print_is_always_storable(store: Store) -> None:
    """PostgreSQL refuses NUL characters and both drivers lone surrogates; a step recording
    such an invocation must commit all the same."""
    run, _ = started(store)
    record(store, run, invocation(run, logs="nul:\x00 surrogate:\ud800 end\n",
                                  status="Failed", error_type="Bad\x00Type"))
    (stored,) = everything(store, run.arn)
    assert stored.logs.startswith("nul:\ufffd surrogate:") and stored.logs.endswith(" end\n")
    assert stored.error_type == "Bad\ufffdType"
