"""Versions of the JSON the engine stores and reads back, and the steps that upgrade them.

An execution's cursor (``executions.cursor``) and its work items' payloads (``work.payload``)
outlive the release that wrote them: executions run for up to a year, and a release may change
their shape. Each carries ``"version"``; reading one runs the upgrade steps from its version to
the current one, one step per version, so an execution started under any earlier release
resumes under this one. Writing always writes the current version.

A row written by a *newer* release (a rollback while such executions run) is refused with
``NewerFormat``: a worker leaves the item for a newer worker instead of failing it, and the
API answers 503. The upgrade procedure is in docs/how-to (upgrading statewright).

To change a shape: bump the version, add the step from the previous version to ``_CURSOR_STEPS``
(or ``_WORK_STEPS``), and add a test that a row in the previous format resumes
(tests/runtime/test_upgrade.py keeps one per version).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statewright import errors

__all__ = ["CURSOR_VERSION", "WORK_VERSION", "NewerFormat", "upgrade_cursor", "upgrade_work"]

#: The cursor format this release writes. 1: before versions were stored (no ``version`` key).
#: 3: the cursor is the head only; frames and fork items are rows (migration 0009).
CURSOR_VERSION = 3
#: The work payload format this release writes. 1: before versions were stored.
WORK_VERSION = 2

Json = dict[str, Any]


class NewerFormat(errors.AwsError):
    """Stored data written by a newer statewright than this one: upgrade this server."""

    code = "ServiceUnavailable"
    status = 503


def _cursor_1_to_2(cursor: Json) -> Json:
    # Frames written before heartbeats were tracked lack their two fields; the execution
    # lacks the mock-config invocation counts (none: it ran no test case).
    frames = [{"beats": 0, "heartbeat_seconds": None, **frame} for frame in cursor["frames"]]
    return {"invocations": {}, **cursor, "frames": frames}


def _cursor_2_to_3(cursor: Json) -> Json:
    # Version 2 kept every frame in the cursor, each fork with every child's input and
    # result. Version 3 keeps frames as rows and a fork as counters: the frames stay in the
    # upgraded cursor (the driver writes them as rows at the next commit), each fork gets an
    # id and its children's inputs (those not started) and outputs (those ended) are listed
    # beside them, keyed by that id.
    next_frame = cursor["next_frame"]
    index_of = {frame["id"]: frame["index"] for frame in cursor["frames"]}
    frames: list[Json] = []
    inputs: list[list[Any]] = []
    outputs: list[list[Any]] = []
    for frame in cursor["frames"]:
        fork = frame["fork"]
        if fork is not None:
            fork_id, next_frame = next_frame, next_frame + 1
            running = {index_of[child] for child in fork["running"] if child in index_of}
            inputs += [[fork_id, i, fork["inputs"][i]]
                       for i in range(fork["started"], len(fork["inputs"]))]
            outputs += [[fork_id, i, fork["results"][i]]
                        for i in range(fork["started"]) if i not in running]
            frame = {**frame, "fork": [
                fork_id, fork["kind"], len(fork["inputs"]), fork["max_concurrency"],
                fork["tolerated_count"], fork["tolerated_percentage"], fork["distributed"],
                fork["started"], fork["finished"], fork["failed"]]}
        frames.append(frame)
    return {**cursor, "next_frame": next_frame, "frames": frames, "inputs": inputs,
            "outputs": outputs}


def _work_1_to_2(payload: Json) -> Json:
    # The shape is unchanged; version 2 records its version, and may carry "due" (the
    # execution-clock due time), which readers default to the row's due time.
    return payload


#: ``steps[n]`` turns version n into version n + 1.
_CURSOR_STEPS: dict[int, Callable[[Json], Json]] = {1: _cursor_1_to_2, 2: _cursor_2_to_3}
_WORK_STEPS: dict[int, Callable[[Json], Json]] = {1: _work_1_to_2}


def _upgrade(raw: Json, current: int, steps: dict[int, Callable[[Json], Json]], what: str
             ) -> Json:
    version = raw.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{what} has an unknown version {version!r}")
    if version > current:
        raise NewerFormat(
            f"This {what} was written by a newer statewright (format {version}; this server "
            f"reads up to {current}): upgrade this server")
    while version < current:
        raw = steps[version](raw)
        version += 1
    return {**raw, "version": current}


def upgrade_cursor(cursor: Json) -> Json:
    """An execution's cursor in the current format, from any earlier one."""
    return _upgrade(cursor, CURSOR_VERSION, _CURSOR_STEPS, "execution cursor")


def upgrade_work(payload: Json) -> Json:
    """A work item's payload in the current format, from any earlier one."""
    return _upgrade(payload, WORK_VERSION, _WORK_STEPS, "work item")
