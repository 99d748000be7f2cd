-- 0005: access control (issue 12): API access keys, server secrets, and the IAM subset
-- (roles with inline and attached policies, customer managed policies).

-- An access key's secret is stored sealed (AES-GCM under the server key file, which lives
-- outside the database): SigV4 needs the secret itself to check a signature, so it cannot be
-- hashed, but a copy of the database alone does not let anyone sign requests.
CREATE TABLE access_keys (
    access_key_id text PRIMARY KEY,
    name          text NOT NULL,
    sealed_secret text NOT NULL,
    created_at    double precision NOT NULL
);

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
