"""Whether API requests must be signed is answered from memory for ``KEYS_TTL_SECONDS``
(the API's event loop asks it of every request without a thread or a query): keys created or
deleted through the engine show at once, the first key made by another process within the
TTL; a deleted key fails at once regardless (every signed request reads its key)."""

from __future__ import annotations

from pathlib import Path

from statewright.config import Settings
from statewright.runtime.engine import KEYS_TTL_SECONDS, Engine
from statewright.store.base import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_required_is_remembered_for_the_ttl_and_dropped_by_key_changes(
        store: Store, tmp_path: Path) -> None:
    clock = Clock()
    settings = Settings(server_key_file=str(tmp_path / "server.key"))
    server = Engine(store, settings, clock=clock)
    cli = Engine(store, settings, clock=clock)  # `statewright keys create`, another process
    assert server.access_keys_required_now() is None  # never read: the caller must read
    assert server.access_keys_required() is False
    assert server.access_keys_required_now() is False

    key_id, secret = cli.create_access_key("laptop")
    assert server.access_keys_required_now() is False  # read less than the TTL ago
    clock.now += KEYS_TTL_SECONDS
    assert server.access_keys_required_now() is None
    assert server.access_keys_required() is True
    assert server.access_key_secret(key_id) == secret

    cli.delete_access_key(key_id)
    assert server.access_key_secret(key_id) is None  # refused at once, whatever is cached
    assert server.access_keys_required_now() is True
    clock.now += KEYS_TTL_SECONDS
    assert server.access_keys_required() is False

    # Through the engine itself: at once.
    own_id, _ = server.create_access_key()
    assert server.access_keys_required_now() is None
    assert server.access_keys_required() is True
    server.delete_access_key(own_id)
    assert server.access_keys_required_now() is None
    assert server.access_keys_required() is False


def test_a_clock_that_steps_back_reads_again(store: Store) -> None:
    clock = Clock()
    engine = Engine(store, Settings(), clock=clock)
    assert engine.access_keys_required() is False
    clock.now -= 5
    assert engine.access_keys_required_now() is None
