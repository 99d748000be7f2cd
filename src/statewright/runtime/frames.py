"""The data a Driver works on: frames, work items, batches, history events, and their JSON.

Everything here is plain data (dataclasses) plus its conversion to and from the JSON the
durable engine stores as an execution's cursor and work payloads. The behaviour lives in
``driver.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from statewright.asl import step
from statewright.asl.events import Event
from statewright.asl.frozen import fast_init
from statewright.asl.model import Machine
from statewright.asl.resources import classify_resource
from statewright.runtime.upgrade import WORK_VERSION, upgrade_work


@fast_init
@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What the Context Object says about the execution."""

    execution_arn: str
    """``arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME``."""
    state_machine_arn: str
    """The state machine's ARN."""
    name: str
    """The execution name."""
    role_arn: str
    """The state machine's role (accepted, not enforced)."""
    start_time: float
    """Epoch seconds."""
    input: Any
    """The execution input (decoded)."""
    seed: int = 0
    """Seed of the execution's random source (jitter, UUIDs, MathRandom)."""
    token_key: bytes = b""
    """The key task tokens are signed with (``callbacks.py``); the engine supplies it."""


@fast_init
@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """A numbered history event, as GetExecutionHistory returns it."""

    id: int
    """1-based, one sequence per execution."""
    previous_event_id: int
    """The event this one follows in its frame (a tree for Parallel/Map)."""
    timestamp: float
    """Epoch seconds."""
    type: str
    """HistoryEventType."""
    details: dict[str, Any] | None
    """The details object (under ``Event.details_member``)."""

    def to_aws(self) -> dict[str, Any]:
        """GetExecutionHistory's shape (timestamp left as epoch seconds)."""
        out: dict[str, Any] = {
            "timestamp": self.timestamp,
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            out[Event(self.type).details_member] = self.details
        return out


WorkKind = Literal["invoke", "wake", "retry", "task_timeout", "heartbeat", "continue"]


@fast_init
@dataclass(frozen=True, slots=True)
class TaskVisit:
    """Where a Task's invocation belongs in the history: what its invocation record names."""

    state: str
    """The Task state's name."""
    entered_event_id: int
    """Its Entered event: the state visit (0: not in this history, as in a Distributed Map)."""
    scheduled_event_id: int
    """The attempt's Scheduled event (0 likewise)."""
    number: int = 0
    """How many times the execution invoked this state before (retries and loop visits
    count): which of a mocked response's answers this invocation gets."""


@dataclass(slots=True)
class Work:
    """Something the host must do for a frame, no earlier than ``due``."""

    kind: WorkKind
    """Run a Task's resource, wake a Wait state, retry, or time out a waiting Task."""
    frame: int
    """The frame id."""
    due: float
    """Epoch seconds."""
    invoke: step.Invoke | None = None
    """For ``invoke``: what to run."""
    token: int = 0
    """The frame's state-visit counter when scheduled; stale work (the frame moved on or was
    cancelled) is dropped."""
    attempt: int = 0
    """For callback timers: the retry attempt they guard."""
    beat: int = 0
    """For ``heartbeat``: the heartbeat count it guards (a newer heartbeat replaces it)."""
    visit: TaskVisit | None = None
    """For ``invoke``: the state visit and attempt it serves, carried with the work because
    the frame may have moved on (cancelled, ended) by the time the invocation is recorded.
    None in work stored before invocations were recorded (migration 0004)."""


@dataclass(slots=True)
class Fork:
    """Bookkeeping of a running Parallel/Map in its parent frame: counters only, so the
    parent's row stays small however many children it has. The children's inputs (those not
    started yet) and outputs live in rows of their own, keyed by ``id``."""

    id: int
    """Unique in the execution (drawn from the frame ids): keys the fork's items."""
    kind: Literal["parallel", "map"]
    """Which state forked."""
    total: int
    """How many children."""
    max_concurrency: int
    """0: unlimited."""
    tolerated_count: int | None
    """Failures tolerated (count)."""
    tolerated_percentage: float | None
    """Failures tolerated (percent)."""
    distributed: bool
    """Children are child executions: no iteration events here."""
    started: int = 0
    """Children started so far (they start in order)."""
    finished: int = 0
    """Children ended."""
    failed: int = 0
    """Children failed."""

    @property
    def running(self) -> int:
        """Children started and not ended (a cancelled fork ends with its frame's state)."""
        return self.started - self.finished


class _Deferred:
    """The input of a frame whose fork is running: stored with the fork (index -1), read
    back when the fork completes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED: Any = _Deferred()
#: The fork item index under which a forking frame's own input is kept.
PARENT_INPUT = -1


class FrameSource(Protocol):
    """Where a driver finds the frames and fork items it does not hold (the store's rows of
    one execution). Everything is JSON text as ``frame_to_json`` and ``to_json`` wrote it."""

    def frame(self, frame_id: int) -> str | None:
        """A running frame, None when it does not exist (it ended)."""
        ...

    def children(self, parent: int) -> list[str]:
        """The running frames whose parent is ``parent``."""
        ...

    def fork_input(self, fork_id: int, index: int) -> str | None:
        """The stored input of a fork's child (``PARENT_INPUT``: the forking frame's own)."""
        ...

    def fork_outputs(self, fork_id: int) -> list[tuple[int, str]]:
        """``(index, output)`` of the fork's children that ended."""
        ...


@dataclass(slots=True)
class Frame:
    """One running (sub-)machine."""

    id: int
    """Frame id, unique in the execution; the root is 0."""
    parent: int | None
    """The forking frame, None for the root."""
    index: int
    """Position among its siblings (branch or item index)."""
    machine: Machine
    """The machine it runs."""
    state: str
    """Current state name."""
    input: Any
    """Raw input of the current state."""
    variables: dict[str, Any]
    """Variables in scope (a copy of the parent's at fork time, plus its own)."""
    retry_counts: tuple[int, ...] = ()
    """Attempts used per retrier of the current state."""
    entered_event_id: int = 0
    """Id of the current state's Entered event."""
    entered_time: float = 0.0
    """When the current state was entered."""
    last_event_id: int = 0
    """Last event written by this frame (``previousEventId`` of the next)."""
    token: int = 0
    """Bumped on every state change and cancellation, to drop stale work."""
    fork: Fork | None = None
    """Set while the current state is a running Parallel/Map."""
    beats: int = 0
    """Heartbeats received by the current Task (callback pattern)."""
    heartbeat_seconds: float | None = None
    """HeartbeatSeconds of the Task waiting for a callback."""
    done: bool = False
    """The frame ended (succeeded, failed or was cancelled)."""


@dataclass(frozen=True, slots=True)
class ActivityTask:
    """An activity Task's request, for a GetActivityTask poller to take."""

    token: str
    """The Task's token (what SendTask* must bring back)."""
    activity_name: str
    """The activity's name: a definition's ARN may name another region or account, and runs
    unchanged, so the host files the task under its own ARN for that name."""
    input: str
    """The Task's effective input (after InputPath and Parameters), as JSON text."""


@dataclass(slots=True)
class Batch:
    """What one ``start``/``resume`` call produced."""

    events: list[HistoryEvent] = field(default_factory=list)
    """New history events, in order."""
    work: list[Work] = field(default_factory=list)
    """New work items."""
    activities: list[ActivityTask] = field(default_factory=list)
    """Activity tasks to queue for pollers, committed with the events."""


ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


def iso8601(epoch: float) -> str:
    """``2026-11-25T17:57:00.123Z``, as the Context Object shows times."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return f"{moment.isoformat(timespec='milliseconds')[:-6]}Z"


def frame_to_json(frame: Frame) -> dict[str, Any]:
    """A frame's row (a forking frame's input is kept with its fork, not here)."""
    fork = frame.fork
    out: dict[str, Any] = {
        "id": frame.id, "parent": frame.parent, "index": frame.index, "state": frame.state,
        "variables": frame.variables,
        "retry_counts": list(frame.retry_counts), "entered_event_id": frame.entered_event_id,
        "entered_time": frame.entered_time, "last_event_id": frame.last_event_id,
        "token": frame.token, "beats": frame.beats,
        "heartbeat_seconds": frame.heartbeat_seconds,
        "fork": None if fork is None else [
            fork.id, fork.kind, fork.total, fork.max_concurrency, fork.tolerated_count,
            fork.tolerated_percentage, fork.distributed, fork.started, fork.finished,
            fork.failed,
        ],
    }
    if fork is None:
        out["input"] = frame.input
    return out


def frame_from_json(raw: dict[str, Any], machine: Machine) -> Frame:
    fork_raw = raw["fork"]
    return Frame(
        id=raw["id"], parent=raw["parent"], index=raw["index"], machine=machine,
        state=raw["state"], input=raw.get("input", DEFERRED), variables=raw["variables"],
        retry_counts=tuple(raw["retry_counts"]), entered_event_id=raw["entered_event_id"],
        entered_time=raw["entered_time"], last_event_id=raw["last_event_id"],
        token=raw["token"], fork=None if fork_raw is None else Fork(*fork_raw),
        beats=raw["beats"], heartbeat_seconds=raw["heartbeat_seconds"],
    )


def work_to_json(work: Work) -> dict[str, Any]:
    """A work item's payload for the store."""
    out: dict[str, Any] = {"version": WORK_VERSION, "frame": work.frame, "token": work.token,
                           "due": work.due}
    if work.attempt or work.beat:
        out["attempt"], out["beat"] = work.attempt, work.beat
    invoke = work.invoke
    if invoke is not None:
        out["invoke"] = {
            "resource": invoke.resource.arn, "payload": invoke.payload,
            "function_name": invoke.function_name,
            "function_payload": invoke.function_payload,
            "timeout": invoke.timeout_seconds, "heartbeat": invoke.heartbeat_seconds,
            "started": [invoke.started.type, invoke.started.details],
        }
    visit = work.visit
    if visit is not None:
        out["visit"] = [visit.state, visit.entered_event_id, visit.scheduled_event_id,
                        visit.number]
    return out


def work_from_json(kind: str, due: float, raw: dict[str, Any]) -> Work:
    """The inverse of ``work_to_json`` (a payload of this or any earlier release)."""
    raw = upgrade_work(raw)
    invoke = None
    spec = raw.get("invoke")
    if spec is not None:
        invoke = step.Invoke(
            classify_resource(spec["resource"]), spec["payload"], spec["function_name"],
            spec["function_payload"], spec["timeout"], spec["heartbeat"], (),
            Event(spec["started"][0], spec["started"][1]),
        )
    visit = raw.get("visit")
    assert kind in ("invoke", "wake", "retry", "task_timeout", "heartbeat", "continue")
    # ``due`` in the payload is the execution's own (virtual) time; the row's is scaled.
    return Work(kind, raw["frame"], raw.get("due", due), invoke,  # type: ignore[arg-type]
                raw["token"],
                raw.get("attempt", 0), raw.get("beat", 0),
                None if visit is None else TaskVisit(*visit))




__all__ = [
    "DEFERRED",
    "PARENT_INPUT",
    "ActivityTask",
    "Batch",
    "ExecutionInfo",
    "ExecutionStatus",
    "Fork",
    "Frame",
    "FrameSource",
    "HistoryEvent",
    "TaskVisit",
    "Work",
    "WorkKind",
    "frame_from_json",
    "frame_to_json",
    "iso8601",
    "work_from_json",
    "work_to_json",
]
