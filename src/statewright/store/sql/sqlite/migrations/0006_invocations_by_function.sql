-- 0006: the console's function page lists a function's most recent invocations (issue 7).
CREATE INDEX invocations_by_function ON invocations (function_name, id);
