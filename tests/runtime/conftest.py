"""The runtime's durable tests use the store tests' backends (SQLite file, real PostgreSQL)."""

from tests.store.conftest import (  # noqa: F401 - fixtures
    postgres_server,
    postgres_url,
    sqlite_path,
    store,
)
