-- Named queries for PostgreSQL (see queries.py for the format). Parameters are %(name)s.
-- Result columns carry the names of the record fields in base.py; _rows.py builds records
-- from them by name. Connections run in autocommit; writes open explicit transactions.

-- ------------------------------------------------------------------ pipelined transactions
-- Sent as plain statements in a pipeline (postgres.py, _pipelined_transaction).

-- name: begin
BEGIN;

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

-- ------------------------------------------------------------------ notifications

-- name: listen
LISTEN statewright_work;

-- name: notify_work
-- Sent inside the writing transaction: PostgreSQL delivers it at commit, or never.
NOTIFY statewright_work;

-- ------------------------------------------------------------------ migrations

-- name: lock_migrations
-- Serializes concurrent `statewright db migrate` runs until the transaction ends.
SELECT pg_advisory_xact_lock(7308327745628393472);

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    applied_at double precision NOT NULL
);

-- name: applied_migrations
SELECT version FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations (version, applied_at) VALUES (%(version)s, %(applied_at)s);

-- ------------------------------------------------------------------ state machines

-- name: insert_state_machine
INSERT INTO state_machines
    (arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config)
VALUES
    (%(arn)s, %(name)s, %(type)s, %(definition)s, %(role_arn)s, %(revision_id)s,
     %(created_at)s, %(updated_at)s, %(config)s);

-- name: update_state_machine
-- created_at stays: it is the machine's, not the revision's.
UPDATE state_machines
SET name = %(name)s, type = %(type)s, definition = %(definition)s, role_arn = %(role_arn)s,
    revision_id = %(revision_id)s, updated_at = %(updated_at)s, config = %(config)s
WHERE arn = %(arn)s;

-- name: save_revision
-- Copies the current row; a revision id names immutable content, so a repeat is a no-op.
INSERT INTO state_machine_revisions
    (arn, revision_id, name, type, definition, role_arn, created_at, updated_at, config)
SELECT arn, revision_id, name, type, definition, role_arn, created_at, updated_at, config
FROM state_machines
WHERE arn = %(arn)s
ON CONFLICT (arn, revision_id) DO NOTHING;

-- name: get_state_machine
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config
FROM state_machines
WHERE arn = %(arn)s;

-- name: get_state_machine_revision
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config
FROM state_machine_revisions
WHERE arn = %(arn)s AND revision_id = %(revision_id)s;

-- name: delete_state_machine
-- Revisions stay for the executions still running them.
DELETE FROM state_machines WHERE arn = %(arn)s;

-- name: list_state_machines
SELECT arn, name, type, definition, role_arn, revision_id, created_at, updated_at, config, seq
FROM state_machines
WHERE seq > %(after_seq)s
ORDER BY seq
LIMIT %(limit)s;

-- ------------------------------------------------------------------ tags

-- name: upsert_tag
INSERT INTO tags (resource_arn, key, value) VALUES (%(resource_arn)s, %(key)s, %(value)s)
ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value;

-- name: delete_tag
DELETE FROM tags WHERE resource_arn = %(resource_arn)s AND key = %(key)s;

-- name: delete_tags_of
DELETE FROM tags WHERE resource_arn = %(resource_arn)s;

-- name: get_tags
SELECT key, value FROM tags WHERE resource_arn = %(resource_arn)s ORDER BY key;

-- ------------------------------------------------------------------ executions

-- name: insert_execution
-- DO NOTHING on either unique key: the caller then reads the existing row.
INSERT INTO executions
    (arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
     output, error, cause, stop_date)
VALUES
    (%(arn)s, %(state_machine_arn)s, %(revision_id)s, %(name)s, %(status)s, %(input)s,
     %(start_date)s, %(version)s, %(cursor)s, %(output)s, %(error)s, %(cause)s,
     %(stop_date)s)
ON CONFLICT DO NOTHING;

-- name: get_execution
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE arn = %(arn)s;

-- name: get_execution_by_name
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = %(state_machine_arn)s AND name = %(name)s;

-- name: list_executions
-- Keyset paging on (start_date, arn), newest first; the first page starts at +infinity.
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = %(state_machine_arn)s
  AND (start_date, arn) < (%(before_date)s, %(before_arn)s)
ORDER BY start_date DESC, arn DESC
LIMIT %(limit)s;

-- name: list_executions_by_status
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = %(state_machine_arn)s AND status = %(status)s
  AND (start_date, arn) < (%(before_date)s, %(before_arn)s)
ORDER BY start_date DESC, arn DESC
LIMIT %(limit)s;

-- name: update_execution
-- The optimistic-concurrency check: zero rows changed means a conflict (or no such row).
UPDATE executions
SET status = %(status)s, cursor = %(cursor)s, output = %(output)s, error = %(error)s,
    cause = %(cause)s, stop_date = %(stop_date)s, version = version + 1
WHERE arn = %(arn)s AND version = %(expected_version)s;

-- name: get_execution_version
SELECT version FROM executions WHERE arn = %(arn)s;

-- ------------------------------------------------------------------ history

-- name: insert_event
INSERT INTO events (execution_arn, id, previous_event_id, timestamp, type, details)
VALUES (%(execution_arn)s, %(id)s, %(previous_event_id)s, %(timestamp)s, %(type)s,
        %(details)s);

-- name: history_forward
SELECT execution_arn, id, previous_event_id, timestamp, type, details
FROM events
WHERE execution_arn = %(execution_arn)s AND id > %(after_id)s
ORDER BY id
LIMIT %(limit)s;

-- name: history_reverse
SELECT execution_arn, id, previous_event_id, timestamp, type, details
FROM events
WHERE execution_arn = %(execution_arn)s AND id < %(before_id)s
ORDER BY id DESC
LIMIT %(limit)s;

-- ------------------------------------------------------------------ work

-- name: insert_work
INSERT INTO work (execution_arn, kind, due_at, payload, lease_owner, lease_until, attempts)
VALUES (%(execution_arn)s, %(kind)s, %(due_at)s, %(payload)s, %(lease_owner)s,
        %(lease_until)s, %(attempts)s)
RETURNING id;

-- name: delete_work
-- Scoped to the execution so a wrong id can never remove another execution's work.
DELETE FROM work WHERE execution_arn = %(execution_arn)s AND id = ANY(%(ids)s);

-- name: claim_work
-- SKIP LOCKED: concurrent claimers pass over each other's rows instead of queueing on them.
-- Under READ COMMITTED a row another claimer leased and committed is re-checked against the
-- WHERE clause before it is locked, so it is never leased twice.
WITH due AS (
    SELECT id FROM work
    WHERE due_at <= %(now)s AND (lease_until IS NULL OR lease_until <= %(now)s)
    ORDER BY due_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE work
SET lease_owner = %(owner)s, lease_until = %(lease_until)s, attempts = work.attempts + 1
FROM due
WHERE work.id = due.id
RETURNING work.id, work.execution_arn, work.kind, work.due_at, work.payload,
          work.lease_owner, work.lease_until, work.attempts;

-- name: renew_leases
UPDATE work SET lease_until = %(lease_until)s
WHERE lease_owner = %(owner)s AND id = ANY(%(ids)s);

-- name: release_work
UPDATE work
SET lease_owner = NULL, lease_until = NULL,
    due_at = COALESCE(%(due_at)s::double precision, due_at)
WHERE lease_owner = %(owner)s AND id = ANY(%(ids)s);

-- name: next_due
-- Two index-backed halves: the earliest unleased item, and the earliest lease to run out.
SELECT MIN(t) FROM (
    SELECT MIN(due_at) AS t FROM work WHERE lease_until IS NULL
    UNION ALL
    SELECT MIN(GREATEST(due_at, lease_until)) AS t FROM work WHERE lease_until IS NOT NULL
) AS halves;


-- ------------------------------------------------------------------ invocations

-- name: insert_invocation
-- Only inside apply, after its version check: an invocation is kept iff its step is.
INSERT INTO invocations (execution_arn, event_id, scheduled_event_id, state_name,
                         function_name, request_id, started_at, duration_ms, status,
                         error_type, logs)
VALUES (%(execution_arn)s, %(event_id)s, %(scheduled_event_id)s, %(state_name)s,
        %(function_name)s, %(request_id)s, %(started_at)s, %(duration_ms)s, %(status)s,
        %(error_type)s, %(logs)s);

-- name: list_invocations
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE execution_arn = %(execution_arn)s AND id > %(after_id)s
ORDER BY id
LIMIT %(limit)s;

-- name: get_invocation
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE id = %(id)s;

-- ------------------------------------------------------------------ activities

-- name: insert_activity
-- DO NOTHING on the ARN: CreateActivity is idempotent, the caller reads the stored row.
INSERT INTO activities (arn, name, created_at, config)
VALUES (%(arn)s, %(name)s, %(created_at)s, %(config)s)
ON CONFLICT (arn) DO NOTHING;

-- name: get_activity
SELECT arn, name, created_at, config FROM activities WHERE arn = %(arn)s;

-- name: list_activities
SELECT arn, name, created_at, config, seq
FROM activities
WHERE seq > %(after_seq)s
ORDER BY seq
LIMIT %(limit)s;

-- name: delete_activity
DELETE FROM activities WHERE arn = %(arn)s;

-- name: insert_activity_task
-- A token already queued stays queued once (a step redone after a lost lease submits again).
INSERT INTO activity_tasks (token, activity_arn, execution_arn, input, created_at)
VALUES (%(token)s, %(activity_arn)s, %(execution_arn)s, %(input)s, %(created_at)s)
ON CONFLICT (token) DO NOTHING;

-- name: delete_activity_tasks_of
DELETE FROM activity_tasks WHERE execution_arn = %(execution_arn)s;

-- name: activity_task_queued
-- A read before the claim: an idle poller checks without opening a write transaction.
SELECT EXISTS (SELECT 1 FROM activity_tasks WHERE activity_arn = %(activity_arn)s);

-- name: claim_activity_task
-- SKIP LOCKED: concurrent pollers pass over a row another poller is taking instead of
-- queueing on it; the row is deleted, so it goes to one poller only.
WITH next AS (
    SELECT id FROM activity_tasks
    WHERE activity_arn = %(activity_arn)s
    ORDER BY id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
DELETE FROM activity_tasks AS task
USING next
WHERE task.id = next.id
RETURNING task.token, task.activity_arn, task.execution_arn, task.input, task.created_at;

-- ------------------------------------------------------------------ functions

-- name: insert_function
INSERT INTO functions
    (name, runtime, handler, code, code_sha256, code_size, timeout, memory_size, environment,
     role, description, created_at, last_modified, revision_id)
VALUES
    (%(name)s, %(runtime)s, %(handler)s, %(code)s, %(code_sha256)s, %(code_size)s,
     %(timeout)s, %(memory_size)s, %(environment)s, %(role)s, %(description)s,
     %(created_at)s, %(last_modified)s, %(revision_id)s);

-- name: update_function
-- created_at stays; a NULL code keeps the stored package (a configuration-only update), and
-- a non-NULL expected_revision makes the update conditional (Lambda's RevisionId).
UPDATE functions
SET runtime = %(runtime)s, handler = %(handler)s, code = COALESCE(%(code)s::bytea, code),
    code_sha256 = %(code_sha256)s, code_size = %(code_size)s, timeout = %(timeout)s,
    memory_size = %(memory_size)s, environment = %(environment)s, role = %(role)s,
    description = %(description)s, last_modified = %(last_modified)s,
    revision_id = %(revision_id)s
WHERE name = %(name)s
  AND (%(expected_revision)s::text IS NULL OR revision_id = %(expected_revision)s::text);

-- name: get_function
SELECT name, runtime, handler, code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name = %(name)s;

-- name: get_function_without_code
-- The package is left unread: a revision check costs the same for 1 KB or 50 MB of code.
SELECT name, runtime, handler, NULL AS code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name = %(name)s;

-- name: list_functions
SELECT name, runtime, handler, NULL AS code, code_sha256, code_size, timeout, memory_size, environment,
       role, description, created_at, last_modified, revision_id, reserved_concurrency
FROM functions
WHERE name > %(after_name)s
ORDER BY name
LIMIT %(limit)s;

-- name: set_function_concurrency
-- Not a revision of the function (warm environments stay); NULL removes the reservation.
UPDATE functions SET reserved_concurrency = %(reserved_concurrency)s
WHERE name = %(name)s;

-- name: delete_function
DELETE FROM functions WHERE name = %(name)s;

-- ------------------------------------------------------------------ access keys (0005)

-- name: insert_access_key
INSERT INTO access_keys
    (access_key_id, name, sealed_secret, created_at, role_arn, function_name)
VALUES (%(access_key_id)s, %(name)s, %(sealed_secret)s, %(created_at)s, %(role_arn)s,
        %(function_name)s);

-- name: get_access_key
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys WHERE access_key_id = %(access_key_id)s;

-- name: list_access_keys
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys ORDER BY created_at, access_key_id;

-- name: any_access_key
-- The keys made for functions alone do not turn signature checks on.
SELECT EXISTS (SELECT 1 FROM access_keys WHERE function_name IS NULL);

-- name: delete_access_key
DELETE FROM access_keys WHERE access_key_id = %(access_key_id)s;

-- name: function_access_keys
SELECT access_key_id, name, sealed_secret, created_at, role_arn, function_name
FROM access_keys WHERE function_name = %(function_name)s ORDER BY created_at, access_key_id;

-- name: delete_function_access_keys
-- Keeps the keys bound to keep_role (two servers may each have made one at once).
DELETE FROM access_keys
WHERE function_name = %(function_name)s AND role_arn IS DISTINCT FROM %(keep_role)s;

-- name: insert_console_session
INSERT INTO console_sessions (session_id, access_key_id, issued_at, expires_at)
VALUES (%(session_id)s, %(access_key_id)s, %(issued_at)s, %(expires_at)s);

-- name: console_session_live
SELECT EXISTS (SELECT 1 FROM console_sessions
               WHERE session_id = %(session_id)s AND expires_at > %(now)s);

-- name: delete_console_session
DELETE FROM console_sessions WHERE session_id = %(session_id)s;

-- name: delete_expired_console_sessions
DELETE FROM console_sessions WHERE expires_at <= %(now)s;

-- name: insert_server_secret
-- The first process to need a secret creates it; the others read the one it stored.
INSERT INTO server_secrets (name, value) VALUES (%(name)s, %(value)s) ON CONFLICT (name) DO NOTHING;

-- name: get_server_secret
SELECT value FROM server_secrets WHERE name = %(name)s;

-- ------------------------------------------------------------------ IAM roles and policies (0005)

-- name: insert_role
INSERT INTO iam_roles
    (name, arn, role_id, path, assume_role_policy, description, max_session_duration,
     created_at)
VALUES
    (%(name)s, %(arn)s, %(role_id)s, %(path)s, %(assume_role_policy)s, %(description)s, %(max_session_duration)s,
     %(created_at)s);

-- name: get_role
SELECT name, arn, role_id, path, assume_role_policy, description, max_session_duration,
       created_at
FROM iam_roles WHERE name = %(name)s;

-- name: list_roles
SELECT name, arn, role_id, path, assume_role_policy, description, max_session_duration,
       created_at
FROM iam_roles ORDER BY name;

-- name: delete_role
-- AWS refuses to delete a role that still has policies (DeleteConflict); the condition makes
-- the check and the delete one statement.
DELETE FROM iam_roles
WHERE name = %(name)s
  AND NOT EXISTS (SELECT 1 FROM iam_role_policies WHERE role_name = %(name)s)
  AND NOT EXISTS (SELECT 1 FROM iam_attachments WHERE role_name = %(name)s);

-- name: update_assume_role_policy
UPDATE iam_roles SET assume_role_policy = %(assume_role_policy)s WHERE name = %(name)s;

-- name: upsert_role_policy
INSERT INTO iam_role_policies (role_name, policy_name, document)
VALUES (%(role_name)s, %(policy_name)s, %(document)s)
ON CONFLICT (role_name, policy_name) DO UPDATE SET document = excluded.document;

-- name: get_role_policy
SELECT document FROM iam_role_policies WHERE role_name = %(role_name)s AND policy_name = %(policy_name)s;

-- name: list_role_policies
SELECT policy_name, document FROM iam_role_policies WHERE role_name = %(role_name)s
ORDER BY policy_name;

-- name: delete_role_policy
DELETE FROM iam_role_policies WHERE role_name = %(role_name)s AND policy_name = %(policy_name)s;

-- name: insert_policy
INSERT INTO iam_policies (arn, name, policy_id, path, document, description, created_at)
VALUES (%(arn)s, %(name)s, %(policy_id)s, %(path)s, %(document)s, %(description)s, %(created_at)s);

-- name: get_policy
SELECT arn, name, policy_id, path, document, description, created_at
FROM iam_policies WHERE arn = %(arn)s;

-- name: list_policies
SELECT arn, name, policy_id, path, document, description, created_at
FROM iam_policies ORDER BY name;

-- name: delete_policy
-- AWS refuses to delete a policy still attached (DeleteConflict).
DELETE FROM iam_policies
WHERE arn = %(arn)s AND NOT EXISTS (SELECT 1 FROM iam_attachments WHERE policy_arn = %(arn)s);

-- name: attach_policy
INSERT INTO iam_attachments (role_name, policy_arn) VALUES (%(role_name)s, %(policy_arn)s)
ON CONFLICT (role_name, policy_arn) DO NOTHING;

-- name: detach_policy
DELETE FROM iam_attachments WHERE role_name = %(role_name)s AND policy_arn = %(policy_arn)s;

-- name: list_attached_policies
SELECT policy_arn FROM iam_attachments WHERE role_name = %(role_name)s ORDER BY policy_arn;

-- name: count_policy_attachments
SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = %(arn)s;

-- ------------------------------------------------------------------ console reads

-- name: count_executions
SELECT status, COUNT(*) FROM executions
WHERE state_machine_arn = %(state_machine_arn)s
GROUP BY status;

-- name: search_executions
-- list_executions with an optional status and a name substring (the console's search box).
SELECT arn, state_machine_arn, revision_id, name, status, input, start_date, version, cursor,
       output, error, cause, stop_date
FROM executions
WHERE state_machine_arn = %(state_machine_arn)s
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND strpos(name, %(name)s) > 0
  AND (start_date, arn) < (%(before_date)s, %(before_arn)s)
ORDER BY start_date DESC, arn DESC
LIMIT %(limit)s;

-- name: list_function_invocations
SELECT id, execution_arn, event_id, scheduled_event_id, state_name, function_name,
       request_id, started_at, duration_ms, status, error_type, logs
FROM invocations
WHERE function_name = %(function_name)s
ORDER BY id DESC
LIMIT %(limit)s;
