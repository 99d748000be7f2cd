"""Static checks of a definition: every fault at once, each with AWS's code and location.

INTERFACE (fixed; other modules rely on it):

- ``validate(definition: Any) -> list[DefinitionError]``: ``definition`` is the decoded JSON
  (any value; a non-object is a fault). Returns [] when the definition is valid. Never raises
  for bad input.

One walk over the definition, linear in its size. Locations follow AWS: ``/StartAt``,
``/States/<name>/<field>``, array members as ``Catch[0]`` (not ``Catch/0``), nested machines as
``/States/P/Branches[0]/States/<name>``; the whole definition is ``/``, and a fault of no place
(``MISSING_END_STATE``) has the empty location, which AWS renders ``at null``.

Where each message comes from is marked on it: [AWS] seen verbatim in AWS responses (recorded
snapshots, error reports), [floci] measured against AWS by floci-io/floci, [ours] AWS's wording
is unknown and this one is written in its style. AWS itself warns that the wording may change.

This module is the walk over machines and states; the checks of single fields, and the messages,
are in ``_validate_fields``.
"""

from __future__ import annotations

from typing import Any

from statewright.asl import _schema as schema
from statewright.asl._schema import JSONATA, JSONPATH, Language
from statewright.asl._validate_fields import (
    ARRAY,
    BAD_TIMESTAMP,
    BOOLEAN,
    NUMBER,
    OBJECT,
    PATH_OR_INTRINSIC,
    SCHEMA_VALIDATION_FAILED,
    STRING,
    FieldChecker,
    expected,
    invalid_path,
    is_int,
    is_jsonata,
    is_number,
    is_timestamp,
    not_supported,
    one_of,
    one_required,
    only_one,
    required,
)
from statewright.asl.errors import DefinitionError

__all__ = [
    "DUPLICATE_LABEL_NAME",
    "DUPLICATE_STATE_NAME",
    "INVALID_LABEL_NAME",
    "INVALID_STATE_NAME",
    "MISSING_END_STATE",
    "MISSING_TRANSITION_TARGET",
    "SCHEMA_VALIDATION_FAILED",
    "TOO_DEEPLY_NESTED",
    "validate",
]

# The codes of ValidateStateMachineDefinitionDiagnostic (AWS API reference) that a definition
# alone can produce; SCHEMA_VALIDATION_FAILED, the code of a bad field, comes with the field checks.
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE = "MISSING_END_STATE"
DUPLICATE_STATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
DUPLICATE_LABEL_NAME = "DUPLICATE_LABEL_NAME"
INVALID_LABEL_NAME = "INVALID_LABEL_NAME"
TOO_DEEPLY_NESTED = "TOO_DEEPLY_NESTED"

_LABEL_FORBIDDEN = frozenset(' \t\n\r<>{}[]?*"#%\\^|~`$&,;:/')


# --- value tests -------------------------------------------------------------------------


def _is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (
        state.get("Type") in ("Succeed", "Fail") or state.get("End") is True
    )


def validate(definition: Any) -> list[DefinitionError]:
    """Every fault of ``definition`` (decoded JSON), in document order; [] when it is valid."""
    if not isinstance(definition, dict):
        # [AWS] ValidateStateMachineDefinition's answer for a JSON string that is not an object.
        message = "Definition must be a valid JSON object"
        return [DefinitionError(SCHEMA_VALIDATION_FAILED, message, "")]
    language = definition.get("QueryLanguage")
    checker = _Checker(JSONATA if language == JSONATA else JSONPATH)
    checker.machine(definition, "", schema.TOP_LEVEL_FIELDS, depth=0)
    return checker.errors


class _Checker(FieldChecker):
    """One validation run: the walk over machines and states, and the names seen across all
    scopes. The checks of single fields come from ``FieldChecker``."""

    def __init__(self, top_language: Language) -> None:
        super().__init__()
        self.top_language: Language = top_language
        # State names and Map labels must be unique in the whole definition, branches included.
        self.state_names: set[str] = set()
        self.labels: set[str] = set()

    # --- machines and the transition graph -----------------------------------------------

    def machine(self, obj: dict[str, Any], loc: str, allowed: frozenset[str], depth: int) -> None:
        """The top level, a Parallel branch or a Map's ItemProcessor: StartAt + States."""
        top = loc == ""
        self.unknown_fields(obj, loc or "/", allowed)
        # [AWS] the recorded answer for {} lists them in this order.
        missing = [field for field in ("States", "StartAt") if field not in obj]
        if missing:
            self.fail(required(missing), loc or "/")
        start = obj.get("StartAt")
        if "StartAt" in obj and not isinstance(start, str):
            self.fail(expected(STRING), f"{loc}/StartAt")
        self.optional(obj, "Comment", loc, str, STRING)
        if top:
            self.top_level(obj)
        states = obj.get("States")
        if "States" in obj and not isinstance(states, dict):
            self.fail(expected(OBJECT), f"{loc}/States")
        if not isinstance(states, dict):
            return
        targets: list[tuple[str, str]] = []  # (state named, location of the field naming it)
        for name, state in states.items():
            state_loc = f"{loc}/States/{name}"
            self.state_name(name, state_loc)
            self.state(state, state_loc, depth, targets)
        self.graph(states, start if isinstance(start, str) else None, loc, targets, top)

    def top_level(self, obj: dict[str, Any]) -> None:
        if "Version" in obj and obj["Version"] != "1.0":
            self.fail(one_of("Version", ["1.0"]), "/Version")
        if "TimeoutSeconds" in obj:
            self.integer(obj, "TimeoutSeconds", "", 1, schema.MAX_SECONDS)
        if "QueryLanguage" in obj:
            self.query_language(obj["QueryLanguage"], "/QueryLanguage")

    def graph(
        self,
        states: dict[str, Any],
        start: str | None,
        loc: str,
        targets: list[tuple[str, str]],
        top: bool,
    ) -> None:
        if start is not None and start not in states:  # [AWS] reported at /StartAt
            self.fail(
                f"Missing 'Next' target: {start}", f"{loc}/StartAt", MISSING_TRANSITION_TARGET
            )
        referenced: set[str] = set()
        for target, where in targets:
            if target in states:
                referenced.add(target)
            else:  # [AWS] the word is 'Next' for Default, Choices and Catch targets too [floci]
                self.fail(f"Missing 'Next' target: {target}", where, MISSING_TRANSITION_TARGET)
        typed = all(
            isinstance(s, dict) and s.get("Type") in schema.STATE_TYPES for s in states.values()
        )
        # A state of unknown type might be the terminal one: its own fault is enough.
        if top and typed and not any(_is_terminal(state) for state in states.values()):
            # [AWS] no location; [floci] it replaces the reachability report at the top level.
            self.fail("Workflow has no terminal state", "", MISSING_END_STATE)
            return
        if start is None:  # [AWS] a missing StartAt is reported alone
            return
        # AWS calls a state unreachable when no transition names it, not when a walk from
        # StartAt misses it: with StartAt dangling and A -> B, it reports A alone
        # (aws-cloudformation/cfn-lint#4074). This also keeps the check linear.
        for name in states:
            if name != start and name not in referenced:  # [AWS]
                message = f'State "{name}" is not reachable.'
                self.fail(message, f"{loc}/States/{name}", MISSING_TRANSITION_TARGET)

    def state_name(self, name: str, loc: str) -> None:
        if len(name) > schema.MAX_NAME_LENGTH:  # [ours], after AWS's "exceeds ... 80" wording
            message = f"State name exceeds the {schema.MAX_NAME_LENGTH}-character limit"
            self.fail(message, loc, INVALID_STATE_NAME)
        if name in self.state_names:  # [AWS] Step Functions Local shares AWS's validator
            self.fail(f"Duplicate State name: {name}", loc, DUPLICATE_STATE_NAME)
        self.state_names.add(name)

    # --- states --------------------------------------------------------------------------

    def state(self, state: Any, loc: str, depth: int, targets: list[tuple[str, str]]) -> None:
        if not isinstance(state, dict):
            self.fail(expected(OBJECT), loc)
            return
        self.collect_targets(state, loc, targets)
        kind = state.get("Type")
        if "Type" not in state:
            self.fail(required(["Type"]), loc)
            return
        if kind not in schema.STATE_TYPES:
            self.fail(one_of("Type", schema.STATE_TYPES), f"{loc}/Type")
            return
        language = self.state_language(state, loc)
        other: Language = JSONATA if language == JSONPATH else JSONPATH
        allowed = schema.ALLOWED_FIELDS[(kind, language)]
        self.unknown_fields(state, loc, allowed, schema.ALLOWED_FIELDS[(kind, other)], language)
        # Fields already reported as not allowed are not checked again.
        st = {key: value for key, value in state.items() if key in allowed}
        self.optional(st, "Comment", loc, str, STRING)
        if kind not in schema.NO_TRANSITION_TYPES:
            self.transition(st, loc)
        if language == JSONPATH:
            self.jsonpath_data_flow(st, loc)
        else:
            self.jsonata_data_flow(st, loc)
        match kind:
            case "Task":
                self.task(st, loc, language)
            case "Choice":
                self.choice(st, loc, language)
            case "Wait":
                self.wait(st, loc, language)
            case "Fail":
                self.fail_state(st, loc)
            case "Parallel":
                self.parallel(st, loc, depth)
            case "Map":
                self.map(st, loc, language, depth)
        if kind in schema.ERROR_HANDLING_TYPES:
            self.retriers(st, loc)
            self.catchers(st, loc, language)

    def collect_targets(
        self, state: dict[str, Any], loc: str, targets: list[tuple[str, str]]
    ) -> None:
        """Every state name this state may move to, whatever its type, so that one bad field
        does not also make its targets look unreachable."""
        for field in ("Next", "Default"):
            if isinstance(state.get(field), str):
                targets.append((state[field], f"{loc}/{field}"))
        for field in ("Choices", "Catch"):
            entries = state.get(field)
            if isinstance(entries, list):
                for index, entry in enumerate(entries):
                    if isinstance(entry, dict) and isinstance(entry.get("Next"), str):
                        targets.append((entry["Next"], f"{loc}/{field}[{index}]/Next"))

    def state_language(self, state: dict[str, Any], loc: str) -> Language:
        """The state's query language. A state inside a branch inherits the machine's, not the
        enclosing state's (the States Language spec treats them as independent)."""
        if "QueryLanguage" not in state:
            return self.top_language
        value = state["QueryLanguage"]
        if not self.query_language(value, f"{loc}/QueryLanguage"):
            return self.top_language
        if value == JSONPATH and self.top_language == JSONATA:
            # [AWS] reported at the state. [floci] it is the whole answer for the state, so the
            # state is then checked as the JSONPath it says it is.
            message = (
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
            )
            self.fail(message, loc)
        return JSONATA if value == JSONATA else JSONPATH

    def transition(self, st: dict[str, Any], loc: str) -> None:
        has_next, has_end = "Next" in st, "End" in st
        if has_next and has_end:
            self.fail(only_one(["Next", "End"]), f"{loc}/Next")
        elif not has_next and not has_end:
            self.fail(one_required(["Next", "End"]), loc)
        self.optional(st, "Next", loc, str, STRING)
        if has_end and st["End"] is not True:
            if isinstance(st["End"], bool):
                self.fail("The value for the field 'End' must be true", f"{loc}/End")  # [ours]
            else:
                self.fail(expected(BOOLEAN), f"{loc}/End")

    # --- data flow -----------------------------------------------------------------------

    def jsonpath_data_flow(self, st: dict[str, Any], loc: str) -> None:
        for field in ("InputPath", "OutputPath"):
            if field in st:
                self.path(st, field, loc, nullable=True)
        if "ResultPath" in st:
            self.path(st, "ResultPath", loc, nullable=True, reference=True)
        for field in ("Parameters", "ResultSelector"):
            if field in st:
                self.template(st[field], f"{loc}/{field}")
        if "Assign" in st:
            self.assign(st["Assign"], f"{loc}/Assign", JSONPATH)

    def jsonata_data_flow(self, st: dict[str, Any], loc: str) -> None:
        # Output takes any JSON; its {% %} strings are compiled by the JSONata module.
        if "Arguments" in st and not isinstance(st["Arguments"], dict):
            self.jsonata_or(st, "Arguments", loc, OBJECT)
        if "Assign" in st:
            self.assign(st["Assign"], f"{loc}/Assign", JSONATA)

    # --- state types ---------------------------------------------------------------------

    def task(self, st: dict[str, Any], loc: str, language: Language) -> None:
        if "Resource" not in st:
            self.fail(required(["Resource"]), loc)
        elif not isinstance(st["Resource"], str):
            self.fail(expected(STRING), f"{loc}/Resource")
        elif not st["Resource"]:
            # [AWS] its answer to an unknown integration. Only the empty string is refused here:
            # resources (placeholders included) are resolved by the runtime when it runs them.
            message = (
                f"The resource provided {st['Resource']} is not recognized. The value is not a "
                "valid resource ARN, or the resource is not available in this region."
            )
            self.fail(message, f"{loc}/Resource")
        jsonata = language == JSONATA
        for seconds in ("TimeoutSeconds", "HeartbeatSeconds"):
            if self.exclusive(st, (seconds, f"{seconds}Path"), loc) and seconds in st:
                self.integer(st, seconds, loc, 1, schema.MAX_SECONDS, jsonata)
            if f"{seconds}Path" in st:
                self.path(st, f"{seconds}Path", loc, reference=True)
        timeout, heartbeat = st.get("TimeoutSeconds"), st.get("HeartbeatSeconds")
        if is_int(timeout) and is_int(heartbeat) and heartbeat >= timeout:  # [ours]
            message = (
                "The value for the field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'"
            )
            self.fail(message, f"{loc}/HeartbeatSeconds")
        if "Credentials" in st:
            if language == JSONPATH:
                self.template(st["Credentials"], f"{loc}/Credentials")
            elif not isinstance(st["Credentials"], dict):
                self.fail(expected(OBJECT), f"{loc}/Credentials")

    def choice(self, st: dict[str, Any], loc: str, language: Language) -> None:
        for index, rule in enumerate(self.non_empty_array(st, "Choices", loc)):
            self.rule(rule, f"{loc}/Choices[{index}]", language, top=True, depth=0)
        self.optional(st, "Default", loc, str, STRING)

    def rule(self, rule: Any, loc: str, language: Language, *, top: bool, depth: int) -> None:
        if depth > schema.MAX_DEPTH:
            self.fail("The states are too deeply nested", loc, TOO_DEEPLY_NESTED)  # [ours]
            return
        if not isinstance(rule, dict):
            self.fail(expected(OBJECT), loc)
            return
        # Only a top-level rule moves on (Next) and assigns; a rule inside And/Or/Not tests.
        top_only = frozenset() if top else frozenset({"Next", "Assign"})
        if language == JSONATA:
            allowed = schema.JSONATA_RULE_FIELDS - top_only
            other = schema.JSONPATH_RULE_FIELDS - schema.JSONATA_RULE_FIELDS
        else:
            allowed = schema.JSONPATH_RULE_FIELDS - top_only
            other = schema.JSONATA_RULE_FIELDS - schema.JSONPATH_RULE_FIELDS
        self.unknown_fields(rule, loc, allowed, other, language)
        rule = {key: value for key, value in rule.items() if key in allowed}
        self.optional(rule, "Next", loc, str, STRING)
        self.optional(rule, "Comment", loc, str, STRING)
        if "Assign" in rule:
            self.assign(rule["Assign"], f"{loc}/Assign", language)
        if language == JSONATA:
            missing = [field for field in ("Condition", "Next") if field not in rule]
            if missing:
                self.fail(required(missing), loc)
            if "Condition" in rule and not isinstance(rule["Condition"], bool):
                self.jsonata_or(rule, "Condition", loc, BOOLEAN)
            return
        operators = [
            key for key in rule if key in schema.COMPARATORS or key in {"And", "Or", "Not"}
        ]
        missing = ["Next"] if top and "Next" not in rule else []
        if any(op in schema.COMPARATORS for op in operators) and "Variable" not in rule:
            missing.append("Variable")
        if missing:
            self.fail(required(missing), loc)
        if len(operators) != 1:  # [ours]
            self.fail(
                "A Choice Rule must have exactly one comparison operator, And, Or or Not", loc
            )
        if "Variable" in rule:
            self.path(rule, "Variable", loc)
        for op in operators:
            self.operand(rule, op, loc, language, depth)

    def operand(
        self, rule: dict[str, Any], op: str, loc: str, language: Language, depth: int
    ) -> None:
        value, op_loc = rule[op], f"{loc}/{op}"
        if op in ("And", "Or"):
            for index, sub in enumerate(self.non_empty_array(rule, op, loc)):
                self.rule(sub, f"{op_loc}[{index}]", language, top=False, depth=depth + 1)
            return
        if op == "Not":
            self.rule(value, op_loc, language, top=False, depth=depth + 1)
            return
        match schema.COMPARATORS[op]:
            case schema.PATH:
                self.path(rule, op, loc)
            case schema.BOOLEAN if not isinstance(value, bool):
                self.fail(expected(BOOLEAN), op_loc)
            case schema.NUMBER if not is_number(value):
                self.fail(expected(NUMBER), op_loc)
            case schema.STRING | schema.TIMESTAMP if not isinstance(value, str):
                self.fail(expected(STRING), op_loc)
            case schema.TIMESTAMP if not is_timestamp(value):
                self.fail(BAD_TIMESTAMP, op_loc)

    def wait(self, st: dict[str, Any], loc: str, language: Language) -> None:
        options = ["Seconds", "Timestamp"]
        if language == JSONPATH:  # JSONata has no *Path forms
            options = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        present = [field for field in options if field in st]
        if not present:
            self.fail(one_required(options), loc)
        elif len(present) > 1:
            self.fail(only_one(present), f"{loc}/{present[0]}")
        jsonata = language == JSONATA
        if "Seconds" in st:
            self.integer(st, "Seconds", loc, 0, schema.MAX_SECONDS, jsonata)
        if "Timestamp" in st:
            value = st["Timestamp"]
            if not isinstance(value, str):
                self.fail(expected(STRING), f"{loc}/Timestamp")
            elif not (jsonata and is_jsonata(value)) and not is_timestamp(value):
                self.fail(BAD_TIMESTAMP, f"{loc}/Timestamp")
        for field in ("SecondsPath", "TimestampPath"):
            if field in st:
                self.path(st, field, loc, reference=True)

    def fail_state(self, st: dict[str, Any], loc: str) -> None:
        for field in ("Error", "Cause"):
            self.exclusive(st, (field, f"{field}Path"), loc)
            self.optional(st, field, loc, str, STRING)
            path_field = f"{field}Path"
            if path_field in st:
                value = st[path_field]
                if not isinstance(value, str):  # [floci]
                    self.fail(expected(STRING), f"{loc}/{path_field}")
                elif not self.compiles_path_or_intrinsic(value):
                    self.fail(invalid_path(path_field, PATH_OR_INTRINSIC), f"{loc}/{path_field}")

    def parallel(self, st: dict[str, Any], loc: str, depth: int) -> None:
        for index, branch in enumerate(self.non_empty_array(st, "Branches", loc)):
            self.sub_machine(branch, f"{loc}/Branches[{index}]", schema.BRANCH_FIELDS, depth)

    def sub_machine(self, obj: Any, loc: str, allowed: frozenset[str], depth: int) -> None:
        if depth + 1 > schema.MAX_DEPTH:
            self.fail("The states are too deeply nested", loc, TOO_DEEPLY_NESTED)  # [ours]
        elif not isinstance(obj, dict):
            self.fail(expected(OBJECT), loc)
        else:
            self.machine(obj, loc, allowed, depth + 1)

    def map(self, st: dict[str, Any], loc: str, language: Language, depth: int) -> None:
        jsonata = language == JSONATA
        processor_field = "Iterator" if "Iterator" in st else "ItemProcessor"
        if self.exclusive(st, ("ItemProcessor", "Iterator"), loc) and processor_field not in st:
            self.fail(required(["ItemProcessor"]), loc)
        distributed = False
        processor = st.get(processor_field)
        if isinstance(processor, dict) and "ProcessorConfig" in processor:
            processor_loc = f"{loc}/{processor_field}"
            distributed = self.processor_config(processor["ProcessorConfig"], processor_loc)
        if processor_field in st:
            self.sub_machine(processor, f"{loc}/{processor_field}", schema.PROCESSOR_FIELDS, depth)
        if "ItemsPath" in st:
            self.path(st, "ItemsPath", loc, reference=True)
        if "Items" in st and not isinstance(st["Items"], list):
            self.jsonata_or(st, "Items", loc, ARRAY)
        # The legacy Parameters (JSONPath only) is checked with the other data-flow fields.
        if self.exclusive(st, ("ItemSelector", "Parameters"), loc) and "ItemSelector" in st:
            if not jsonata:
                self.template(st["ItemSelector"], f"{loc}/ItemSelector")
            elif not isinstance(st["ItemSelector"], dict):
                self.jsonata_or(st, "ItemSelector", loc, OBJECT)
        for field in ("MaxConcurrency", "ToleratedFailureCount"):
            if self.exclusive(st, (field, f"{field}Path"), loc) and field in st:
                self.integer(st, field, loc, 0, None, jsonata)
        percentage = ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
        if self.exclusive(st, percentage, loc) and percentage[0] in st:
            self.number(st, percentage[0], loc, 0, 100, jsonata)
        for field in ("MaxConcurrencyPath", "ToleratedFailureCountPath", percentage[1]):
            if field in st:
                self.path(st, field, loc, reference=True)
        for field in ("ItemReader", "ItemBatcher", "ResultWriter"):
            if field in st:
                if not distributed:  # [ours]
                    message = f"Field '{field}' is only supported in DISTRIBUTED mode"
                    self.fail(message, f"{loc}/{field}")
                self.optional(st, field, loc, dict, OBJECT)
        if "Label" in st:
            self.label(st["Label"], f"{loc}/Label")

    def processor_config(self, config: Any, loc: str) -> bool:
        """Checks a ProcessorConfig; True when it asks for a Distributed Map."""
        loc = f"{loc}/ProcessorConfig"
        if not isinstance(config, dict):
            self.fail(expected(OBJECT), loc)
            return False
        self.unknown_fields(config, loc, schema.PROCESSOR_CONFIG_FIELDS)
        mode = config.get("Mode", "INLINE")
        if mode not in schema.PROCESSOR_MODES:
            self.fail(one_of("Mode", schema.PROCESSOR_MODES), f"{loc}/Mode")
        distributed = bool(mode == "DISTRIBUTED")
        if "ExecutionType" in config:
            if not distributed:  # [AWS] as quoted by a linter
                self.fail(not_supported("ExecutionType"), loc)
            elif config["ExecutionType"] not in schema.EXECUTION_TYPES:
                self.fail(one_of("ExecutionType", schema.EXECUTION_TYPES), f"{loc}/ExecutionType")
        elif distributed:  # [AWS] as quoted by a linter
            self.fail(required(["ExecutionType"]), loc)
        return distributed

    def label(self, label: Any, loc: str) -> None:
        if not isinstance(label, str):
            self.fail(expected(STRING), loc)
            return
        if len(label) > schema.MAX_LABEL_LENGTH or not label or _LABEL_FORBIDDEN & set(label):
            self.fail(f"Invalid label name: {label}", loc, INVALID_LABEL_NAME)  # [ours]
        elif label in self.labels:
            self.fail(f"Duplicate label name: {label}", loc, DUPLICATE_LABEL_NAME)  # [ours]
        self.labels.add(label)

    # --- errors --------------------------------------------------------------------------

    def retriers(self, st: dict[str, Any], loc: str) -> None:
        if "Retry" not in st:
            return
        if not isinstance(st["Retry"], list):
            self.fail(expected(ARRAY), f"{loc}/Retry")
            return
        last = len(st["Retry"]) - 1
        for index, retrier in enumerate(st["Retry"]):
            r_loc = f"{loc}/Retry[{index}]"
            if not isinstance(retrier, dict):
                self.fail(expected(OBJECT), r_loc)
                continue
            self.unknown_fields(retrier, r_loc, schema.RETRIER_FIELDS)
            self.error_equals(retrier, r_loc, last=index == last)
            self.optional(retrier, "Comment", r_loc, str, STRING)
            if "IntervalSeconds" in retrier:
                self.integer(retrier, "IntervalSeconds", r_loc, 1, schema.MAX_SECONDS)
            if "MaxAttempts" in retrier:
                self.integer(retrier, "MaxAttempts", r_loc, 0, schema.MAX_SECONDS)
            if "BackoffRate" in retrier:
                self.number(retrier, "BackoffRate", r_loc, 1.0, None)
            if "MaxDelaySeconds" in retrier:
                self.integer(retrier, "MaxDelaySeconds", r_loc, 1, schema.MAX_DELAY_SECONDS)
            strategy = retrier.get("JitterStrategy", "NONE")
            if strategy not in schema.JITTER_STRATEGIES:
                self.fail(
                    one_of("JitterStrategy", schema.JITTER_STRATEGIES), f"{r_loc}/JitterStrategy"
                )

    def catchers(self, st: dict[str, Any], loc: str, language: Language) -> None:
        if "Catch" not in st:
            return
        if not isinstance(st["Catch"], list):
            self.fail(expected(ARRAY), f"{loc}/Catch")
            return
        other: Language = JSONATA if language == JSONPATH else JSONPATH
        last = len(st["Catch"]) - 1
        for index, catcher in enumerate(st["Catch"]):
            c_loc = f"{loc}/Catch[{index}]"
            if not isinstance(catcher, dict):
                self.fail(expected(OBJECT), c_loc)
                continue
            allowed = schema.CATCHER_FIELDS[language]
            self.unknown_fields(catcher, c_loc, allowed, schema.CATCHER_FIELDS[other], language)
            self.error_equals(catcher, c_loc, last=index == last)
            if "Next" not in catcher:
                self.fail(required(["Next"]), c_loc)
            self.optional(catcher, "Next", c_loc, str, STRING)
            self.optional(catcher, "Comment", c_loc, str, STRING)
            if language == JSONPATH and "ResultPath" in catcher:
                self.path(catcher, "ResultPath", c_loc, nullable=True, reference=True)
            if "Assign" in catcher:
                self.assign(catcher["Assign"], f"{c_loc}/Assign", language)

    def error_equals(self, obj: dict[str, Any], loc: str, *, last: bool) -> None:
        names = self.non_empty_array(obj, "ErrorEquals", loc)
        e_loc = f"{loc}/ErrorEquals"
        for index, name in enumerate(names):
            if not isinstance(name, str):
                self.fail(expected(STRING), f"{e_loc}[{index}]")
            elif name.startswith("States.") and not (
                name in schema.PREDEFINED_ERRORS
                or name.startswith(schema.PREDEFINED_ERROR_PREFIXES)
            ):  # [ours]: names starting "States." are reserved (States Language spec, "Errors")
                self.fail(f"The error name '{name}' is not a predefined error", f"{e_loc}[{index}]")
        if "States.ALL" in names:  # [ours] the rule is the spec's
            if len(names) > 1:
                self.fail("'States.ALL' must appear alone in 'ErrorEquals'", e_loc)
            if not last:
                self.fail("'States.ALL' must appear in the last Retrier or Catcher", e_loc)
