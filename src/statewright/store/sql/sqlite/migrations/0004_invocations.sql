-- 0004: every function invocation a Task made, with what the function printed (issue 4),
-- for the console. Written in the transaction of the step that records the Task's outcome,
-- so an invocation is kept exactly when its step is.

-- `event_id` is the Task state's Entered event (the state visit; a retried Task has one row
-- per attempt in one visit), `scheduled_event_id` the attempt's Scheduled event; both 0 when
-- the Task ran where this history has no events (inside a Distributed Map). AUTOINCREMENT:
-- an id is never reused, so a link to one never shows another invocation.
CREATE TABLE invocations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_arn      TEXT NOT NULL,
    event_id           INTEGER NOT NULL,
    scheduled_event_id INTEGER NOT NULL,
    state_name         TEXT NOT NULL,
    function_name      TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    started_at         REAL NOT NULL,
    duration_ms        REAL NOT NULL,
    status             TEXT NOT NULL,
    error_type         TEXT,
    logs               TEXT NOT NULL
);

-- The console pages through an execution's invocations in the order they were recorded.
CREATE INDEX invocations_by_execution ON invocations (execution_arn, id);
