"""Activities behind the Engine: CreateActivity, DescribeActivity, DeleteActivity, ListActivities.

An activity is a name that workers poll with GetActivityTask; a Task whose ``Resource`` is
``arn:aws:states:REGION:ACCOUNT:activity:NAME`` queues its input for them (``Driver.submitted``
puts it in the batch, ``Engine.commit`` stores it with the step). A definition's activity ARN
may name any region and account, as it would on AWS; the task is filed under this server's ARN
for that name, so the definition runs unchanged.

Every check runs before anything is written, so a refused request stores nothing. Database
failures are left to the Engine, which turns them into ServiceUnavailable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from statewright import errors
from statewright.arns import Partition, check_name, parse_activity_arn
from statewright.runtime.frames import Batch
from statewright.store.base import ActivityRecord, ActivityTaskRecord, Page, Store


class ActivityOps:
    """The activity operations over a store."""

    def __init__(self, store: Store, partition: Partition, clock: Callable[[], float]) -> None:
        self.store = store
        self.partition = partition
        self.clock = clock

    def create(self, name: str, tags: dict[str, str], config: dict[str, Any] | None
               ) -> ActivityRecord:
        """CreateActivity. Idempotent on the name (botocore's doc string: differing tags are
        ignored and not updated); a differing encryptionConfiguration is refused, as AWS
        refuses to change it (ActivityAlreadyExists)."""
        check_name(name)
        arn = self.partition.activity(name)
        record = ActivityRecord(arn, name, self.clock(), json.dumps(config or {}))
        stored = self.store.create_activity(record, tags)
        if stored != record and json.loads(stored.config) != (config or {}):
            raise errors.ActivityAlreadyExists(
                f"Activity already exists with a different configuration: '{arn}'")
        return stored

    def describe(self, arn: str) -> ActivityRecord:
        """DescribeActivity; InvalidArn or ActivityDoesNotExist."""
        parse_activity_arn(arn)
        record = self.store.get_activity(arn)
        if record is None:
            raise errors.ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return record

    def delete(self, arn: str) -> None:
        """DeleteActivity: deleting one that does not exist is no error (the model lists only
        InvalidArn)."""
        parse_activity_arn(arn)
        self.store.delete_activity(arn)

    def page(self, limit: int, token: str | None) -> Page[ActivityRecord]:
        """ListActivities, by creation."""
        return self.store.list_activities(limit, token)

    def queued(self, execution_arn: str, batch: Batch, now: float) -> list[ActivityTaskRecord]:
        """The batch's activity tasks as queue rows, under this server's ARN of each name."""
        return [
            ActivityTaskRecord(task.token, self.partition.activity(task.activity_name),
                               execution_arn, task.input, now)
            for task in batch.activities
        ]


__all__ = ["ActivityOps"]
