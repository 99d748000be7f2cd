"""Named SQL queries, loaded from ``sql/<dialect>/queries.sql``.

A query file is a series of blocks, each opened by a line ``-- name: NAME`` and running to the
next such line. Comments and blank lines inside a block are kept (SQLite and PostgreSQL ignore
them); text before the first name line is the file's header. Keeping SQL in files, one per
dialect, lets a reader compare the two backends query by query and keeps Python free of SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources

DIALECTS = ("sqlite", "postgres")
"""The SQL dialects with a folder under ``sql/``."""

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*$")


class Queries(Mapping[str, str]):
    """A dialect's named queries; a missing name raises a KeyError that says where to add it."""

    def __init__(self, dialect: str, queries: dict[str, str]) -> None:
        self.dialect = dialect
        self._queries = queries

    def __getitem__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query {name!r} in sql/{self.dialect}/queries.sql") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def parse_queries(text: str, source: str = "<queries>") -> dict[str, str]:
    """Splits a query file into ``{name: sql}``; raises ValueError on a duplicate or empty
    block, so a broken file fails at load time rather than at first use."""
    queries: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []

    def finish() -> None:
        if name is None:
            return
        sql = "\n".join(lines).strip()
        if not sql:
            raise ValueError(f"{source}: query {name!r} is empty")
        queries[name] = sql

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match is None:
            lines.append(line)
            continue
        finish()
        name = match["name"]
        if name in queries:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        lines = []
    finish()
    return queries


def sql_text(dialect: str, *parts: str) -> str:
    """The text of a file under ``sql/<dialect>/`` (e.g. ``"schema.sql"``)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    node = resources.files("statewright.store").joinpath("sql", dialect, *parts)
    return node.read_text(encoding="utf-8")


@cache
def load_queries(dialect: str) -> Queries:
    """The named queries of ``dialect``, parsed once per process."""
    path = f"sql/{dialect}/queries.sql"
    return Queries(dialect, parse_queries(sql_text(dialect, "queries.sql"), path))
