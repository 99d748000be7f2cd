"""The ``Store`` methods that read and write the same way on every SQL backend.

``SqlStore`` writes them once against a few hooks that each backend supplies: ``_writing``
(one write transaction, yielding a connection whose ``execute`` returns a cursor), ``_read``
(one idempotent query, returning all its rows), ``_executemany``, ``_ids`` (a list of ids as
the dialect binds it), ``_insert`` (one insert whose duplicate key becomes ``AlreadyExists``),
the work signals ``_notify`` (inside the transaction) and ``_signal_work`` (after it). The dialect's
named queries are the class attribute ``_q``.

The atomic write path (``apply``/``apply_many``) is written once here too: one transaction per
batch, a savepoint per request so a failing request undoes only its own writes, the version
check, work ids, the wake-up. A backend supplies only how a batch's transaction begins
(``_batch``), what a savepoint is (``_savepoint``) and whether a request's statements are
pipelined (``_pipeline``: PostgreSQL sends them together and reads the results after). A
pipelining backend sends a batch in two syncs instead (``_apply_in_two_syncs``: the version
checks, then the writes of the steps that passed) and falls back to the savepoints only when a
write fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from statewright.store import _rows
from statewright.store._access_sql import AccessSql
from statewright.store.base import (
    ActivityRecord,
    ActivityTaskRecord,
    AlreadyExists,
    Applied,
    ApplyRequest,
    Conflict,
    EventRecord,
    ExecutionRecord,
    FunctionRecord,
    InvocationRecord,
    NotFound,
    Page,
    StateMachineRecord,
    StoreError,
    WorkItem,
)


class Cursor(Protocol):
    """The part of a DB-API cursor the shared methods use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a connection the shared methods use."""

    def execute(self, query: str, params: Any = ..., /) -> Cursor: ...


class _Duplicate(Exception):
    """The execution being created already exists: its transaction is rolled back."""


class SqlStore(AccessSql):
    """The backend-independent half of a SQL ``Store``; subclasses supply the hooks."""

    _q: Mapping[str, str]

    # ------------------------------------------------------------------ hooks

    def _writing(self) -> AbstractContextManager[Connection]:
        """One write transaction, committed on exit and rolled back on any exception."""
        raise NotImplementedError

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """All rows of one read-only query."""
        raise NotImplementedError

    def _executemany(
        self, conn: Connection, query: str, params: Sequence[Mapping[str, Any]]
    ) -> None:
        raise NotImplementedError

    def _ids(self, ids: list[int]) -> Any:
        """A list of ids as the dialect's queries bind it."""
        raise NotImplementedError

    def _insert(self, query: str, params: Mapping[str, Any], duplicate: str) -> None:
        """One insert in its own transaction; a duplicate key raises AlreadyExists(duplicate)."""
        raise NotImplementedError

    def _write_returning(self, query: str, params: Mapping[str, Any]) -> list[Any]:
        """The rows one writing statement returns, in a transaction of its own (never
        retried)."""
        with self._writing() as conn:
            return list(conn.execute(query, params).fetchall())

    def _batch(self) -> AbstractContextManager[Connection]:
        """The transaction a batch of ``apply`` requests shares."""
        return self._writing()

    def _savepoint(self, conn: Connection) -> AbstractContextManager[None]:
        """One request's writes inside the batch: rolled back alone when they raise."""
        raise NotImplementedError

    def _pipeline(self, conn: Connection) -> AbstractContextManager[None]:
        """A request's statements sent together; results are read after it exits. Without a
        pipeline (the default) each statement runs when issued."""
        return nullcontext()

    #: Whether ``_pipeline`` defers results (a RETURNING row is fetched after it exits).
    _pipelined = False
    #: The driver's integrity error: a duplicate key (two writers appending event N).
    _integrity_error: type[Exception] = Exception

    def _driver_error(self, exc: Exception) -> StoreError:
        """A driver exception as the StoreError saying what happened."""
        return StoreError(str(exc))

    def _notify(self, conn: Connection) -> None:
        """Announces added work from inside the transaction that adds it."""

    def _signal_work(self) -> None:
        """Announces added work after the transaction that added it has committed."""

    def _execution_date(self, value: Any) -> Any:
        """A start date from a page token, as the dialect binds it."""
        return value

    # ------------------------------------------------------------------ state machines

    def get_state_machine(
        self, arn: str, revision_id: str | None = None
    ) -> StateMachineRecord | None:
        if revision_id is None:
            rows = self._read(self._q["get_state_machine"], {"arn": arn})
        else:
            rows = self._read(
                self._q["get_state_machine_revision"], {"arn": arn, "revision_id": revision_id}
            )
        return _rows.state_machine(rows[0]) if rows else None

    def update_state_machine(self, record: StateMachineRecord) -> None:
        with self._writing() as conn:
            cursor = conn.execute(
                self._q["update_state_machine"], _rows.state_machine_params(record)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"state machine {record.arn} does not exist")
            conn.execute(self._q["save_revision"], {"arn": record.arn})

    def delete_state_machine(self, arn: str) -> bool:
        with self._writing() as conn:
            deleted = conn.execute(self._q["delete_state_machine"], {"arn": arn}).rowcount > 0
            conn.execute(self._q["delete_tags_of"], {"resource_arn": arn})
        return deleted

    def list_state_machines(self, limit: int, token: str | None) -> Page[StateMachineRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_SEQ
        if token is not None:
            after = _rows.decode_token(token, "state-machines", (int,))[0]
        rows = self._read(
            self._q["list_state_machines"], {"after_seq": after, "limit": limit + 1}
        )
        result = _rows.page(rows, limit, lambda r: _rows.encode_token("state-machines", r["seq"]))
        return Page([_rows.state_machine(r) for r in result.items], result.next_token)

    # ------------------------------------------------------------------ tags

    def set_tags(self, resource_arn: str, add: dict[str, str], remove: list[str]) -> None:
        with self._writing() as conn:
            self._executemany(
                conn,
                self._q["delete_tag"],
                [{"resource_arn": resource_arn, "key": k} for k in remove],
            )
            self._executemany(conn, self._q["upsert_tag"], tag_params(resource_arn, add))

    def get_tags(self, resource_arn: str) -> dict[str, str]:
        rows = self._read(self._q["get_tags"], {"resource_arn": resource_arn})
        return {key: value for key, value in rows}

    # ------------------------------------------------------------------ executions

    def create_execution(
        self, record: ExecutionRecord, events: list[EventRecord], work: list[WorkItem]
    ) -> ExecutionRecord:
        # One batch transaction, pipelined where the backend pipelines (PostgreSQL sends every
        # statement, BEGIN and COMMIT included, without waiting for replies). A duplicate is
        # seen at the end there (nothing inserted, or the events' key taken), at once here.
        try:
            with self._batch() as conn:
                with self._pipeline(conn):
                    created = conn.execute(
                        self._q["insert_execution"], _rows.execution_params(record))
                    if not self._pipelined and created.rowcount == 0:
                        raise _Duplicate
                    self._executemany(
                        conn, self._q["insert_event"], [_rows.event_params(e) for e in events]
                    )
                    for item in work:
                        conn.execute(self._q["insert_work"], _rows.work_params(item))
                    if work:
                        self._notify(conn)
                if created.rowcount == 0:
                    raise _Duplicate  # rolls back the events and work sent with it
        except (_Duplicate, AlreadyExists):
            # ON CONFLICT fired on one of the two keys: the caller compares the existing row.
            rows = (self._read(self._q["get_execution_by_name"],
                               {"state_machine_arn": record.state_machine_arn,
                                "name": record.name})
                    or self._read(self._q["get_execution"], {"arn": record.arn}))
            if not rows:
                raise
            return _rows.execution(rows[0])
        if work:
            self._signal_work()
        return record

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        rows = self._read(self._q["get_execution"], {"arn": arn})
        return _rows.execution(rows[0]) if rows else None

    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None
    ) -> Page[ExecutionRecord]:
        query = "list_executions" if status is None else "list_executions_by_status"
        return self._executions_page(
            query, {"state_machine_arn": state_machine_arn, "status": status}, limit, token)

    def history_after(self, execution_arn: str, after_id: int, limit: int
                      ) -> list[EventRecord]:
        params = {"execution_arn": execution_arn, "after_id": after_id,
                  "limit": _rows.check_limit(limit)}
        return [_rows.event(r) for r in self._read(self._q["history_forward"], params)]

    def count_executions(self, state_machine_arn: str) -> dict[str, int]:
        rows = self._read(self._q["count_executions"], {"state_machine_arn": state_machine_arn})
        return {str(status): int(count) for status, count in rows}

    def search_executions(
        self, state_machine_arn: str, status: str | None, name_contains: str, limit: int,
        token: str | None,
    ) -> Page[ExecutionRecord]:
        return self._executions_page(
            "search_executions",
            {"state_machine_arn": state_machine_arn, "status": status, "name": name_contains},
            limit, token)

    def _executions_page(self, query: str, params: dict[str, Any], limit: int,
                         token: str | None) -> Page[ExecutionRecord]:
        """One page of a newest-first executions query, after ``token``'s position."""
        limit = _rows.check_limit(limit)
        before_date, before_arn = _rows.NEWEST
        if token is not None:
            before_date, before_arn = _rows.decode_token(token, "executions", _DATE_ARN)
        params = {**params, "before_date": self._execution_date(before_date),
                  "before_arn": before_arn, "limit": limit + 1}
        rows = [_rows.execution(r) for r in self._read(self._q[query], params)]
        return _rows.page(rows, limit, _execution_token)

    def get_history(
        self, execution_arn: str, limit: int, token: str | None, reverse: bool
    ) -> Page[EventRecord]:
        limit = _rows.check_limit(limit)
        kind = "history-reverse" if reverse else "history"
        key = _rows.LAST_EVENT if reverse else _rows.FIRST_EVENT
        if token is not None:
            key = _rows.decode_token(token, kind, (int,))[0]
        query, bound = (
            ("history_reverse", "before_id") if reverse else ("history_forward", "after_id")
        )
        params = {"execution_arn": execution_arn, bound: key, "limit": limit + 1}
        rows = [_rows.event(r) for r in self._read(self._q[query], params)]
        return _rows.page(rows, limit, lambda e: _rows.encode_token(kind, e.id))

    # ------------------------------------------------------------------ apply

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
        request = ApplyRequest(execution, expected_version, events, new_work, done_work,
                               activity_tasks or [], invocations or [])
        result = self.apply_many([request])[0]
        if isinstance(result, StoreError):
            raise result
        return result

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        if not requests:
            return []
        if self._pipelined:
            try:
                return self._woken(requests, self._apply_in_two_syncs(requests))
            except StoreError as exc:
                if not isinstance(exc.__cause__, self._integrity_error):
                    raise
                # A write failed after its version check passed (nothing was committed):
                # again, one savepoint per request, so only that request gets the error.
        results: list[Applied | StoreError] = []
        with self._batch() as conn:
            for request in requests:
                try:
                    with self._savepoint(conn):
                        results.append(self._apply_one(conn, request))
                except (Conflict, NotFound) as exc:
                    results.append(exc)
                except self._integrity_error as exc:
                    # Two writers racing on one execution both append event N: the loser's
                    # insert can fail before its version check is read. That is a Conflict.
                    results.append(self._stale_or(conn, request, self._driver_error(exc)))
            if self._wakes(requests, results):
                self._notify(conn)  # wakes workers and GetActivityTask pollers alike
        return self._woken(requests, results)

    def _apply_in_two_syncs(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        """A pipelined batch in two round trips whatever its size: BEGIN and every
        version-checked UPDATE in one sync (in ARN order, so two batches lock rows in the same
        order and cannot deadlock), then the writes of those that passed with the COMMIT.
        Each UPDATE holds its row until the commit, so no other writer can append to those
        executions in between. A write that fails fails the whole transaction."""
        order = sorted(range(len(requests)), key=lambda i: requests[i].execution.arn)
        results: dict[int, Applied | StoreError] = {}
        written: dict[int, list[Any]] = {}
        with self._batch() as conn:
            with self._pipeline(conn):
                updates = {i: self._update_version(conn, requests[i]) for i in order}
            passed = [i for i in order if updates[i].rowcount == 1]
            for i in order:
                if updates[i].rowcount != 1:
                    results[i] = self._stale_or(conn, requests[i], Conflict(
                        f"execution {requests[i].execution.arn} changed during the update"))
            for i in passed:
                written[i] = self._write_step(conn, requests[i])
            if any(requests[i].new_work or requests[i].activity_tasks for i in passed):
                self._notify(conn)
        # The COMMIT synced the pipeline: the new work items' ids have arrived.
        for i, inserted in written.items():
            results[i] = self._applied(requests[i], inserted)
        return [results[i] for i in range(len(requests))]

    def _wakes(self, requests: list[ApplyRequest], results: list[Applied | StoreError]
               ) -> bool:
        """Whether an applied request added work (or activity tasks) others should see."""
        return any(isinstance(r, Applied) and (q.new_work or q.activity_tasks)
                   for r, q in zip(results, requests, strict=True))

    def _woken(self, requests: list[ApplyRequest], results: list[Applied | StoreError]
               ) -> list[Applied | StoreError]:
        if self._wakes(requests, results):
            self._signal_work()
        return results

    def _apply_one(self, conn: Connection, request: ApplyRequest) -> Applied:
        """The writes of one apply, inside the caller's savepoint; raises Conflict or NotFound
        (the caller rolls the savepoint back) when the execution is not at the expected
        version."""
        with self._pipeline(conn):
            update = self._update_version(conn, request)
            inserted = self._write_step(conn, request)
        if update.rowcount != 1:
            raise self._stale_or(conn, request, Conflict(
                f"execution {request.execution.arn} changed during the update"))
        return self._applied(request, inserted)

    def _update_version(self, conn: Connection, request: ApplyRequest) -> Cursor:
        """The execution's row, written only if it is still at the expected version."""
        return conn.execute(self._q["update_execution"], _rows.update_params(
            request.execution, request.expected_version))

    def _write_step(self, conn: Connection, request: ApplyRequest) -> list[Any]:
        """Everything else a step writes; returns the new work items' cursors (pipelined) or
        rows, read by ``_applied``."""
        q, execution = self._q, request.execution
        inserted: list[Any] = []
        if request.events:
            self._executemany(conn, q["insert_event"],
                              [_rows.event_params(e) for e in request.events])
        for item in request.new_work:
            cursor = conn.execute(q["insert_work"], _rows.work_params(item))
            inserted.append(cursor if self._pipelined else cursor.fetchone())
        if request.done_work:
            conn.execute(q["delete_work"], {"execution_arn": execution.arn,
                                            "ids": self._ids(request.done_work)})
        if request.activity_tasks:
            self._executemany(conn, q["insert_activity_task"],
                              [_rows.activity_task_params(t) for t in request.activity_tasks])
        if request.invocations:
            self._executemany(conn, q["insert_invocation"],
                              [_rows.invocation_params(i) for i in request.invocations])
        if execution.status != "RUNNING":
            conn.execute(q["delete_activity_tasks_of"], {"execution_arn": execution.arn})
        return inserted

    def _applied(self, request: ApplyRequest, inserted: list[Any]) -> Applied:
        rows = [c.fetchone() for c in inserted] if self._pipelined else inserted
        return Applied(request.expected_version + 1, [int(row["id"]) for row in rows])

    def _stale_or(self, conn: Connection, request: ApplyRequest, otherwise: StoreError
                  ) -> StoreError:
        """NotFound or Conflict when the execution is not at the expected version, else
        ``otherwise``."""
        arn = request.execution.arn
        row = conn.execute(self._q["get_execution_version"], {"arn": arn}).fetchone()
        if row is None:
            return NotFound(f"execution {arn} does not exist")
        if row["version"] != request.expected_version:
            return Conflict(
                f"execution {arn} is at version {row['version']}, not {request.expected_version}")
        return otherwise

    # ------------------------------------------------------------------ invocations

    def list_invocations(self, execution_arn: str, limit: int, token: str | None
                         ) -> Page[InvocationRecord]:
        limit, params = _rows.invocation_listing(execution_arn, limit, token)
        rows = [_rows.invocation(r) for r in self._read(self._q["list_invocations"], params)]
        return _rows.page(rows, limit, _rows.invocation_token)

    def list_function_invocations(self, function_name: str, limit: int
                                  ) -> list[InvocationRecord]:
        limit = _rows.check_limit(limit)
        params = {"function_name": function_name, "limit": limit}
        rows = self._read(self._q["list_function_invocations"], params)
        return [_rows.invocation(r) for r in rows]

    def get_invocation(self, invocation_id: int) -> InvocationRecord | None:
        rows = self._read(self._q["get_invocation"], {"id": invocation_id})
        return _rows.invocation(rows[0]) if rows else None

    # ------------------------------------------------------------------ work

    def claim_work(
        self, owner: str, now: float, limit: int, lease_seconds: float
    ) -> list[WorkItem]:
        if limit < 1:
            return []
        params = {"owner": owner, "now": now, "limit": limit, "lease_until": now + lease_seconds}
        rows = self._write_returning(self._q["claim_work"], params)
        return sorted((_rows.work_item(r) for r in rows), key=lambda w: (w.due_at, w.id))

    def renew_leases(self, owner: str, ids: list[int], until: float) -> None:
        if not ids:
            return
        with self._writing() as conn:
            conn.execute(
                self._q["renew_leases"],
                {"owner": owner, "ids": self._ids(ids), "lease_until": until},
            )

    def release_work(self, owner: str, ids: list[int], due_at: float | None = None) -> None:
        if not ids:
            return
        with self._writing() as conn:
            conn.execute(
                self._q["release_work"], {"owner": owner, "ids": self._ids(ids), "due_at": due_at}
            )
            self._notify(conn)
        self._signal_work()

    def next_due(self) -> float | None:
        value = self._read(self._q["next_due"])[0][0]
        return None if value is None else float(value)

    # ------------------------------------------------------------------ activities

    def create_activity(self, record: ActivityRecord, tags: dict[str, str]) -> ActivityRecord:
        with self._writing() as conn:
            if conn.execute(
                self._q["insert_activity"], _rows.activity_params(record)
            ).rowcount == 0:
                row = conn.execute(self._q["get_activity"], {"arn": record.arn}).fetchone()
                assert row is not None  # ON CONFLICT fired on the ARN
                return _rows.activity(row)
            self._executemany(conn, self._q["upsert_tag"], tag_params(record.arn, tags))
        return record

    def get_activity(self, arn: str) -> ActivityRecord | None:
        rows = self._read(self._q["get_activity"], {"arn": arn})
        return _rows.activity(rows[0]) if rows else None

    def list_activities(self, limit: int, token: str | None) -> Page[ActivityRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_SEQ
        if token is not None:
            after = _rows.decode_token(token, "activities", (int,))[0]
        rows = self._read(self._q["list_activities"], {"after_seq": after, "limit": limit + 1})
        result = _rows.page(rows, limit, lambda r: _rows.encode_token("activities", r["seq"]))
        return Page([_rows.activity(r) for r in result.items], result.next_token)

    def delete_activity(self, arn: str) -> bool:
        with self._writing() as conn:
            deleted = conn.execute(self._q["delete_activity"], {"arn": arn}).rowcount > 0
            conn.execute(self._q["delete_tags_of"], {"resource_arn": arn})
        return deleted

    def claim_activity_task(self, activity_arn: str) -> ActivityTaskRecord | None:
        params = {"activity_arn": activity_arn}
        if not self._read(self._q["activity_task_queued"], params)[0][0]:
            return None
        with self._writing() as conn:
            row = conn.execute(self._q["claim_activity_task"], params).fetchone()
        return None if row is None else _rows.activity_task(row)

    # ------------------------------------------------------------------ functions

    def put_function(
        self, record: FunctionRecord, *, create: bool, expected_revision: str | None = None
    ) -> None:
        _rows.check_function(record, create)
        params = _rows.function_params(record, expected_revision)
        if create:
            self._insert(
                self._q["insert_function"], params, f"function {record.name} already exists"
            )
            return
        with self._writing() as conn:
            if conn.execute(self._q["update_function"], params).rowcount == 0:
                found = conn.execute(
                    self._q["get_function_without_code"], {"name": record.name}
                ).fetchone()
                _rows.update_refused(record.name, None if found is None else found[13])

    def get_function(self, name: str, *, with_code: bool = True) -> FunctionRecord | None:
        query = self._q["get_function" if with_code else "get_function_without_code"]
        rows = self._read(query, {"name": name})
        return _rows.function(rows[0]) if rows else None

    def list_functions(self, limit: int, token: str | None) -> Page[FunctionRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_NAME
        if token is not None:
            after = _rows.decode_token(token, "functions", (str,))[0]
        rows = self._read(self._q["list_functions"], {"after_name": after, "limit": limit + 1})
        return _rows.page(
            [_rows.function(r) for r in rows], limit,
            lambda f: _rows.encode_token("functions", f.name),
        )

    def set_function_concurrency(self, name: str, reserved: int | None) -> bool:
        with self._writing() as conn:
            return bool(conn.execute(self._q["set_function_concurrency"], {
                "name": name, "reserved_concurrency": reserved}).rowcount > 0)

    def delete_function(self, name: str) -> bool:
        with self._writing() as conn:
            return bool(conn.execute(self._q["delete_function"], {"name": name}).rowcount > 0)


# ---------------------------------------------------------------------- helpers

_DATE_ARN: tuple[type | tuple[type, ...], ...] = ((int, float), str)


def _execution_token(record: ExecutionRecord) -> str:
    return _rows.encode_token("executions", record.start_date, record.arn)


def tag_params(resource_arn: str, tags: dict[str, str]) -> list[dict[str, str]]:
    """Rows for ``upsert_tag``."""
    return [{"resource_arn": resource_arn, "key": k, "value": v} for k, v in tags.items()]
