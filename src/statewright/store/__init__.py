"""Persistence: the Store contract and its SQLite and PostgreSQL implementations.

``open_store(url)`` picks the backend from a database URL; the runtime itself only ever sees
the ``Store`` protocol in ``base.py``.
"""

from __future__ import annotations

from pathlib import Path

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
    InvalidToken,
    InvocationRecord,
    NotFound,
    Page,
    StateMachineRecord,
    Store,
    StoreBusy,
    StoreError,
    WorkItem,
)
from statewright.store.sqlite import SqliteStore, default_path

__all__ = [
    "ActivityRecord",
    "ActivityTaskRecord",
    "AlreadyExists",
    "Applied",
    "ApplyRequest",
    "Conflict",
    "EventRecord",
    "ExecutionRecord",
    "FunctionRecord",
    "InvalidToken",
    "InvocationRecord",
    "NotFound",
    "Page",
    "SqliteStore",
    "StateMachineRecord",
    "Store",
    "StoreBusy",
    "StoreError",
    "WorkItem",
    "default_path",
    "open_store",
]


def open_store(url: str | None = None) -> Store:
    """The store for ``url``:

    - empty or None: the SQLite file at ``default_path()`` (its folder is created);
    - ``sqlite:///PATH`` or a plain path: that SQLite file (``sqlite:////abs/path`` is
      absolute, ``sqlite:///rel/path`` relative, as SQLAlchemy spells them);
    - ``postgresql://...`` or ``postgres://...``: a PostgreSQL server (libpq URL).

    The schema is not migrated here: call ``migrate()``. Raises StoreError when the database
    cannot be opened.
    """
    if not url:
        path = default_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data folder {path.parent}: {exc}") from exc
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        # Imported here so SQLite users never load the PostgreSQL driver.
        from statewright.store.postgres import PostgresStore

        return PostgresStore(url)
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise StoreError(f"a SQLite URL is sqlite:///PATH, not {url!r}")
        return SqliteStore(Path(url.removeprefix("sqlite:///")).expanduser())
    if "://" in url:
        raise StoreError(
            f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://..."
        )
    return SqliteStore(Path(url).expanduser())
