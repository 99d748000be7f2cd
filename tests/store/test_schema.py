"""Schema files, migrations, query files and ``open_store`` URLs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statewright.store import SqliteStore, open_store
from statewright.store.base import Store, StoreError
from statewright.store.migrate import Migration, latest_version, load_migrations, pending
from statewright.store.queries import DIALECTS, load_queries, parse_queries, sql_text
from statewright.store.sqlite import split_script
from tests.conftest import PostgresServer

# ---------------------------------------------------------------------- schema == migrations


def sqlite_schema(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables (columns by name) and indexes, as SQLite reports them. Column order and the
    CREATE TABLE text are left out: ALTER TABLE changes both without changing the schema."""
    result: dict[str, Any] = {}
    tables = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'schema_migrations'"
    ).fetchall()
    for (table,) in tables:
        columns = sorted(tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({table})"))
        indexes = {}
        for _, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})"):
            # Not the column numbers (cid): they follow column order, which ALTER changes.
            keys = [tuple(r[2:]) for r in conn.execute(f"PRAGMA index_xinfo({name})")]
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            indexes[name] = (unique, origin, partial, keys, " ".join((sql[0] or "").split()))
        result[table] = {"columns": columns, "indexes": indexes}
    return result


def test_sqlite_schema_equals_migrations_applied(tmp_path: Path) -> None:
    from_schema = sqlite3.connect(tmp_path / "schema.db")
    from_schema.executescript(sql_text("sqlite", "schema.sql"))
    store = SqliteStore(tmp_path / "migrated.db")
    assert store.migrate() == latest_version("sqlite")
    store.close()
    migrated = sqlite3.connect(tmp_path / "migrated.db")
    assert sqlite_schema(migrated) == sqlite_schema(from_schema)
    assert set(sqlite_schema(migrated)) >= {"executions", "events", "work", "tags"}


def postgres_schema(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, "
            "is_identity, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name != 'schema_migrations' "
            "ORDER BY 1, 2"
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename != 'schema_migrations' "
            "ORDER BY 1, 2"
        ).fetchall()
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "AND conrelid::regclass::text != 'schema_migrations' ORDER BY 1, 2"
        ).fetchall()
    # Index definitions name the schema; the two databases live in different ones.
    schema = psycopg.conninfo.conninfo_to_dict(url)["options"]
    name = str(schema).removeprefix("-csearch_path=")
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": [(t, i, d.replace(f"{name}.", "")) for t, i, d in indexes],
    }


def test_postgres_schema_equals_migrations_applied(postgres_server: PostgresServer) -> None:
    schema_url = postgres_server.create_schema()
    migrated_url = postgres_server.create_schema()
    try:
        with psycopg.connect(schema_url, autocommit=True) as conn:
            conn.execute(sql_text("postgres", "schema.sql"))
        store = open_store(migrated_url.replace("postgresql://", "postgres://", 1))
        assert store.migrate() == latest_version("postgres")
        store.close()
        migrated = postgres_schema(migrated_url)
        assert migrated == postgres_schema(schema_url)
        assert {c[0] for c in migrated["columns"]} >= {"executions", "events", "work", "tags"}
    finally:
        postgres_server.drop_schema(schema_url)
        postgres_server.drop_schema(migrated_url)


# ---------------------------------------------------------------------- migrate


def test_migrate_is_idempotent_and_records_versions(store: Store) -> None:
    latest = store.migrate()
    assert store.migrate() == latest >= 1


def test_a_store_without_schema_says_to_migrate(tmp_path: Path, postgres_url: str) -> None:
    for url in (str(tmp_path / "fresh.db"), postgres_url):
        store = open_store(url)
        try:
            with pytest.raises(StoreError, match="statewright db migrate"):
                store.get_execution("arn:x")
        finally:
            store.close()


def test_a_database_from_a_newer_statewright_is_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db")
    store.migrate()
    store.close()
    with sqlite3.connect(tmp_path / "db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    store = SqliteStore(tmp_path / "db")
    try:
        with pytest.raises(StoreError, match="newer than this statewright"):
            store.migrate()
    finally:
        store.close()


def test_migrations_are_numbered_without_gaps_in_both_dialects() -> None:
    for dialect in DIALECTS:
        versions = [m.version for m in load_migrations(dialect)]
        assert versions == list(range(1, len(versions) + 1))
    assert latest_version("sqlite") == latest_version("postgres")


def test_pending_lists_what_is_left() -> None:
    migrations = [Migration(1, "a", ""), Migration(2, "b", ""), Migration(3, "c", "")]
    assert [m.version for m in pending(migrations, [1])] == [2, 3]
    assert pending(migrations, [1, 2, 3]) == []


def test_split_script_keeps_statements_whole() -> None:
    script = "-- head\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE INDEX i ON a (x);\n-- end\n"
    assert split_script(script) == [
        "-- head\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE INDEX i ON a (x);",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_script("CREATE TABLE a (x)")


# ---------------------------------------------------------------------- query files


def test_query_files_parse_and_both_dialects_share_the_data_queries() -> None:
    sqlite_names = set(load_queries("sqlite"))
    postgres_names = set(load_queries("postgres"))
    transactions = {"commit", "rollback", "savepoint", "release_savepoint",
                    "rollback_to_savepoint"}
    sqlite_only = {"enable_wal", "configure_connection", "configure_reader", "begin_write"}
    postgres_only = {"listen", "notify_work", "lock_migrations", "begin"}
    assert transactions <= sqlite_names & postgres_names
    assert sqlite_names - sqlite_only == postgres_names - postgres_only
    assert sqlite_only <= sqlite_names and postgres_only <= postgres_names


def test_parse_queries_rejects_duplicates_and_empty_blocks() -> None:
    assert parse_queries("-- header\n-- name: a\nSELECT 1;\n-- name: b\n-- why\nSELECT 2;\n") == {
        "a": "SELECT 1;",
        "b": "-- why\nSELECT 2;",
    }
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")
    with pytest.raises(ValueError, match="empty"):
        parse_queries("-- name: a\n\n-- name: b\nSELECT 1;\n")
    with pytest.raises(KeyError, match=r"queries\.sql"):
        load_queries("sqlite")["no_such_query"]


# ---------------------------------------------------------------------- open_store


@pytest.mark.parametrize("form", ["sqlite:///{path}", "{path}"])
def test_open_store_takes_sqlite_urls_and_plain_paths(tmp_path: Path, form: str) -> None:
    path = tmp_path / "x.db"
    store = open_store(form.format(path=path))
    try:
        assert isinstance(store, SqliteStore) and Path(store.path) == path
        store.migrate()
    finally:
        store.close()
    assert path.exists()


def test_open_store_defaults_to_statewright_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEWRIGHT_HOME", str(tmp_path / "home" / "nested"))
    store = open_store("")
    try:
        assert isinstance(store, SqliteStore)
        assert Path(store.path) == tmp_path / "home" / "nested" / "statewright.db"
    finally:
        store.close()
    monkeypatch.delenv("STATEWRIGHT_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    store = open_store(None)
    try:
        assert isinstance(store, SqliteStore)
        assert Path(store.path) == tmp_path / ".local/share/statewright/statewright.db"
    finally:
        store.close()


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "sqlite:", "sqlite:///", "sqlite://host/x", ":memory:"]
)
def test_open_store_rejects_what_it_cannot_open(url: str) -> None:
    with pytest.raises(StoreError):
        open_store(url)


def test_open_store_says_why_postgres_is_unreachable() -> None:
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1/") as exc:
        open_store("postgresql://nobody:secret@127.0.0.1:1/nodb?connect_timeout=2")
    assert "secret" not in str(exc.value)
