"""Executions survive upgrades: a cursor and work payload written by the previous format
resume under this release; one written by a newer release is left alone, not failed.

``V1_CURSOR`` and ``V1_WAKE`` are the exact texts the release before stored versions wrote for
``DEFINITION`` started with ``{"items": [1, 2]}`` (generated with that release's Driver, the
Map's first iteration waiting in its Wait state).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from statewright import errors
from statewright.config import Settings
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.engine import Engine
from statewright.runtime.upgrade import CURSOR_VERSION, WORK_VERSION, upgrade_cursor
from statewright.runtime.worker import Worker
from statewright.store.base import Store
from tests.conftest import open_backend
from tests.runtime.helpers import history

DEFINITION = (
    '{"StartAt":"Fan","States":{"Fan":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,'
    '"ResultPath":"$.results","Next":"Done","ItemProcessor":{"StartAt":"Nap","States":{"Nap":'
    '{"Type":"Wait","Seconds":5,"Next":"Echo"},"Echo":{"Type":"Pass","End":true}}}},"Done":'
    '{"Type":"Succeed"}}}'
)
V1_CURSOR = (
    '{"status":"RUNNING","output":null,"failure":null,"next_frame":2,"next_event":6,"frames":'
    '[{"id":0,"parent":null,"index":0,"state":"Fan","input":{"items":[1,2]},"variables":{},'
    '"retry_counts":[],"entered_event_id":2,"entered_time":1764000000.0,"last_event_id":4,'
    '"token":1,"beats":0,"heartbeat_seconds":null,"fork":{"kind":"map","inputs":[1,2],'
    '"max_concurrency":1,"tolerated_count":null,"tolerated_percentage":null,"distributed":'
    'false,"started":1,"finished":0,"failed":0,"results":[null,null],"running":[1]}},{"id":1,'
    '"parent":0,"index":0,"state":"Nap","input":1,"variables":{},"retry_counts":[],'
    '"entered_event_id":5,"entered_time":1764000000.0,"last_event_id":5,"token":1,"beats":0,'
    '"heartbeat_seconds":null,"fork":null}]}'
)
V1_WAKE = '{"frame":1,"token":1}'

#: What release 0.2 (cursor version 2, every frame in the cursor) stored for DEFINITION started
#: with ``{"items": [1, 2, 3]}`` once the first iteration had ended (its result 1 kept in the
#: fork) and the second waited in Nap (frame 2): the third iteration's input is in the fork.
#: Hand-made from V1_CURSOR with that release's field names; the history before it is the one
#: this release's start writes (events 1-5), so only the fork's data says iteration 0 ended.
V2_CURSOR_MAP_IN_FLIGHT = (
    '{"version":2,"status":"RUNNING","output":null,"failure":null,"next_frame":3,'
    '"next_event":6,"invocations":{},"frames":[{"id":0,"parent":null,"index":0,"state":"Fan",'
    '"input":{"items":[1,2,3]},"variables":{},"retry_counts":[],"entered_event_id":2,'
    '"entered_time":1764000000.0,"last_event_id":4,"token":1,"beats":0,"heartbeat_seconds":'
    'null,"fork":{"kind":"map","inputs":[1,2,3],"max_concurrency":1,"tolerated_count":null,'
    '"tolerated_percentage":null,"distributed":false,"started":2,"finished":1,"failed":0,'
    '"results":[1,null,null],"running":[2]}},{"id":2,"parent":0,"index":1,"state":"Nap",'
    '"input":2,"variables":{},"retry_counts":[],"entered_event_id":5,"entered_time":'
    '1764000000.0,"last_event_id":5,"token":1,"beats":0,"heartbeat_seconds":null,"fork":null}]}'
)
V2_WAKE = '{"version":2,"frame":2,"token":1,"due":1764000005.0}'


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Store:
    return open_backend("sqlite", request)


def _started(store: Store, data: str = '{"items": [1, 2]}') -> tuple[Engine, str]:
    engine = Engine(store, Settings(wait_scale=0.0))
    machine = engine.create_state_machine("v1", DEFINITION)
    arn = engine.start_execution(machine.arn, data, "e").execution_arn
    return engine, arn


def _rewrite(path: Path, cursor: str, wake: str) -> None:
    """Puts the rows back as another release wrote them (one cursor, no frame rows)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM frames")
        conn.execute("DELETE FROM fork_items")
        conn.execute("UPDATE executions SET cursor = ?", (cursor,))
        assert conn.execute("UPDATE work SET payload = ? WHERE kind = 'wake'",
                            (wake,)).rowcount == 1


def _restarted(engine: Engine) -> Engine:
    """The engine of a process of another release started on the rewritten rows (nothing of
    the execution in its memory)."""
    return Engine(engine.store, engine.settings)


def _drain(engine: Engine) -> None:
    worker = Worker(_restarted(engine), PythonFunctions(), threads=2, poll_seconds=0.05)
    try:
        worker.drain(time.monotonic() + 30)
    finally:
        worker.stop()


def test_this_release_writes_versioned_rows(store: Store, sqlite_path: Path) -> None:
    _started(store)
    with sqlite3.connect(sqlite_path) as conn:
        cursor = json.loads(conn.execute("SELECT cursor FROM executions").fetchone()[0])
        payload = json.loads(conn.execute("SELECT payload FROM work").fetchone()[0])
        frames = [json.loads(data) for (data,) in conn.execute(
            "SELECT data FROM frames ORDER BY id")]
        items = conn.execute("SELECT fork_id, idx, input, output FROM fork_items "
                             "ORDER BY idx").fetchall()
    assert cursor["version"] == CURSOR_VERSION
    assert payload["version"] == WORK_VERSION
    # Version 3 keeps the head of the previous formats (the fixtures are still faithful)
    # and moves the frames to rows of their own.
    # and moves the frames out: the root frame rides with the head ("root"; "rows": some
    # frames are rows), the others are rows of their own.
    assert cursor.keys() - {"root", "rows"} | {"frames"} == json.loads(
        V2_CURSOR_MAP_IN_FLIGHT).keys()
    root = cursor["root"]
    assert (root["id"], root["state"], cursor["rows"]) == (0, "Fan", True)
    assert "input" not in root  # a forking frame's input is kept with its fork
    assert [(f["id"], f["state"]) for f in frames] == [(2, "Nap")]
    fork_id = root["fork"][0]
    assert items == [(fork_id, -1, '{"items":[1,2]}', None), (fork_id, 1, "2", None)]


def test_an_execution_written_by_the_previous_format_resumes(
    store: Store, sqlite_path: Path
) -> None:
    engine, arn = _started(store)
    _rewrite(sqlite_path, V1_CURSOR, V1_WAKE)
    _drain(engine)
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    assert json.loads(record.output or "null") == {"items": [1, 2], "results": [1, 2]}
    events = history(engine, arn)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("WaitStateExited") == 2


def test_a_map_in_flight_under_the_one_cursor_format_resumes(
    store: Store, sqlite_path: Path
) -> None:
    engine, arn = _started(store, '{"items": [1, 2, 3]}')
    _rewrite(sqlite_path, V2_CURSOR_MAP_IN_FLIGHT, V2_WAKE)
    _drain(engine)
    record = engine.describe_execution(arn)
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    # Iteration 0's result came from the old fork, 1 ran on, 2's input came from the fork.
    assert json.loads(record.output or "null") == {"items": [1, 2, 3], "results": [1, 2, 3]}
    events = history(engine, arn)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("MapIterationSucceeded") == 2
    with sqlite3.connect(sqlite_path) as conn:  # an ended execution keeps no frame rows
        assert conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM fork_items").fetchone()[0] == 0


def test_a_version_2_cursor_upgrades_its_forks_to_counters() -> None:
    upgraded = upgrade_cursor(json.loads(V2_CURSOR_MAP_IN_FLIGHT))
    assert upgraded["version"] == CURSOR_VERSION
    fork = upgraded["frames"][0]["fork"]
    assert fork == [3, "map", 3, 1, None, None, False, 2, 1, 0]  # id 3: the next frame id
    assert upgraded["next_frame"] == 4
    assert upgraded["inputs"] == [[3, 2, 3]]  # item 2 not started
    assert upgraded["outputs"] == [[3, 0, 1]]  # item 0 ended; item 1 (frame 2) runs


def test_frames_from_before_heartbeats_were_tracked_upgrade() -> None:
    old = json.loads(V1_CURSOR)
    for frame in old["frames"]:
        del frame["beats"], frame["heartbeat_seconds"]
    upgraded = upgrade_cursor(old)
    assert upgraded["version"] == CURSOR_VERSION
    assert [(f["beats"], f["heartbeat_seconds"]) for f in upgraded["frames"]] == [(0, None)] * 2


def test_a_row_from_a_newer_release_is_left_for_it_not_failed(
    store: Store, sqlite_path: Path
) -> None:
    engine, arn = _started(store)
    engine = _restarted(engine)
    newer = json.dumps({**json.loads(V1_CURSOR), "version": CURSOR_VERSION + 1})
    _rewrite(sqlite_path, newer, json.dumps({**json.loads(V1_WAKE), "version": 1}))
    worker = Worker(engine, PythonFunctions(), threads=1, poll_seconds=0.05)
    try:
        assert worker.run_once() == 1
    finally:
        worker.stop()
    assert engine.describe_execution(arn).status == "RUNNING"  # not failed, not lost
    with pytest.raises(errors.AwsError) as caught:
        engine.stop_execution(arn)
    assert caught.value.status == 503 and "newer statewright" in caught.value.message
