-- 0002: functions deployed through the Lambda API, the CLI or a --functions folder. The code
-- (the zip) lives in the database so that every worker, on any machine, can load it.

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
    revision_id   TEXT NOT NULL
);
