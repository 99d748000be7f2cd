"""Reading executions back in the runtime tests."""

from __future__ import annotations

from statewright.runtime.engine import Engine
from statewright.store.base import EventRecord


def history(engine: Engine, arn: str, page_size: int = 1000) -> list[EventRecord]:
    """The whole history, following ``nextToken`` (small pages exercise paging)."""
    events: list[EventRecord] = []
    token = None
    while True:
        page = engine.get_history(arn, page_size, token)
        events += page.items
        token = page.next_token
        if token is None:
            return events
