"""Workers: claim due work items from the store and carry them out.

Any number of workers, in any number of processes or machines, share one store. A claimed item
is leased; the worker renews its leases while it works and a crashed worker's items become
claimable again when their leases expire. State transitions happen exactly once: every step is
committed with an optimistic version check, and a step that lost the race is redone on the
newer cursor. Task handlers run at least once: a crash after the handler ran but before its
outcome was committed runs it again (as Lambda may).

A run's invocation record (request id, status, what it printed) is committed with the step
that applies its outcome: a run whose outcome was lost in a crash leaves none, and a run that
a lost lease made redundant still leaves its own.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from statewright.asl.errors import Failure
from statewright.asl.step import TaskResult
from statewright.functions.base import Invoker
from statewright.runtime.driver import Batch, Work, work_from_json
from statewright.runtime.engine import Engine, Step
from statewright.runtime.mocks import answer, case_for
from statewright.runtime.records import invocation_record
from statewright.runtime.tasks import Invocation, run_task
from statewright.runtime.upgrade import NewerFormat
from statewright.store.base import ExecutionRecord, InvocationRecord, StoreError, WorkItem

log = logging.getLogger("statewright.worker")

#: Times a work item is tried before its execution fails (claims count: a crash counts too).
MAX_ATTEMPTS = 5
#: Back-off before the second try, doubling each time up to BACKOFF_MAX_SECONDS (both times
#: the wait scale, like Retry intervals).
BACKOFF_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0


class Worker:
    """Claims and runs work items until stopped."""

    def __init__(
        self,
        engine: Engine,
        invoker: Invoker,
        *,
        name: str | None = None,
        threads: int | None = None,
        invoke_slots: int | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.invoker = invoker
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.threads = threads or engine.settings.worker_threads
        # Function invocations wait on their function (I/O-bound: a handler calling another
        # service): they get threads of their own, as many as may run at once, so a step never
        # waits behind them and the concurrency limit, not a thread count, caps them.
        self.invoke_slots = invoke_slots or engine.settings.function_concurrency
        self.lease_seconds = lease_seconds or engine.settings.lease_seconds
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="statewright-task")
        self._invokes = ThreadPoolExecutor(self.invoke_slots,
                                           thread_name_prefix="statewright-invoke")
        self._inflight: dict[int, Future[None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renewal = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Runs the loop in a background thread."""
        self._thread = threading.Thread(target=self.run, name="statewright-worker", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Asks the loop to end (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops claiming, waits for in-flight work, gives back what did not finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._invokes.shutdown(wait=True, cancel_futures=True)

    def run(self) -> None:
        """The loop: claim, dispatch, renew leases, sleep until work may be due."""
        while not self._stop.is_set():
            try:
                claimed = self.run_once()
                self._renew_leases()
                if claimed == 0 and not self._wait_for_room():
                    self._sleep()
            except StoreError as exc:
                # The database went away: keep trying, slowly, without losing anything.
                log.warning("store unavailable (%s); retrying", exc)
                self._stop.wait(min(self.poll_seconds, 1.0))

    def run_once(self) -> int:
        """Claims the due items the pool has room for and dispatches them; returns how many."""
        with self._lock:
            self._inflight = {i: f for i, f in self._inflight.items() if not f.done()}
            room = self._capacity() - len(self._inflight)
        if room <= 0:
            return 0
        items = self.store.claim_work(self.name, self.clock(), room, self.lease_seconds)
        for item in items:
            if item.kind == "invoke":
                future = self._invokes.submit(self._guarded, self._run_invoke, item)
            else:
                future = self._pool.submit(self._guarded, self._run_step, item)
            with self._lock:
                self._inflight[item.id] = future
        return len(items)

    def drain(self, deadline: float) -> None:
        """Runs until no work is left at all, due now or later (tests, scripts)."""
        while time.monotonic() < deadline:
            claimed = self.run_once()
            with self._lock:
                busy = [f for f in self._inflight.values() if not f.done()]
            if claimed:
                continue
            if busy:
                busy[0].result(timeout=max(0.0, deadline - time.monotonic()))
                continue
            next_due = self.store.next_due()
            if next_due is None:
                return
            self.store.wait_for_work(max(0.0, min(
                next_due - self.clock(), deadline - time.monotonic(), self.poll_seconds)))

    # ------------------------------------------------------------------ one item

    def _guarded(self, fn: Callable[[WorkItem], None], item: WorkItem) -> None:
        try:
            fn(item)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # nothing may kill the pool
            # BaseException: a Rust library's panic (pyo3's PanicException, e.g. from the
            # JSONata engine) is one, and must fail the item like any other bug.
            if isinstance(exc, NewerFormat):
                # Written by a newer release (this one was rolled back): a newer worker can
                # carry it on, so it is left, not failed.
                log.warning("work item %s (%s): %s", item.id, item.kind, exc)
                return
            if _store_failed(exc):
                # The database went away: the item's lease expires and it is claimed again
                # when the database is back; that is no fault of the item.
                log.warning("work item %s (%s): store unavailable (%s); retried when its "
                            "lease expires", item.id, item.kind, exc)
                return
            try:
                self._poisoned(item, exc)
            except Exception as again:
                log.warning("work item %s (%s): could not record its failure (%s); retried "
                            "when its lease expires", item.id, item.kind, again)

    def _poisoned(self, item: WorkItem, exc: BaseException) -> None:
        """A work item failed for a reason of its own (a bug, a value nothing expected):
        retried ``MAX_ATTEMPTS`` times with back-off, then its execution fails with
        States.Runtime, so nothing stays RUNNING forever. The traceback is logged once."""
        if item.attempts < MAX_ATTEMPTS:
            delay = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** max(0, item.attempts - 1))
            delay *= self.engine.settings.wait_scale
            log.warning("work item %s (%s) of %s failed (attempt %d of %d): %s: %s; retrying "
                        "in %.1f s", item.id, item.kind, item.execution_arn, item.attempts,
                        MAX_ATTEMPTS, type(exc).__name__, exc, delay)
            self.store.release_work(self.name, [item.id], self.clock() + delay)
            return
        log.error("work item %s (%s) of %s failed %d times; failing the execution",
                  item.id, item.kind, item.execution_arn, item.attempts, exc_info=exc)
        cause = (f"statewright could not process this execution's work after {item.attempts} "
                 f"attempts: {type(exc).__name__}: {exc}")
        self._advance(item, lambda driver, now: driver.fail(now, "States.Runtime", cause))

    def _run_invoke(self, item: WorkItem) -> None:
        raw = json.loads(item.payload)
        work = work_from_json("invoke", item.due_at, raw)
        assert work.invoke is not None
        started_at = self.clock()
        invoke = work.invoke
        mocked = self._mocked(item, work)
        if mocked is not None:
            self._advance(item, lambda driver, now: _merge(
                driver.started(work, started_at), driver.resume(work, now, mocked)))
            return
        if invoke.resource.pattern == "wait_for_task_token" or invoke.resource.kind == "activity":
            self._submit(item, work)
            return
        outcome, invocation = run_task(
            self.invoker, invoke, self.engine.settings.wait_scale, self.clock,
            item.execution_arn, self.engine.task_authorizer(item.execution_arn))
        self._advance(item, lambda driver, now: _merge(
            driver.started(work, started_at), driver.resume(work, now, outcome)),
            _records(item, work, invocation))

    def _mocked(self, item: WorkItem, work: Work) -> TaskResult | Failure | None:
        """The Task's mocked outcome when its execution runs a mock-config test case."""
        if self.engine.mock_config is None:
            return None
        record = self.store.get_execution(item.execution_arn)
        if record is None:
            return None
        case = case_for(self.engine.mock_config, json.loads(record.cursor),
                        record.state_machine_arn.rsplit(":", 1)[-1])
        return answer(case, work)

    def _submit(self, item: WorkItem, work: Work) -> None:
        """A callback Task: run its function if it has one (its result is only a receipt),
        then the Task waits for SendTask* (or, for an activity, a GetActivityTask poller)."""
        invoke = work.invoke
        assert invoke is not None
        if invoke.function_name is None:
            self._advance(item, lambda driver, now: driver.submitted(work, now))
            return
        outcome, invocation = run_task(
            self.invoker, invoke, self.engine.settings.wait_scale, self.clock,
            item.execution_arn, self.engine.task_authorizer(item.execution_arn))
        invocations = _records(item, work, invocation)
        if isinstance(outcome, Failure) or outcome.function_error is not None:
            self._advance(item, lambda driver, now: driver.resume(work, now, outcome),
                          invocations)
            return
        response = {"StatusCode": 200, "Payload": _json_or_text(outcome.payload)}
        self._advance(item, lambda driver, now: driver.submitted(work, now, response),
                      invocations)

    def _run_step(self, item: WorkItem) -> None:
        if item.kind == "timeout":
            self._advance(item, lambda driver, now: driver.time_out(now))
            return
        work = work_from_json(item.kind, item.due_at, json.loads(item.payload))
        self._advance(item, lambda driver, now: driver.resume(work, now))

    def _advance(self, item: WorkItem, step: Callable[[Any, float], Batch],
                 invocations: list[InvocationRecord] | None = None) -> None:
        """Loads the execution, applies ``step`` to its driver, commits; redoes on conflict.
        ``invocations`` (the function call whose outcome the step applies) are committed with
        the step, whichever attempt commits, even when the step turns out to change nothing
        (the execution ended meanwhile): the function did run."""

        def apply(record: ExecutionRecord | None) -> Step | None:
            if record is None:
                return None
            driver = self.engine.driver_for(record)
            now = self.clock()
            batch = step(driver, now) if record.status == "RUNNING" else Batch()
            return Step(record, driver, batch, now, [item.id], invocations)

        if self.engine.update_execution(item.execution_arn, apply) is None:
            self.store.release_work(self.name, [item.id], None)

    # ------------------------------------------------------------------ leases, sleeping

    def _renew_leases(self) -> None:
        now = self.clock()
        if now - self._last_renewal < self.lease_seconds / 3:
            return
        self._last_renewal = now
        with self._lock:
            ids = [i for i, f in self._inflight.items() if not f.done()]
        if ids:
            self.store.renew_leases(self.name, ids, now + self.lease_seconds)

    def _wait_for_room(self) -> bool:
        """With the pool full, waits for a task to finish rather than polling the store
        (``next_due`` is in the past while work is queued). False when the pool has room."""
        with self._lock:
            running = [f for f in self._inflight.values() if not f.done()]
        if len(running) < self._capacity():
            return False
        futures.wait(running, timeout=self.poll_seconds, return_when=futures.FIRST_COMPLETED)
        return True

    def _capacity(self) -> int:
        """How many claimed items may be in hand at once: a queue's worth for the step
        threads, and one per invocation slot."""
        return self.threads * 2 + self.invoke_slots

    def _sleep(self) -> None:
        next_due = self.store.next_due()
        timeout = self.poll_seconds
        if next_due is not None:
            timeout = max(0.0, min(timeout, next_due - self.clock()))
        if timeout > 0:
            self.store.wait_for_work(timeout)


def _store_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is the database failing (raised as is, or as the API error it became),
    not a fault of the work item."""
    return isinstance(exc, StoreError) or isinstance(exc.__cause__, StoreError)


def _json_or_text(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload


def _records(item: WorkItem, work: Work, invocation: Invocation | None
             ) -> list[InvocationRecord]:
    return [] if invocation is None else [invocation_record(item.execution_arn, work, invocation)]


def _merge(first: Batch, second: Batch) -> Batch:
    return Batch(first.events + second.events, first.work + second.work,
                 first.activities + second.activities)
