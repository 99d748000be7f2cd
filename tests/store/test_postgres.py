"""PostgreSQL-only behaviour: SKIP LOCKED claiming, LISTEN/NOTIFY between store objects,
surviving a server that drops connections or restarts, round trips per batch, and what differs
behind PgBouncer in transaction mode (the store contract tests run through it as well)."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import pq

from statewright.store.base import Applied, ApplyRequest, Conflict, StoreError
from statewright.store.postgres import PoolerOptions, PostgresStore
from tests.conftest import PostgresServer
from tests.store.helpers import event, machine, started, wait_until, work


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


def _syncs(trace: str) -> int:
    """Sync messages the client sent (libpq's protocol trace, one message a line): a Sync
    ends a pipeline batch, so the client waits for the server once per Sync."""
    return sum(line.split("\t")[::2] == ["F", "Sync"] for line in trace.splitlines())


def test_a_batch_of_steps_is_two_round_trips_whatever_its_size(
    postgres_url: str, tmp_path: Path
) -> None:
    """apply_many sends BEGIN and every version-checked UPDATE in one sync, then the writes
    of the steps that passed with the COMMIT: 2 syncs for 1 step or 20. (A stale step costs
    one more read, flushed without a sync, to tell Conflict from NotFound.)"""
    store = PostgresStore(postgres_url, min_connections=1, max_connections=1)
    try:
        store.migrate()
        records = [started(store, f"run-{i}")[0] for i in range(21)]
        stale = records.pop()
        store.apply(stale, stale.version, [], [], [])
        for batch in ([records[0]], records[1:]):
            trace = tmp_path / "trace"
            requests = [ApplyRequest(r, r.version, [event(r.arn, 2)], [work(r.arn)], [])
                        for r in batch]
            with trace.open("w") as out:
                with store._pool.connection() as conn:  # the pool's only connection
                    conn.pgconn.trace(out.fileno())
                    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
                results = store.apply_many([*requests, ApplyRequest(stale, stale.version)])
                with store._pool.connection() as conn:
                    conn.pgconn.untrace()
            assert all(isinstance(r, Applied) for r in results[:-1])
            assert isinstance(results[-1], Conflict)
            assert _syncs(trace.read_text()) == 2, trace.read_text()[-2000:]
            for record in batch:
                assert [e.id for e in store.history_after(record.arn, 0, 10)] == [1, 2]
        claimed = store.claim_work("w", 100.0, 100, 30.0)
        assert sorted(w.execution_arn for w in claimed) == sorted(r.arn for r in records)
    finally:
        store.close()


def test_statewright_options_are_taken_out_of_the_url_before_libpq_sees_them() -> None:
    direct = "postgresql://u@db.example:5432/sw?sslmode=require"
    assert PoolerOptions.parse(direct) == (direct, PoolerOptions("none", direct))
    url = ("postgresql://u@bouncer:6432/sw?sslmode=require&pooler=transaction&listen_url="
           + urllib.parse.quote(direct, safe=""))
    assert PoolerOptions.parse(url) == ("postgresql://u@bouncer:6432/sw?sslmode=require",
                                        PoolerOptions("transaction", direct))
    polling = "postgresql://u@bouncer:6432/sw?pooler=transaction"
    assert PoolerOptions.parse(polling) == ("postgresql://u@bouncer:6432/sw",
                                            PoolerOptions("transaction", None))
    conninfo = "host=db dbname=sw"  # keyword/value strings have no statewright options
    assert PoolerOptions.parse(conninfo) == (conninfo, PoolerOptions("none", conninfo))
    with pytest.raises(StoreError, match="pooler=none or pooler=transaction"):
        PoolerOptions.parse("postgresql://u@h/sw?pooler=statement")
    with pytest.raises(StoreError, match="listen_url"):
        PoolerOptions.parse("postgresql://u@h/sw?pooler=transaction&listen_url=h%3D1")


def test_behind_pgbouncer_without_listen_url_a_waiter_polls(pgbouncer_url: str) -> None:
    """LISTEN through a transaction pooler would listen on whichever server session served
    that transaction: without a direct ``listen_url`` the store never LISTENs and
    ``wait_for_work`` sleeps its timeout (the worker's poll interval) instead."""
    polling_url = pgbouncer_url.split("&listen_url=")[0]
    assert "pooler=transaction" in polling_url
    store = PostgresStore(polling_url)
    try:
        store.migrate()
        record, _ = started(store)
        store.wait_for_work(0.0)
        assert store._listener is None
        waited = time.monotonic()
        store.wait_for_work(0.2)
        assert time.monotonic() - waited >= 0.2
        store.apply(record, record.version, [], [work(record.arn, 1.0)], [])
        assert [w.execution_arn for w in store.claim_work("w", 5.0, 10, 30.0)] == [record.arn]
    finally:
        store.close()


def test_behind_pgbouncer_notify_reaches_the_direct_listener(pgbouncer_url: str) -> None:
    """The NOTIFY goes through the pooler inside the writing transaction; the LISTEN sits on
    the direct ``listen_url`` connection, so the waiter wakes at the commit."""
    waiter_store, writer = PostgresStore(pgbouncer_url), PostgresStore(pgbouncer_url)
    try:
        waiter_store.migrate()
        record, _ = started(writer)
        waiter_store.wait_for_work(0.0)
        waiter_store.wait_for_work(0.0)
        assert waiter_store._listener is not None
        woke = threading.Event()
        thread = threading.Thread(target=lambda: (waiter_store.wait_for_work(60.0),
                                                  woke.set()))
        thread.start()
        writer.apply(record, record.version, [], [work(record.arn)], [])
        assert woke.wait(30.0), "the NOTIFY sent through PgBouncer did not wake the waiter"
        thread.join(10.0)
    finally:
        writer.close()
        waiter_store.close()
