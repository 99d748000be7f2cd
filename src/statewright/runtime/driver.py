"""Drives one execution: applies the core's decisions to frames, numbers history events.

The driver holds no clock, thread or storage. A host (the in-memory runner in ``sync.py``, the
durable engine later) calls ``start`` and then ``resume`` for each piece of work that falls due,
and gets back a ``Batch``: the new history events and the new work items. Runs of effect-free
states (Pass, Choice, Succeed, Fail, and children that reach them) are stepped inside one call,
so a host commits them together.

Frames: the execution is a tree of frames. The root frame runs the top-level machine; a
Parallel or Map state forks one child frame per branch or item. Everything in a frame is plain
JSON-able data (``frames.py``). The durable engine stores the execution's head (``snapshot``:
status, counters) as its cursor and each frame, and each fork child's input and output, as
rows of their own: a restored driver holds only the head and loads a frame from its
``FrameSource`` when a step first needs it, and ``changes`` names only the rows the step
touched. So a step costs the same for a Map of 10 items or 3,000 (docs/design.md).

Callback Tasks (``.waitForTaskToken`` and activities) wait for SendTask*: ``submitted`` starts
the wait, ``activity_started`` records that a worker took an activity task, ``callback`` and
``heartbeat`` bring the answers in.
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections import deque
from typing import Any

from statewright.asl import step
from statewright.asl.context import Ctx
from statewright.asl.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    HEARTBEAT_TIMEOUT,
    RUNTIME,
    TIMEOUT,
    Failure,
)
from statewright.asl.events import (
    Event,
    JsonTexts,
    execution_failed,
    execution_started,
    execution_succeeded,
    map_iteration,
    payload_details,
    to_json,
)
from statewright.asl.model import (
    DataState,
    Machine,
    MapState,
    ParallelState,
    State,
    StateMachine,
    TaskState,
)
from statewright.runtime.callbacks import TaskToken
from statewright.runtime.frames import (
    DEFERRED,
    PARENT_INPUT,
    ActivityTask,
    Batch,
    ExecutionInfo,
    ExecutionStatus,
    Fork,
    Frame,
    FrameSource,
    HistoryEvent,
    TaskVisit,
    Work,
    frame_from_json,
    frame_to_json,
    iso8601,
    work_from_json,
    work_to_json,
)
from statewright.runtime.upgrade import CURSOR_VERSION, upgrade_cursor
from statewright.store.base import FrameWrites

#: States that write ``<Type>StateAborted`` when their frame is cancelled or fails in a fork.
_ABORTABLE = frozenset({"Task", "Wait", "Parallel", "Map"})

#: AWS's hard quota of history events per execution (Step Functions' "Avoid reaching the
#: history quota" page: event 25,000 is ExecutionSucceeded, or the execution fails there).
MAX_HISTORY_EVENTS = 25000
#: ``Driver.history_limit`` of an EXPRESS execution: AWS's "Quotas for Express Workflows" page
#: gives its maximum execution history size as "Unlimited".
NO_HISTORY_LIMIT = sys.maxsize
_HISTORY_LIMIT_CAUSE = "The execution reached the maximum number of history events (25000)."

#: States that may have a Retry field.
_RETRYABLE = frozenset({"Task", "Parallel", "Map"})


class Driver:
    """Runs one execution of ``state_machine`` over frames, one call per piece of work."""

    def __init__(self, state_machine: StateMachine, info: ExecutionInfo, *,
                 seed: int | None = None) -> None:
        self.state_machine = state_machine
        self.info = info
        self.history_limit = MAX_HISTORY_EVENTS
        """The event that must end the execution (AWS's quota for STANDARD executions; EXPRESS
        ones have none: ``NO_HISTORY_LIMIT``)."""
        self.frames: dict[int, Frame] = {}
        self.status: ExecutionStatus = "RUNNING"
        self.output: Any = None
        self.failure: Failure | None = None
        self._next_frame = 0
        self._next_event = 1
        self._seed = info.seed if seed is None else seed
        self.random: random.Random | None = None
        """The execution's random source (jitter, UUIDs, MathRandom), made when first used."""
        self._now = info.start_time
        self._batch = Batch()
        self._ready: deque[tuple[int, step.Decision]] = deque()
        self._static_context: dict[str, Any] | None = None
        self._encode = JsonTexts()
        self.invocations: dict[str, int] = {}
        """Invocations so far per Task state name (a mocked response answers by number)."""
        self.skew = 0.0
        """Virtual minus real time: how far scaled waits moved this execution's clock ahead,
        so its history shows the waits AWS would record (kept in the cursor)."""
        self.wait_scale: float | None = None
        """This execution's own wait scale (its state machine's ``statewright:wait-scale``
        tag at start); None: the host's."""
        self.test_case: str | None = None
        """The mock config's test case this execution runs (``stateMachineArn#TestCase``),
        kept in the cursor so that every worker answers its Tasks the same way."""
        self.source: FrameSource | None = None
        """Where frames not in ``frames`` are stored (None: all of them are in memory)."""
        self._stored: dict[int, str] = {}
        """Frame id -> its row's data as stored (what ``changes`` compares with)."""
        self._touched: set[int] = set()
        """Frames looked up or made since the last commit (the only ones that may change)."""
        self._ended: set[int] = set()
        """Frames that ended since the last commit."""
        self._inputs: dict[tuple[int, int], Any] = {}
        """``(fork, index)`` -> an input not yet stored (a child not started, or a forking
        frame's own under ``PARENT_INPUT``)."""
        self._outputs: dict[int, dict[int, Any]] = {}
        """Fork -> index -> the output of a child that ended, not yet stored."""
        self._dropped: list[int] = []
        """Forks completed since the last commit."""
        self._changes: FrameWrites | None = None
        self._rows = False
        """Whether any frame or fork-item row was ever written (else an ending execution has
        none to delete). The root frame is part of the head, not a row."""
        self.budget: int | None = None
        """States one frame may enter in one call (``start``, ``resume``...); past it the
        frame continues in a ``continue`` work item, so a long Pass/Choice loop never holds
        the caller (a StartExecution request, a worker step). None: no limit."""
        self._entered: dict[int, int] = {}

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> dict[str, Any]:
        """The execution's head as JSON-able data (its cursor): status and counters. Frames
        and fork items are rows of their own (``changes``)."""
        return {
            "version": CURSOR_VERSION,
            "status": self.status,
            "output": self.output,
            "failure": None if self.failure is None else [self.failure.error,
                                                          self.failure.cause],
            "next_frame": self._next_frame,
            "next_event": self._next_event,
            "invocations": self.invocations,
            # The root frame rides with the head (a step nearly always touches it; a forking
            # frame's row is small); only Parallel branches and Map iterations are rows.
            **({"root": frame_to_json(root)} if (root := self.frames.get(0)) is not None
               and not root.done else {}),
            **({"rows": True} if self._rows else {}),
            **({"skew": self.skew} if self.skew else {}),
            **({"wait_scale": self.wait_scale} if self.wait_scale is not None else {}),
            **({"test_case": self.test_case} if self.test_case is not None else {}),
        }

    @classmethod
    def restore(
        cls, state_machine: StateMachine, info: ExecutionInfo, cursor: dict[str, Any],
        source: FrameSource | None = None,
    ) -> Driver:
        """A driver continuing from ``snapshot()``'s data (of this or any earlier release),
        loading frames from ``source`` as steps need them."""
        cursor = upgrade_cursor(cursor)
        # A fresh random stream per resumption: nothing depends on replaying old draws.
        driver = cls(state_machine, info,
                     seed=info.seed ^ (cursor["next_event"] * 2654435761))
        driver.source = source
        driver.status = cursor["status"]
        driver.output = cursor["output"]
        if cursor["failure"] is not None:
            driver.failure = Failure(*cursor["failure"])
        driver._next_frame = cursor["next_frame"]
        driver._next_event = cursor["next_event"]
        driver.invocations = dict(cursor.get("invocations", {}))
        driver.test_case = cursor.get("test_case")
        driver.skew = cursor.get("skew", 0.0)
        driver.wait_scale = cursor.get("wait_scale")
        driver._rows = cursor.get("rows", False)
        if cursor.get("root") is not None:
            driver.frames[0] = frame_from_json(cursor["root"], state_machine.machine)
        # A cursor of a release that kept every frame in it (upgraded by ``upgrade.py``):
        # its frames and fork items become rows at the next commit.
        for raw in cursor.get("frames", ()):  # parents come before their children
            parent = driver.frames.get(raw["parent"]) if raw["parent"] is not None else None
            machine = (
                _child_machine(parent.machine.states[parent.state], raw["index"])
                if parent is not None
                else state_machine.machine
            )
            frame = frame_from_json(raw, machine)
            driver.frames[frame.id] = frame
            driver._touched.add(frame.id)
            if frame.fork is not None:
                driver._inputs[(frame.fork.id, PARENT_INPUT)] = frame.input
                driver._rows = True
        for fork_id, index, value in cursor.get("inputs", ()):
            driver._inputs[(fork_id, index)] = value
        for fork_id, index, value in cursor.get("outputs", ()):
            driver._outputs.setdefault(fork_id, {})[index] = value
        return driver

    def changes(self) -> FrameWrites:
        """The frame and fork-item rows to write for what happened since the driver was
        restored or last committed: only frames the steps touched, compared with their rows."""
        if self.status != "RUNNING":
            changes = FrameWrites(clear=self._rows)  # nothing to clear if nothing was a row
        else:
            put: list[tuple[int, int | None, str]] = []
            for frame_id in sorted(self._touched):
                frame = self.frames.get(frame_id)
                if frame is None or frame.done or frame.parent is None:
                    continue  # the root is written with the head
                data = to_json(frame_to_json(frame))
                if self._stored.get(frame_id) != data:
                    put.append((frame_id, frame.parent, data))
            changes = FrameWrites(
                put,
                sorted(f for f in self._ended if f in self._stored),
                [(f, i, to_json(v)) for (f, i), v in self._inputs.items()],
                [(f, i, to_json(v)) for f, outputs in self._outputs.items()
                 for i, v in outputs.items()],
                list(self._dropped),
            )
        self._changes = changes
        return changes

    def committed(self) -> None:
        """The last ``changes`` were stored: the driver may go on from here (a worker keeps
        it for the execution's next step instead of reading it back)."""
        changes = self._changes if self._changes is not None else self.changes()
        self._changes = None
        if changes.clear:
            self._stored.clear()
        for frame_id, _, data in changes.put:
            self._stored[frame_id] = data
        for frame_id in changes.delete:
            self._stored.pop(frame_id, None)
        self._touched.clear()
        self._ended.clear()
        self._inputs.clear()
        self._outputs.clear()
        self._dropped.clear()

    # ------------------------------------------------------------------ host interface

    def start(self) -> Batch:
        """Writes ExecutionStarted and runs until every frame waits on an effect."""
        self._batch = Batch()
        self._now = self.info.start_time
        self._emit_raw(execution_started(self.info.input, self.info.role_arn, self._encode), 0)
        root = self._new_frame(None, 0, self.state_machine.machine, self.info.input, {})
        self._enter(root)
        self._drain()
        return self._finish_batch()

    def resume(self, work: Work, now: float, outcome: Any = None) -> Batch:
        """A work item fell due (``outcome``: a Task's TaskResult/Failure for ``invoke``)."""
        self._batch = Batch()
        self._now = now + self.skew
        frame = self._frame(work.frame) if self.status == "RUNNING" else None
        if not self._current(frame, work):
            return self._finish_batch()  # stale: the frame moved on or was cancelled
        limit = self.state_machine.machine.timeout_seconds
        if limit and work.kind != "invoke" and work.due > self.info.start_time + limit:
            # Scaled timers may fire in another order than their times: this one is due past
            # the execution's TimeoutSeconds, so the execution timed out first.
            return self.time_out(now)
        if work.kind != "invoke" and work.due > self._now:
            # A scaled timer fired early in real time: the execution's clock jumps to its due.
            self.skew += work.due - self._now
            self._now = work.due
        assert frame is not None
        if work.kind == "continue":  # the budget stopped this frame before its next state
            self._enter(frame)
            self._drain()
            return self._finish_batch()
        state = frame.machine.states[frame.state]
        ctx = self._ctx(frame)
        if work.kind == "task_timeout":
            outcome = Failure(TIMEOUT, None)
        elif work.kind == "heartbeat":
            outcome = Failure(HEARTBEAT_TIMEOUT, None)
        if work.kind == "retry":
            assert isinstance(state, DataState)
            self._ready.append((frame.id, step.attempt(state, frame.input, ctx)))
        else:
            decision = step.complete(state, frame.input, outcome, frame.retry_counts, ctx)
            self._ready.append((frame.id, decision))
        self._drain()
        return self._finish_batch()

    def _current(self, frame: Frame | None, work: Work) -> bool:
        """Whether ``work`` still concerns what ``frame`` is doing."""
        if self.status != "RUNNING" or frame is None or frame.done or frame.token != work.token:
            return False
        if work.kind in ("task_timeout", "heartbeat") and work.attempt != sum(frame.retry_counts):
            return False
        return work.kind != "heartbeat" or work.beat == frame.beats

    def task_token(self, frame: Frame) -> str:
        """The token ``$$.Task.Token`` shows to the frame's current Task attempt."""
        return TaskToken(self.info.execution_arn, frame.id, frame.token,
                         sum(frame.retry_counts)).encode(self.info.token_key)

    def _awaiting(self, token: TaskToken) -> Frame | None:
        frame = self._frame(token.frame) if self.status == "RUNNING" else None
        if self.status != "RUNNING" or frame is None or frame.done:
            return None
        if (frame.token, sum(frame.retry_counts)) != (token.visit, token.attempt):
            return None
        state = frame.machine.states[frame.state]
        return frame if isinstance(state, TaskState) and _waits_for_callback(state) else None

    def submitted(self, work: Work, now: float, response: Any = None) -> Batch:
        """A callback Task's request went out (its function ran, or nothing needed doing): the
        Task now waits for SendTask*; its TimeoutSeconds and HeartbeatSeconds start."""
        self._batch = Batch()
        self._now = now + self.skew
        frame = self._frame(work.frame) if self.status == "RUNNING" else None
        invoke = work.invoke
        if not self._current(frame, work) or invoke is None:
            return self._finish_batch()
        assert frame is not None
        resource = invoke.resource
        if resource.kind == "activity":
            # Queued for a poller; ActivityStarted is written when one takes it.
            assert resource.activity_name is not None
            self._batch.activities.append(ActivityTask(
                self.task_token(frame), resource.activity_name, to_json(invoke.payload)))
        else:
            self._emit(frame, invoke.started)
        if resource.kind == "service":
            self._emit(frame, Event("TaskSubmitted", {
                "resourceType": invoke.resource.service,
                "resource": invoke.resource.history_resource,
                **payload_details("output", response if response is not None else {}),
            }))
        attempt = sum(frame.retry_counts)
        if invoke.timeout_seconds is not None:
            self._schedule(Work("task_timeout", frame.id, self._now + invoke.timeout_seconds,
                                token=frame.token, attempt=attempt))
        frame.heartbeat_seconds = invoke.heartbeat_seconds
        frame.beats = 0
        # An activity's heartbeat clock starts when a worker takes the task: beats come from
        # the worker, and a queued task has none yet (TimeoutSeconds bounds the queueing).
        if invoke.heartbeat_seconds is not None and resource.kind != "activity":
            self._schedule(Work("heartbeat", frame.id, self._now + invoke.heartbeat_seconds,
                                token=frame.token, attempt=attempt, beat=0))
        return self._finish_batch()

    def activity_started(self, token: TaskToken, worker_name: str | None, now: float
                         ) -> Batch | None:
        """A GetActivityTask poller took the activity task ``token`` names: writes
        ActivityStarted and starts the heartbeat clock. None when that Task no longer waits
        (it timed out, its execution ended, or a retry made the token stale)."""
        frame = self._awaiting(token)
        if frame is None:
            return None
        state = frame.machine.states[frame.state]
        if not isinstance(state, TaskState) or state.resource.kind != "activity":
            return None
        self._batch = Batch()
        self._now = now + self.skew
        details = {} if worker_name is None else {"workerName": worker_name}
        self._emit(frame, Event("ActivityStarted", details))
        frame.beats += 1  # a heartbeat timer set before the start (SendTaskHeartbeat) is stale
        if frame.heartbeat_seconds is not None:
            self._schedule(Work("heartbeat", frame.id, self._now + frame.heartbeat_seconds,
                                token=frame.token, attempt=sum(frame.retry_counts),
                                beat=frame.beats))
        return self._finish_batch()

    def callback(self, token: TaskToken, outcome: Any, now: float) -> Batch | None:
        """SendTaskSuccess (a TaskResult) or SendTaskFailure (a Failure); None when the token
        names no Task that is waiting (finished, timed out, cancelled, or never was)."""
        frame = self._awaiting(token)
        if frame is None:
            return None
        self._batch = Batch()
        self._now = now + self.skew
        state = frame.machine.states[frame.state]
        decision = step.complete(state, frame.input, outcome, frame.retry_counts,
                                 self._ctx(frame))
        self._ready.append((frame.id, decision))
        self._drain()
        return self._finish_batch()

    def heartbeat(self, token: TaskToken, now: float) -> Batch | None:
        """SendTaskHeartbeat: restarts the heartbeat clock; None when nothing waits."""
        frame = self._awaiting(token)
        if frame is None:
            return None
        self._batch = Batch()
        self._now = now + self.skew
        frame.beats += 1
        if frame.heartbeat_seconds is not None:
            self._schedule(Work("heartbeat", frame.id, self._now + frame.heartbeat_seconds,
                                token=frame.token, attempt=sum(frame.retry_counts),
                                beat=frame.beats))
        return self._finish_batch()

    def started(self, work: Work, now: float) -> Batch:
        """The host began running an ``invoke`` work item: writes its Started event."""
        self._batch = Batch()
        self._now = now + self.skew
        frame = self._frame(work.frame) if self.status == "RUNNING" else None
        if frame is not None and not frame.done and work.invoke is not None:
            self._emit(frame, work.invoke.started)
        return self._finish_batch()

    def stop(self, now: float, error: str | None, cause: str | None) -> Batch:
        """StopExecution / a timeout: cancels every frame and ends the execution."""
        self._batch = Batch()
        self._now = now + self.skew
        if self.status == "RUNNING":
            self._cancel_all()
            self.status = "ABORTED"
            self.failure = Failure(error, cause)
            self._emit_raw(Event("ExecutionAborted", _error_details(error, cause)),
                           self._last_root_event())
        return self._finish_batch()

    def fail(self, now: float, error: str, cause: str) -> Batch:
        """The host gave up on the execution (its work kept failing): it fails as a whole."""
        self._batch = Batch()
        self._now = now
        if self.status == "RUNNING":
            self._cancel_all()
            self.status = "FAILED"
            self.failure = Failure(error, cause)
            self._emit_raw(Event("ExecutionFailed", _error_details(error, cause)),
                           self._last_root_event())
        return self._finish_batch()

    def time_out(self, now: float) -> Batch:
        """The execution's TimeoutSeconds elapsed."""
        self._batch = Batch()
        self._now = now + self.skew
        limit = self.state_machine.machine.timeout_seconds
        if limit and self._now < self.info.start_time + limit:
            # A scaled timeout fired early in real time: the execution's clock jumps to it.
            self.skew += self.info.start_time + limit - self._now
            self._now = self.info.start_time + limit
        if self.status == "RUNNING":
            self._cancel_all()
            self.status = "TIMED_OUT"
            self.failure = Failure("States.Timeout", None)
            self._emit_raw(Event("ExecutionTimedOut", {"error": "States.Timeout"}),
                           self._last_root_event())
        return self._finish_batch()

    # ------------------------------------------------------------------ stepping

    def _drain(self) -> None:
        while self._ready and self.status == "RUNNING":
            frame_id, decision = self._ready.popleft()
            frame = self._frame(frame_id)
            if frame is not None and not frame.done:
                self._apply(frame, decision)
        self._entered.clear()

    def _enter(self, frame: Frame) -> None:
        if self.budget is not None:
            entered = self._entered[frame.id] = self._entered.get(frame.id, 0) + 1
            if entered > self.budget:
                # Out of budget: the frame (already at its next state, with a new visit
                # token so that the last state's timers are stale) continues in a work item.
                frame.token += 1
                self._schedule(Work("continue", frame.id, self._now, None, frame.token))
                return
        frame.entered_time = self._now
        frame.entered_event_id = self._next_event
        frame.retry_counts = ()
        frame.token += 1
        state = frame.machine.states[frame.state]
        self._ready.append((frame.id, step.enter(state, frame.input, self._ctx(frame))))

    def _apply(self, frame: Frame, decision: step.Decision) -> None:
        for event in decision.events:
            self._emit(frame, event)
        match decision:
            case step.Transition():
                if decision.assigned:
                    frame.variables.update(decision.assigned)
                frame.state, frame.input = decision.next, decision.output
                self._enter(frame)
            case step.Finish():
                if decision.assigned:
                    frame.variables.update(decision.assigned)
                self._frame_succeeded(frame, decision.output)
            case step.Fail():
                self._frame_failed(frame, decision.failure)
            case step.Invoke():
                # The decision's last event, just written, is the attempt's Scheduled event.
                number = self.invocations.get(frame.state, 0)
                self.invocations[frame.state] = number + 1
                visit = (TaskVisit(frame.state, 0, 0, number) if self._hidden(frame) else
                         TaskVisit(frame.state, frame.entered_event_id, frame.last_event_id,
                                   number))
                self._schedule(Work("invoke", frame.id, self._now, decision, frame.token,
                                    visit=visit))
            case step.Sleep():
                self._schedule(Work("wake", frame.id, decision.until, None, frame.token))
            case step.RetryLater():
                frame.retry_counts = decision.retry_counts
                self._schedule(Work("retry", frame.id, decision.due, None, frame.token))
            case step.Fork():
                self._fork(frame, decision)

    def _schedule(self, work: Work) -> None:
        self._batch.work.append(work)

    # ------------------------------------------------------------------ forks

    def _fork(self, frame: Frame, decision: step.Fork) -> None:
        fork_id = self._next_frame  # fork ids come from the frame ids: unique, never reused
        self._next_frame += 1
        self._rows = True  # its children and items are rows from now on
        fork = frame.fork = Fork(
            fork_id, decision.kind, len(decision.inputs), decision.max_concurrency,
            decision.tolerated_failure_count, decision.tolerated_failure_percentage,
            decision.distributed,
        )
        if not decision.inputs:
            self._fork_done(frame)
            return
        # Kept with the fork, not in the frame's row: written once, read once at the end.
        self._inputs[(fork.id, PARENT_INPUT)] = frame.input
        for index, value in enumerate(decision.inputs):
            self._inputs[(fork.id, index)] = value
        self._start_children(frame)

    def _start_children(self, frame: Frame) -> None:
        fork = frame.fork
        assert fork is not None
        limit = fork.max_concurrency or fork.total
        state = frame.machine.states[frame.state]
        while fork.started < fork.total and fork.running < limit:
            index = fork.started
            fork.started += 1
            machine = _child_machine(state, index)
            if fork.kind == "map" and not fork.distributed:
                self._emit(frame, map_iteration("Started", frame.state, index))
            scope = {} if fork.distributed else dict(frame.variables)
            child = self._new_frame(frame, index, machine, self._take_input(fork.id, index),
                                    scope)
            self._enter(child)

    def _take_input(self, fork_id: int, index: int) -> Any:
        """A fork child's input (or, at ``PARENT_INPUT``, the forking frame's own): from
        memory when this driver put it there, else from its row."""
        value = self._inputs.pop((fork_id, index), DEFERRED)
        if value is not DEFERRED:
            return value
        text = None if self.source is None else self.source.fork_input(fork_id, index)
        if text is None:
            raise RuntimeError(f"the input of item {index} of fork {fork_id} is missing")
        return json.loads(text)

    def _frame_succeeded(self, frame: Frame, output: Any) -> None:
        frame.done = True
        if frame.parent is None:
            self.status, self.output = "SUCCEEDED", output
            self._emit(frame, execution_succeeded(output, self._encode))
            return
        parent = self._parent(frame)
        fork = parent.fork
        assert fork is not None
        self._end_frame(frame)
        fork.finished += 1
        self._outputs.setdefault(fork.id, {})[frame.index] = output
        if fork.kind == "map" and not fork.distributed:
            self._emit(parent, map_iteration("Succeeded", parent.state, frame.index))
        self._fork_progress(parent)

    def _frame_failed(self, frame: Frame, failure: Failure) -> None:
        frame.done = True
        if frame.parent is None:
            self.status, self.failure = "FAILED", failure
            self._emit(frame, execution_failed(failure.error, failure.cause))
            self._cancel_all()
            return
        state = frame.machine.states[frame.state]
        if state.type in _ABORTABLE:
            self._emit(frame, Event(f"{state.type}StateAborted"))
        parent = self._parent(frame)
        fork = parent.fork
        assert fork is not None
        self._end_frame(frame)
        fork.finished += 1
        fork.failed += 1
        if fork.kind == "map" and not fork.distributed:
            self._emit(parent, map_iteration("Failed", parent.state, frame.index))
        if fork.kind == "map" and _tolerated(fork):
            self._outputs.setdefault(fork.id, {})[frame.index] = _error_output(failure)
            self._fork_progress(parent)
            return
        if fork.kind == "map" and (fork.tolerated_count or fork.tolerated_percentage):
            failure = Failure(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        self._cancel_fork(parent)
        self._complete_fork(parent, failure)

    def _fork_progress(self, parent: Frame) -> None:
        fork = parent.fork
        assert fork is not None
        if fork.finished == fork.total:
            self._fork_done(parent)
        else:
            self._start_children(parent)

    def _fork_done(self, parent: Frame) -> None:
        """Every child ended: their outputs, read once (N rows), are the fork's result."""
        fork = parent.fork
        assert fork is not None
        results: list[Any] = [None] * fork.total
        if self.source is not None and fork.total:
            for index, text in self.source.fork_outputs(fork.id):
                results[index] = json.loads(text)
        for index, value in self._outputs.pop(fork.id, {}).items():
            results[index] = value
        self._complete_fork(parent, results)

    def _complete_fork(self, parent: Frame, outcome: Any) -> None:
        fork = parent.fork
        assert fork is not None
        parent.fork = None
        if parent.input is DEFERRED:
            parent.input = self._take_input(fork.id, PARENT_INPUT)
        self._drop_fork(fork)
        state = parent.machine.states[parent.state]
        decision = step.complete(state, parent.input, outcome, parent.retry_counts,
                                 self._ctx(parent))
        self._ready.append((parent.id, decision))

    def _drop_fork(self, fork: Fork) -> None:
        """The fork is over: what is kept of its children goes."""
        self._inputs.pop((fork.id, PARENT_INPUT), None)
        for index in range(fork.started, fork.total):  # children never started
            self._inputs.pop((fork.id, index), None)
        self._outputs.pop(fork.id, None)
        if fork.total:
            self._dropped.append(fork.id)

    def _cancel_fork(self, parent: Frame) -> None:
        fork = parent.fork
        assert fork is not None
        for child in self._children(parent.id):
            self._cancel_frame(child)
            if fork.kind == "map" and not fork.distributed:
                self._emit(parent, map_iteration("Aborted", parent.state, child.index))

    def _cancel_frame(self, frame: Frame) -> None:
        if frame.done:
            return
        fork = frame.fork
        if fork is not None:
            self._cancel_fork(frame)
            frame.fork = None
            self._drop_fork(fork)
        frame.done = True
        frame.token += 1
        state = frame.machine.states[frame.state]
        if state.type in _ABORTABLE:
            self._emit(frame, Event(f"{state.type}StateAborted"))
        self._end_frame(frame)

    def _cancel_all(self) -> None:
        """The execution ended: every frame still running stops (no events, as AWS)."""
        for frame in list(self.frames.values()):
            if not frame.done:
                frame.done = True
                frame.token += 1

    # ------------------------------------------------------------------ frames, events, ctx

    def _new_frame(
        self, parent: Frame | None, index: int, machine: Machine, data: Any,
        variables: dict[str, Any],
    ) -> Frame:
        frame = Frame(
            id=self._next_frame, parent=parent.id if parent else None, index=index,
            machine=machine, state=machine.start_at, input=data, variables=variables,
            last_event_id=parent.last_event_id if parent else 0,
        )
        self._next_frame += 1
        self.frames[frame.id] = frame
        self._touched.add(frame.id)
        return frame

    def _frame(self, frame_id: int) -> Frame | None:
        """The frame, loaded from the source when this driver does not hold it; None when it
        does not exist (it ended)."""
        frame = self.frames.get(frame_id)
        if frame is None:
            if self.source is None or frame_id in self._ended:
                return None
            data = self.source.frame(frame_id)
            if data is None:
                return None
            frame = self._adopt(data, json.loads(data))
            if frame is None:
                return None
        self._touched.add(frame_id)
        return frame

    def _adopt(self, data: str, raw: dict[str, Any]) -> Frame | None:
        """A frame read from its row (its parent is loaded first: it names the machine)."""
        parent_id = raw["parent"]
        if parent_id is None:
            machine = self.state_machine.machine
        else:
            parent = self._frame(parent_id)
            if parent is None:
                return None
            machine = _child_machine(parent.machine.states[parent.state], raw["index"])
        frame = frame_from_json(raw, machine)
        self.frames[frame.id] = frame
        self._stored[frame.id] = data
        return frame

    def _parent(self, frame: Frame) -> Frame:
        assert frame.parent is not None
        parent = self._frame(frame.parent)
        if parent is None:
            raise RuntimeError(f"frame {frame.id}'s parent {frame.parent} is missing")
        return parent

    def _children(self, parent_id: int) -> list[Frame]:
        """The running children of a frame, by id (held or stored)."""
        found = {f.id: f for f in self.frames.values()
                 if f.parent == parent_id and not f.done}
        if self.source is not None:
            for data in self.source.children(parent_id):
                raw = json.loads(data)
                frame_id = raw["id"]
                if frame_id in found or frame_id in self._ended or frame_id in self.frames:
                    continue
                frame = self._adopt(data, raw)
                if frame is not None and not frame.done:
                    found[frame_id] = frame
        self._touched.update(found)
        return [found[i] for i in sorted(found)]

    def _end_frame(self, frame: Frame) -> None:
        self.frames.pop(frame.id, None)
        self._ended.add(frame.id)

    def _hidden(self, frame: Frame) -> bool:
        """Frames inside a Distributed Map write to child executions, not this history."""
        parent_id = frame.parent
        while parent_id is not None:
            parent = self._frame(parent_id)
            if parent is None:
                return False
            if parent.fork is not None and parent.fork.distributed:
                return True
            parent_id = parent.parent
        return False

    def _emit(self, frame: Frame, event: Event) -> None:
        if frame.parent is not None and self._hidden(frame):
            return
        event_id = self._next_event
        if event_id < self.history_limit:  # the common case of _emit_raw, inline
            self._next_event = event_id + 1
            self._batch.events.append(HistoryEvent(
                event_id, frame.last_event_id, self._now, event.type, event.details))
            frame.last_event_id = event_id
        else:
            frame.last_event_id = self._emit_raw(event, frame.last_event_id)
        if event.type.endswith("StateEntered"):
            # ``_enter`` guessed this id before the event was written; the guess is off when
            # other frames (Parallel branches, Map iterations) wrote events in between.
            frame.entered_event_id = frame.last_event_id

    def _emit_raw(self, event: Event, previous: int) -> int:
        event_id = self._next_event
        limit = self.history_limit
        if event_id > limit:
            return event_id - 1  # the execution already ended at the limit
        if event_id == limit and event.type != "ExecutionSucceeded":
            # AWS: event 25,000 must end the execution; anything else fails it there.
            self._cancel_all()
            self.status = "FAILED"
            self.failure = Failure(RUNTIME, _HISTORY_LIMIT_CAUSE)
            self._ready.clear()
            event = execution_failed(RUNTIME, _HISTORY_LIMIT_CAUSE)
        self._next_event += 1
        self._batch.events.append(
            HistoryEvent(event_id, previous, self._now, event.type, event.details)
        )
        return event_id

    def _last_root_event(self) -> int:
        return self._next_event - 1

    def _finish_batch(self) -> Batch:
        batch, self._batch = self._batch, Batch()
        return batch

    def _ctx(self, frame: Frame) -> Ctx:
        """The state's Ctx; its Context Object is built only if the state reads it (most
        never do), from what the frame holds now (``_enter`` and ``complete`` read it at
        once, before the frame moves on)."""
        state = frame.machine.states[frame.state]
        entered_time, retry_count = frame.entered_time, sum(frame.retry_counts)
        frame_id, visit = frame.id, frame.token

        def context_of() -> dict[str, Any]:
            state_info: dict[str, Any] = {
                "EnteredTime": iso8601(entered_time), "Name": state.name,
            }
            if state.type in _RETRYABLE:  # AWS shows RetryCount only where Retry is allowed
                state_info["RetryCount"] = retry_count
            context = {**self._static(), "State": state_info}
            if isinstance(state, TaskState) and _waits_for_callback(state):
                context["Task"] = {"Token": TaskToken(
                    self.info.execution_arn, frame_id, visit, retry_count,
                ).encode(self.info.token_key)}
            return context

        return Ctx(
            now=self._now,
            context_of=context_of,
            random_of=self._random,
            encode=self._encode,
            variables=frame.variables,
            entered_event_id=frame.entered_event_id,
        )

    def _static(self) -> dict[str, Any]:
        """The Execution and StateMachine parts of the Context Object: the same all along."""
        if self._static_context is None:
            info = self.info
            self._static_context = {
                "Execution": {
                    "Id": info.execution_arn,
                    "Input": info.input,
                    "Name": info.name,
                    "RoleArn": info.role_arn,
                    "StartTime": iso8601(info.start_time),
                    "RedriveCount": 0,
                },
                "StateMachine": {
                    "Id": info.state_machine_arn,
                    "Name": info.state_machine_arn.rsplit(":", 1)[-1],
                },
            }
        return self._static_context

    def _random(self) -> random.Random:
        """The execution's random source, seeded when first drawn from."""
        if self.random is None:
            self.random = random.Random(self._seed)
        return self.random


def _child_machine(state: State, index: int) -> Machine:
    if isinstance(state, ParallelState):
        return state.branches[index]
    assert isinstance(state, MapState)
    return state.processor


def _waits_for_callback(state: TaskState) -> bool:
    """Tasks that end by SendTask* rather than by their invocation's result."""
    return state.resource.pattern == "wait_for_task_token" or state.resource.kind == "activity"


def _tolerated(fork: Fork) -> bool:
    """Whether the failures so far stay within the Map's tolerated threshold."""
    if fork.tolerated_count is not None and fork.failed <= fork.tolerated_count:
        return True
    if fork.tolerated_percentage is not None and fork.total:
        allowed = math.floor(fork.total * fork.tolerated_percentage / 100)
        return fork.failed <= allowed
    return False


def _error_output(failure: Failure) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if failure.error is not None:
        out["Error"] = failure.error
    if failure.cause is not None:
        out["Cause"] = failure.cause
    return out


def _error_details(error: str | None, cause: str | None) -> dict[str, Any]:
    return {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}


__all__ = [
    "ActivityTask",
    "Batch",
    "Driver",
    "ExecutionInfo",
    "ExecutionStatus",
    "Frame",
    "HistoryEvent",
    "Work",
    "iso8601",
    "work_from_json",
    "work_to_json",
]
