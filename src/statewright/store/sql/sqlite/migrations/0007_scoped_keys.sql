-- scoped_keys (issue 12): access keys bound to an IAM role, the keys the server makes
-- for each function's workers, and console sessions every server node sees.

-- NULL: an administrator's key (every operation); else requests signed with the key are
-- authorised against this role's policies, as AWS authorises an assumed role's session.
ALTER TABLE access_keys ADD COLUMN role_arn TEXT;
-- Set on the keys the server makes for a function's workers (bound to its execution role,
-- used with a session token); those keys alone do not turn signature checks on.
ALTER TABLE access_keys ADD COLUMN function_name TEXT;
CREATE INDEX access_keys_by_function ON access_keys (function_name);
-- The one key every function shared before (an administrator's key, unscoped): each function
-- now gets its own, bound to its role, when its next worker starts.
DELETE FROM access_keys WHERE name = 'statewright-functions' AND function_name IS NULL;

-- A signed-in console browser. Signing out deletes the row: the session ends on every
-- server of the database at its next request.
CREATE TABLE console_sessions (
    session_id    TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL,
    issued_at     REAL NOT NULL,
    expires_at    REAL NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
