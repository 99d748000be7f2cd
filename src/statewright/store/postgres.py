"""The scale-out store: PostgreSQL through psycopg 3 and a connection pool.

Any number of API nodes and workers share one database. Connections run in autocommit, so a
read is one round trip; writes open an explicit transaction. The pool checks a connection
before handing it out, so after a server restart stale connections are replaced rather than
failing a request, and an idempotent read is retried once if its connection dies mid-query.
Writes are not retried: a lost COMMIT reply leaves it unknown whether they happened, and the
optimistic version check would turn a blind retry into a false Conflict.

Workers claim with ``FOR UPDATE SKIP LOCKED`` and sleep on ``LISTEN statewright_work``; every
write that adds work sends ``NOTIFY`` inside its transaction, delivered at commit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from statewright.store import _rows
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
from statewright.store.migrate import load_migrations, pending
from statewright.store.queries import load_queries

Q = load_queries("postgres")
log = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple[Any, ...]]


class PostgresStore:
    """A ``Store`` over a PostgreSQL database; safe to share between threads."""

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 1,
        max_connections: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        """Connects to ``url`` (a libpq URL or conninfo string); raises StoreError with the
        server's reason when it cannot."""
        self.url = url
        self._where = _describe(url)
        self._connect_timeout = connect_timeout
        # One plain connection first: a wrong URL, password or a down server fails here with
        # libpq's own reason, which the pool would reduce to a timeout.
        try:
            psycopg.connect(url, connect_timeout=max(1, round(connect_timeout))).close()
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self._where}: {str(exc).strip()}"
            ) from None
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=min_connections,
            max_size=max_connections,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            timeout=connect_timeout,
            open=False,
            name="statewright",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(f"cannot open connections to PostgreSQL at {self._where}") from exc
        self._closed = False
        self._stop = threading.Event()
        self._listen_lock = threading.Lock()
        self._listener: Connection | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r})"

    # ------------------------------------------------------------------ connections

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """An idempotent read: retried once when its connection turns out to be dead."""
        for attempt in (1, 2):
            self._check_open()
            try:
                with self._pool.connection() as conn:
                    return conn.execute(query, params).fetchall()
            except (PoolTimeout, PoolClosed) as exc:
                raise _store_error(exc, self._where) from exc
            except psycopg.OperationalError as exc:
                if attempt == 2:
                    raise _store_error(exc, self._where) from exc
                log.info("PostgreSQL connection lost (%s); retrying the read once", exc)
            except psycopg.Error as exc:
                raise _store_error(exc, self._where) from exc
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self, *, pipelined: bool = False) -> Iterator[Connection]:
        """One write transaction; rolled back on any exception, never retried. Pipelined:
        statements are sent without waiting for each reply (BEGIN and COMMIT too), so a
        step costs about three round trips (pool check, sync, commit) instead of ten."""
        self._check_open()
        try:
            with self._pool.connection() as conn:
                if pipelined:
                    with conn.pipeline(), conn.transaction():
                        yield conn
                else:
                    with conn.transaction():
                        yield conn
        except psycopg.Error as exc:
            raise _store_error(exc, self._where) from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._pool.close()
        # A thread blocked in wait_for_work holds the listener; it closes it on return.
        if self._listen_lock.acquire(timeout=0.1):
            try:
                self._drop_listener()
            finally:
                self._listen_lock.release()

    # ------------------------------------------------------------------ schema

    def migrate(self) -> int:
        migrations = load_migrations("postgres")
        with self._transaction() as conn:
            # The advisory lock makes concurrent migrators take turns; DDL is transactional,
            # so a failing migration leaves the previous version whole.
            conn.execute(Q["lock_migrations"])
            conn.execute(Q["create_migrations_table"])
            applied = [row[0] for row in conn.execute(Q["applied_migrations"])]
            for migration in pending(migrations, applied):
                conn.execute(migration.sql)  # no params: several statements may run at once
                conn.execute(
                    Q["record_migration"], {"version": migration.version, "applied_at": time.time()}
                )
        return max((m.version for m in migrations), default=0)

    # ------------------------------------------------------------------ state machines

    def create_state_machine(self, record: StateMachineRecord, tags: dict[str, str]) -> None:
        try:
            with self._transaction() as conn:
                conn.execute(Q["insert_state_machine"], _rows.state_machine_params(record))
                conn.execute(Q["save_revision"], {"arn": record.arn})
                if tags:
                    conn.cursor().executemany(Q["upsert_tag"], _tag_params(record.arn, tags))
        except AlreadyExists:
            raise AlreadyExists(f"state machine {record.arn} already exists") from None

    def get_state_machine(
        self, arn: str, revision_id: str | None = None
    ) -> StateMachineRecord | None:
        if revision_id is None:
            rows = self._read(Q["get_state_machine"], {"arn": arn})
        else:
            rows = self._read(
                Q["get_state_machine_revision"], {"arn": arn, "revision_id": revision_id}
            )
        return _rows.state_machine(rows[0]) if rows else None

    def update_state_machine(self, record: StateMachineRecord) -> None:
        with self._transaction() as conn:
            cursor = conn.execute(Q["update_state_machine"], _rows.state_machine_params(record))
            if cursor.rowcount == 0:
                raise NotFound(f"state machine {record.arn} does not exist")
            conn.execute(Q["save_revision"], {"arn": record.arn})

    def delete_state_machine(self, arn: str) -> bool:
        with self._transaction() as conn:
            deleted = conn.execute(Q["delete_state_machine"], {"arn": arn}).rowcount > 0
            conn.execute(Q["delete_tags_of"], {"resource_arn": arn})
        return deleted

    def list_state_machines(self, limit: int, token: str | None) -> Page[StateMachineRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_SEQ
        if token is not None:
            after = _rows.decode_token(token, "state-machines", (int,))[0]
        rows = self._read(Q["list_state_machines"], {"after_seq": after, "limit": limit + 1})
        result = _rows.page(rows, limit, lambda r: _rows.encode_token("state-machines", r[9]))
        return Page([_rows.state_machine(r) for r in result.items], result.next_token)

    # ------------------------------------------------------------------ tags

    def set_tags(self, resource_arn: str, add: dict[str, str], remove: list[str]) -> None:
        if not add and not remove:
            return
        with self._transaction() as conn:
            cursor = conn.cursor()
            if remove:
                cursor.executemany(
                    Q["delete_tag"], [{"resource_arn": resource_arn, "key": k} for k in remove]
                )
            if add:
                cursor.executemany(Q["upsert_tag"], _tag_params(resource_arn, add))

    def get_tags(self, resource_arn: str) -> dict[str, str]:
        rows = self._read(Q["get_tags"], {"resource_arn": resource_arn})
        return {key: value for key, value in rows}

    # ------------------------------------------------------------------ executions

    def create_execution(
        self, record: ExecutionRecord, events: list[EventRecord], work: list[WorkItem]
    ) -> ExecutionRecord:
        with self._transaction() as conn:
            if conn.execute(Q["insert_execution"], _rows.execution_params(record)).rowcount == 0:
                row = (
                    conn.execute(
                        Q["get_execution_by_name"],
                        {
                            "state_machine_arn": record.state_machine_arn,
                            "name": record.name,
                        },
                    ).fetchone()
                    or conn.execute(Q["get_execution"], {"arn": record.arn}).fetchone()
                )
                assert row is not None  # ON CONFLICT fired, so one of the two keys matches
                return _rows.execution(row)
            if events:
                conn.cursor().executemany(
                    Q["insert_event"], [_rows.event_params(e) for e in events]
                )
            for item in work:
                conn.execute(Q["insert_work"], _rows.work_params(item))
            if work:
                conn.execute(Q["notify_work"])
        return record

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        rows = self._read(Q["get_execution"], {"arn": arn})
        return _rows.execution(rows[0]) if rows else None

    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None
    ) -> Page[ExecutionRecord]:
        limit = _rows.check_limit(limit)
        before_date, before_arn = _rows.NEWEST
        if token is not None:
            before_date, before_arn = _rows.decode_token(token, "executions", _DATE_ARN)
        params = {
            "state_machine_arn": state_machine_arn,
            "status": status,
            "before_date": float(before_date),
            "before_arn": before_arn,
            "limit": limit + 1,
        }
        query = Q["list_executions"] if status is None else Q["list_executions_by_status"]
        rows = [_rows.execution(r) for r in self._read(query, params)]
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
        rows = [_rows.event(r) for r in self._read(Q[query], params)]
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
        try:
            with self._transaction(pipelined=True) as conn:
                return _apply_one(conn, request, notify=True)
        except AlreadyExists:
            # Two workers racing on one execution both append event N: the loser's insert
            # can fail before its version check is looked at. That is a Conflict.
            rows = self._read(Q["get_execution_version"], {"arn": execution.arn})
            _check_version(request, rows[0][0] if rows else None)
            raise

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        if not requests:
            return []
        results: list[Applied | StoreError] = []
        with self._transaction(pipelined=True) as conn:
            for request in requests:
                try:
                    # A nested transaction is a savepoint: a failing request undoes only
                    # its own writes and leaves the batch's transaction usable.
                    with conn.transaction():
                        results.append(_apply_one(conn, request, notify=False))
                except (Conflict, NotFound) as exc:
                    results.append(exc)
                except pg_errors.IntegrityError as exc:
                    row = conn.execute(
                        Q["get_execution_version"], {"arn": request.execution.arn}
                    ).fetchone()
                    try:
                        _check_version(request, row[0] if row else None)
                        results.append(_store_error(exc, self._where))
                    except StoreError as stale:
                        results.append(stale)
            if any(
                isinstance(r, Applied) and (q.new_work or q.activity_tasks)
                for r, q in zip(results, requests, strict=True)
            ):
                conn.execute(Q["notify_work"])  # wakes workers and GetActivityTask pollers
        return results

    # ------------------------------------------------------------------ invocations

    def list_invocations(self, execution_arn: str, limit: int, token: str | None
                         ) -> Page[InvocationRecord]:
        limit, params = _rows.invocation_listing(execution_arn, limit, token)
        rows = [_rows.invocation(r) for r in self._read(Q["list_invocations"], params)]
        return _rows.page(rows, limit, _rows.invocation_token)

    def get_invocation(self, invocation_id: int) -> InvocationRecord | None:
        rows = self._read(Q["get_invocation"], {"id": invocation_id})
        return _rows.invocation(rows[0]) if rows else None

    # ------------------------------------------------------------------ work

    def claim_work(
        self, owner: str, now: float, limit: int, lease_seconds: float
    ) -> list[WorkItem]:
        if limit < 1:
            return []
        params = {"owner": owner, "now": now, "limit": limit, "lease_until": now + lease_seconds}
        with self._transaction() as conn:
            rows = conn.execute(Q["claim_work"], params).fetchall()
        return sorted((_rows.work_item(r) for r in rows), key=lambda w: (w.due_at, w.id))

    def renew_leases(self, owner: str, ids: list[int], until: float) -> None:
        if not ids:
            return
        with self._transaction() as conn:
            conn.execute(Q["renew_leases"], {"owner": owner, "ids": ids, "lease_until": until})

    def release_work(self, owner: str, ids: list[int], due_at: float | None = None) -> None:
        if not ids:
            return
        with self._transaction() as conn:
            conn.execute(Q["release_work"], {"owner": owner, "ids": ids, "due_at": due_at})
            conn.execute(Q["notify_work"])

    def next_due(self) -> float | None:
        value = self._read(Q["next_due"])[0][0]
        return None if value is None else float(value)

    def wait_for_work(self, timeout: float) -> None:
        """Blocks on the LISTEN connection until a NOTIFY or ``timeout``. Notifications that
        arrived since the last wait are already queued there, so none is lost between a claim
        and the wait. Without a listener (it failed, or another thread holds it) this is a
        plain sleep: the caller's poll covers it."""
        deadline = time.monotonic() + max(0.0, timeout)
        if not self._listen_lock.acquire(timeout=max(0.0, timeout)):
            return
        try:
            listener = self._listener or self._open_listener()
            remaining = max(0.0, deadline - time.monotonic())
            if listener is None:
                self._stop.wait(remaining)
                return
            try:
                for _ in listener.notifies(timeout=remaining, stop_after=1):
                    break
                # Several commits may have notified; one wake-up serves them all.
                for _ in listener.notifies(timeout=0):
                    pass
            except psycopg.Error as exc:
                log.info("PostgreSQL listener lost (%s); polling until it reconnects", exc)
                self._drop_listener()
                self._stop.wait(max(0.0, deadline - time.monotonic()))
            if self._closed:
                self._drop_listener()
        finally:
            self._listen_lock.release()

    def _open_listener(self) -> Connection | None:
        if self._closed:
            return None
        try:
            conn = psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
            )
            conn.execute(Q["listen"])
        except psycopg.Error as exc:
            log.info("cannot LISTEN on PostgreSQL (%s); polling instead", exc)
            return None
        self._listener = conn
        return conn

    def _drop_listener(self) -> None:
        if self._listener is not None:
            with suppress(psycopg.Error):
                self._listener.close()
            self._listener = None

    # ------------------------------------------------------------------ activities

    def create_activity(self, record: ActivityRecord, tags: dict[str, str]) -> ActivityRecord:
        with self._transaction() as conn:
            if conn.execute(Q["insert_activity"], _rows.activity_params(record)).rowcount == 0:
                row = conn.execute(Q["get_activity"], {"arn": record.arn}).fetchone()
                assert row is not None  # ON CONFLICT fired on the ARN
                return _rows.activity(row)
            if tags:
                conn.cursor().executemany(Q["upsert_tag"], _tag_params(record.arn, tags))
        return record

    def get_activity(self, arn: str) -> ActivityRecord | None:
        rows = self._read(Q["get_activity"], {"arn": arn})
        return _rows.activity(rows[0]) if rows else None

    def list_activities(self, limit: int, token: str | None) -> Page[ActivityRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_SEQ
        if token is not None:
            after = _rows.decode_token(token, "activities", (int,))[0]
        rows = self._read(Q["list_activities"], {"after_seq": after, "limit": limit + 1})
        result = _rows.page(rows, limit, lambda r: _rows.encode_token("activities", r[4]))
        return Page([_rows.activity(r) for r in result.items], result.next_token)

    def delete_activity(self, arn: str) -> bool:
        with self._transaction() as conn:
            deleted = conn.execute(Q["delete_activity"], {"arn": arn}).rowcount > 0
            conn.execute(Q["delete_tags_of"], {"resource_arn": arn})
        return deleted

    def claim_activity_task(self, activity_arn: str) -> ActivityTaskRecord | None:
        params = {"activity_arn": activity_arn}
        if not self._read(Q["activity_task_queued"], params)[0][0]:
            return None
        with self._transaction() as conn:
            row = conn.execute(Q["claim_activity_task"], params).fetchone()
        return None if row is None else _rows.activity_task(row)

    # ------------------------------------------------------------------ functions

    def put_function(
        self, record: FunctionRecord, *, create: bool, expected_revision: str | None = None
    ) -> None:
        _rows.check_function(record, create)
        params = _rows.function_params(record, expected_revision)
        if create:
            try:
                with self._transaction() as conn:
                    conn.execute(Q["insert_function"], params)
            except AlreadyExists:
                raise AlreadyExists(f"function {record.name} already exists") from None
            return
        with self._transaction() as conn:
            if conn.execute(Q["update_function"], params).rowcount == 0:
                found = conn.execute(
                    Q["get_function_without_code"], {"name": record.name}
                ).fetchone()
                _rows.update_refused(record.name, None if found is None else found[13])

    def get_function(self, name: str, *, with_code: bool = True) -> FunctionRecord | None:
        query = Q["get_function"] if with_code else Q["get_function_without_code"]
        rows = self._read(query, {"name": name})
        return _rows.function(rows[0]) if rows else None

    def list_functions(self, limit: int, token: str | None) -> Page[FunctionRecord]:
        limit = _rows.check_limit(limit)
        after = _rows.FIRST_NAME
        if token is not None:
            after = _rows.decode_token(token, "functions", (str,))[0]
        rows = self._read(Q["list_functions"], {"after_name": after, "limit": limit + 1})
        return _rows.page(
            [_rows.function(r) for r in rows], limit,
            lambda f: _rows.encode_token("functions", f.name),
        )

    def delete_function(self, name: str) -> bool:
        with self._transaction() as conn:
            return bool(conn.execute(Q["delete_function"], {"name": name}).rowcount > 0)


# ---------------------------------------------------------------------- helpers

_DATE_ARN: tuple[type | tuple[type, ...], ...] = ((int, float), str)


def _execution_token(record: ExecutionRecord) -> str:
    return _rows.encode_token("executions", record.start_date, record.arn)


def _tag_params(resource_arn: str, tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"resource_arn": resource_arn, "key": k, "value": v} for k, v in tags.items()]


def _apply_one(conn: Connection, request: ApplyRequest, *, notify: bool) -> Applied:
    """The writes of one apply, inside the caller's pipelined transaction. All statements go
    out together; the version check is read after them, and a Conflict or NotFound raised
    then makes the caller roll back everything they wrote."""
    execution = request.execution
    with conn.pipeline() as pipeline:  # the caller's pipeline, entered once more to sync it
        update = conn.execute(
            Q["update_execution"], _rows.update_params(execution, request.expected_version)
        )
        if request.events:
            conn.cursor().executemany(
                Q["insert_event"], [_rows.event_params(e) for e in request.events]
            )
        inserts = [
            conn.execute(Q["insert_work"], _rows.work_params(item)) for item in request.new_work
        ]
        if request.done_work:
            conn.execute(
                Q["delete_work"], {"execution_arn": execution.arn, "ids": request.done_work}
            )
        if request.activity_tasks:
            conn.cursor().executemany(
                Q["insert_activity_task"],
                [_rows.activity_task_params(t) for t in request.activity_tasks],
            )
        if request.invocations:
            conn.cursor().executemany(
                Q["insert_invocation"], [_rows.invocation_params(i) for i in request.invocations]
            )
        if execution.status != "RUNNING":
            conn.execute(Q["delete_activity_tasks_of"], {"execution_arn": execution.arn})
        if notify and (request.new_work or request.activity_tasks):
            conn.execute(Q["notify_work"])
        pipeline.sync()
    if update.rowcount != 1:
        row = conn.execute(Q["get_execution_version"], {"arn": execution.arn}).fetchone()
        _check_version(request, row[0] if row else None)
        raise Conflict(f"execution {execution.arn} changed during the update")
    work_ids = []
    for cursor in inserts:
        row = cursor.fetchone()
        assert row is not None  # RETURNING always yields the new row
        work_ids.append(int(row[0]))
    return Applied(request.expected_version + 1, work_ids)


def _check_version(request: ApplyRequest, version: int | None) -> None:
    """Raises NotFound or Conflict unless the execution is at the expected version."""
    arn = request.execution.arn
    if version is None:
        raise NotFound(f"execution {arn} does not exist")
    if version != request.expected_version:
        raise Conflict(f"execution {arn} is at version {version}, not {request.expected_version}")


def _describe(url: str) -> str:
    """``host:port/dbname`` for messages; never the password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable URL)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


def _store_error(exc: psycopg.Error, where: str) -> StoreError:
    """A driver error as a StoreError that says what happened and where."""
    text = str(exc).strip()
    if isinstance(exc, PoolClosed):
        return StoreError("the store is closed")
    if isinstance(exc, PoolTimeout):
        return StoreError(
            f"no PostgreSQL connection to {where} became available: is the server up? ({text})"
        )
    if isinstance(exc, pg_errors.UniqueViolation):
        return AlreadyExists(f"already exists ({text})")
    if isinstance(exc, pg_errors.DiskFull) or (exc.sqlstate or "").startswith("53"):
        return StoreError(f"database or disk is full ({where}: {text})")
    if isinstance(exc, pg_errors.UndefinedTable):
        return StoreError(
            f"{where} has no statewright schema, or an older one: run `statewright db migrate`"
        )
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(f"lost the connection to PostgreSQL at {where}: {text}")
    return StoreError(f"PostgreSQL error at {where}: {text}")
