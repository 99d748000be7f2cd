"""The scale-out store: PostgreSQL through psycopg 3 and a connection pool.

Any number of API nodes and workers share one database. Connections run in autocommit, so a
read is one round trip; writes open an explicit transaction. The pool checks a connection
before handing it out without a round trip (``_check_idle``: an idle connection has nothing to
read unless the server closed it), so after a server restart stale connections are replaced
rather than failing a request, and an idempotent read is retried once if its connection dies
mid-query.
Writes are not retried: a lost COMMIT reply leaves it unknown whether they happened, and the
optimistic version check would turn a blind retry into a false Conflict.

Workers claim with ``FOR UPDATE SKIP LOCKED`` and sleep on ``LISTEN statewright_work``; every
write that adds work sends ``NOTIFY`` inside its transaction, delivered at commit.
"""

from __future__ import annotations

import logging
import select
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from statewright.store import _rows
from statewright.store._rows import NamedRow
from statewright.store._sql import SqlStore, tag_params
from statewright.store.base import (
    AlreadyExists,
    StateMachineRecord,
    StoreBusy,
    StoreError,
)
from statewright.store.migrate import load_migrations, pending
from statewright.store.queries import load_queries

Q = load_queries("postgres")
log = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple[Any, ...]]


class PostgresStore(SqlStore):
    """A ``Store`` over a PostgreSQL database; safe to share between threads."""

    _q = Q
    group_commit = True

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 1,
        max_connections: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        """Connects to ``url`` (a libpq URL or conninfo string, with statewright's own
        ``pooler`` and ``listen_url`` query parameters: see ``PoolerOptions``); raises
        StoreError with the server's reason when it cannot."""
        self.url = url
        dsn, self.options = PoolerOptions.parse(url)
        self._where = _describe(dsn)
        self._connect_timeout = connect_timeout
        # Behind a transaction pooler consecutive statements may run on different server
        # sessions, so none may rely on one: no server-side prepared statements.
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": _named_rows}
        if self.options.pooler == "transaction":
            kwargs["prepare_threshold"] = None
        # One plain connection first: a wrong URL, password or a down server fails here with
        # libpq's own reason, which the pool would reduce to a timeout.
        try:
            psycopg.connect(dsn, connect_timeout=max(1, round(connect_timeout))).close()
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self._where}: {str(exc).strip()}"
            ) from None
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            dsn,
            min_size=min_connections,
            max_size=max_connections,
            kwargs=kwargs,
            check=_check_idle,
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
    def _transaction(self) -> Iterator[Connection]:
        """One write transaction; rolled back on any exception, never retried."""
        self._check_open()
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise _store_error(exc, self._where) from exc

    @contextmanager
    def _pipelined_transaction(self) -> Iterator[_Pipelined]:
        """One write transaction whose statements, BEGIN and COMMIT included, are sent
        without waiting for replies: they go out at the next ``sync`` or with the COMMIT, so
        a transaction that reads nothing in between is one round trip. BEGIN and COMMIT are
        plain statements here: psycopg's ``transaction()`` in a pipeline syncs on entry and
        before the COMMIT, a round trip each. Rolled back on any exception, never retried."""
        self._check_open()
        try:
            with self._pool.connection() as conn, conn.pipeline() as pipeline:
                conn.execute(Q["begin"])
                try:
                    yield _Pipelined(conn, pipeline)
                except BaseException:
                    # Out of an aborted pipeline first (what failed was already raised),
                    # then the rollback, which the pipeline's exit sends.
                    with suppress(psycopg.Error):
                        pipeline.sync()
                    conn.execute(Q["rollback"])
                    raise
                conn.execute(Q["commit"])
        except psycopg.Error as exc:
            raise _store_error(exc, self._where) from exc

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._transaction()

    def _write_returning(self, query: str, params: Mapping[str, Any]) -> list[Any]:
        # In autocommit one statement is a transaction of its own: one round trip, where
        # BEGIN and COMMIT would add two.
        self._check_open()
        try:
            with self._pool.connection() as conn:
                return conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise _store_error(exc, self._where) from exc

    def _executemany(
        self, conn: Any, query: str, params: Sequence[Mapping[str, Any]]
    ) -> None:
        if params:
            conn.cursor().executemany(query, params)

    def _ids(self, ids: list[int]) -> list[int]:
        return ids

    def _insert(self, query: str, params: Mapping[str, Any], duplicate: str) -> None:
        try:
            with self._transaction() as conn:
                conn.execute(query, params)
        except AlreadyExists:
            raise AlreadyExists(duplicate) from None

    def _notify(self, conn: Any) -> None:
        conn.execute(Q["notify_work"])

    def _execution_date(self, value: Any) -> float:
        return float(value)

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
                    conn.cursor().executemany(Q["upsert_tag"], tag_params(record.arn, tags))
        except AlreadyExists:
            raise AlreadyExists(f"state machine {record.arn} already exists") from None

    # ------------------------------------------------------------------ tags

    def set_tags(self, resource_arn: str, add: dict[str, str], remove: list[str]) -> None:
        if add or remove:
            super().set_tags(resource_arn, add, remove)

    # ------------------------------------------------------------------ apply

    def _batch(self) -> AbstractContextManager[_Pipelined]:
        return self._pipelined_transaction()

    @contextmanager
    def _savepoint(self, conn: Any) -> Iterator[None]:
        # A failing request undoes only its own writes and leaves the batch usable. Plain
        # statements, pipelined like the rest (see _pipelined_transaction).
        conn.execute(Q["savepoint"])
        try:
            yield
        except BaseException:
            with suppress(psycopg.Error):
                conn.sync()  # out of an aborted pipeline
            conn.execute(Q["rollback_to_savepoint"])
            raise
        conn.execute(Q["release_savepoint"])

    @contextmanager
    def _pipeline(self, conn: Any) -> Iterator[None]:
        # The batch's statements so far go out together; results are read after the sync.
        yield
        conn.sync()

    _pipelined = True
    _integrity_error = pg_errors.IntegrityError

    def _driver_error(self, exc: Exception) -> StoreError:
        assert isinstance(exc, psycopg.Error)
        return _store_error(exc, self._where)

    # ------------------------------------------------------------------ work

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
        if self._closed or self.options.listen_dsn is None:
            return None  # behind a transaction pooler with no direct URL: polling
        try:
            conn = psycopg.connect(
                self.options.listen_dsn, autocommit=True,
                connect_timeout=max(1, round(self._connect_timeout)),
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

# ---------------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class PoolerOptions:
    """How to reach the database through a connection pooler such as PgBouncer, given as
    statewright's own query parameters of the URL (removed before libpq sees it):

    - ``pooler=transaction``: the URL leads to a pooler in transaction mode (PgBouncer's
      ``pool_mode = transaction``), where each transaction may run on a different server
      session. Nothing then relies on session state: no server-side prepared statements
      (psycopg's ``prepare_threshold=None``), transactions are all-or-nothing pipelines, and
      LISTEN, which needs a session that lasts, goes to ``listen_url``.
    - ``listen_url=URL`` (percent-encoded): a direct connection to the server for LISTEN, so
      workers wake on a NOTIFY at once. Without it behind a transaction pooler, a worker
      polls: new work is seen within its poll interval (1 s) instead.
    - ``pooler=none`` (the default): a direct connection or a session-mode pooler.
    """

    pooler: str = "none"
    listen_dsn: str | None = None

    KEYS: ClassVar[frozenset[str]] = frozenset({"pooler", "listen_url"})
    POOLERS: ClassVar[tuple[str, ...]] = ("none", "transaction")

    @classmethod
    def parse(cls, url: str) -> tuple[str, PoolerOptions]:
        """The libpq URL without statewright's parameters, and those parameters."""
        parts = urllib.parse.urlsplit(url)
        if "://" not in url or not parts.query:
            return url, cls(listen_dsn=url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ours = {key: value for key, value in query if key in cls.KEYS}
        if not ours:
            return url, cls(listen_dsn=url)
        dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(
            [(key, value) for key, value in query if key not in cls.KEYS])))
        pooler = ours.get("pooler", "none")
        if pooler not in cls.POOLERS:
            raise StoreError(f"pooler={pooler!r} in the PostgreSQL URL: use "
                             + " or ".join(f"pooler={p}" for p in cls.POOLERS))
        listen = ours.get("listen_url") or None
        if listen is not None and not listen.startswith(("postgresql://", "postgres://")):
            raise StoreError("listen_url in the PostgreSQL URL must be a postgresql:// URL "
                             "(percent-encoded), of a direct connection to the server")
        if listen is None and pooler == "none":
            listen = dsn
        return dsn, cls(pooler, listen)


class _Pipelined:
    """A connection inside ``_pipelined_transaction``: ``execute`` queues a statement,
    ``sync`` sends what is queued and waits for every reply (and raises the first error)."""

    __slots__ = ("_conn", "_pipeline")

    def __init__(self, conn: Connection, pipeline: psycopg.Pipeline) -> None:
        self._conn = conn
        self._pipeline = pipeline

    def execute(self, query: str, params: Mapping[str, Any] | None = None
                ) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._conn.execute(query, params)

    def cursor(self) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._conn.cursor()

    def sync(self) -> None:
        self._pipeline.sync()

def _describe(url: str) -> str:
    """``host:port/dbname`` for messages; never the password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable URL)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


#: Lock and serialization failures: the server is up, asking again may succeed.
_BUSY_STATES = frozenset({"40001", "40P01", "55P03", "57014"})


def _check_idle(conn: Connection) -> None:
    """The pool's check on checkout, without a round trip. An idle connection in autocommit
    has nothing to read: the server only writes to it unprompted to say it is closing it
    (a restart, ``pg_terminate_backend``, an idle timeout), followed by end of file. So
    only a readable socket costs the full check (an empty query), which raises on a dead
    connection and makes the pool hand out another. A connection that died silently (no
    FIN, e.g. a cut network) still fails on first use: reads retry once, writes do not."""
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


def _named_rows(cursor: Any) -> Callable[[Sequence[Any]], NamedRow]:
    """psycopg's row factory for ``NamedRow``: columns by name as well as by position."""
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: NamedRow(values, index)


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
    if (exc.sqlstate or "") in _BUSY_STATES:
        return StoreBusy(f"PostgreSQL is busy at {where}: {text}")
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(f"lost the connection to PostgreSQL at {where}: {text}")
    return StoreError(f"PostgreSQL error at {where}: {text}")
