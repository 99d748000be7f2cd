"""Between the driver and the store: batches become rows, the driver becomes a cursor (its
head) and frame rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from statewright.asl.events import to_json
from statewright.runtime.driver import Batch, Driver, Work, work_to_json
from statewright.runtime.tasks import Invocation
from statewright.store.base import (
    EventRecord,
    ExecutionRecord,
    FrameWrites,
    InvocationRecord,
    Store,
    WorkItem,
)


def batch_records(
    execution_arn: str, batch: Batch, due: Callable[[float], float]
) -> tuple[list[EventRecord], list[WorkItem]]:
    """The batch's events and work as store records (``due`` applies the wait scale)."""
    events = [
        EventRecord(
            execution_arn, e.id, e.previous_event_id, e.timestamp, e.type,
            None if e.details is None else to_json(e.details),
        )
        for e in batch.events
    ]
    work = [
        WorkItem(0, execution_arn, w.kind, due(w.due), to_json(work_to_json(w)))
        for w in batch.work
    ]
    return events, work


def to_record(record: ExecutionRecord, driver: Driver, now: float | None = None
              ) -> ExecutionRecord:
    """The execution row after a batch: status, cursor, and the outcome once it ended."""
    status = driver.status
    ended = status != "RUNNING"
    failure = driver.failure
    return replace(
        record,
        status=status,
        cursor=to_json(driver.snapshot()),
        output=to_json(driver.output) if status == "SUCCEEDED" else None,
        error=failure.error if failure is not None and ended else None,
        cause=failure.cause if failure is not None and ended else None,
        # An ended execution keeps its stop date when later no-op steps commit (a timer
        # that fell due after the end).
        stop_date=(record.stop_date if record.stop_date is not None
                   else now if now is not None else record.start_date) if ended else None,
    )


def invocation_record(execution_arn: str, work: Work, invocation: Invocation
                      ) -> InvocationRecord:
    """The store's record of a function call made for ``work`` (an ``invoke`` item)."""
    visit = work.visit
    state, entered, scheduled = (
        ("", 0, 0) if visit is None  # work stored before visits were carried
        else (visit.state, visit.entered_event_id, visit.scheduled_event_id)
    )
    return InvocationRecord(
        0, execution_arn, entered, scheduled, state, invocation.function_name,
        invocation.request_id, invocation.started_at, invocation.duration_ms,
        invocation.status, invocation.error_type, invocation.logs,
    )


def frame_writes(driver: Driver) -> FrameWrites:
    """The frame and fork-item rows the driver changed since it was restored or committed."""
    return driver.changes()


class StoreFrames:
    """One execution's frame rows in the store, as a driver's ``FrameSource``."""

    __slots__ = ("execution_arn", "store")

    def __init__(self, store: Store, execution_arn: str) -> None:
        self.store = store
        self.execution_arn = execution_arn

    def frame(self, frame_id: int) -> str | None:
        return self.store.get_frame(self.execution_arn, frame_id)

    def children(self, parent: int) -> list[str]:
        return self.store.get_child_frames(self.execution_arn, parent)

    def fork_input(self, fork_id: int, index: int) -> str | None:
        return self.store.get_fork_input(self.execution_arn, fork_id, index)

    def fork_outputs(self, fork_id: int) -> list[tuple[int, str]]:
        return self.store.get_fork_outputs(self.execution_arn, fork_id)
