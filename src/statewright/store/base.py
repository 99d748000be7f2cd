"""The persistence contract: a small ``Store`` Protocol and the records it moves.

Two implementations: ``SqliteStore`` (embedded default) and ``PostgresStore`` (scale-out).
The runtime imports only this module. Every method is one transaction; ``apply`` is the only
write path while an execution runs (events + cursor + work items together), so a crash at any
point leaves either all of a step or none of it.

Payloads (definitions, inputs, outputs, cursors, event details, work payloads) are JSON text:
the store never interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")

#: The most log text kept per invocation, in UTF-8 bytes; beyond it the tail is kept (errors
#: come last) behind a line saying how much was left out.
MAX_INVOCATION_LOG_BYTES = 256 * 1024


class StoreError(Exception):
    """The database failed (I/O error, full disk, lost connection after retries)."""


class StoreBusy(StoreError):
    """The database is up but busy: a lock or a free connection was not had in time. Asking
    again later may succeed (the API answers a throttling error, not an outage)."""


class Conflict(StoreError):
    """An optimistic-concurrency check failed: someone else changed the row first."""


class AlreadyExists(StoreError):
    """A unique name is taken (state machine, execution, function)."""


class NotFound(StoreError):
    """The record does not exist."""


class InvalidToken(StoreError):
    """A pagination token is malformed or belongs to another listing."""


@dataclass(frozen=True, slots=True)
class StateMachineRecord:
    """A state machine and its current revision."""

    arn: str
    """``arn:aws:states:REGION:ACCOUNT:stateMachine:NAME``."""
    name: str
    """The name."""
    type: str
    """``STANDARD`` or ``EXPRESS``."""
    definition: str
    """The ASL JSON text of the current revision."""
    role_arn: str
    """The role (stored, not enforced)."""
    revision_id: str
    """Id of the current revision; every update makes a new one."""
    created_at: float
    """Epoch seconds."""
    updated_at: float
    """Epoch seconds of the last update."""
    config: str = "{}"
    """JSON text of the rest (loggingConfiguration, tracingConfiguration, description...)."""


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """An execution's summary row (DescribeExecution) plus the driver's cursor."""

    arn: str
    """``arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME``."""
    state_machine_arn: str
    """Its state machine."""
    revision_id: str
    """The state machine revision it runs."""
    name: str
    """The execution name (unique per state machine)."""
    status: str
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
    input: str
    """JSON text."""
    start_date: float
    """Epoch seconds."""
    version: int = 0
    """Optimistic-concurrency counter, bumped by every ``apply``."""
    cursor: str = "{}"
    """JSON text of the driver's state (frames, counters); opaque to the store."""
    output: str | None = None
    """JSON text, when SUCCEEDED."""
    error: str | None = None
    """Error name, when it did not succeed."""
    cause: str | None = None
    """Cause text, when it did not succeed."""
    stop_date: float | None = None
    """Epoch seconds, once ended."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One history event."""

    execution_arn: str
    """Its execution."""
    id: int
    """1-based, unique within the execution."""
    previous_event_id: int
    """The event it follows."""
    timestamp: float
    """Epoch seconds."""
    type: str
    """HistoryEventType."""
    details: str | None = None
    """JSON text of the details object, or None."""


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A unit of work due at ``due_at``: run a Task, wake a Wait, retry, time out."""

    id: int
    """Assigned by the store (0 before it is stored)."""
    execution_arn: str
    """Its execution."""
    kind: str
    """``invoke``, ``wake``, ``retry``, ``timeout``..."""
    due_at: float
    """Epoch seconds; not claimable before."""
    payload: str = "{}"
    """JSON text the runtime needs to do it (frame id, token, invocation)."""
    lease_owner: str | None = None
    """The worker holding it, while leased."""
    lease_until: float | None = None
    """When the lease expires; an expired lease is claimable again."""
    attempts: int = 0
    """How many times it was claimed (a crashed worker's item is claimed again)."""


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """A deployed function (Lambda's ``$LATEST``): its configuration and its code."""

    name: str
    """The function name, unique; what ``function:NAME`` in a Lambda ARN resolves to."""
    runtime: str
    """Lambda's runtime identifier: ``python3.12``, ``nodejs20.x``..."""
    handler: str
    """``module.function`` (Python) or ``file.export`` (Node.js)."""
    code: bytes | None
    """The deployment package (a zip). None in reads made without the code, and in an update
    that keeps the stored code."""
    code_sha256: str
    """Lambda's CodeSha256 of ``code``: the base64 of its SHA-256 digest."""
    code_size: int
    """``len(code)`` in bytes."""
    timeout: int
    """Seconds an invocation may run."""
    memory_size: int
    """MiB an invocation may use."""
    environment: str
    """JSON text of the environment variables object."""
    role: str
    """The execution role ARN (stored, not enforced)."""
    description: str
    """Free text."""
    created_at: float
    """Epoch seconds."""
    last_modified: float
    """Epoch seconds of the last change to code or configuration."""
    revision_id: str
    """Id of this revision of the function; every change makes a new one."""
    reserved_concurrency: int | None = None
    """Lambda's ReservedConcurrentExecutions (PutFunctionConcurrency); None: none reserved.
    Set with ``set_function_concurrency`` only: not part of a revision."""


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """An activity: a name that workers poll (GetActivityTask) for the Tasks naming it."""

    arn: str
    """``arn:aws:states:REGION:ACCOUNT:activity:NAME``."""
    name: str
    """The name, unique."""
    created_at: float
    """Epoch seconds."""
    config: str = "{}"
    """JSON text of the rest (encryptionConfiguration), stored and echoed."""


@dataclass(frozen=True, slots=True)
class ActivityTaskRecord:
    """An activity Task waiting in its activity's queue for a poller."""

    token: str
    """The Task's token, unique: what the poller receives and SendTask* brings back."""
    activity_arn: str
    """The activity whose pollers may take it."""
    execution_arn: str
    """The execution whose Task it is."""
    input: str
    """JSON text handed to the poller."""
    created_at: float
    """Epoch seconds when it was queued; pollers take the oldest first."""


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    """One function invocation a Task made, and what the function printed."""

    id: int
    """Assigned by the store (0 before it is stored); listings go by it."""
    execution_arn: str
    """The execution whose Task made it."""
    event_id: int
    """The id of the Task state's Entered event: the state visit it belongs to. A retried
    Task makes several invocations in one visit. 0 when the Task ran where the history has no
    events (inside a Distributed Map)."""
    scheduled_event_id: int
    """The id of its attempt's Scheduled event (``LambdaFunctionScheduled``,
    ``TaskScheduled``); 0 as for ``event_id``."""
    state_name: str
    """The Task state's name."""
    function_name: str
    """The function called."""
    request_id: str
    """Lambda's request id of the invocation ("" when unknown)."""
    started_at: float
    """Epoch seconds when the call was made."""
    duration_ms: float
    """How long it ran, in milliseconds."""
    status: str
    """``Succeeded``, ``Failed`` or ``TimedOut`` (the function's timeout or the Task's)."""
    error_type: str | None
    """The function's ``errorType``; ``States.Timeout`` when the Task's TimeoutSeconds ran
    out first; None when it succeeded or named no error type."""
    logs: str
    """What the function printed (stdout and stderr). The store keeps the last
    ``MAX_INVOCATION_LOG_BYTES`` of longer logs, behind a line saying how much was left out."""


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    """An API access key: requests signed with its secret (SigV4) are let in."""

    access_key_id: str
    """The public half, ``SW...`` (what a request's Credential names)."""
    name: str
    """A label given at creation ("" when none)."""
    sealed_secret: str
    """The secret access key, sealed by the runtime under the server key (never plain)."""
    created_at: float
    """Epoch seconds."""
    role_arn: str | None = None
    """The IAM role requests signed with the key are authorised against; None: an
    administrator's key, allowed every operation."""
    function_name: str | None = None
    """Set on a key the server made for the workers of this function (bound to its
    execution role); such keys sign with a session token and do not turn auth on."""


@dataclass(frozen=True, slots=True)
class RoleRecord:
    """An IAM role: a trust policy saying who may assume it, and (in other rows) its inline
    and attached policies."""

    name: str
    """The role name, unique."""
    arn: str
    """``arn:aws:iam::ACCOUNT:role/PATH/NAME``."""
    role_id: str
    """IAM's opaque id (``AROA...``)."""
    path: str
    """``/`` or ``/a/b/``."""
    assume_role_policy: str
    """The trust policy, JSON text."""
    description: str
    """Free text."""
    max_session_duration: int
    """Seconds (3600 unless set)."""
    created_at: float
    """Epoch seconds."""


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A customer managed IAM policy (one version: the default)."""

    arn: str
    """``arn:aws:iam::ACCOUNT:policy/PATH/NAME``."""
    name: str
    """The policy name."""
    policy_id: str
    """IAM's opaque id (``ANPA...``)."""
    path: str
    """``/`` or ``/a/b/``."""
    document: str
    """The policy document, JSON text."""
    description: str
    """Free text."""
    created_at: float
    """Epoch seconds."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T] = field(default_factory=list)
    """The records."""
    next_token: str | None = None
    """Opaque token for the next page, None on the last."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What ``apply`` wrote, for the runtime to wake workers."""

    version: int
    """The execution's new version."""
    work_ids: list[int] = field(default_factory=list)
    """Ids of the new work items, in the order given."""


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """The arguments of one ``apply``, for ``apply_many``."""

    execution: ExecutionRecord
    """The execution's new row (status, cursor, output...)."""
    expected_version: int
    """The version it must still have."""
    events: list[EventRecord] = field(default_factory=list)
    """History events to append."""
    new_work: list[WorkItem] = field(default_factory=list)
    """Work items to insert."""
    done_work: list[int] = field(default_factory=list)
    """Ids of work items to delete."""
    activity_tasks: list[ActivityTaskRecord] = field(default_factory=list)
    """Activity tasks to queue (a token already queued is not queued twice)."""
    invocations: list[InvocationRecord] = field(default_factory=list)
    """Function invocations whose outcome this step records (their ``id`` is ignored)."""


class Store(Protocol):
    """Persistence for state machines, executions, history, work items, function invocations,
    activities and functions."""

    #: Whether steps of many executions should share ``apply_many`` transactions (SQLite:
    #: one writer, a commit costs an fsync; PostgreSQL: a batch is two round trips whatever
    #: its size) or each thread ``apply`` on its own connection.
    group_commit: bool

    # -- schema
    def migrate(self) -> int:
        """Applies pending migrations; returns the schema version. Idempotent."""
        ...

    def close(self) -> None:
        """Releases connections."""
        ...

    # -- state machines
    def create_state_machine(self, record: StateMachineRecord, tags: dict[str, str]) -> None:
        """Raises AlreadyExists when the ARN is taken."""
        ...

    def get_state_machine(self, arn: str, revision_id: str | None = None
                          ) -> StateMachineRecord | None:
        """The current revision, or the given one (executions run their start revision)."""
        ...

    def update_state_machine(self, record: StateMachineRecord) -> None:
        """Stores a new revision (``record.revision_id``) as current. Raises NotFound."""
        ...

    def delete_state_machine(self, arn: str) -> bool:
        """Deletes it (its executions are kept); False when it did not exist."""
        ...

    def list_state_machines(self, limit: int, token: str | None) -> Page[StateMachineRecord]:
        """By creation order."""
        ...

    # -- tags (state machines, activities)
    def set_tags(self, resource_arn: str, add: dict[str, str], remove: list[str]) -> None:
        """Adds/replaces ``add`` and removes ``remove`` keys."""
        ...

    def get_tags(self, resource_arn: str) -> dict[str, str]:
        """All tags of a resource."""
        ...

    # -- executions
    def create_execution(
        self, record: ExecutionRecord, events: list[EventRecord], work: list[WorkItem]
    ) -> ExecutionRecord:
        """Inserts the execution with its first events and work. When an execution of that
        name exists for the state machine, returns the existing record unchanged (the caller
        decides between idempotent success and ExecutionAlreadyExists)."""
        ...

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with its cursor."""
        ...

    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None
    ) -> Page[ExecutionRecord]:
        """Newest first, as AWS lists them."""
        ...

    def history_after(self, execution_arn: str, after_id: int, limit: int
                      ) -> list[EventRecord]:
        """Up to ``limit`` events with ids above ``after_id``, in id order (the console
        follows a running execution with it)."""
        ...

    def count_executions(self, state_machine_arn: str) -> dict[str, int]:
        """How many executions of the state machine are in each status (absent: none)."""
        ...

    def search_executions(
        self, state_machine_arn: str, status: str | None, name_contains: str, limit: int,
        token: str | None,
    ) -> Page[ExecutionRecord]:
        """``list_executions`` of those whose name contains ``name_contains``, newest first;
        ``status`` None: any status. Page tokens are ``list_executions``' own."""
        ...

    def get_history(
        self, execution_arn: str, limit: int, token: str | None, reverse: bool
    ) -> Page[EventRecord]:
        """Events in id order (or reverse)."""
        ...

    def apply(
        self,
        execution: ExecutionRecord,
        expected_version: int,
        events: list[EventRecord],
        new_work: list[WorkItem],
        done_work: list[int],
        activity_tasks: list[ActivityTaskRecord] | None = None,
        invocations: list[InvocationRecord] | None = None,
    ) -> Applied:
        """ONE transaction: updates the execution row (status, cursor, output...) if its
        version is still ``expected_version`` (else raises Conflict), appends the events,
        inserts ``new_work``, deletes ``done_work``, queues ``activity_tasks`` and records
        ``invocations`` (so an invocation is kept exactly when the step that consumed its
        outcome is). When the new row is no longer RUNNING, the execution's queued activity
        tasks are deleted: no poller receives a task of an ended execution. Raises StoreError
        on failure, leaving nothing written."""
        ...

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        """Group commit: the ``apply`` of several executions in ONE transaction, so a worker
        pays one commit for a batch. Results are in request order. A request that fails on its
        own (Conflict, NotFound, AlreadyExists) writes nothing and yields its error in place;
        the others still commit. A failure of the database itself raises StoreError, leaving
        nothing of the batch written."""
        ...

    # -- work
    def claim_work(self, owner: str, now: float, limit: int, lease_seconds: float
                   ) -> list[WorkItem]:
        """Leases up to ``limit`` items with ``due_at <= now`` that are unleased or whose
        lease expired, oldest due first; each claim bumps ``attempts``."""
        ...

    def renew_leases(self, owner: str, ids: list[int], until: float) -> None:
        """Extends the leases ``owner`` still holds."""
        ...

    def release_work(self, owner: str, ids: list[int], due_at: float | None = None) -> None:
        """Gives items back unfinished (optionally re-due), e.g. on shutdown."""
        ...

    def next_due(self) -> float | None:
        """The earliest time any item becomes claimable, None if there is no work: its
        ``due_at`` when unleased, ``max(due_at, lease_until)`` when leased (so a worker also
        wakes when a crashed peer's lease expires)."""
        ...

    def wait_for_work(self, timeout: float) -> None:
        """Blocks until new work may be due (LISTEN/NOTIFY on PostgreSQL) or ``timeout``."""
        ...


    # -- invocations (written by ``apply``)
    def list_invocations(self, execution_arn: str, limit: int, token: str | None
                         ) -> Page[InvocationRecord]:
        """The execution's function invocations in the order they were recorded (by id),
        logs included; empty for an unknown execution."""
        ...

    def list_function_invocations(self, function_name: str, limit: int
                                  ) -> list[InvocationRecord]:
        """The function's ``limit`` most recent invocations (any execution), newest first."""
        ...

    def get_invocation(self, invocation_id: int) -> InvocationRecord | None:
        """One invocation by id, None when there is none."""
        ...

    # -- activities
    def create_activity(self, record: ActivityRecord, tags: dict[str, str]) -> ActivityRecord:
        """Inserts the activity with its tags and returns it; when one of that ARN exists,
        returns the existing record and changes nothing (CreateActivity is idempotent on the
        name)."""
        ...

    def get_activity(self, arn: str) -> ActivityRecord | None:
        """The activity, None when it does not exist."""
        ...

    def list_activities(self, limit: int, token: str | None) -> Page[ActivityRecord]:
        """By creation order."""
        ...

    def delete_activity(self, arn: str) -> bool:
        """Deletes it and its tags; False when it did not exist. Tasks already queued for it
        stay (an activity created again under the name serves them)."""
        ...

    def claim_activity_task(self, activity_arn: str) -> ActivityTaskRecord | None:
        """Takes the oldest task queued for the activity out of the queue (each task goes to
        one caller only, however many poll at once); None when the queue is empty."""
        ...

    # -- functions
    def put_function(
        self, record: FunctionRecord, *, create: bool, expected_revision: str | None = None
    ) -> None:
        """Stores a function. ``create``: inserts it, raising AlreadyExists when the name is
        taken. Otherwise replaces the stored one (keeping its ``created_at``, and its code when
        ``record.code`` is None), raising NotFound when there is none and Conflict when
        ``expected_revision`` is given and no longer current."""
        ...

    def get_function(self, name: str, *, with_code: bool = True) -> FunctionRecord | None:
        """The function, None when it does not exist. Without the code (``code`` None) the
        read is cheap whatever the package size: what a cache checking revisions needs."""
        ...

    def list_functions(self, limit: int, token: str | None) -> Page[FunctionRecord]:
        """By name, without their code."""
        ...

    def set_function_concurrency(self, name: str, reserved: int | None) -> bool:
        """Sets (None: removes) the function's reserved concurrency; False when there is no
        such function."""
        ...

    def delete_function(self, name: str) -> bool:
        """Deletes it; False when it did not exist."""
        ...


    # -- access keys and server secrets (never passed to the runtime's executions)
    def put_access_key(self, record: AccessKeyRecord) -> None:
        """Stores a new key; raises AlreadyExists when the id is taken."""
        ...

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        """The key, None when there is none."""
        ...

    def list_access_keys(self) -> list[AccessKeyRecord]:
        """Every key, oldest first."""
        ...

    def has_access_keys(self) -> bool:
        """Whether any key exists (requests must then be signed)."""
        ...

    def delete_access_key(self, access_key_id: str) -> bool:
        """Deletes it; False when it did not exist."""
        ...

    def function_access_keys(self, function_name: str) -> list[AccessKeyRecord]:
        """The keys made for a function's workers, oldest first."""
        ...

    def delete_function_access_keys(self, function_name: str, keep_role: str = "") -> int:
        """Deletes a function's keys but those bound to ``keep_role`` ("": all of them);
        how many were deleted."""
        ...

    def put_console_session(self, session_id: str, access_key_id: str, issued_at: float,
                            expires_at: float) -> None:
        """Records a console sign-in (and forgets sessions that have expired)."""
        ...

    def console_session_live(self, session_id: str, now: float) -> bool:
        """Whether the session is recorded and not expired (not signed out)."""
        ...

    def delete_console_session(self, session_id: str) -> bool:
        """Signs the session out everywhere; False when it was not recorded."""
        ...

    def server_secret(self, name: str, candidate: str) -> str:
        """The stored secret ``name``; stores ``candidate`` first when there is none, so
        every process sharing the database ends up with the same value."""
        ...

    # -- IAM roles and policies
    def create_role(self, record: RoleRecord) -> None:
        """Raises AlreadyExists when the name is taken."""
        ...

    def get_role(self, name: str) -> RoleRecord | None:
        """The role, None when there is none."""
        ...

    def list_roles(self) -> list[RoleRecord]:
        """Every role, by name."""
        ...

    def update_assume_role_policy(self, name: str, document: str) -> bool:
        """Replaces the trust policy; False when the role does not exist."""
        ...

    def delete_role(self, name: str) -> bool:
        """Deletes it unless it has inline or attached policies; False when nothing was
        deleted (no such role, or it still has policies)."""
        ...

    def put_role_policy(self, role_name: str, policy_name: str, document: str) -> None:
        """Adds or replaces an inline policy."""
        ...

    def get_role_policy(self, role_name: str, policy_name: str) -> str | None:
        """The inline policy's document, None when there is none."""
        ...

    def list_role_policies(self, role_name: str) -> list[tuple[str, str]]:
        """``(name, document)`` of the role's inline policies, by name."""
        ...

    def delete_role_policy(self, role_name: str, policy_name: str) -> bool:
        """Deletes an inline policy; False when it did not exist."""
        ...

    def create_policy(self, record: PolicyRecord) -> None:
        """Raises AlreadyExists when the ARN is taken."""
        ...

    def get_policy(self, arn: str) -> PolicyRecord | None:
        """The customer managed policy, None when there is none."""
        ...

    def list_policies(self) -> list[PolicyRecord]:
        """Every customer managed policy, by name."""
        ...

    def delete_policy(self, arn: str) -> bool:
        """Deletes it unless attached; False when nothing was deleted."""
        ...

    def attach_role_policy(self, role_name: str, policy_arn: str) -> None:
        """Attaches a managed policy (again: no change)."""
        ...

    def detach_role_policy(self, role_name: str, policy_arn: str) -> bool:
        """Detaches it; False when it was not attached."""
        ...

    def list_attached_role_policies(self, role_name: str) -> list[str]:
        """ARNs of the managed policies attached to the role."""
        ...

    def count_policy_attachments(self, policy_arn: str) -> int:
        """How many roles have the policy attached."""
        ...
