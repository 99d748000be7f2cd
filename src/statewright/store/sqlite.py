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
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from statewright.store import _rows
from statewright.store._sql import SqlStore, tag_params
from statewright.store.base import (
    AlreadyExists,
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

    def _savepoint(self, conn: Any) -> AbstractContextManager[None]:
        return _savepoint(conn)

    _integrity_error = sqlite3.IntegrityError

    def _driver_error(self, exc: Exception) -> StoreError:
        assert isinstance(exc, sqlite3.Error)
        return _store_error(exc, self.path)

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

@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    """A savepoint inside the batch's transaction: one request's failure undoes only its own
    writes."""
    conn.execute(Q["savepoint"])
    try:
        yield
    except BaseException:
        # After some failures (a full disk) SQLite has already rolled the whole transaction
        # back and the savepoint is gone: the original error is the one to raise.
        with suppress(sqlite3.Error):
            conn.execute(Q["rollback_to_savepoint"])
            conn.execute(Q["release_savepoint"])
        raise
    conn.execute(Q["release_savepoint"])


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
