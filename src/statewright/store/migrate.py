"""Schema migrations: numbered ``.sql`` files under ``sql/<dialect>/migrations/``.

A migration is ``NNNN_description.sql``; versions start at 1 and have no gaps. Applied versions
are rows of ``schema_migrations(version, applied_at)``. Each backend runs every pending
migration in its own transaction together with its ``schema_migrations`` row, so a failed
migration leaves the previous version intact. ``schema.sql`` beside the migrations is the
schema they add up to, for readers; a test checks the two agree.

This module only finds and orders migrations; running them is the backends' job, because
transactions and multi-statement scripts differ between SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from statewright.store.base import StoreError
from statewright.store.queries import DIALECTS

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change."""

    version: int
    """Its number, from the file name; 1 is the initial schema."""
    name: str
    """The file name's description part."""
    sql: str
    """The script: one or more statements separated by semicolons."""


def load_migrations(dialect: str) -> list[Migration]:
    """The dialect's migrations in version order; raises ValueError on a misnamed file, a
    duplicate version or a gap, which are packaging bugs rather than database faults."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    folder = resources.files("statewright.store").joinpath("sql", dialect, "migrations")
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise ValueError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match["version"])
        if version in found:
            raise ValueError(f"two {dialect} migrations have version {version}")
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"{dialect} migration versions must run 1..N without gaps: {versions}")
    return [found[v] for v in versions]


def latest_version(dialect: str) -> int:
    """The version the schema has once every migration ran."""
    return len(load_migrations(dialect))


def pending(migrations: list[Migration], applied: Iterable[int]) -> list[Migration]:
    """The migrations still to run. Raises StoreError when the database knows versions this
    code does not: it was migrated by a newer statewright, and writing to it could corrupt it."""
    done = set(applied)
    known = {m.version for m in migrations}
    unknown = sorted(done - known)
    if unknown:
        raise StoreError(
            f"the database schema is at version {max(done)}, newer than this statewright "
            f"knows ({max(known, default=0)}); upgrade statewright"
        )
    return [m for m in migrations if m.version not in done]
