"""Group commit: steps of many executions share one database transaction.

Worker threads finish steps independently. Each hands its step to ``GroupCommitter.commit``;
the first thread to arrive while no flush is running becomes the leader, takes every step
queued so far (its own included) and writes them with one ``apply_many``; the others wait for
their result. Under load a commit (an fsync on SQLite) is paid per batch instead of per step;
with a single writer the leader simply flushes its own step at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from statewright.store.base import Applied, ApplyRequest, Store, StoreError

#: Steps written in one transaction at most.
MAX_BATCH = 64


@dataclass(slots=True)
class _Pending:
    request: ApplyRequest
    done: threading.Event = field(default_factory=threading.Event)
    result: Applied | StoreError | None = None


class GroupCommitter:
    """Batches ``apply`` calls from many threads into ``apply_many`` transactions."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._flushing = False

    def commit(self, request: ApplyRequest) -> Applied:
        """Writes the step; raises Conflict (or another StoreError) as ``apply`` would."""
        if not self.store.group_commit:  # each thread commits on its own, in parallel
            alone = self.store.apply_many([request])[0]
            if isinstance(alone, StoreError):
                raise alone
            return alone
        pending = _Pending(request)
        with self._lock:
            self._queue.append(pending)
            leader = not self._flushing
            if leader:
                self._flushing = True
        if leader:
            self._lead()
        pending.done.wait()
        result = pending.result
        if isinstance(result, StoreError):
            raise result
        assert result is not None
        return result

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
                if not batch:
                    self._flushing = False
                    return
            try:
                results: list[Applied | StoreError] = self.store.apply_many(
                    [p.request for p in batch])
            except StoreError as exc:  # the database itself failed: every step in it did
                results = [exc] * len(batch)
            for pending, result in zip(batch, results, strict=True):
                pending.result = result
                pending.done.set()
