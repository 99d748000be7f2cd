-- 0005: access control (issue 12): API access keys, server secrets, and the IAM subset
-- (roles with inline and attached policies, customer managed policies).

-- An access key's secret is stored sealed (AES-GCM under the server key file, which lives
-- outside the database): SigV4 needs the secret itself to check a signature, so it cannot be
-- hashed, but a copy of the database alone does not let anyone sign requests.
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at    REAL NOT NULL
);

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
