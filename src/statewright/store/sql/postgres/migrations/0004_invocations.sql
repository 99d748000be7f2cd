-- 0004: every function invocation a Task made, with what the function printed (issue 4),
-- for the console. Written in the transaction of the step that records the Task's outcome,
-- so an invocation is kept exactly when its step is.

-- `event_id` is the Task state's Entered event (the state visit; a retried Task has one row
-- per attempt in one visit), `scheduled_event_id` the attempt's Scheduled event; both 0 when
-- the Task ran where this history has no events (inside a Distributed Map). Identity ids
-- are never reused, so a link to one never shows another invocation.
CREATE TABLE invocations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_arn      text COLLATE "C" NOT NULL,
    event_id           integer NOT NULL,
    scheduled_event_id integer NOT NULL,
    state_name         text NOT NULL,
    function_name      text NOT NULL,
    request_id         text NOT NULL,
    started_at         double precision NOT NULL,
    duration_ms        double precision NOT NULL,
    status             text NOT NULL,
    error_type         text,
    logs               text NOT NULL
);

-- The console pages through an execution's invocations in the order they were recorded.
CREATE INDEX invocations_by_execution ON invocations (execution_arn, id);
