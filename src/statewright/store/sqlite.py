"""The embedded store: one SQLite file in WAL mode (stdlib ``sqlite3``).

Concurrency model: one writer connection behind a lock, where every write transaction starts
with ``BEGIN IMMEDIATE`` (so writers in other processes queue on ``busy_timeout`` instead of
failing halfway), and a small pool of read-only connections that WAL lets run beside the
writer. ``synchronous=NORMAL``: a commit needs no fsync, which is what makes a step cheap; a
power cut may lose the last commits but never corrupts the file.

Every driver error becomes a ``StoreError`` with a message that names the file and the fix.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from statewright.store import _rows
from statewright.store._sql import SqlStore, tag_params
from statewright.store.base import (
    AlreadyExists,
    Applied,
    ApplyRequest,
    Conflict,
    NotFound,
    StateMachineRecord,
    StoreBusy,
    StoreError,
)
from statewright.store.migrate import load_migrations, pending
from statewright.store.queries import load_queries

Q = load_queries("sqlite")

#: RETURNING (3.35) and json_each are needed; older libraries fail with a clear message.
MIN_SQLITE = (3, 35, 0)

_PRAGMA_NAME = re.compile(r"^[a-z_]+$")


class SqliteStore(SqlStore):
    """A ``Store`` over one SQLite file; safe to share between threads."""

    _q = Q
    group_commit = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        pragmas: Mapping[str, int | str] | None = None,
    ) -> None:
        """Opens (creating if needed) the database at ``path``. ``busy_timeout``: seconds a
        write waits for another process's write lock. ``pragmas``: extra per-connection
        settings, e.g. ``{"cache_size": -65536}``."""
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old; statewright needs 3.35 or newer"
            )
        self.path = str(path)
        if self.path == ":memory:" or self.path.startswith("file:"):
            raise StoreError("the SQLite store needs a file path (WAL cannot share :memory:)")
        self._busy_timeout = busy_timeout
        self._pragmas = _pragma_script(pragmas or {})
        self._closed = False
        self._write_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._work_added = threading.Condition()
        self._work_seq = 0
        self._seen = threading.local()
        self._writer = self._connect(reader=False)

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    # ------------------------------------------------------------------ connections

    def _connect(self, *, reader: bool) -> sqlite3.Connection:
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, not the module.
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        conn.row_factory = sqlite3.Row  # columns by name (and position); see _rows.py
        try:
            if not reader:
                mode = conn.execute(Q["enable_wal"]).fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(
                        f"cannot use WAL mode on {self.path} (got {mode!r}); "
                        "put the database on a local file system"
                    )
            conn.executescript(Q["configure_connection"] + self._pragmas)
            if reader:
                conn.executescript(Q["configure_reader"])
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _store_error(exc, self.path) from exc
            raise
        return conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the writer connection; rolled back on any exception."""
        with self._write_lock:
            if self._closed:
                raise StoreError("the store is closed")
            conn = self._writer
            try:
                conn.execute(Q["begin_write"])
                yield conn
                conn.execute(Q["commit"])
            except BaseException as exc:
                # SQLite rolls some errors back itself (SQLITE_FULL); then there is no
                # transaction left to end.
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute(Q["rollback"])
                if isinstance(exc, sqlite3.Error):
                    raise _store_error(exc, self.path) from exc
                raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool; each statement reads one snapshot."""
        with self._readers_lock:
            if self._closed:
                raise StoreError("the store is closed")
            conn = self._readers.pop() if self._readers else None
        if conn is None:
            conn = self._connect(reader=True)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        finally:
            with self._readers_lock:
                if self._closed:
                    conn.close()
                else:
                    self._readers.append(conn)

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        with self._reading() as conn:
            return conn.execute(query, params or {}).fetchall()

    def _executemany(
        self, conn: Any, query: str, params: Sequence[Mapping[str, Any]]
    ) -> None:
        conn.executemany(query, params)

    def _ids(self, ids: list[int]) -> str:
        return json.dumps(ids)

    def _insert(self, query: str, params: Mapping[str, Any], duplicate: str) -> None:
        with self._writing() as conn:
            try:
                conn.execute(query, params)
            except sqlite3.IntegrityError:
                raise AlreadyExists(duplicate) from None

    def close(self) -> None:
        with self._write_lock, self._readers_lock:
            if self._closed:
                return
            self._closed = True
            for conn in [self._writer, *self._readers]:
                with suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        with self._work_added:
            self._work_added.notify_all()

    # ------------------------------------------------------------------ schema

    def migrate(self) -> int:
        migrations = load_migrations("sqlite")
        with self._writing() as conn:
            conn.execute(Q["create_migrations_table"])
        for migration in migrations:
            # Each version in its own transaction, re-checked under the write lock, so two
            # processes migrating at once apply it once.
            with self._writing() as conn:
                applied = [row[0] for row in conn.execute(Q["applied_migrations"])]
                if migration not in pending(migrations, applied):
                    continue
                for statement in split_script(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    Q["record_migration"], {"version": migration.version, "applied_at": time.time()}
                )
        return max((m.version for m in migrations), default=0)

    # ------------------------------------------------------------------ state machines

    def create_state_machine(self, record: StateMachineRecord, tags: dict[str, str]) -> None:
        with self._writing() as conn:
            try:
                conn.execute(Q["insert_state_machine"], _rows.state_machine_params(record))
            except sqlite3.IntegrityError:
                raise AlreadyExists(f"state machine {record.arn} already exists") from None
            conn.execute(Q["save_revision"], {"arn": record.arn})
            conn.executemany(Q["upsert_tag"], tag_params(record.arn, tags))

    # ------------------------------------------------------------------ apply

    def _apply(self, request: ApplyRequest) -> Applied:
        with self._writing() as conn:
            applied = _apply_one(conn, request)
        if request.new_work or request.activity_tasks:
            self._signal_work()
        return applied

    def apply_many(self, requests: list[ApplyRequest]) -> list[Applied | StoreError]:
        if not requests:
            return []
        results: list[Applied | StoreError] = []
        with self._writing() as conn:
            for request in requests:
                # A savepoint per request: one request's failure undoes only its own writes.
                conn.execute(Q["savepoint"])
                try:
                    results.append(_apply_one(conn, request))
                except (Conflict, NotFound, sqlite3.IntegrityError) as exc:
                    conn.execute(Q["rollback_to_savepoint"])
                    results.append(
                        exc if isinstance(exc, StoreError) else _store_error(exc, self.path)
                    )
                conn.execute(Q["release_savepoint"])
        if any(
            isinstance(r, Applied) and (q.new_work or q.activity_tasks)
            for r, q in zip(results, requests, strict=True)
        ):
            self._signal_work()  # wakes workers and GetActivityTask pollers alike
        return results

    # ------------------------------------------------------------------ work

    def wait_for_work(self, timeout: float) -> None:
        """Wakes on work added through this store object (other processes' writes are seen
        at the timeout: the worker's poll). Work signalled since this thread last returned
        from here counts, so a signal between a claim and the wait is not lost."""
        with self._work_added:
            seen = getattr(self._seen, "seq", 0)
            self._work_added.wait_for(
                lambda: self._work_seq != seen or self._closed, max(0.0, timeout)
            )
            self._seen.seq = self._work_seq

    def _signal_work(self) -> None:
        with self._work_added:
            self._work_seq += 1
            self._work_added.notify_all()

# ---------------------------------------------------------------------- helpers

def _apply_one(conn: sqlite3.Connection, request: ApplyRequest) -> Applied:
    """The writes of one apply, inside the caller's transaction. The version check comes
    first, so a Conflict or NotFound has written nothing."""
    execution = request.execution
    params = _rows.update_params(execution, request.expected_version)
    if conn.execute(Q["update_execution"], params).rowcount != 1:
        row = conn.execute(Q["get_execution_version"], {"arn": execution.arn}).fetchone()
        if row is None:
            raise NotFound(f"execution {execution.arn} does not exist")
        raise Conflict(
            f"execution {execution.arn} is at version {row[0]}, not {request.expected_version}"
        )
    if request.events:
        conn.executemany(Q["insert_event"], [_rows.event_params(e) for e in request.events])
    work_ids = [
        conn.execute(Q["insert_work"], _rows.work_params(w)).fetchone()[0] for w in request.new_work
    ]
    if request.done_work:
        conn.execute(
            Q["delete_work"], {"execution_arn": execution.arn, "ids": json.dumps(request.done_work)}
        )
    if request.activity_tasks:
        conn.executemany(
            Q["insert_activity_task"],
            [_rows.activity_task_params(t) for t in request.activity_tasks],
        )
    if request.invocations:
        conn.executemany(
            Q["insert_invocation"], [_rows.invocation_params(i) for i in request.invocations]
        )
    if execution.status != "RUNNING":
        conn.execute(Q["delete_activity_tasks_of"], {"execution_arn": execution.arn})
    return Applied(request.expected_version + 1, work_ids)


def split_script(script: str) -> list[str]:
    """A multi-statement script as single statements (``execute`` takes one at a time and
    ``executescript`` would commit our transaction); comment-only tails are dropped."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if any(ln.strip() and not ln.strip().startswith("--") for ln in buffer.splitlines()):
        raise ValueError(f"incomplete SQL statement at the end of a script: {buffer.strip()!r}")
    return statements


def _pragma_script(pragmas: Mapping[str, int | str]) -> str:
    """Extra PRAGMAs as a script. PRAGMA takes no bound parameters, so names and values are
    checked instead: a name is an identifier, a value an int or a bare word."""
    lines = []
    for name, value in pragmas.items():
        if not _PRAGMA_NAME.match(name) or not re.match(r"^-?\w+$", str(value)):
            raise ValueError(f"bad SQLite pragma {name}={value!r}")
        lines.append(f"PRAGMA {name} = {value};")
    return "\n".join(lines)


def _store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """A driver error as a StoreError that says what happened and to which file."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreError(f"database or disk is full ({path})")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusy(
            f"database is locked: another connection held the write lock "
            f"longer than the busy timeout ({path})"
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError(f"{path} is not a SQLite database, or it is corrupt ({text})")
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StoreError(
            f"cannot open the database file {path}: does its directory exist and is it writable?"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return StoreError(f"the database {path} is read-only ({text})")
    if primary == sqlite3.SQLITE_IOERR:
        return StoreError(f"disk I/O error on {path} ({text})")
    if code in (sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
        return AlreadyExists(f"already exists ({text})")
    if "no such table" in text:
        return StoreError(
            f"{path} has no statewright schema, or an older one: run `statewright db migrate`"
        )
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in text:
        return StoreError("the store is closed")
    return StoreError(f"SQLite error on {path}: {text}")


def default_path() -> Path:
    """``$STATEWRIGHT_HOME/statewright.db``; the home defaults to the XDG data folder
    (``~/.local/share/statewright``)."""
    home = os.environ.get("STATEWRIGHT_HOME")
    if not home:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
        home = os.path.join(data, "statewright")
    return Path(home).expanduser() / "statewright.db"
