"""The Engine: the one facade the API, console and CLI use.

It validates requests, turns definitions into cached models, starts executions (first batch of
events, cursor and work in one transaction) and answers reads. Work items are carried out by
``Worker``s (``worker.py``), in this process or others, all sharing one store.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar

from statewright import errors
from statewright.arns import (
    Partition,
    check_name,
    parse_execution_arn,
    parse_function_name,
    parse_state_machine_arn,
)
from statewright.asl import DefinitionError, InvalidDefinition, StateMachine, parse
from statewright.asl.errors import Failure
from statewright.asl.events import to_json
from statewright.asl.jsonlimits import MAX_DEPTH, too_deep
from statewright.asl.resources import classify_resource
from statewright.asl.step import TaskResult
from statewright.config import Settings
from statewright.functions.base import FunctionNotFound, Invoker, InvokeResult
from statewright.runtime.access_keys import AccessKeys, Grant, ServerKeyError
from statewright.runtime.activities import ActivityOps
from statewright.runtime.callbacks import (
    TOKEN_KEY_NAME,
    TaskToken,
    decode_token,
    new_token_key,
)
from statewright.runtime.commits import GroupCommitter
from statewright.runtime.driver import (
    NO_HISTORY_LIMIT,
    Batch,
    Driver,
    ExecutionInfo,
    HistoryEvent,
    Work,
)
from statewright.runtime.function_ops import FunctionOps
from statewright.runtime.function_ops import Settings as FunctionSettings
from statewright.runtime.functions import FunctionRegistry
from statewright.runtime.iam import IamOps, denial_message
from statewright.runtime.mocks import MockConfig, MockConfigError, TestCase
from statewright.runtime.records import StoreFrames, batch_records, frame_writes, to_record
from statewright.runtime.sync import ExecutionResult, run_execution
from statewright.runtime.teststate import TestStateRequest, TestStateResult, test_state
from statewright.runtime.unavailable import TooManyConflicts, api_error
from statewright.store.base import (
    AccessKeyRecord,
    ActivityRecord,
    ActivityTaskRecord,
    AlreadyExists,
    ApplyRequest,
    Conflict,
    EventRecord,
    ExecutionRecord,
    FunctionRecord,
    InvalidToken,
    InvocationRecord,
    Page,
    StateMachineRecord,
    Store,
    StoreError,
    WorkItem,
)

log = logging.getLogger("statewright.engine")

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_ROLE = "arn:aws:iam::123456789012:role/statewright"

#: A state machine tag whose value (a number >= 0) is its executions' wait scale.
WAIT_SCALE_TAG = "statewright:wait-scale"
#: How long a state machine's ``statewright:wait-scale`` tag, read for a StartExecution, serves
#: the next ones: Tag/UntagResource through this engine drop it at once, and a change made
#: through another API node of the database shows within this time.
TAGS_TTL_SECONDS = 1.0
#: How long whether API requests must be signed (the database holds an access key) is
#: answered from memory, without a query: keys created or deleted through this engine show
#: at once; the first key created by another process (``statewright keys create``) within
#: this time. Once keys exist, every request's key is read anyway (a deleted key fails at once).
KEYS_TTL_SECONDS = 1.0
#: ``Store.server_secret`` name of the console's session key (``session_key``).
SESSION_KEY_NAME = "console-session-hmac"
#: Largest execution input AWS accepts (UTF-8 bytes).
MAX_INPUT_BYTES = 262144
#: How often a waiting GetActivityTask looks at the queue again when no wake-up came: the
#: store wakes waiters on writes made through it, not on other processes' writes (SQLite) or
#: while another thread holds the LISTEN connection (PostgreSQL).
ACTIVITY_RECHECK_SECONDS = 0.5


#: Lost optimistic-concurrency races before a step gives up (a worker, a callback).
MAX_CONFLICTS = 50
#: StopExecution gives up sooner: the client is waiting and may simply ask again.
STOP_ATTEMPTS = 20
#: Drivers kept after their commit, for the executions' next steps (least recently used go).
KEPT_DRIVERS = 512


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an execution to commit: what ``update_execution``'s callback returns."""

    record: ExecutionRecord
    """The execution as read (its version is the optimistic check)."""
    driver: Driver
    """The driver that made ``batch``, holding the new cursor."""
    batch: Batch
    """Events, work and activity tasks to write."""
    now: float
    """When the step was made."""
    done_work: list[int] = field(default_factory=list)
    """Work item ids finished by the step."""
    invocations: list[InvocationRecord] | None = None
    """Function invocations whose outcome the step applies."""


@dataclass(frozen=True, slots=True)
class Started:
    """StartExecution's answer."""

    execution_arn: str
    """The execution's ARN."""
    start_date: float
    """Epoch seconds."""


class Engine:
    """State machines and executions over a Store."""

    def __init__(
        self, store: Store, settings: Settings | None = None,
        clock: Callable[[], float] = time.time, invoker: Invoker | None = None,
        functions: FunctionRegistry | None = None, mock_config: MockConfig | None = None,
    ) -> None:
        self.store = store
        self.mock_config = mock_config
        """Step Functions Local's mock config: ``StartExecution`` on ``ARN#TestCase`` runs
        that test case (workers read it here too)."""
        self.invoker = invoker
        """Runs functions for StartSyncExecution and Lambda's Invoke (workers have their own)."""
        self.functions = functions or FunctionRegistry(store)
        """Deployed functions as invokers see them (give the invoker its ``resolve``)."""
        self.settings = settings or Settings()
        self.partition = Partition(self.settings.region, self.settings.account)
        self.clock = clock
        self._models: dict[tuple[str, str], StateMachine] = {}
        self._committer = GroupCommitter(store)
        self._revisions: dict[tuple[str, str], StateMachineRecord] = {}
        self._wait_scale_tags: dict[str, tuple[float, float | None]] = {}
        self._keys_required: tuple[float, bool] | None = None
        """When ``access_keys_required`` was last read (``clock``) and its answer."""
        """Per state machine ARN: when its wait-scale tag was read (``clock``) and its scale."""
        self._function_ops = FunctionOps(store, self.functions, self.partition, clock)
        self._activities = ActivityOps(store, self.partition, clock)
        self._token_key: bytes | None = None
        self._session_key: bytes | None = None
        self._access_keys = AccessKeys(store, self.settings, clock)
        self._iam = IamOps(store, self.partition, clock)
        self._kept: OrderedDict[str, tuple[ExecutionRecord, Driver]] = OrderedDict()
        """Execution -> the row and driver this engine last committed for it: its next step
        here starts from them instead of reading them back (a commit's version check catches
        a row another process changed meanwhile)."""
        self._kept_lock = threading.Lock()
        self._steps = _KeyedLocks()
        self._roles: OrderedDict[str, str] = OrderedDict()

    # ------------------------------------------------------------------ state machines

    def create_state_machine(
        self, name: str, definition: str, role_arn: str = DEFAULT_ROLE,
        type: str = "STANDARD", tags: dict[str, str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> StateMachineRecord:
        check_name(name)
        if type not in ("STANDARD", "EXPRESS"):
            raise errors.ValidationException(
                f"1 validation error detected: Value '{type}' at 'type' failed to satisfy "
                "constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
        model = self._parse(definition)
        self._check_role(role_arn, self.partition.state_machine(name))
        _check_wait_scale_tag(tags or {})
        arn = self.partition.state_machine(name)
        now = self.clock()
        record = StateMachineRecord(
            arn, name, type, definition, role_arn, uuid.uuid4().hex, now, now,
            json.dumps(config or {}),
        )
        existing = self._get_state_machine(arn)
        if existing is not None:
            # CreateStateMachine is idempotent when definition, role and type are the same.
            if (existing.definition, existing.role_arn, existing.type) == (
                definition, role_arn, type
            ):
                return existing
            raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
        try:
            self._call(self.store.create_state_machine, record, tags or {})
        except AlreadyExists as exc:
            raise errors.StateMachineAlreadyExists(
                f"State Machine Already Exists: '{arn}'") from exc
        self._models[(arn, record.revision_id)] = model
        return record

    def describe_state_machine(self, arn: str) -> StateMachineRecord:
        parse_state_machine_arn(arn)
        record = self._get_state_machine(arn)
        if record is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return record

    def update_state_machine(
        self, arn: str, definition: str | None = None, role_arn: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> StateMachineRecord:
        current = self.describe_state_machine(arn)
        if definition is None and role_arn is None and config is None:
            raise errors.ValidationException(
                "Either the definition, the role ARN, the LoggingConfiguration, or the "
                "TracingConfiguration must be specified")
        model = self._parse(definition) if definition is not None else None
        if role_arn is not None:
            self._check_role(role_arn, arn)
        merged = {**json.loads(current.config), **(config or {})}
        record = replace(
            current,
            definition=definition if definition is not None else current.definition,
            role_arn=role_arn or current.role_arn,
            revision_id=uuid.uuid4().hex,
            updated_at=self.clock(),
            config=json.dumps(merged),
        )
        self._call(self.store.update_state_machine, record)
        if model is not None:
            self._models[(arn, record.revision_id)] = model
        return record

    def delete_state_machine(self, arn: str) -> None:
        parse_state_machine_arn(arn)
        self._call(self.store.delete_state_machine, arn)  # AWS: deleting twice is fine
        self._wait_scale_tags.pop(arn, None)  # a new one of that name starts with its own tags

    def list_state_machines(self, limit: int = 100, token: str | None = None
                            ) -> Page[StateMachineRecord]:
        return self._call(self.store.list_state_machines, limit, token)

    def validate_definition(self, definition: str) -> list[DefinitionError]:
        """ValidateStateMachineDefinition: every fault, [] when valid."""
        try:
            parse(definition)
        except InvalidDefinition as exc:
            return exc.errors
        return []

    def describe_state_machine_for_execution(self, execution_arn: str) -> StateMachineRecord:
        """The state machine as it was when the execution started (its revision)."""
        execution = self.describe_execution(execution_arn)
        record = self._call(self.store.get_state_machine, execution.state_machine_arn,
                            execution.revision_id)
        if record is None:
            raise errors.StateMachineDoesNotExist(
                f"State Machine Does Not Exist: '{execution.state_machine_arn}'")
        return record

    # ------------------------------------------------------------------ tags

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        self._tagged(arn)
        _check_wait_scale_tag(tags)
        self._call(self.store.set_tags, arn, tags, [])
        self._wait_scale_tags.pop(arn, None)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        self._tagged(arn)
        self._call(self.store.set_tags, arn, {}, keys)
        self._wait_scale_tags.pop(arn, None)

    def list_tags(self, arn: str) -> dict[str, str]:
        self._tagged(arn)
        return self._call(self.store.get_tags, arn)

    def _tagged(self, arn: str) -> None:
        """Tags live on state machines and activities; others are not found."""
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) < 7 or parts[:3] != ["arn", "aws", "states"]:
            raise errors.InvalidArn(f"Invalid Arn: '{arn}'")
        if parts[5] == "stateMachine" and self._get_state_machine(arn) is not None:
            return
        if parts[5] == "activity" and self._call(self.store.get_activity, arn) is not None:
            return
        raise errors.ResourceNotFound(f"Resource not found: '{arn}'")

    # ------------------------------------------------------------------ executions

    def start_execution(
        self, state_machine_arn: str, input_text: str | None = None, name: str | None = None
    ) -> Started:
        state_machine_arn, test_case = self._test_case(state_machine_arn)
        machine = self.describe_state_machine(state_machine_arn)
        self._mocks(machine.name, test_case)
        name = check_name(name) if name is not None else str(uuid.uuid4())
        text = "{}" if input_text is None else input_text
        data = self._decode_input(text)
        model = self._model(machine.arn, machine.revision_id, machine.definition)
        now = self.clock()
        arn = self.partition.execution(machine.name, name)
        info = ExecutionInfo(arn, machine.arn, name, machine.role_arn, now, data,
                             seed=uuid.uuid4().int & 0xFFFFFFFF, token_key=self.token_key)
        driver = Driver(model, info)
        driver.source = StoreFrames(self.store, arn)
        driver.test_case = test_case
        driver.wait_scale = self._tagged_wait_scale(machine.arn)
        driver.budget = self.settings.step_budget
        if machine.type == "EXPRESS":
            driver.history_limit = NO_HISTORY_LIMIT
        batch = driver.start()
        record = ExecutionRecord(
            arn, machine.arn, machine.revision_id, name, "RUNNING", text, now,
        )
        record = to_record(record, driver)
        scaled = self._scale(now, 0.0, driver.wait_scale)
        events, work = batch_records(arn, batch, scaled)
        timeout = model.machine.timeout_seconds
        if timeout and driver.status == "RUNNING":
            work.append(WorkItem(0, arn, "timeout", scaled(now + timeout), "{}"))
        stored = self._call(self.store.create_execution, record, events, work,
                            frame_writes(driver))
        if stored != record:
            # The name is taken: AWS starts nothing and answers with the running execution
            # when the input is the same, else refuses.
            if stored.status == "RUNNING" and stored.input == text:
                return Started(stored.arn, stored.start_date)
            raise errors.ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        self._keep(record, driver)
        return Started(arn, now)

    def _test_case(self, state_machine_arn: str) -> tuple[str, str | None]:
        """Splits Step Functions Local's ``ARN#TestCase``; refuses it without a mock config."""
        arn, hash_sign, test_case = state_machine_arn.partition("#")
        if not hash_sign:
            return arn, None
        if self.mock_config is None:
            raise errors.ValidationException(
                f"'{state_machine_arn}' names test case '{test_case}', but no mock config is "
                "loaded: start the server with --mock-config FILE (or SFN_MOCK_CONFIG)")
        return arn, test_case

    def _tagged_wait_scale(self, machine_arn: str) -> float | None:
        """The state machine's ``statewright:wait-scale`` tag: its executions' own wait scale
        (fixed when each starts), for tests that share a server."""
        read_at = self.clock()
        cached = self._wait_scale_tags.get(machine_arn)
        if cached is not None and 0 <= read_at - cached[0] < TAGS_TTL_SECONDS:
            return cached[1]
        value = self._call(self.store.get_tags, machine_arn).get(WAIT_SCALE_TAG)
        scale = None if value is None else _wait_scale(value)
        self._wait_scale_tags[machine_arn] = (read_at, scale)
        return scale

    def _mocks(self, machine_name: str, test_case: str | None) -> TestCase | None:
        """The test case an execution runs; ValidationException when the config lacks it."""
        if test_case is None or self.mock_config is None:
            return None
        try:
            return self.mock_config.test_case(machine_name, test_case)
        except MockConfigError as exc:
            raise errors.ValidationException(str(exc)) from exc

    def start_sync_execution(
        self, state_machine_arn: str, input_text: str | None = None, name: str | None = None
    ) -> ExecutionResult:
        """StartSyncExecution: an EXPRESS execution run to its end in memory, not stored."""
        state_machine_arn, test_case = self._test_case(state_machine_arn)
        machine = self.describe_state_machine(state_machine_arn)
        case = self._mocks(machine.name, test_case)
        if machine.type != "EXPRESS":
            raise errors.StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine")
        name = check_name(name) if name is not None else str(uuid.uuid4())
        data = self._decode_input("{}" if input_text is None else input_text)
        model = self._model(machine.arn, machine.revision_id, machine.definition)
        return run_execution(
            model, data, self.invoker or _NoFunctions(), state_machine_arn=machine.arn,
            name=name, role_arn=machine.role_arn,
            wait_scale=_first(self._tagged_wait_scale(machine.arn), self.settings.wait_scale),
            clock=self.clock, execution_arn=self.partition.express_execution(
                machine.name, name, uuid.uuid4().hex),
            authorize=functools.partial(self._invoke_denial, machine.role_arn),
            test_case=case, express=True,
        )

    def test_state(self, request: TestStateRequest) -> TestStateResult:
        """TestState: one state run once (``teststate.py``); Tasks call this engine's
        functions unless mocked."""
        return test_state(request, self.invoker, self.clock)

    def describe_execution(self, arn: str) -> ExecutionRecord:
        parse_execution_arn(arn)
        record = self._call(self.store.get_execution, arn)
        if record is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return record

    def list_executions(
        self, state_machine_arn: str, status: str | None = None, limit: int = 100,
        token: str | None = None,
    ) -> Page[ExecutionRecord]:
        self.describe_state_machine(state_machine_arn)
        return self._call(self.store.list_executions, state_machine_arn, status, limit, token)

    def get_history(
        self, arn: str, limit: int = 100, token: str | None = None, reverse: bool = False
    ) -> Page[EventRecord]:
        self.describe_execution(arn)
        return self._call(self.store.get_history, arn, limit, token, reverse)

    def history_after(self, arn: str, after_id: int = 0, limit: int = 1000
                      ) -> list[EventRecord]:
        """Up to ``limit`` history events with ids above ``after_id`` (the console's reads)."""
        self.describe_execution(arn)
        return self._call(self.store.history_after, arn, after_id, limit)

    def count_executions(self, state_machine_arn: str) -> dict[str, int]:
        """How many executions of the state machine are in each status."""
        return self._call(self.store.count_executions, state_machine_arn)

    def search_executions(
        self, state_machine_arn: str, status: str | None = None, name_contains: str = "",
        limit: int = 100, token: str | None = None,
    ) -> Page[ExecutionRecord]:
        """ListExecutions narrowed to names containing ``name_contains`` (the console)."""
        self.describe_state_machine(state_machine_arn)
        return self._call(self.store.search_executions, state_machine_arn, status,
                          name_contains, limit, token)

    def list_function_invocations(self, name: str, limit: int = 50
                                  ) -> list[InvocationRecord]:
        """The function's most recent invocations, newest first, with their logs."""
        return self._call(self.store.list_function_invocations, name, limit)

    def list_invocations(self, arn: str, limit: int = 100, token: str | None = None
                         ) -> Page[InvocationRecord]:
        """The function invocations the execution's Tasks made, oldest first, with their logs;
        each names the state visit (``event_id``: its Entered event) it belongs to."""
        self.describe_execution(arn)
        return self._call(self.store.list_invocations, arn, limit, token)

    def stop_execution(self, arn: str, error: str | None = None, cause: str | None = None
                       ) -> float:
        """Aborts a running execution; returns the stop date."""
        parse_execution_arn(arn)

        def stop(record: ExecutionRecord | None) -> Step | float:
            if record is None:
                raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
            if record.status != "RUNNING":
                return record.stop_date or self.clock()
            driver = self.driver_for(record)
            now = self.clock()
            return Step(record, driver, driver.stop(now, error, cause), now)

        outcome = self._call(self.update_execution, arn, stop, STOP_ATTEMPTS)
        return outcome.now if isinstance(outcome, Step) else outcome

    # ------------------------------------------------------------------ callbacks

    def send_task_success(self, task_token: str, output: str) -> None:
        """SendTaskSuccess: the waiting Task succeeds with ``output`` (JSON text)."""
        if too_deep(output):
            raise errors.InvalidOutput(f"Invalid Output: nested deeper than {MAX_DEPTH} levels")
        try:
            json.loads(output)
        except ValueError as exc:
            raise errors.InvalidOutput(f"Invalid Output: '{exc}'") from exc
        if len(output.encode("utf-8")) > MAX_INPUT_BYTES:
            raise errors.InvalidOutput("Output is larger than the maximum allowed size")
        self._callback(task_token, lambda driver, token, now: driver.callback(
            token, TaskResult(output), now))

    def send_task_failure(self, task_token: str, error: str | None = None,
                          cause: str | None = None) -> None:
        """SendTaskFailure: the waiting Task fails with ``error`` and ``cause``."""
        self._callback(task_token, lambda driver, token, now: driver.callback(
            token, Failure(error, cause), now))

    def send_task_heartbeat(self, task_token: str) -> None:
        """SendTaskHeartbeat: the waiting Task's heartbeat clock starts again."""
        self._callback(task_token, lambda driver, token, now: driver.heartbeat(token, now))

    def _callback(self, task_token: str,
                  apply: Callable[[Driver, TaskToken, float], Batch | None]) -> None:
        token = decode_token(task_token, self.token_key)
        if token is None:
            raise errors.InvalidToken(f"Invalid token: '{task_token[:80]}'")

        def callback(record: ExecutionRecord | None) -> Step:
            if record is None:
                raise errors.TaskDoesNotExist("Task Does Not Exist")
            driver = self.driver_for(record) if record.status == "RUNNING" else None
            now = self.clock()
            batch = apply(driver, token, now) if driver is not None else None
            if driver is None or batch is None:
                raise errors.TaskTimedOut("Task Timed Out: 'Provided task does not exist "
                                          "anymore'")
            return Step(record, driver, batch, now)

        self._call(self.update_execution, token.execution_arn, callback)

    # ------------------------------------------------------------------ activities

    def create_activity(self, name: str, tags: dict[str, str] | None = None,
                        config: dict[str, Any] | None = None) -> ActivityRecord:
        """CreateActivity: the activity (the existing one when the name is taken)."""
        return self._call(self._activities.create, name, tags or {}, config)

    def describe_activity(self, arn: str) -> ActivityRecord:
        return self._call(self._activities.describe, arn)

    def delete_activity(self, arn: str) -> None:
        self._call(self._activities.delete, arn)

    def list_activities(self, limit: int = 100, token: str | None = None
                        ) -> Page[ActivityRecord]:
        return self._call(self._activities.page, limit, token)

    def get_activity_task(self, activity_arn: str, worker_name: str | None = None,
                          long_poll_seconds: float | None = None) -> tuple[str, str] | None:
        """GetActivityTask: ``(task token, input)`` of the oldest task queued for the
        activity, waiting up to ``long_poll_seconds`` (default: the settings' 60 s) for one;
        None when none came. Taking a task writes ActivityStarted into its execution."""
        self.describe_activity(activity_arn)
        window = (self.settings.activity_poll_seconds if long_poll_seconds is None
                  else long_poll_seconds)
        deadline = time.monotonic() + max(0.0, window)
        while True:
            task = self._call(self.store.claim_activity_task, activity_arn)
            if task is not None:
                if self._activity_started(task, worker_name):
                    return task.token, task.input
                continue  # its Task stopped waiting (timed out, retried): try the next one
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._call(self.store.wait_for_work, min(remaining, ACTIVITY_RECHECK_SECONDS))

    def _activity_started(self, task: ActivityTaskRecord, worker_name: str | None) -> bool:
        """Writes ActivityStarted for a task taken from the queue; False when its Task no
        longer waits, so the task is dropped."""
        token = decode_token(task.token, self.token_key)
        if token is None:
            return False

        def started(record: ExecutionRecord | None) -> Step | bool:
            if record is None or record.status != "RUNNING":
                return False
            driver = self.driver_for(record)
            now = self.clock()
            batch = driver.activity_started(token, worker_name, now)
            return False if batch is None else Step(record, driver, batch, now)

        try:
            return self.update_execution(token.execution_arn, started) is not False
        except TooManyConflicts:
            # The task is already out of the queue: handing it over without its
            # ActivityStarted event beats losing it until the Task times out.
            log.warning("ActivityStarted not recorded in %s: too many conflicts",
                        token.execution_arn)
            return True
        except StoreError as exc:
            raise api_error(exc) from exc

    # ------------------------------------------------------------------ shared with workers

    def driver_for(self, record: ExecutionRecord) -> Driver:
        """A driver continuing the execution from its stored cursor (or the one this engine
        kept after committing that very version)."""
        with self._kept_lock:
            kept = self._kept.pop(record.arn, None)
        if kept is not None and kept[0].version == record.version:
            return kept[1]
        machine = self._revision(record)
        model = self._model(machine.arn, record.revision_id, machine.definition)
        info = ExecutionInfo(
            record.arn, record.state_machine_arn, record.name, machine.role_arn,
            record.start_date, json.loads(record.input), seed=zlib.crc32(record.arn.encode()),
            token_key=self.token_key,
        )
        driver = Driver.restore(model, info, json.loads(record.cursor),
                                StoreFrames(self.store, record.arn))
        driver.budget = self.settings.step_budget
        if machine.type == "EXPRESS":
            driver.history_limit = NO_HISTORY_LIMIT
        return driver

    def _revision(self, record: ExecutionRecord) -> StateMachineRecord:
        """The state machine revision the execution runs."""
        key = (record.state_machine_arn, record.revision_id)
        machine = self._revisions.get(key)
        if machine is None:  # a revision never changes: read it once per process
            machine = self._call(self.store.get_state_machine, record.state_machine_arn,
                                 record.revision_id)
            if machine is None:
                raise errors.StateMachineDoesNotExist(
                    f"State Machine Does Not Exist: '{record.state_machine_arn}'")
            self._revisions[key] = machine
        return machine

    def update_execution(
        self, arn: str, step: Callable[[ExecutionRecord | None], Step | R],
        attempts: int = MAX_CONFLICTS,
    ) -> Step | R:
        """The one optimistic-concurrency loop: reads the execution, lets ``step`` decide on
        it (None: it does not exist) and commits the ``Step`` it returns; when another writer
        got there first, reads again and redoes. Anything else ``step`` returns ends the loop
        unwritten and is returned; so is the committed Step. Raises TooManyConflicts after
        ``attempts`` lost races, StoreError when the database fails.

        Steps of one execution take turns in this process (they would only conflict), and
        start from the row and driver this engine committed last, without reading them
        back; a decision made on those alone (no Step, or an error) is made again on a fresh
        read, since only a commit proves them current."""
        with self._steps.hold(arn):
            for _ in range(attempts):
                with self._kept_lock:
                    kept = self._kept.get(arn)
                record = kept[0] if kept is not None else self.store.get_execution(arn)
                try:
                    outcome = step(record)
                except Exception:
                    if kept is None:
                        raise
                    self._forget(arn)
                    continue
                if not isinstance(outcome, Step):
                    if kept is not None:
                        self._forget(arn)
                        continue
                    return outcome
                if self.commit(outcome.record, outcome.driver, outcome.batch,
                               outcome.done_work, outcome.now, outcome.invocations):
                    return outcome
            raise TooManyConflicts(f"{arn}: {attempts} writers got there first; try again")

    def commit(self, record: ExecutionRecord, driver: Driver, batch: Batch,
               done_work: list[int], now: float,
               invocations: list[InvocationRecord] | None = None) -> bool:
        """Stores one batch (with the function ``invocations`` whose outcome it applies);
        False when another writer got there first (reload and redo)."""
        events, work = batch_records(record.arn, batch,
                                     self._scale(now, driver.skew, driver.wait_scale))
        activities = self._activities.queued(record.arn, batch, now)
        updated = to_record(record, driver, now + driver.skew)
        try:
            applied = self._committer.commit(ApplyRequest(
                updated, record.version, events, work, done_work, activities, invocations or [],
                frame_writes(driver)))
        except Conflict:
            self._forget(record.arn)
            return False
        except BaseException:
            self._forget(record.arn)
            raise
        self._keep(replace(updated, version=applied.version), driver)
        return True

    def _keep(self, record: ExecutionRecord, driver: Driver) -> None:
        """``driver`` was just committed as ``record``: the execution's next step here starts
        from it (while it runs)."""
        driver.committed()
        if driver.status != "RUNNING":
            self._forget(record.arn)
            return
        with self._kept_lock:
            self._kept[record.arn] = (record, driver)
            self._kept.move_to_end(record.arn)
            while len(self._kept) > KEPT_DRIVERS:
                self._kept.popitem(last=False)

    def _forget(self, arn: str) -> None:
        with self._kept_lock:
            self._kept.pop(arn, None)

    # ------------------------------------------------------------------ access control

    def access_keys_required(self) -> bool:
        """Whether API requests must be signed: the database holds an access key."""
        read_at = self.clock()
        required = self._call(self._access_keys.required)
        self._keys_required = (read_at, required)
        return required

    def access_keys_required_now(self) -> bool | None:
        """``access_keys_required``'s answer if read less than ``KEYS_TTL_SECONDS`` ago,
        else None. No I/O: the API's event loop asks this before taking a thread to read."""
        known = self._keys_required
        if known is None or not 0 <= self.clock() - known[0] < KEYS_TTL_SECONDS:
            return None
        return known[1]

    def access_key_secret(self, access_key_id: str) -> str | None:
        """The secret of an access key, None when there is no such key (or the server key
        file cannot open it, which is logged: the request is refused either way)."""
        try:
            return self._call(self._access_keys.secret, access_key_id)
        except ServerKeyError as exc:
            log.error("access key %s refused: %s", access_key_id, exc)
            return None

    def access_key(self, access_key_id: str) -> Grant | None:
        """The key's secret and role binding, None when there is no such key (or the server
        key file cannot open it, which is logged: the request is refused either way)."""
        try:
            return self._call(self._access_keys.grant, access_key_id)
        except ServerKeyError as exc:
            log.error("access key %s refused: %s", access_key_id, exc)
            return None

    def create_access_key(self, name: str = "", role: str | None = None) -> tuple[str, str]:
        """``(access key id, secret)``; the secret is not shown again. ``role`` (a role's
        name or ARN, which must exist in statewright's IAM) binds the key to the role:
        requests signed with it are authorised against the role's policies."""
        role_arn = None
        if role is not None:
            record = (self._call(self._iam.role_for, role) if role.startswith("arn:")
                      else self._call(self.store.get_role, role))
            if record is None:
                raise errors.NoSuchEntity(f"The role with name {role} cannot be found.")
            role_arn = record.arn
        try:
            return self._call(self._access_keys.create, name, role_arn)
        finally:
            self._keys_required = None  # the first key makes signatures required

    def list_access_keys(self) -> list[AccessKeyRecord]:
        return self._call(self._access_keys.list)

    def delete_access_key(self, access_key_id: str) -> bool:
        try:
            return self._call(self._access_keys.delete, access_key_id)
        finally:
            self._keys_required = None

    def function_credentials(self, function_name: str, role_arn: str
                             ) -> tuple[str, str, str] | None:
        """The credentials a function's workers sign their API calls with: ``(key id,
        secret, session token)`` of the function's own key, bound to its execution role;
        None while the API checks no signatures."""
        if not self.access_keys_required():
            return None
        return self._call(self._access_keys.for_function, function_name, role_arn)

    def request_denial(self, grant: Grant, needs: list[tuple[str, str, dict[str, str]]],
                       context: dict[str, str]) -> str | None:
        """Whether a request signed with ``grant`` may do what it asks: None when it may,
        else AWS's AccessDenied message. ``needs``: the ``(action, resource, condition
        keys)`` the request needs (all must be allowed); ``context``: the request's own
        condition keys (``aws:SourceIp``, ``aws:SecureTransport``...).

        An administrator's key may do anything. A key bound to a role that is not in
        statewright's IAM is refused everything, except a function's key, which follows
        the state machines' rule (not enforced unless ``--iam strict``)."""
        if grant.role_arn is None or not needs:
            return None
        session = grant.function_name or grant.name or grant.access_key_id
        role = self._call(self._iam.role_for, grant.role_arn)
        account = self.partition.account
        if role is None:
            if grant.function_name is not None and not self.settings.iam_strict:
                return None
            action, resource, _ = needs[0]
            principal = (f"arn:aws:sts::{account}:assumed-role/"
                         f"{grant.role_arn.rsplit('/', 1)[-1]}/{session}")
            return denial_message(principal, action, resource, "implicit_deny")
        principal = f"arn:aws:sts::{account}:assumed-role/{role.name}/{session}"
        for action, resource, keys in needs:
            conditions = self._iam.context(role, session, context.get(
                "aws:SecureTransport") == "true", {**context, **keys})
            decision = self._call(self._iam.decide, role, action, resource, conditions)
            if decision != "allow":
                return denial_message(principal, action, resource, decision)
        return None

    def start_console_session(self, session_id: str, access_key_id: str, issued_at: float,
                              expires_at: float) -> None:
        """Records a console sign-in, so that every server of the database knows it."""
        self._call(self.store.put_console_session, session_id, access_key_id, issued_at,
                   expires_at)

    def console_session_live(self, session_id: str) -> bool:
        """Whether a console session is signed in (recorded, not expired, not signed out)."""
        return self._call(self.store.console_session_live, session_id, self.clock())

    def end_console_session(self, session_id: str) -> bool:
        """Signs a console session out on every server of the database."""
        return self._call(self.store.delete_console_session, session_id)

    def check_server_key(self) -> None:
        """Raises ServerKeyError unless the server key file opens every stored key."""
        self._call(self._access_keys.check_server_key)

    def call_iam(self, operation: Callable[[IamOps], R]) -> R:
        """Runs one IAM operation (``runtime/iam.py``); errors are IAM's."""
        return self._call(operation, self._iam)

    def role_permissions(self, state_machine_arn: str) -> dict[str, bool] | None:
        """For the console: which functions (deployed, or named by the definition) the state
        machine's role may invoke; None when the role is not enforced (it does not exist in
        statewright's IAM). A function the definition names by ARN is checked on that ARN,
        as its Tasks are."""
        machine = self.describe_state_machine(state_machine_arn)
        written = _function_arns(machine.definition)
        names: list[str] = []
        marker: str | None = None
        while True:
            page = self.list_functions(50, marker)
            names += [f.name for f in page.items]
            marker = page.next_token
            if marker is None:
                break
        names += sorted(set(written) - set(names))
        return self._call(self._iam.invocable, machine.role_arn, names, written)

    def task_authorizer(self, execution_arn: str
                        ) -> Callable[[str, str | None], Failure | None]:
        """For a worker about to run a Task of the execution: a check of whether the state
        machine's role may invoke a function (None) or the failure the Task gets."""
        role_arn = self._roles.get(execution_arn)  # an execution's revision never changes
        if role_arn is None:
            record = self._call(self.store.get_execution, execution_arn)
            if record is None:
                return lambda name, resource: None
            role_arn = self._revision(record).role_arn
            with self._kept_lock:
                self._roles[execution_arn] = role_arn
                while len(self._roles) > KEPT_DRIVERS:
                    self._roles.popitem(last=False)
        return functools.partial(self._invoke_denial, role_arn)

    def _invoke_denial(self, role_arn: str, function_name: str, resource: str | None
                       ) -> Failure | None:
        return self._call(self._iam.invoke_denial, role_arn, function_name, resource,
                          self.settings.iam_strict)

    def _check_role(self, role_arn: str, state_machine_arn: str) -> None:
        if self.settings.iam_strict:
            self._call(self._iam.check_assumable, role_arn, state_machine_arn)

    # ------------------------------------------------------------------ helpers

    @property
    def token_key(self) -> bytes:
        """The key of task tokens, shared through the store by every process of the
        database (read once)."""
        if self._token_key is None:
            self._token_key = bytes.fromhex(self._call(
                self.store.server_secret, TOKEN_KEY_NAME, new_token_key()))
        return self._token_key

    @property
    def session_key(self) -> bytes:
        """The key the console signs its login sessions with, shared through the store like
        the task-token key (read once)."""
        if self._session_key is None:
            self._session_key = bytes.fromhex(self._call(
                self.store.server_secret, SESSION_KEY_NAME, new_token_key()))
        return self._session_key

    def _scale(self, now: float, skew: float = 0.0, scale: float | None = None
               ) -> Callable[[float], float]:
        """Maps a due time on the execution's clock (real time plus ``skew``) to when the
        work should really run, applying the wait scale (the execution's, else the
        server's)."""
        scale = self.settings.wait_scale if scale is None else scale

        def due(at: float) -> float:
            at -= skew
            return at if scale == 1.0 or at <= now else now + (at - now) * scale

        return due

    def _decode_input(self, text: str) -> Any:
        if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
            raise errors.InvalidExecutionInput(
                "Execution input is larger than the maximum allowed size of 262144 bytes")
        if too_deep(text):
            raise errors.InvalidExecutionInput(
                f"Invalid State Machine Execution Input: nested deeper than {MAX_DEPTH} levels")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise errors.InvalidExecutionInput(
                f"Invalid State Machine Execution Input: '{exc}'") from exc

    def _parse(self, definition: str) -> StateMachine:
        try:
            return parse(definition)
        except InvalidDefinition as exc:
            raise errors.InvalidDefinition(str(exc)) from exc

    def _model(self, arn: str, revision_id: str, definition: str) -> StateMachine:
        key = (arn, revision_id)
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = self._parse(definition)
        return model

    def _get_state_machine(self, arn: str) -> StateMachineRecord | None:
        return self._call(self.store.get_state_machine, arn, None)

    def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Runs a store call; a database failure becomes AWS's ServiceUnavailable."""
        try:
            return fn(*args, **kwargs)
        except InvalidToken as exc:
            raise errors.InvalidToken(f"Invalid Token: '{exc}'") from exc
        except StoreError as exc:
            if isinstance(exc, AlreadyExists):
                raise
            raise api_error(exc) from exc

    # ------------------------------------------------------------------ functions (Lambda)
    # Lambda's operations; the rules live in function_ops.py. Errors are Lambda's own
    # (ResourceNotFoundException, InvalidParameterValueException...), not Step Functions'.

    def create_function(
        self, name: str, runtime: str | None, handler: str | None, zip_bytes: bytes,
        timeout: int | None = None, memory: int | None = None,
        env: dict[str, str] | None = None, role: str | None = None,
        description: str | None = None,
    ) -> FunctionRecord:
        """CreateFunction: the stored function, without its code."""
        settings = FunctionSettings(runtime, handler, timeout, memory, env, role, description)
        return self._function_ops.create(name, zip_bytes, settings)

    def deploy_function(
        self, name: str, runtime: str, handler: str, zip_bytes: bytes,
        timeout: int | None = None, memory: int | None = None,
        env: dict[str, str] | None = None, role: str | None = None,
        description: str | None = None,
    ) -> tuple[FunctionRecord, str]:
        """Create or update (the CLI, ``--functions``): the function and ``created``,
        ``updated`` or ``unchanged``."""
        settings = FunctionSettings(runtime, handler, timeout, memory, env, role, description)
        return self._function_ops.deploy(name, zip_bytes, settings)

    def get_function(self, name: str) -> FunctionRecord:
        """GetFunction / GetFunctionConfiguration: the function without its code."""
        return self._function_ops.get(name)

    def get_function_code(self, name: str) -> bytes:
        """The function's deployment package (the zip)."""
        return self._function_ops.code(name)

    def list_functions(self, limit: int = 50, marker: str | None = None
                       ) -> Page[FunctionRecord]:
        """ListFunctions: by name, without code."""
        return self._function_ops.list(limit, marker)

    def update_function_code(self, name: str, zip_bytes: bytes, revision_id: str | None = None,
                             dry_run: bool = False) -> FunctionRecord:
        return self._function_ops.update_code(name, zip_bytes, revision_id, dry_run)

    def update_function_configuration(
        self, name: str, *, runtime: str | None = None, handler: str | None = None,
        timeout: int | None = None, memory: int | None = None,
        env: dict[str, str] | None = None, role: str | None = None,
        description: str | None = None, revision_id: str | None = None,
    ) -> FunctionRecord:
        settings = FunctionSettings(runtime, handler, timeout, memory, env, role, description)
        return self._function_ops.update_configuration(name, settings, revision_id)

    def put_function_concurrency(self, name: str, reserved: int) -> None:
        """PutFunctionConcurrency: at most ``reserved`` invocations of the function run at
        once in each server or worker process (0: every invocation is throttled)."""
        self._function_ops.set_concurrency(name, reserved)

    def delete_function_concurrency(self, name: str) -> None:
        """DeleteFunctionConcurrency: only the process's own limit applies again."""
        self._function_ops.set_concurrency(name, None)

    def delete_function(self, name: str) -> None:
        self._function_ops.delete(name)
        # Its workers' key goes with it (``function_credentials``).
        self._call(self._access_keys.forget_function, parse_function_name(name)[0])

    def invoke_function(self, name: str, payload: bytes,
                        invocation_type: str = "RequestResponse") -> InvokeResult | None:
        """Invoke with ``self.invoker``: the result (RequestResponse), or None when the
        invocation was queued (Event) or only checked (DryRun)."""
        return self._function_ops.invoke(self.invoker, name, payload, invocation_type)


class _KeyedLocks:
    """One lock per key, existing while someone holds or waits for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._locks.get(key) or (threading.Lock(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class _NoFunctions:
    """The invoker of an engine given none: every function is unknown."""

    def invoke(self, name: str, payload: Any, timeout: float | None = None) -> InvokeResult:
        raise FunctionNotFound(name)


__all__ = ["Engine", "Grant", "HistoryEvent", "Started", "Work", "to_json"]


def _check_wait_scale_tag(tags: dict[str, str]) -> None:
    if WAIT_SCALE_TAG in tags and _wait_scale(tags[WAIT_SCALE_TAG]) is None:
        raise errors.ValidationException(
            f"The tag {WAIT_SCALE_TAG} must be a number >= 0 (0: executions skip Wait and "
            f"Retry delays), not '{tags[WAIT_SCALE_TAG]}'")


def _first(value: float | None, default: float) -> float:
    return default if value is None else value


def _wait_scale(value: str) -> float | None:
    """A ``statewright:wait-scale`` tag's value as a scale; None when it is not one."""
    try:
        scale = float(value)
    except ValueError:
        return None
    return scale if 0 <= scale < float("inf") else None


def _function_arns(definition: str) -> dict[str, str]:
    """Function name -> the Lambda ARN a Task of the definition names it by (a function ARN
    Resource, or lambda:invoke's literal FunctionName ARN); the first one wins."""
    found: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        if node.get("Type") == "Task" and isinstance(node.get("Resource"), str):
            resource = classify_resource(node["Resource"])
            if resource.kind != "lambda_function" and resource.service == "lambda":
                parameters = node.get("Parameters") or node.get("Arguments")
                named = parameters.get("FunctionName") if isinstance(parameters, dict) else None
                resource = classify_resource(named if isinstance(named, str) else "")
            if resource.kind == "lambda_function" and resource.function_name:
                found.setdefault(resource.function_name, resource.arn)
        for value in node.values():
            visit(value)

    visit(json.loads(definition))  # stored definitions are valid JSON
    return found
