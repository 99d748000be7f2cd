"""PostgreSQL-only behaviour: SKIP LOCKED claiming, LISTEN/NOTIFY between store objects, and
surviving a server that drops connections or restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from statewright.store.base import StoreError
from statewright.store.postgres import PostgresStore
from tests.conftest import PostgresServer
from tests.store.helpers import machine, started, wait_until, work


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def owned_server(postgres_server: PostgresServer) -> PostgresServer:
    if not postgres_server.owned:
        pytest.skip(
            "stopping the server needs the cluster this session starts itself, "
            "not the STATEWRIGHT_TEST_POSTGRES one"
        )
    return postgres_server


def test_claim_skips_rows_another_transaction_has_locked(
    postgres_url: str, pg_store: PostgresStore
) -> None:
    _, (locked, free) = started(pg_store, due=[1.0, 2.0])
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT id FROM work WHERE id = %s FOR UPDATE", (locked,))
        started_at = time.monotonic()
        claimed = pg_store.claim_work("w", 10.0, 10, 30.0)
        assert [w.id for w in claimed] == [free]
        assert time.monotonic() - started_at < 5.0, "the claim must not wait for the lock"
    assert [w.id for w in pg_store.claim_work("w", 10.0, 10, 30.0)] == [locked]


def test_notify_wakes_a_waiter_on_another_store_object(
    postgres_url: str, pg_store: PostgresStore
) -> None:
    """Two store objects stand for a worker process and an API process."""
    api = PostgresStore(postgres_url)
    try:
        record, _ = started(api)
        pg_store.wait_for_work(0.0)  # LISTEN now, so nothing below can be missed
        pg_store.wait_for_work(0.0)  # and drain anything queued while starting
        woke = threading.Event()

        def waiter() -> None:
            pg_store.wait_for_work(30.0)
            woke.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        started_at = time.monotonic()
        api.apply(record, record.version, [], [work(record.arn)], [])
        assert woke.wait(10.0), "NOTIFY did not wake the waiter"
        assert time.monotonic() - started_at < 10.0
        thread.join(10.0)
    finally:
        api.close()


def test_a_notification_sent_between_waits_is_not_lost(
    postgres_url: str, pg_store: PostgresStore
) -> None:
    api = PostgresStore(postgres_url)
    try:
        record, _ = started(api)
        pg_store.wait_for_work(0.0)
        pg_store.wait_for_work(0.0)
        api.apply(record, record.version, [], [work(record.arn)], [])
        started_at = time.monotonic()
        pg_store.wait_for_work(30.0)  # the NOTIFY is already queued: returns at once
        assert time.monotonic() - started_at < 10.0
    finally:
        api.close()


def test_terminated_connections_are_replaced(postgres_url: str, pg_store: PostgresStore) -> None:
    record, _ = started(pg_store)
    pg_store.wait_for_work(0.0)  # open the listener too
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None and killed[0] >= 2
    assert pg_store.get_execution(record.arn) == record
    assert pg_store.apply(record, record.version, [], [], []).version == 2
    pg_store.wait_for_work(0.0)  # notices the dead listener: polls, no exception
    pg_store.wait_for_work(0.0)  # and reconnects it


def test_the_store_survives_a_server_restart(
    owned_server: PostgresServer, postgres_url: str, pg_store: PostgresStore
) -> None:
    record, _ = started(pg_store)
    pg_store.wait_for_work(0.0)
    owned_server.stop()
    owned_server.start()
    assert pg_store.get_execution(record.arn) == record
    assert pg_store.apply(record, record.version, [], [work(record.arn, 1.0)], []).version == 2
    assert [w.execution_arn for w in pg_store.claim_work("w", 5.0, 10, 30.0)] == [record.arn]
    pg_store.wait_for_work(0.0)
    pg_store.wait_for_work(0.0)


def test_a_server_that_stays_down_is_a_store_error_then_recovers(
    owned_server: PostgresServer, postgres_url: str
) -> None:
    store = PostgresStore(postgres_url, connect_timeout=1.0)
    try:
        store.migrate()
        owned_server.stop()
        try:
            with pytest.raises(StoreError, match="PostgreSQL") as caught:
                store.get_state_machine(machine().arn)
            assert not isinstance(caught.value, psycopg.Error)
            with pytest.raises(StoreError, match="PostgreSQL"):
                store.create_state_machine(machine(), {})
            store.wait_for_work(0.05)  # falls back to sleeping; no exception
        finally:
            owned_server.start()

        def recovered() -> bool:
            # The pool reconnects in the background with back-off, so not at once.
            try:
                store.create_state_machine(machine(), {})
            except StoreError:
                return False
            return True

        wait_until(recovered, timeout=60.0)
        assert store.get_state_machine(machine().arn) == machine()
    finally:
        store.close()


def test_a_closed_store_raises_store_error(pg_store: PostgresStore) -> None:
    pg_store.close()
    with pytest.raises(StoreError, match="closed"):
        pg_store.get_execution("arn:x")
    with pytest.raises(StoreError, match="closed"):
        pg_store.claim_work("w", 0.0, 1, 1.0)
    pg_store.close()
    pg_store.wait_for_work(5.0)  # returns at once
