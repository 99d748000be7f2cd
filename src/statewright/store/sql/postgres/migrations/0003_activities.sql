-- 0003: activities (CreateActivity) and the queue of activity Tasks their workers poll
-- (GetActivityTask).

-- An activity; `seq` gives the creation order for listing.
CREATE TABLE activities (
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    arn        text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at double precision NOT NULL,
    config     text NOT NULL
);

-- Activity Tasks waiting for a poller, queued in the transaction that submits the Task and
-- deleted when a poller takes one or the execution ends. No foreign key to activities: a
-- Task may name an activity that is created later.
CREATE TABLE activity_tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token         text COLLATE "C" NOT NULL UNIQUE,
    activity_arn  text COLLATE "C" NOT NULL,
    execution_arn text COLLATE "C" NOT NULL,
    input         text NOT NULL,
    created_at    double precision NOT NULL
);

-- Pollers take the oldest task of their activity.
CREATE INDEX activity_tasks_by_activity ON activity_tasks (activity_arn, id);
CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_arn);
