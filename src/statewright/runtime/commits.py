"""Group commit: steps of many executions share one database transaction.

Worker threads finish steps independently. Each hands its step to ``GroupCommitter.commit``;
the first thread to arrive while no flush is running becomes the leader, takes every step
queued so far (its own included) and writes them with one ``apply_many``; the others wait for
their result. Under load a commit (an fsync on SQLite) is paid per batch instead of per step;
with a single writer the leader simply flushes its own step at once.

Whatever goes wrong in a flush (a StoreError, or a bug raising anything else) reaches every
caller whose step was in it, and the committer is ready again afterwards: one bad step must not
stall the worker.
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
    result: Applied | BaseException | None = None


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
        if isinstance(result, BaseException):
            raise result
        assert result is not None
        return result

    def _lead(self) -> None:
        batch: list[_Pending] = []
        try:
            while True:
                with self._lock:
                    batch = self._queue[: self.max_batch]
                    self._queue = self._queue[self.max_batch:]
                    if not batch:
                        self._flushing = False
                        return
                self._flush(batch)
        except BaseException as exc:
            # Only an interrupt gets here (``_flush`` hands exceptions to its callers): every
            # step not yet answered gets it, and the next commit elects a new leader.
            with self._lock:
                orphans, self._queue = batch + self._queue, []
                self._flushing = False
            for pending in orphans:
                if not pending.done.is_set():
                    pending.result = exc
                    pending.done.set()
            raise

    def _flush(self, batch: list[_Pending]) -> None:
        """Writes one batch; each caller gets its own result, or the exception that stopped
        the whole batch (the database failed, or a bug)."""
        results: list[Applied | BaseException]
        try:
            results = list(self.store.apply_many([p.request for p in batch]))
        except Exception as exc:
            results = [exc] * len(batch)
        for pending, result in zip(batch, results, strict=True):
            pending.result = result
            pending.done.set()
