"""Definition text -> frozen ``StateMachine``, every expression compiled once.

``parse`` runs ``validate`` first and raises ``InvalidDefinition`` with all faults; building the
model then assumes a well-formed definition. Compilation faults found while building (a path or
intrinsic that does not compile) are collected with their location, so the caller still sees
every fault at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from statewright.asl.choice import compile_rule
from statewright.asl.errors import (
    DefinitionError,
    ExpressionSyntaxError,
    InvalidDefinition,
)
from statewright.asl.intrinsics import compile_intrinsic, is_intrinsic
from statewright.asl.jsonata import JsonataSyntaxError, Value, compile_value, is_expression
from statewright.asl.model import (
    Catcher,
    ChoiceBranch,
    ChoiceState,
    Expr,
    FailState,
    JsonataFields,
    Machine,
    MapState,
    ParallelState,
    PassState,
    QueryLanguage,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from statewright.asl.paths import Path, compile_path, compile_reference_path
from statewright.asl.resources import classify_resource
from statewright.asl.templates import Template, compile_template
from statewright.asl.validate import validate

T = TypeVar("T")

_DEFAULT_PATH = compile_path("$")


def parse(definition: str | dict[str, Any]) -> StateMachine:
    """Parses and validates a definition (JSON text or decoded object)."""
    if isinstance(definition, str):
        try:
            decoded = json.loads(definition)
        except ValueError as exc:
            raise InvalidDefinition(
                [DefinitionError("INVALID_JSON_DESCRIPTION", f"Invalid JSON: {exc}", "/")]
            ) from exc
    else:
        decoded = definition
    faults = validate(decoded)
    if faults:
        raise InvalidDefinition(faults)
    top: QueryLanguage = decoded.get("QueryLanguage", "JSONPath")
    builder = _Builder(top)
    machine = builder.machine(decoded, "", top)
    if builder.faults:
        raise InvalidDefinition(builder.faults)
    return StateMachine(machine, decoded)


class _Builder:
    """Builds the model, collecting compile faults with their locations."""

    def __init__(self, top: QueryLanguage) -> None:
        self.faults: list[DefinitionError] = []
        # States in a Parallel branch or a Map's processor inherit the machine's language, not
        # the enclosing state's (as validate checks them: the States Language spec treats the
        # scopes as independent).
        self.top: QueryLanguage = top

    def compiled(self, location: str, compile_fn: Callable[[], T]) -> T | None:
        try:
            return compile_fn()
        except ExpressionSyntaxError as exc:
            self.faults.append(DefinitionError("SCHEMA_VALIDATION_FAILED", exc.message, location))
            return None

    def machine(self, raw: dict[str, Any], where: str, language: QueryLanguage) -> Machine:
        states = {
            name: self.state(name, spec, f"{where}/States/{name}", language)
            for name, spec in raw["States"].items()
        }
        return Machine(
            start_at=raw["StartAt"],
            states=states,
            comment=raw.get("Comment"),
            timeout_seconds=raw.get("TimeoutSeconds"),
            query_language=language,
        )

    def path(self, raw: dict[str, Any], key: str, where: str) -> Path | None:
        """A Path field: absent -> ``$``; null -> None.

        ResultPath is a Reference Path on the input only; ItemsPath may also read the Context
        Object (AWS accepts ``$$`` there only) and variables.
        """
        if key not in raw:
            return _DEFAULT_PATH
        text = raw[key]
        if text is None:
            return None
        if key == "ResultPath":
            compiled = self.compiled(f"{where}/{key}", lambda: compile_reference_path(
                text, field=key, allow_variables=False))
        elif key == "ItemsPath":
            compiled = self.compiled(f"{where}/{key}", lambda: compile_reference_path(
                text, field=key, allow_context=True))
        else:
            compiled = self.compiled(f"{where}/{key}", lambda: compile_path(text, field=key))
        return compiled or _DEFAULT_PATH

    def template(self, raw: dict[str, Any], key: str, where: str) -> Template | None:
        if key not in raw:
            return None
        return self.compiled(f"{where}/{key}", lambda: compile_template(raw[key]))

    def value(self, raw: dict[str, Any], key: str, state: str, field: str = "") -> Value | None:
        """A JSONata field: any JSON value, its ``{% %}`` strings compiled. ``field`` is its
        name under the state (``Catch[0]/Output``); a fault is located at the expression's own
        nested field, under the state's location ``state``."""
        if key not in raw:
            return None
        try:
            return compile_value(raw[key], field or key)
        except JsonataSyntaxError as exc:
            for fault in (exc, *exc.also):
                self.faults.append(
                    DefinitionError(fault.code, fault.message, f"{state}/{fault.field}"))
            return None

    def jsonata_fields(self, raw: dict[str, Any], where: str, prefix: str = "") -> JsonataFields:
        """Output, Assign, Arguments, Items, ItemSelector; ``prefix`` names a rule or catcher in
        causes (``Catch[0]/Output``)."""
        state = where.removesuffix("/" + prefix.rstrip("/")) if prefix else where
        return JsonataFields(
            **{
                attr: self.value(raw, key, state, prefix + key)
                for attr, key in (("arguments", "Arguments"), ("output", "Output"),
                                  ("assign", "Assign"), ("items", "Items"),
                                  ("item_selector", "ItemSelector"))
            }
        )

    def expr(self, raw: dict[str, Any], key: str, where: str) -> Expr | None:
        """A literal field ``key`` or its ``keyPath`` form (a path or an intrinsic); in a
        JSONata state the field itself may be an expression."""
        if key in raw:
            if is_expression(raw[key]):
                return Expr(query=self.value(raw, key, where), field=key)
            return Expr(literal=raw[key], field=key)
        path_key = key + "Path"
        if path_key not in raw:
            return None
        text = raw[path_key]
        location = f"{where}/{path_key}"
        if isinstance(text, str) and is_intrinsic(text):
            return Expr(intrinsic=self.compiled(location, lambda: compile_intrinsic(text)),
                        field=path_key)
        return Expr(path=self.compiled(location, lambda: compile_path(text)), field=path_key)

    def state(self, name: str, raw: dict[str, Any], where: str, parent: QueryLanguage) -> State:
        language: QueryLanguage = raw.get("QueryLanguage", parent)
        jsonata = language == "JSONata"
        common: dict[str, Any] = {
            "name": name,
            "type": raw["Type"],
            "next": raw.get("Next"),
            "end": bool(raw.get("End", False)),
            "query_language": language,
            "input_path": self.path(raw, "InputPath", where),
            "output_path": self.path(raw, "OutputPath", where),
            "assign": None if jsonata else self.template(raw, "Assign", where),
            "jsonata": self.jsonata_fields(raw, where) if jsonata else None,
        }
        kind = raw["Type"]
        if kind in ("Pass", "Task", "Parallel", "Map"):
            common.update(
                parameters=self.template(raw, "Parameters", where),
                result_selector=self.template(raw, "ResultSelector", where),
                result_path=self.path(raw, "ResultPath", where),
                retry=tuple(self.retrier(r) for r in raw.get("Retry", ())),
                catch=tuple(
                    self.catcher(c, f"{where}/Catch[{i}]", f"Catch[{i}]/" if jsonata else None)
                    for i, c in enumerate(raw.get("Catch", ()))
                ),
            )
        match kind:
            case "Pass":
                return PassState(**common, result=raw.get("Result"), has_result="Result" in raw)
            case "Task":
                return TaskState(
                    **common,
                    resource=classify_resource(raw["Resource"]),
                    timeout=self.expr(raw, "TimeoutSeconds", where),
                    heartbeat=self.expr(raw, "HeartbeatSeconds", where),
                    credentials=self.template(raw, "Credentials", where),
                )
            case "Choice":
                return ChoiceState(
                    **common,
                    choices=tuple(
                        self.choice(rule, f"{where}/Choices[{i}]", language)
                        for i, rule in enumerate(raw["Choices"])
                    ),
                    default=raw.get("Default"),
                )
            case "Wait":
                return WaitState(
                    **common,
                    seconds=self.expr(raw, "Seconds", where),
                    timestamp=self.expr(raw, "Timestamp", where),
                )
            case "Succeed":
                return SucceedState(**common)
            case "Fail":
                return FailState(
                    **common,
                    error=self.expr(raw, "Error", where),
                    cause=self.expr(raw, "Cause", where),
                )
            case "Parallel":
                return ParallelState(
                    **common,
                    branches=tuple(
                        self.machine(b, f"{where}/Branches[{i}]", self.top)
                        for i, b in enumerate(raw["Branches"])
                    ),
                )
            case "Map":
                return self.map_state(raw, where, language, common)
        raise ValueError(f"unknown state type {kind!r}")  # validate rejects it first

    def map_state(
        self, raw: dict[str, Any], where: str, language: QueryLanguage, common: dict[str, Any]
    ) -> MapState:
        processor_key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
        processor_raw = raw[processor_key]
        config = processor_raw.get("ProcessorConfig", {})
        # The legacy ``Parameters`` of a Map is its ItemSelector, not a Parameters template.
        selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
        common = {**common, "parameters": None}
        if language == "JSONata":
            selector_key = ""  # in JSONata fields
        return MapState(
            **common,
            processor=self.machine(processor_raw, f"{where}/{processor_key}", self.top),
            mode=config.get("Mode", "INLINE"),
            items_path=self.path(raw, "ItemsPath", where),
            item_selector=self.template(raw, selector_key, where) if selector_key else None,
            max_concurrency=self.expr(raw, "MaxConcurrency", where),
            tolerated_failure_percentage=self.expr(raw, "ToleratedFailurePercentage", where),
            tolerated_failure_count=self.expr(raw, "ToleratedFailureCount", where),
            label=raw.get("Label"),
            extra={k: raw[k] for k in ("ItemReader", "ItemBatcher", "ResultWriter") if k in raw},
        )

    def retrier(self, raw: dict[str, Any]) -> Retrier:
        return Retrier(
            error_equals=tuple(raw["ErrorEquals"]),
            interval_seconds=float(raw.get("IntervalSeconds", 1)),
            max_attempts=int(raw.get("MaxAttempts", 3)),
            backoff_rate=float(raw.get("BackoffRate", 2.0)),
            max_delay_seconds=raw.get("MaxDelaySeconds"),
            jitter=raw.get("JitterStrategy", "NONE"),
        )

    def catcher(self, raw: dict[str, Any], where: str, jsonata: str | None) -> Catcher:
        if jsonata is not None:
            return Catcher(
                error_equals=tuple(raw["ErrorEquals"]), next=raw["Next"], result_path=None,
                jsonata=self.jsonata_fields(raw, where, jsonata),
            )
        return Catcher(
            error_equals=tuple(raw["ErrorEquals"]),
            next=raw["Next"],
            result_path=self.path(raw, "ResultPath", where),
            assign=self.template(raw, "Assign", where),
        )

    def choice(self, raw: dict[str, Any], where: str, language: QueryLanguage) -> ChoiceBranch:
        if language == "JSONata":
            prefix = where.rsplit("/", 1)[-1] + "/"  # Choices[0]/, as AWS names the fields
            return ChoiceBranch(
                rule=_NEVER, next=raw["Next"],
                condition=self.value(raw, "Condition", where.rsplit("/", 1)[0],
                                     prefix + "Condition"),
                jsonata=self.jsonata_fields(raw, where, prefix),
            )
        rule = self.compiled(where, lambda: compile_rule(raw, top_level=True))
        return ChoiceBranch(
            rule=rule if rule is not None else _NEVER,
            next=raw["Next"],
            assign=self.template(raw, "Assign", where),
        )


class _Never:
    """Stands in for a rule that failed to compile (parse raises before it is used)."""

    def matches(self, data: Any, ctx: Any = None) -> bool:
        return False


_NEVER = _Never()
