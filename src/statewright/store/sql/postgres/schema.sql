-- The statewright schema on PostgreSQL: what the migrations add up to (a test checks it).
-- JSON payloads are TEXT, returned exactly as stored. Times are double precision epoch
-- seconds. Keys compare with COLLATE "C" so paging order is bytewise, as on SQLite, whatever
-- the database's locale.

-- A state machine's current revision; `seq` gives the creation order for listing.
CREATE TABLE state_machines (
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    arn         text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL,
    type        text NOT NULL,
    definition  text NOT NULL,
    role_arn    text NOT NULL,
    revision_id text NOT NULL,
    created_at  double precision NOT NULL,
    updated_at  double precision NOT NULL,
    config      text NOT NULL
);

-- Every revision, kept after the machine is deleted: executions run the revision they
-- started with.
CREATE TABLE state_machine_revisions (
    arn         text COLLATE "C" NOT NULL,
    revision_id text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    type        text NOT NULL,
    definition  text NOT NULL,
    role_arn    text NOT NULL,
    created_at  double precision NOT NULL,
    updated_at  double precision NOT NULL,
    config      text NOT NULL,
    PRIMARY KEY (arn, revision_id)
);

CREATE TABLE tags (
    resource_arn text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    value        text NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

-- No foreign key to state_machines: executions outlive their machine.
CREATE TABLE executions (
    arn               text COLLATE "C" PRIMARY KEY,
    state_machine_arn text COLLATE "C" NOT NULL,
    revision_id       text NOT NULL,
    name              text COLLATE "C" NOT NULL,
    status            text COLLATE "C" NOT NULL,
    input             text NOT NULL,
    start_date        double precision NOT NULL,
    version           bigint NOT NULL,
    cursor            text NOT NULL,
    output            text,
    error             text,
    cause             text,
    stop_date         double precision,
    UNIQUE (state_machine_arn, name)
);

-- ListExecutions: newest first per machine, with or without a status filter.
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
CREATE INDEX executions_by_status ON executions (state_machine_arn, status, start_date, arn);

CREATE TABLE events (
    execution_arn     text COLLATE "C" NOT NULL,
    id                integer NOT NULL,
    previous_event_id integer NOT NULL,
    timestamp         double precision NOT NULL,
    type              text NOT NULL,
    details           text,
    PRIMARY KEY (execution_arn, id)
);

-- Identity ids are never reused: a stale worker's done_work must not delete a newer item.
CREATE TABLE work (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_arn text COLLATE "C" NOT NULL,
    kind          text NOT NULL,
    due_at        double precision NOT NULL,
    payload       text NOT NULL,
    lease_owner   text,
    lease_until   double precision,
    attempts      integer NOT NULL DEFAULT 0
);

-- Claiming walks due items oldest first; leased ones are few (what workers hold).
CREATE INDEX work_by_due ON work (due_at, id);
-- next_due's second half: when the held leases run out.
CREATE INDEX work_by_lease ON work (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX work_by_execution ON work (execution_arn);

-- Deployed functions with their code (the zip), so every worker machine can load them;
-- listed by name.
CREATE TABLE functions (
    name          text COLLATE "C" PRIMARY KEY,
    runtime       text NOT NULL,
    handler       text NOT NULL,
    code          bytea NOT NULL,
    code_sha256   text NOT NULL,
    code_size     bigint NOT NULL,
    timeout       integer NOT NULL,
    memory_size   integer NOT NULL,
    environment   text NOT NULL,
    role          text NOT NULL,
    description   text NOT NULL,
    created_at    double precision NOT NULL,
    last_modified double precision NOT NULL,
    revision_id   text NOT NULL,
    -- Lambda's ReservedConcurrentExecutions; NULL: none reserved (0008).
    reserved_concurrency integer
);

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

-- Every function invocation a Task made and what it printed, written by the step that records
-- the Task's outcome. `event_id` is the Task state's Entered event (the state visit; a retried
-- Task has one row per attempt in one visit), `scheduled_event_id` the attempt's Scheduled
-- event; both 0 when the Task ran where this history has no events (inside a Distributed
-- Map). Identity ids are never reused, so a link to one never shows another invocation.
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

-- ------------------------------------------------------------------ access control (0005)

-- An access key's secret is stored sealed (AES-GCM under the server key file, which lives
-- outside the database): SigV4 needs the secret itself to check a signature, so it cannot be
-- hashed, but a copy of the database alone does not let anyone sign requests.
CREATE TABLE access_keys (
    access_key_id text PRIMARY KEY,
    name          text NOT NULL,
    sealed_secret text NOT NULL,
    created_at    double precision NOT NULL,
    -- (scoped_keys migration) NULL: an administrator's key; else requests signed with it are authorised
    -- against this role's policies.
    role_arn      text,
    -- (scoped_keys migration) set on the keys the server makes for a function's workers.
    function_name text
);
CREATE INDEX access_keys_by_function ON access_keys (function_name);

-- Random values the servers and workers sharing this database must agree on (the task
-- token MAC key), created once by whichever process needs one first.
CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE iam_roles (
    name                 text PRIMARY KEY,
    arn                  text NOT NULL,
    role_id              text NOT NULL,
    path                 text NOT NULL,
    assume_role_policy   text NOT NULL,
    description          text NOT NULL,
    max_session_duration integer NOT NULL,
    created_at           double precision NOT NULL
);

CREATE TABLE iam_role_policies (
    role_name   text NOT NULL,
    policy_name text NOT NULL,
    document    text NOT NULL,
    PRIMARY KEY (role_name, policy_name)
);

CREATE TABLE iam_policies (
    arn         text PRIMARY KEY,
    name        text NOT NULL,
    policy_id   text NOT NULL,
    path        text NOT NULL,
    document    text NOT NULL,
    description text NOT NULL,
    created_at  double precision NOT NULL
);

-- Managed policies attached to roles; AWS managed policy ARNs (arn:aws:iam::aws:policy/...)
-- are built in and have no iam_policies row.
CREATE TABLE iam_attachments (
    role_name  text NOT NULL,
    policy_arn text NOT NULL,
    PRIMARY KEY (role_name, policy_arn)
);
CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_arn);

-- The console lists a function's most recent invocations.
CREATE INDEX invocations_by_function ON invocations (function_name, id);

-- (scoped_keys migration) A signed-in console browser; signing out deletes the row on every server node.
CREATE TABLE console_sessions (
    session_id    text PRIMARY KEY,
    access_key_id text NOT NULL,
    issued_at     double precision NOT NULL,
    expires_at    double precision NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
