-- 0003: activities (CreateActivity) and the queue of activity Tasks their workers poll
-- (GetActivityTask).

-- An activity; `seq` gives the creation order for listing.
CREATE TABLE activities (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    arn        TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at REAL NOT NULL,
    config     TEXT NOT NULL
);

-- Activity Tasks waiting for a poller, queued in the transaction that submits the Task and
-- deleted when a poller takes one or the execution ends. No foreign key to activities: a
-- Task may name an activity that is created later.
CREATE TABLE activity_tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token         TEXT NOT NULL UNIQUE,
    activity_arn  TEXT NOT NULL,
    execution_arn TEXT NOT NULL,
    input         TEXT NOT NULL,
    created_at    REAL NOT NULL
);

-- Pollers take the oldest task of their activity.
CREATE INDEX activity_tasks_by_activity ON activity_tasks (activity_arn, id);
CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_arn);
