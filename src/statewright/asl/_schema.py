"""The shape of ASL as AWS accepts it: which fields each state type allows, per query language.

Private to ``validate``. Every table is built here, once, from the few groups of fields the States
Language shares between types, so a new field is added in exactly one place.
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["JSONPath", "JSONata"]

JSONPATH: Final = "JSONPath"
JSONATA: Final = "JSONata"
LANGUAGES: Final = (JSONPATH, JSONATA)

#: In the order AWS lists them in its "should have one of these values" message.
STATE_TYPES: Final = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")

TOP_LEVEL_FIELDS: Final = frozenset(
    {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
)
#: A Parallel branch or a Map's ItemProcessor/Iterator: a sub-machine, not a state, so it takes no
#: QueryLanguage of its own (floci-io/floci#2786 measured "Field 'QueryLanguage' is not supported").
BRANCH_FIELDS: Final = frozenset({"Comment", "StartAt", "States"})
PROCESSOR_FIELDS: Final = BRANCH_FIELDS | {"ProcessorConfig"}
PROCESSOR_CONFIG_FIELDS: Final = frozenset({"Mode", "ExecutionType"})
PROCESSOR_MODES: Final = ("INLINE", "DISTRIBUTED")
EXECUTION_TYPES: Final = ("STANDARD", "EXPRESS")
JITTER_STRATEGIES: Final = ("FULL", "NONE")

#: Types that end the run themselves and so carry neither Next nor End (Choice always moves on).
NO_TRANSITION_TYPES: Final = frozenset({"Choice", "Succeed", "Fail"})
#: Types whose work can fail with a retriable error.
ERROR_HANDLING_TYPES: Final = frozenset({"Task", "Parallel", "Map"})

_BASE = frozenset({"Type", "Comment", "QueryLanguage"})
_TRANSITION = frozenset({"Next", "End"})
_PATH_IO = frozenset({"InputPath", "OutputPath"})
_PATH_RESULT = frozenset({"Parameters", "ResultSelector", "ResultPath"})
_ERRORS = frozenset({"Retry", "Catch"})
_ASSIGN = frozenset({"Assign"})
_OUTPUT = frozenset({"Output"})
_TASK_COMMON = frozenset({"Resource", "TimeoutSeconds", "HeartbeatSeconds", "Credentials"})
_MAP_COMMON = frozenset(
    {
        "ItemProcessor",
        "Iterator",
        "ItemSelector",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "ToleratedFailurePercentage",
        "ToleratedFailureCount",
        "Label",
    }
)
_MAP_PATHS = frozenset(
    {
        "ItemsPath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
    }
)

#: (state type, query language) -> every field such a state may carry.
ALLOWED_FIELDS: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("Pass", JSONPATH): _BASE
    | _TRANSITION
    | _PATH_IO
    | _ASSIGN
    | {"Parameters", "Result", "ResultPath"},
    ("Pass", JSONATA): _BASE | _TRANSITION | _OUTPUT | _ASSIGN,
    ("Task", JSONPATH): _BASE
    | _TRANSITION
    | _PATH_IO
    | _PATH_RESULT
    | _ASSIGN
    | _ERRORS
    | _TASK_COMMON
    | {"TimeoutSecondsPath", "HeartbeatSecondsPath"},
    ("Task", JSONATA): _BASE
    | _TRANSITION
    | _OUTPUT
    | _ASSIGN
    | _ERRORS
    | _TASK_COMMON
    | {"Arguments"},
    ("Choice", JSONPATH): _BASE | _PATH_IO | _ASSIGN | {"Choices", "Default"},
    ("Choice", JSONATA): _BASE | _OUTPUT | _ASSIGN | {"Choices", "Default"},
    ("Wait", JSONPATH): _BASE
    | _TRANSITION
    | _PATH_IO
    | _ASSIGN
    | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    ("Wait", JSONATA): _BASE | _TRANSITION | _OUTPUT | _ASSIGN | {"Seconds", "Timestamp"},
    ("Succeed", JSONPATH): _BASE | _PATH_IO,
    ("Succeed", JSONATA): _BASE | _OUTPUT,
    ("Fail", JSONPATH): _BASE | {"Error", "ErrorPath", "Cause", "CausePath"},
    ("Fail", JSONATA): _BASE | {"Error", "Cause"},
    ("Parallel", JSONPATH): _BASE
    | _TRANSITION
    | _PATH_IO
    | _PATH_RESULT
    | _ASSIGN
    | _ERRORS
    | {"Branches"},
    ("Parallel", JSONATA): _BASE
    | _TRANSITION
    | _OUTPUT
    | _ASSIGN
    | _ERRORS
    | {"Branches", "Arguments"},
    ("Map", JSONPATH): _BASE
    | _TRANSITION
    | _PATH_IO
    | _PATH_RESULT
    | _ASSIGN
    | _ERRORS
    | _MAP_COMMON
    | _MAP_PATHS,
    ("Map", JSONATA): _BASE | _TRANSITION | _OUTPUT | _ASSIGN | _ERRORS | _MAP_COMMON | {"Items"},
}

RETRIER_FIELDS: Final = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
CATCHER_FIELDS: Final[dict[str, frozenset[str]]] = {
    JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}

# Choice rules (JSONPath): the operand each comparison takes. "*Path" variants take a Path.
BOOLEAN: Final = "boolean"
NUMBER: Final = "number"
STRING: Final = "string"
TIMESTAMP: Final = "timestamp"
PATH: Final = "path"


def _comparators() -> dict[str, str]:
    operand = {"String": STRING, "Numeric": NUMBER, "Timestamp": TIMESTAMP}
    table: dict[str, str] = {"BooleanEquals": BOOLEAN, "BooleanEqualsPath": PATH}
    for family, kind in operand.items():
        for relation in (
            "Equals",
            "LessThan",
            "GreaterThan",
            "LessThanEquals",
            "GreaterThanEquals",
        ):
            table[family + relation] = kind
            table[family + relation + "Path"] = PATH
    table["StringMatches"] = STRING
    for test in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        table[test] = BOOLEAN
    return table


#: Every data-test operator of a JSONPath Choice rule -> the kind of operand it takes.
COMPARATORS: Final[dict[str, str]] = _comparators()
LOGICAL_OPERATORS: Final = frozenset({"And", "Or", "Not"})
#: Fields of a JSONPath rule; Next and Assign only on a top-level rule (checked apart).
JSONPATH_RULE_FIELDS: Final = (
    frozenset(COMPARATORS) | LOGICAL_OPERATORS | {"Variable", "Next", "Assign", "Comment"}
)
JSONATA_RULE_FIELDS: Final = frozenset({"Condition", "Next", "Assign", "Output", "Comment"})

#: Error names Step Functions defines; any other ``States.`` name is reserved (States Language
#: spec, "Errors"). HTTP Task errors are a family (``States.Http.StatusCode.404``), hence a prefix.
PREDEFINED_ERRORS: Final = frozenset(
    {
        "States.ALL",
        "States.DataLimitExceeded",
        "States.Runtime",
        "States.Timeout",
        "States.HeartbeatTimeout",
        "States.TaskFailed",
        "States.Permissions",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.BranchFailed",
        "States.NoChoiceMatched",
        "States.IntrinsicFailure",
        "States.ExceedToleratedFailureThreshold",
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
        "States.QueryEvaluationError",
    }
)
PREDEFINED_ERROR_PREFIXES: Final = ("States.Http.",)

MAX_NAME_LENGTH: Final = 80
MAX_LABEL_LENGTH: Final = 40
#: Upper bound of every "seconds"/"attempts" integer in AWS's ASL JSON schema.
MAX_SECONDS: Final = 99_999_999
MAX_DELAY_SECONDS: Final = 31_622_400
#: Nesting guard: Parallel/Map sub-machines and Choice rule trees deeper than this are refused
#: (TOO_DEEPLY_NESTED) instead of exhausting Python's stack.
MAX_DEPTH: Final = 64
