-- 0008: a function's reserved concurrency (Lambda's PutFunctionConcurrency), read by every
-- worker that runs it; NULL: none reserved (issue 9).
ALTER TABLE functions ADD COLUMN reserved_concurrency integer;
