-- The statewright schema on SQLite: what the migrations add up to (a test checks it).
-- JSON payloads are TEXT, returned exactly as stored. Times are REAL epoch seconds.

-- A state machine's current revision; `seq` gives the creation order for listing.
CREATE TABLE state_machines (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    arn         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    role_arn    TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    config      TEXT NOT NULL
);

-- Every revision, kept after the machine is deleted: executions run the revision they
-- started with.
CREATE TABLE state_machine_revisions (
    arn         TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    role_arn    TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    config      TEXT NOT NULL,
    PRIMARY KEY (arn, revision_id)
);

CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

-- No foreign key to state_machines: executions outlive their machine.
CREATE TABLE executions (
    arn               TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    revision_id       TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    input             TEXT NOT NULL,
    start_date        REAL NOT NULL,
    version           INTEGER NOT NULL,
    cursor            TEXT NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    stop_date         REAL,
    UNIQUE (state_machine_arn, name)
);

-- ListExecutions: newest first per machine, with or without a status filter.
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_date, arn);

CREATE TABLE events (
    execution_arn     TEXT NOT NULL,
    id                INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp         REAL NOT NULL,
    type              TEXT NOT NULL,
    details           TEXT,
    PRIMARY KEY (execution_arn, id)
);

-- AUTOINCREMENT so an id is never reused: a stale worker's done_work must not delete a newer
-- item that took a finished item's id.
CREATE TABLE work (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_arn TEXT NOT NULL,
    kind          TEXT NOT NULL,
    due_at        REAL NOT NULL,
    payload       TEXT NOT NULL,
    lease_owner   TEXT,
    lease_until   REAL,
    attempts      INTEGER NOT NULL DEFAULT 0
);

-- Claiming walks due items oldest first; leased ones are few (what workers hold).
CREATE INDEX work_by_due ON work (due_at, id);
-- next_due's second half: when the held leases run out.
CREATE INDEX work_by_lease ON work (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX work_by_execution ON work (execution_arn);

-- Deployed functions with their code (the zip), so every worker machine can load them;
-- listed by name.
CREATE TABLE functions (
    name          TEXT PRIMARY KEY,
    runtime       TEXT NOT NULL,
    handler       TEXT NOT NULL,
    code          BLOB NOT NULL,
    code_sha256   TEXT NOT NULL,
    code_size     INTEGER NOT NULL,
    timeout       INTEGER NOT NULL,
    memory_size   INTEGER NOT NULL,
    environment   TEXT NOT NULL,
    role          TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    REAL NOT NULL,
    last_modified REAL NOT NULL,
    revision_id   TEXT NOT NULL,
    -- Lambda's ReservedConcurrentExecutions; NULL: none reserved (0008).
    reserved_concurrency integer
);

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

-- Every function invocation a Task made and what it printed, written by the step that records
-- the Task's outcome. `event_id` is the Task state's Entered event (the state visit; a retried
-- Task has one row per attempt in one visit), `scheduled_event_id` the attempt's Scheduled
-- event; both 0 when the Task ran where this history has no events (inside a Distributed
-- Map). AUTOINCREMENT: an id is never reused, so a link to one never shows another invocation.
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

-- ------------------------------------------------------------------ access control (0005)

-- An access key's secret is stored sealed (AES-GCM under the server key file, which lives
-- outside the database): SigV4 needs the secret itself to check a signature, so it cannot be
-- hashed, but a copy of the database alone does not let anyone sign requests.
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at    REAL NOT NULL,
    -- (scoped_keys migration) NULL: an administrator's key; else requests signed with it are authorised
    -- against this role's policies.
    role_arn      TEXT,
    -- (scoped_keys migration) set on the keys the server makes for a function's workers.
    function_name TEXT
);
CREATE INDEX access_keys_by_function ON access_keys (function_name);

-- Random values the servers and workers sharing this database must agree on (the task
-- token MAC key), created once by whichever process needs one first.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE iam_roles (
    name                 TEXT PRIMARY KEY,
    arn                  TEXT NOT NULL,
    role_id              TEXT NOT NULL,
    path                 TEXT NOT NULL,
    assume_role_policy   TEXT NOT NULL,
    description          TEXT NOT NULL,
    max_session_duration INTEGER NOT NULL,
    created_at           REAL NOT NULL
);

CREATE TABLE iam_role_policies (
    role_name   TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (role_name, policy_name)
);

CREATE TABLE iam_policies (
    arn         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    policy_id   TEXT NOT NULL,
    path        TEXT NOT NULL,
    document    TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  REAL NOT NULL
);

-- Managed policies attached to roles; AWS managed policy ARNs (arn:aws:iam::aws:policy/...)
-- are built in and have no iam_policies row.
CREATE TABLE iam_attachments (
    role_name  TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (role_name, policy_arn)
);
CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_arn);

-- The console lists a function's most recent invocations.
CREATE INDEX invocations_by_function ON invocations (function_name, id);

-- (scoped_keys migration) A signed-in console browser; signing out deletes the row on every server node.
CREATE TABLE console_sessions (
    session_id    TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    issued_at     REAL NOT NULL,
    expires_at    REAL NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
