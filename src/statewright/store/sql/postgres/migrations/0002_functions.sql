-- 0002: functions deployed through the Lambda API, the CLI or a --functions folder. The code
-- (the zip) lives in the database so that every worker, on any machine, can load it.

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
    revision_id   text NOT NULL
);
