"""What the SQL backends share: rows to records, records to parameters, page tokens.

Rows are read by column name (``sqlite3.Row`` on SQLite, ``NamedRow`` on PostgreSQL): a query's
columns carry the names of the record fields in ``base.py``, in any order, so adding a column
to a table or a query never shifts another.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, NoReturn, Protocol, TypeVar

from statewright.store.base import (
    MAX_INVOCATION_LOG_BYTES,
    ActivityRecord,
    ActivityTaskRecord,
    Conflict,
    EventRecord,
    ExecutionRecord,
    FunctionRecord,
    InvalidToken,
    InvocationRecord,
    NotFound,
    Page,
    StateMachineRecord,
    WorkItem,
)

T = TypeVar("T")


class Row(Protocol):
    """A result row: its columns by name (and by position)."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class NamedRow(tuple[Any, ...]):
    """A row of PostgreSQL (psycopg's rows are plain tuples): a tuple that also answers its
    columns by name, as ``sqlite3.Row`` does."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> NamedRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

#: First-page keys: every real key sorts after (or before, descending) these.
FIRST_SEQ = 0
NEWEST = (math.inf, "")
FIRST_EVENT = 0
LAST_EVENT = 2**62
FIRST_NAME = ""


def _record(cls: type[T], row: Row, **converted: Any) -> T:
    """The record ``cls`` from the row's columns of the same names as its fields; ``converted``
    overrides the columns a driver hands back in another type than the record promises."""
    return cls(**{f.name: converted[f.name] if f.name in converted else row[f.name]
                  for f in fields(cls)})  # type: ignore[arg-type]


def _seconds(value: Any) -> float:
    return float(value)


def _maybe_seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def state_machine(row: Row) -> StateMachineRecord:
    return _record(StateMachineRecord, row)


def execution(row: Row) -> ExecutionRecord:
    return _record(ExecutionRecord, row)


def event(row: Row) -> EventRecord:
    return _record(EventRecord, row)


def work_item(row: Row) -> WorkItem:
    # SQLite's RETURNING hands back REAL columns holding whole numbers as ints; the record
    # promises floats.
    return _record(WorkItem, row, due_at=_seconds(row["due_at"]),
                   lease_until=_maybe_seconds(row["lease_until"]))


def function(row: Row) -> FunctionRecord:
    # psycopg may hand bytea back as a memoryview; the record promises bytes.
    code = row["code"]
    return _record(FunctionRecord, row, code=None if code is None else bytes(code),
                   created_at=_seconds(row["created_at"]),
                   last_modified=_seconds(row["last_modified"]))


def activity(row: Row) -> ActivityRecord:
    return _record(ActivityRecord, row, created_at=_seconds(row["created_at"]))


def activity_task(row: Row) -> ActivityTaskRecord:
    return _record(ActivityTaskRecord, row, created_at=_seconds(row["created_at"]))


def invocation(row: Row) -> InvocationRecord:
    return _record(InvocationRecord, row, id=int(row["id"]),
                   started_at=_seconds(row["started_at"]),
                   duration_ms=_seconds(row["duration_ms"]))


def invocation_params(record: InvocationRecord) -> dict[str, Any]:
    """The row of an invocation. Its texts come from user code (what it printed, the error
    type it raised), so they are made storable: a step must never fail on them."""
    return {
        "execution_arn": record.execution_arn,
        "event_id": record.event_id,
        "scheduled_event_id": record.scheduled_event_id,
        "state_name": storable(record.state_name),
        "function_name": storable(record.function_name),
        "request_id": storable(record.request_id),
        "started_at": record.started_at,
        "duration_ms": record.duration_ms,
        "status": record.status,
        "error_type": None if record.error_type is None else storable(record.error_type),
        "logs": capped_log(record.logs),
    }


def invocation_listing(execution_arn: str, limit: int, token: str | None
                       ) -> tuple[int, dict[str, Any]]:
    """The page size and query parameters of ``list_invocations``."""
    limit = check_limit(limit)
    after = FIRST_SEQ if token is None else decode_token(token, "invocations", (int,))[0]
    return limit, {"execution_arn": execution_arn, "after_id": after, "limit": limit + 1}


def invocation_token(record: InvocationRecord) -> str:
    return encode_token("invocations", record.id)


def storable(text: str) -> str:
    """``text`` as both databases take it: PostgreSQL refuses NUL characters and both drivers
    refuse lone surrogates, which a handler may print; they become replacement characters."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def capped_log(text: str) -> str:
    """A storable log of at most ``MAX_INVOCATION_LOG_BYTES``: the tail, where errors are,
    behind a line saying how much was left out."""
    data = storable(text).encode("utf-8")
    if len(data) <= MAX_INVOCATION_LOG_BYTES:
        return data.decode("utf-8")
    # Room for the notice; "ignore" drops a character the cut split in two.
    tail = data[len(data) - MAX_INVOCATION_LOG_BYTES + 64:].decode("utf-8", "ignore")
    return f"[{len(data) - len(tail.encode('utf-8'))} bytes of log left out]\n{tail}"


def activity_params(record: ActivityRecord) -> dict[str, Any]:
    return {"arn": record.arn, "name": record.name, "created_at": record.created_at,
            "config": record.config}


def activity_task_params(record: ActivityTaskRecord) -> dict[str, Any]:
    return {
        "token": record.token,
        "activity_arn": record.activity_arn,
        "execution_arn": record.execution_arn,
        "input": record.input,
        "created_at": record.created_at,
    }


def state_machine_params(record: StateMachineRecord) -> dict[str, Any]:
    return {
        "arn": record.arn,
        "name": record.name,
        "type": record.type,
        "definition": record.definition,
        "role_arn": record.role_arn,
        "revision_id": record.revision_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "config": record.config,
    }


def function_params(record: FunctionRecord, expected_revision: str | None = None
                    ) -> dict[str, Any]:
    return {
        "name": record.name,
        "runtime": record.runtime,
        "handler": record.handler,
        "code": record.code,
        "code_sha256": record.code_sha256,
        "code_size": record.code_size,
        "timeout": record.timeout,
        "memory_size": record.memory_size,
        "environment": record.environment,
        "role": record.role,
        "description": record.description,
        "created_at": record.created_at,
        "last_modified": record.last_modified,
        "revision_id": record.revision_id,
        "expected_revision": expected_revision,
    }


def check_function(record: FunctionRecord, create: bool) -> None:
    """A new function needs its package; only an update may keep the stored one."""
    if create and record.code is None:
        raise ValueError(f"function {record.name}: a new function needs its code")


def update_refused(name: str, current_revision: str | None) -> NoReturn:
    """Why a function update changed no row: it does not exist, or it changed meanwhile."""
    if current_revision is None:
        raise NotFound(f"function {name} does not exist")
    raise Conflict(f"function {name} is at revision {current_revision}")


def execution_params(record: ExecutionRecord) -> dict[str, Any]:
    return {
        "arn": record.arn,
        "state_machine_arn": record.state_machine_arn,
        "revision_id": record.revision_id,
        "name": record.name,
        "status": record.status,
        "input": record.input,
        "start_date": record.start_date,
        "version": record.version,
        "cursor": record.cursor,
        "output": record.output,
        "error": record.error,
        "cause": record.cause,
        "stop_date": record.stop_date,
    }


def update_params(record: ExecutionRecord, expected_version: int) -> dict[str, Any]:
    """The mutable part of an execution, for ``apply``."""
    return {
        "arn": record.arn,
        "expected_version": expected_version,
        "status": record.status,
        "cursor": record.cursor,
        "output": record.output,
        "error": record.error,
        "cause": record.cause,
        "stop_date": record.stop_date,
    }


def event_params(record: EventRecord) -> dict[str, Any]:
    return {
        "execution_arn": record.execution_arn,
        "id": record.id,
        "previous_event_id": record.previous_event_id,
        "timestamp": record.timestamp,
        "type": record.type,
        "details": record.details,
    }


def work_params(item: WorkItem) -> dict[str, Any]:
    return {
        "execution_arn": item.execution_arn,
        "kind": item.kind,
        "due_at": item.due_at,
        "payload": item.payload,
        "lease_owner": item.lease_owner,
        "lease_until": item.lease_until,
        "attempts": item.attempts,
    }


# ------------------------------------------------------------------------------ pages


def encode_token(kind: str, *key: Any) -> str:
    """An opaque token: the listing's kind and the last key returned, as base64 JSON. JSON
    keeps floats exact (``repr`` round-trips), so keyset paging never skips a tie."""
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: str, types: tuple[type | tuple[type, ...], ...]) -> list[Any]:
    """The key in ``token``; raises InvalidToken unless it was made for ``kind``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidToken(f"invalid pagination token {token[:40]!r}") from None
    if (
        not isinstance(value, list)
        or len(value) != len(types) + 1
        or value[0] != kind
        or not all(isinstance(v, t) for v, t in zip(value[1:], types, strict=True))
    ):
        raise InvalidToken(f"pagination token {token[:40]!r} is not for this listing")
    return value[1:]


def page(rows: list[T], limit: int, token_of: Callable[[T], str]) -> Page[T]:
    """A page from ``limit + 1`` fetched rows: the extra row only says that more follow, so
    the last page carries no token."""
    if len(rows) > limit:
        return Page(rows[:limit], token_of(rows[limit - 1]))
    return Page(rows, None)


DEFAULT_PAGE_SIZE = 100


def check_limit(limit: int) -> int:
    """The page size: as AWS reads ``maxResults``, 0 (or less) means the default, 100."""
    return limit if limit >= 1 else DEFAULT_PAGE_SIZE
