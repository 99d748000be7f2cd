"""Runs one execution to its end in memory: the CLI's ``run``, tests, Express executions.

Time is virtual: work items wait on a heap by due time, and the runner sleeps only
``wait_scale`` times the real gap (``0``: no sleeping at all, the clock jumps ahead).
"""

from __future__ import annotations

import heapq
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statewright.asl.errors import Failure
from statewright.asl.model import StateMachine
from statewright.asl.step import TaskResult
from statewright.functions.base import Invoker
from statewright.runtime.driver import (
    NO_HISTORY_LIMIT,
    Driver,
    ExecutionInfo,
    ExecutionStatus,
    HistoryEvent,
    Work,
)
from statewright.runtime.mocks import TestCase, answer
from statewright.runtime.records import invocation_record
from statewright.runtime.tasks import run_task
from statewright.store.base import InvocationRecord

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """A finished execution, as DescribeExecution and GetExecutionHistory report it."""

    info: ExecutionInfo
    """Arns, name, input, start time."""
    status: ExecutionStatus
    """SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
    output: Any
    """The output when SUCCEEDED."""
    failure: Failure | None
    """Error and cause otherwise."""
    stop_time: float
    """Epoch seconds."""
    events: list[HistoryEvent]
    """The whole history."""
    invocations: list[InvocationRecord] = field(default_factory=list)
    """The function invocations its Tasks made, in order, with their logs (ids 0: not
    stored)."""


def run_execution(
    state_machine: StateMachine,
    data: Any,
    invoker: Invoker,
    *,
    state_machine_arn: str | None = None,
    name: str | None = None,
    role_arn: str = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/statewright",
    wait_scale: float = 1.0,
    clock: Callable[[], float] = time.time,
    seed: int | None = None,
    execution_arn: str | None = None,
    authorize: Callable[[str, str | None], Failure | None] | None = None,
    on_events: Callable[[list[HistoryEvent]], None] | None = None,
    test_case: TestCase | None = None,
    express: bool = False,
) -> ExecutionResult:
    """Runs ``state_machine`` on ``data`` until it ends, calling functions through ``invoker``
    (the Tasks ``test_case`` mocks call nothing); ``on_events`` sees each step's history
    events as they happen (progress displays). ``express``: an EXPRESS execution, which has
    no history quota (a STANDARD one ends at event 25,000)."""
    machine_arn = state_machine_arn or (
        f"arn:aws:states:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:stateMachine:statewright-local"
    )
    drawn = uuid.uuid4()  # one draw gives the default name and the random seed
    name = name or str(drawn)
    execution_arn = execution_arn or (
        machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    )
    start = clock()
    info = ExecutionInfo(
        execution_arn, machine_arn, name, role_arn, start, data,
        seed=seed if seed is not None else drawn.int >> 96,
    )
    driver = Driver(state_machine, info)
    if express:
        driver.history_limit = NO_HISTORY_LIMIT
    if test_case is not None:
        driver.test_case = test_case.name
    runner = _Runner(driver, invoker, wait_scale, clock, start, on_events, authorize, test_case)
    runner.run()
    return ExecutionResult(
        info, driver.status, driver.output, driver.failure, runner.now, runner.events,
        runner.invocations,
    )


class _Runner:
    def __init__(
        self, driver: Driver, invoker: Invoker, wait_scale: float,
        clock: Callable[[], float], start: float,
        on_events: Callable[[list[HistoryEvent]], None] | None = None,
        authorize: Callable[[str, str | None], Failure | None] | None = None,
        test_case: TestCase | None = None,
    ) -> None:
        self.on_events = on_events
        self.driver = driver
        self.test_case = test_case
        self.invoker = invoker
        self.authorize = authorize
        """The state machine role's IAM check of each function call, if enforced."""
        self.wait_scale = wait_scale
        self.clock = clock
        self._skew = start - clock()
        """Virtual minus real time: grows when a wait is shortened by ``wait_scale``."""
        self.events: list[HistoryEvent] = []
        self.invocations: list[InvocationRecord] = []
        self._heap: list[tuple[float, int, Work]] = []
        self._seq = itertools.count()
        self._deadline = (
            start + driver.state_machine.machine.timeout_seconds
            if driver.state_machine.machine.timeout_seconds
            else None
        )

    def run(self) -> None:
        self._take(self.driver.start())
        while self._heap and self.driver.status == "RUNNING":
            due, _, work = heapq.heappop(self._heap)
            if self._deadline is not None and due > self._deadline:
                self._advance(self._deadline)
                self._take(self.driver.time_out(self.now))
                break
            self._advance(due)
            if work.kind == "invoke":
                self._take(self.driver.started(work, self.now))
                outcome = self._invoke(work)
                self._take(self.driver.resume(work, self.now, outcome))
            else:
                self._take(self.driver.resume(work, self.now))

    @property
    def now(self) -> float:
        """Virtual time: real time plus what scaled waits skipped."""
        return self.clock() + self._skew

    def _advance(self, due: float) -> None:
        """Moves the virtual clock to ``due``, sleeping the scaled gap in real time."""
        gap = due - self.now
        if gap <= 0:
            return
        if self.wait_scale > 0:
            time.sleep(gap * self.wait_scale)
        self._skew += gap * (1 - min(self.wait_scale, 1.0))

    def _take(self, batch: Any) -> None:
        self.events.extend(batch.events)
        if self.on_events is not None and batch.events:
            self.on_events(list(batch.events))
        for work in batch.work:
            heapq.heappush(self._heap, (work.due, next(self._seq), work))

    def _invoke(self, work: Work) -> TaskResult | Failure:
        invoke = work.invoke
        assert invoke is not None
        mocked = answer(self.test_case, work)
        if mocked is not None:
            return mocked
        if invoke.resource.pattern == "wait_for_task_token" or invoke.resource.kind == "activity":
            # As on AWS Express workflows: nothing here can deliver SendTask* callbacks.
            return Failure(
                "States.Runtime",
                f"The resource '{invoke.resource.arn}' waits for a callback (SendTaskSuccess "
                "or an activity worker): run it on the server (statewright serve), not in "
                "memory",
            )
        outcome, invocation = run_task(self.invoker, invoke, self.wait_scale, lambda: self.now,
                                       self.driver.info.execution_arn, self.authorize)
        if invocation is not None:
            self.invocations.append(
                invocation_record(self.driver.info.execution_arn, work, invocation))
        return outcome
