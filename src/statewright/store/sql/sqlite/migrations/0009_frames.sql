-- 0009: an execution's frames and its forks' items are rows of their own (issue 9), so a step
-- reads and writes only what it touches: a Map of 3,000 items costs a step what one of 10 does.
-- The execution's cursor keeps only the head (status, counters); frames move over as their
-- executions next take a step (an upgraded cursor carries them until then).

-- One running Parallel branch or Map iteration as the driver's JSON (the root frame rides
-- with the execution's cursor); a frame's row goes when it ends. `parent` finds a fork's running children.
CREATE TABLE frames (
    execution_arn TEXT NOT NULL,
    id            INTEGER NOT NULL,
    parent        INTEGER,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
);
CREATE INDEX frames_by_parent ON frames (execution_arn, parent);

-- A running Parallel/Map's children: the input of a child not started yet (MaxConcurrency)
-- written once at the fork, the output of a child that ended; read once, when the last ends.
CREATE TABLE fork_items (
    execution_arn TEXT NOT NULL,
    fork_id       INTEGER NOT NULL,
    idx           INTEGER NOT NULL,
    input         TEXT,
    output        TEXT,
    PRIMARY KEY (execution_arn, fork_id, idx)
);
