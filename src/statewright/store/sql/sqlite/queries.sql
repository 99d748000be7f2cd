-- Named queries for SQLite (see queries.py for the format). Parameters are :name.
-- Result columns carry the names of the record fields in base.py; _rows.py builds records
-- from them by name.

-- ------------------------------------------------------------------ connections, transactions

-- name: enable_wal
PRAGMA journal_mode = WAL;

-- name: configure_connection
-- NORMAL is durable in WAL mode except for the last transactions before a power cut (never
-- corrupting); it spares an fsync per commit, which is most of the cost of a step.
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = OFF;
PRAGMA temp_store = MEMORY;

-- name: configure_reader
PRAGMA query_only = ON;

-- name: begin_write
-- IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
-- one failing with SQLITE_BUSY halfway through its transaction.
BEGIN IMMEDIATE;

-- name: commit
COMMIT;

-- name: rollback
ROLLBACK;

-- name: savepoint
SAVEPOINT apply_item;

-- name: release_savepoint
RELEASE SAVEPOINT apply_item;

-- name: rollback_to_savepoint
ROLLBACK TO SAVEPOINT apply_item;

-- ------------------------------------------------------------------ migrations

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at REAL NOT NULL
);

-- name: applied_migrations
SELECT version FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations (version, applied_at) VALUES (:version, :applied_at);

-- ------------------------------------------------------------------ state machines

-- name: insert_state_machine
INSERT INTO state_machines
    (arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config)
VALUES
    (:arn, :name, :type, :definition, :role_arn, :revision_id, :created_at, :updated_at,
     :config);

-- name: update_state_machine
-- created_at stays: it is the machine's, not the revision's.
UPDATE state_machines
SET name = :name, type = :type, definition = :definition, role_arn = :role_arn,
    revision_id = :revision_id, updated_at = :updated_at, config = :config
WHERE arn = :arn;

-- name: save_revision
-- Copies the current row; a revision id names immutable content, so a repeat is a no-op.
INSERT INTO state_machine_revisions
    (arn, revision_id, name, type, definition, role_arn, created_at, updated_at, config)
SELECT arn, revision_id, name, type, definition, role_arn, created_at, updated_at, config
FROM state_machines
WHERE arn = :arn
ON CONFLICT (arn, revision_id) DO NOTHING;

-- name: get_state_machine
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config
FROM state_machines
WHERE arn = :arn;

-- name: get_state_machine_revision
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config
FROM state_machine_revisions
WHERE arn = :arn AND revision_id = :revision_id;

-- name: delete_state_machine
-- Revisions stay for the executions still running them.
DELETE FROM state_machines WHERE arn = :arn;

-- name: list_state_machines
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config, seq
FROM state_machines
WHERE seq > :after_seq
ORDER BY seq
LIMIT :limit;

-- ------------------------------------------------------------------ tags

-- name: upsert_tag
INSERT INTO tags (resource_arn, key, value) VALUES (:resource_arn, :key, :value)
ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value;

-- name: delete_tag
DELETE FROM tags WHERE resource_arn = :resource_arn AND key = :key;

-- name: delete_tags_of
DELETE FROM tags WHERE resource_arn = :resource_arn;

-- name: get_tags
SELECT key, value FROM tags WHERE resource_arn = :resource_arn ORDER BY key;

-- ------------------------------------------------------------------ executions

-- name: insert_execution
-- DO NOTHING on either unique key: the caller then reads the existing row.
INSERT INTO executions
    (arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
     output, error, cause, stop_date)
VALUES
    (:arn, :state_machine_arn, :revision_id, :name, :status, :input, :start_date, :version,
     :cursor, :output, :error, :cause, :stop_date)
ON CONFLICT DO NOTHING;

-- name: get_execution
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE arn = :arn;

-- name: get_execution_by_name
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = :state_machine_arn AND name = :name;

-- name: list_executions
-- Keyset paging on (start_date, arn), newest first; the first page starts at +infinity.
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = :state_machine_arn
  AND (start_date, arn) < (:before_date, :before_arn)
ORDER BY start_date DESC, arn DESC
LIMIT :limit;

-- name: list_executions_by_status
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = :state_machine_arn AND status = :status
  AND (start_date, arn) < (:before_date, :before_arn)
ORDER BY start_date DESC, arn DESC
LIMIT :limit;

-- name: update_execution
-- The optimistic-concurrency check: zero rows changed means a conflict (or no such row).
UPDATE executions
SET status = :status, cursor = :cursor, output = :output, error = :error, cause = :cause,
    stop_date = :stop_date, version = version + 1
WHERE arn = :arn AND version = :expected_version;

-- name: get_execution_version
SELECT version FROM executions WHERE arn = :arn;

-- ------------------------------------------------------------------ history

-- name: insert_event
INSERT INTO events (execution_arn, id, previous_event_id, timestamp, type, details)
VALUES (:execution_arn, :id, :previous_event_id, :timestamp, :type, :details);

-- name: history_forward
SELECT execution_arn, id, previous_event_id, timestamp, type, details
FROM events
WHERE execution_arn = :execution_arn AND id > :after_id
ORDER BY id
LIMIT :limit;

-- name: history_reverse
SELECT execution_arn, id, previous_event_id, timestamp, type, details
FROM events
WHERE execution_arn = :execution_arn AND id < :before_id
ORDER BY id DESC
LIMIT :limit;

-- ------------------------------------------------------------------ work

-- name: insert_work
INSERT INTO work (execution_arn, kind, due_at, payload, lease_owner, lease_until, attempts)
VALUES (:execution_arn, :kind, :due_at, :payload, :lease_owner, :lease_until, :attempts)
RETURNING id;

-- name: delete_work
-- Scoped to the execution so a wrong id can never remove another execution's work.
-- :ids is a JSON array: one statement for any number of ids.
DELETE FROM work
WHERE execution_arn = :execution_arn AND id IN (SELECT value FROM json_each(:ids));

-- name: claim_work
-- Runs inside BEGIN IMMEDIATE, so no other writer can claim between the SELECT and the
-- UPDATE. RETURNING order is unspecified; the caller sorts.
UPDATE work
SET lease_owner = :owner, lease_until = :lease_until, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM work
    WHERE due_at <= :now AND (lease_until IS NULL OR lease_until <= :now)
    ORDER BY due_at, id
    LIMIT :limit
)
RETURNING id, execution_arn, kind, due_at, payload, lease_owner, lease_until, attempts;

-- name: renew_leases
UPDATE work SET lease_until = :lease_until
WHERE lease_owner = :owner AND id IN (SELECT value FROM json_each(:ids));

-- name: release_work
UPDATE work SET lease_owner = NULL, lease_until = NULL, due_at = COALESCE(:due_at, due_at)
WHERE lease_owner = :owner AND id IN (SELECT value FROM json_each(:ids));

-- name: next_due
-- Two index-backed halves: the earliest unleased item, and the earliest lease to run out.
SELECT MIN(t) FROM (
    SELECT MIN(due_at) AS t FROM work WHERE lease_until IS NULL
    UNION ALL
    SELECT MIN(MAX(due_at, lease_until)) AS t FROM work WHERE lease_until IS NOT NULL
);

-- ------------------------------------------------------------------ invocations

-- name: insert_invocation
-- Only inside apply, after its version check: an invocation is kept iff its step is.
INSERT INTO invocations (execution_arn, event_id, scheduled_event_id, state_name,
                         function_name, request_id, started_at, duration_ms, status,
                         error_type, logs)
VALUES (:execution_arn, :event_id, :scheduled_event_id, :state_name, :function_name,
        :request_id, :started_at, :duration_ms, :status, :error_type, :logs);

-- name: list_invocations
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE execution_arn = :execution_arn AND id > :after_id
ORDER BY id
LIMIT :limit;

-- name: get_invocation
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE id = :id;

-- ------------------------------------------------------------------ activities

-- name: insert_activity
-- DO NOTHING on the ARN: CreateActivity is idempotent, the caller reads the stored row.
INSERT INTO activities (arn, name, created_at, config)
VALUES (:arn, :name, :created_at, :config)
ON CONFLICT (arn) DO NOTHING;

-- name: get_activity
SELECT arn, name, created_at, config FROM activities WHERE arn = :arn;

-- name: list_activities
SELECT arn, name, created_at, config, seq
FROM activities
WHERE seq > :after_seq
ORDER BY seq
LIMIT :limit;

-- name: delete_activity
DELETE FROM activities WHERE arn = :arn;

-- name: insert_activity_task
-- A token already queued stays queued once (a step redone after a lost lease submits again).
INSERT INTO activity_tasks (token, activity_arn, execution_arn, input, created_at)
VALUES (:token, :activity_arn, :execution_arn, :input, :created_at)
ON CONFLICT (token) DO NOTHING;

-- name: delete_activity_tasks_of
DELETE FROM activity_tasks WHERE execution_arn = :execution_arn;

-- name: activity_task_queued
-- A read before the claim: an idle poller checks without taking the write lock.
SELECT EXISTS (SELECT 1 FROM activity_tasks WHERE activity_arn = :activity_arn);

-- name: claim_activity_task
-- Runs inside BEGIN IMMEDIATE, so two pollers never take the same row.
DELETE FROM activity_tasks
WHERE id = (
    SELECT id FROM activity_tasks WHERE activity_arn = :activity_arn ORDER BY id LIMIT 1
)
RETURNING token, activity_arn, execution_arn, input, created_at;

-- ------------------------------------------------------------------ functions

-- name: insert_function
INSERT INTO functions
    (name, runtime, handler, code, code_sha256, code_size, timeout, memory_size, environment,
     role, description, created_at, last_modified, revision_id)
VALUES
    (:name, :runtime, :handler, :code, :code_sha256, :code_size, :timeout, :memory_size,
     :environment, :role, :description, :created_at, :last_modified, :revision_id);

-- name: update_function
-- created_at stays; a NULL :code keeps the stored package (a configuration-only update), and
-- a non-NULL :expected_revision makes the update conditional (Lambda's RevisionId).
UPDATE functions
SET runtime = :runtime, handler = :handler, code = COALESCE(:code, code),
    code_sha256 = :code_sha256, code_size = :code_size, timeout = :timeout,
    memory_size = :memory_size, environment = :environment, role = :role,
    description = :description, last_modified = :last_modified, revision_id = :revision_id
WHERE name = :name AND (:expected_revision IS NULL OR revision_id = :expected_revision);

-- name: get_function
SELECT name, runtime, handler, code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name = :name;

-- name: get_function_without_code
-- The package is left unread: a revision check costs the same for 1 KB or 50 MB of code.
SELECT name, runtime, handler, NULL AS code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name = :name;

-- name: list_functions
SELECT name, runtime, handler, NULL AS code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name > :after_name
ORDER BY name
LIMIT :limit;

-- name: set_function_concurrency
-- Not a revision of the function (warm environments stay); NULL removes the reservation.
UPDATE functions SET reserved_concurrency = :reserved_concurrency
WHERE name = :name;

-- name: delete_function
DELETE FROM functions WHERE name = :name;

-- ------------------------------------------------------------------ access keys (0005)

-- name: insert_access_key
INSERT INTO access_keys
    (access_key_id, name, sealed_secret, created_at, role_arn, function_name)
VALUES (:access_key_id, :name, :sealed_secret, :created_at, :role_arn,
        :function_name);

-- name: get_access_key
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys WHERE access_key_id = :access_key_id;

-- name: list_access_keys
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys ORDER BY created_at, access_key_id;

-- name: any_access_key
-- The keys made for functions alone do not turn signature checks on.
SELECT EXISTS (SELECT 1 FROM access_keys WHERE function_name IS NULL);

-- name: delete_access_key
DELETE FROM access_keys WHERE access_key_id = :access_key_id;

-- name: function_access_keys
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys WHERE function_name = :function_name ORDER BY created_at, access_key_id;

-- name: delete_function_access_keys
-- Keeps the keys bound to :keep_role (two servers may each have made one at once).
DELETE FROM access_keys
WHERE function_name = :function_name AND role_arn IS NOT :keep_role;

-- name: insert_console_session
INSERT INTO console_sessions (session_id, access_key_id, issued_at, expires_at)
VALUES (:session_id, :access_key_id, :issued_at, :expires_at);

-- name: console_session_live
SELECT EXISTS (SELECT 1 FROM console_sessions
               WHERE session_id = :session_id AND expires_at > :now);

-- name: delete_console_session
DELETE FROM console_sessions WHERE session_id = :session_id;

-- name: delete_expired_console_sessions
DELETE FROM console_sessions WHERE expires_at <= :now;

-- name: insert_server_secret
-- The first process to need a secret creates it; the others read the one it stored.
INSERT INTO server_secrets (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING;

-- name: get_server_secret
SELECT value FROM server_secrets WHERE name = :name;

-- ------------------------------------------------------------------ IAM roles and policies (0005)

-- name: insert_role
INSERT INTO iam_roles
    (name, arn, role_id, path, assume_role_policy, description, max_session_duration,
     created_at)
VALUES
    (:name, :arn, :role_id, :path, :assume_role_policy, :description, :max_session_duration,
     :created_at);

-- name: get_role
SELECT name, arn, role_id, path, assume_role_policy, description, max_session_duration,
       created_at
FROM iam_roles WHERE name = :name;

-- name: list_roles
SELECT name, arn, role_id, path, assume_role_policy, description, max_session_duration,
       created_at
FROM iam_roles ORDER BY name;

-- name: delete_role
-- AWS refuses to delete a role that still has policies (DeleteConflict); the condition makes
-- the check and the delete one statement.
DELETE FROM iam_roles
WHERE name = :name
  AND NOT EXISTS (SELECT 1 FROM iam_role_policies WHERE role_name = :name)
  AND NOT EXISTS (SELECT 1 FROM iam_attachments WHERE role_name = :name);

-- name: update_assume_role_policy
UPDATE iam_roles SET assume_role_policy = :assume_role_policy WHERE name = :name;

-- name: upsert_role_policy
INSERT INTO iam_role_policies (role_name, policy_name, document)
VALUES (:role_name, :policy_name, :document)
ON CONFLICT (role_name, policy_name) DO UPDATE SET document = excluded.document;

-- name: get_role_policy
SELECT document FROM iam_role_policies WHERE role_name = :role_name AND policy_name = :policy_name;

-- name: list_role_policies
SELECT policy_name, document FROM iam_role_policies WHERE role_name = :role_name
ORDER BY policy_name;

-- name: delete_role_policy
DELETE FROM iam_role_policies WHERE role_name = :role_name AND policy_name = :policy_name;

-- name: insert_policy
INSERT INTO iam_policies (arn, name, policy_id, path, document, description, created_at)
VALUES (:arn, :name, :policy_id, :path, :document, :description, :created_at);

-- name: get_policy
SELECT arn, name, policy_id, path, document, description, created_at
FROM iam_policies WHERE arn = :arn;

-- name: list_policies
SELECT arn, name, policy_id, path, document, description, created_at
FROM iam_policies ORDER BY name;

-- name: delete_policy
-- AWS refuses to delete a policy still attached (DeleteConflict).
DELETE FROM iam_policies
WHERE arn = :arn AND NOT EXISTS (SELECT 1 FROM iam_attachments WHERE policy_arn = :arn);

-- name: attach_policy
INSERT INTO iam_attachments (role_name, policy_arn) VALUES (:role_name, :policy_arn)
ON CONFLICT (role_name, policy_arn) DO NOTHING;

-- name: detach_policy
DELETE FROM iam_attachments WHERE role_name = :role_name AND policy_arn = :policy_arn;

-- name: list_attached_policies
SELECT policy_arn FROM iam_attachments WHERE role_name = :role_name ORDER BY policy_arn;

-- name: count_policy_attachments
SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = :arn;

-- ------------------------------------------------------------------ console reads

-- name: count_executions
SELECT status, COUNT(*) FROM executions
WHERE state_machine_arn = :state_machine_arn
GROUP BY status;

-- name: search_executions
-- list_executions with an optional status and a name substring (the console's search box).
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = :state_machine_arn
  AND (:status IS NULL OR status = :status)
  AND instr(name, :name) > 0
  AND (start_date, arn) < (:before_date, :before_arn)
ORDER BY start_date DESC, arn DESC
LIMIT :limit;

-- name: list_function_invocations
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE function_name = :function_name
ORDER BY id DESC
LIMIT :limit;
