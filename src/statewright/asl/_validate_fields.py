"""The checks of one field's value that ``validate`` builds its walk from, and AWS's messages.

``FieldChecker`` holds the faults found so far; each method checks one field (a path, a payload
template, an integer in a range, a JSONata expression...) and records a fault with AWS's code and
location instead of raising. ``validate`` subclasses it with the walk over machines and states,
which knows where each field may appear; this module knows only what a field's value may be.

Where each message comes from is marked on it, as in ``validate``: [AWS] seen verbatim in AWS
responses, [floci] measured against AWS by floci-io/floci, [ours] AWS's wording is unknown and
this one is written in its style.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeGuard

from statewright.asl import _schema as schema
from statewright.asl._schema import JSONATA, JSONPATH, Language
from statewright.asl.errors import DefinitionError, ExpressionSyntaxError
from statewright.asl.intrinsics import compile_intrinsic, is_intrinsic
from statewright.asl.paths import compile_path, compile_reference_path
from statewright.asl.templates import compile_template

SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
"""The code of every fault of a field's value (``validate`` lists the others)."""

# The type names AWS puts in "Expected value of type [...]".
STRING, INTEGER, NUMBER = "STRING", "INTEGER", "NUMBER"
BOOLEAN, OBJECT, ARRAY = "BOOLEAN", "OBJECT", "ARRAY"
# RFC 3339 as the States Language profiles it: uppercase T, and Z or a numeric offset.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


# --- messages ------------------------------------------------------------------------------


def required(fields: Iterable[str]) -> str:  # [AWS]
    return f"These fields are required: [{', '.join(fields)}]"


def not_supported(field: str) -> str:  # [AWS]
    return f"Field '{field}' is not supported"


def wrong_language(language: str, field: str) -> str:  # [floci]
    other = JSONPATH if language == JSONATA else JSONATA
    return (
        f"The QueryLanguage is set to '{language}', but field '{field}' is only supported "
        f"for the '{other}' QueryLanguage"
    )


def expected(kind: str) -> str:  # [floci] for STRING; the other kinds follow its pattern
    return f"Expected value of type [{kind}]"


def one_of(field: str, values: Iterable[str]) -> str:  # [AWS]
    return f"The field '{field}' should have one of these values: [{', '.join(values)}]"


def only_one(fields: Iterable[str]) -> str:  # [ours]
    return f"Only one of these fields can be specified: [{', '.join(fields)}]"


def one_required(fields: Iterable[str]) -> str:  # [ours]
    return f"Exactly one of these fields is required: [{', '.join(fields)}]"


def out_of_range(field: str, low: float, high: float | None) -> str:  # [ours]
    if high is None:
        return f"The value for the field '{field}' must be greater than or equal to {low}"
    return f"The value for the field '{field}' must be between {low} and {high}"


def invalid_path(field: str, kind: str) -> str:  # [AWS] for JSONPath; [ours] the rest
    return f"The value for the field '{field}' must be a valid {kind}"


PATH_OR_INTRINSIC = "JSONPath or a valid intrinsic function call"  # [AWS]
JSONATA_EXPRESSION = "JSONata expression"  # [ours]
NON_EMPTY = "The field '{}' should be non-empty"  # [ours]
BAD_TIMESTAMP = "String does not match RFC3339 timestamp"  # [AWS] as quoted by a linter


# --- value tests -------------------------------------------------------------------------


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_jsonata(value: Any) -> bool:
    """A whole string wrapped in ``{% %}`` with something inside (the expression is compiled
    later, by the JSONata module)."""
    return (
        isinstance(value, str)
        and value.startswith("{%")
        and value.endswith("%}")
        and len(value) >= 4
        and bool(value[2:-2].strip())
    )


def is_timestamp(value: str) -> bool:
    if not _TIMESTAMP.fullmatch(value):
        return False
    try:  # the shape is right; reject impossible dates such as 2024-02-30
        datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


class FieldChecker:
    """The faults found so far, and the checks of single fields that add to them."""

    def __init__(self) -> None:
        self.errors: list[DefinitionError] = []

    def fail(self, message: str, location: str, code: str = SCHEMA_VALIDATION_FAILED) -> None:
        self.errors.append(DefinitionError(code, message, location))

    def query_language(self, value: Any, loc: str) -> bool:
        if not isinstance(value, str):
            self.fail(expected(STRING), loc)
            return False
        if value not in schema.LANGUAGES:  # [floci]
            self.fail(f"Value should be one of the following: [{', '.join(schema.LANGUAGES)}]", loc)
            return False
        return True

    # --- expressions ---------------------------------------------------------------------

    def template(self, value: Any, loc: str) -> None:
        """A payload template: keys ending ``.$`` hold a Path or an intrinsic function. Walked
        with a stack, not recursion, so a deep payload cannot exhaust Python's stack."""
        if not isinstance(value, dict):
            self.fail(expected(OBJECT), loc)
            return
        found = len(self.errors)
        # (key holding the node, node, location), popped in document order.
        stack: list[tuple[str, Any, str]] = [("", value, loc)]
        while stack:
            key, node, node_loc = stack.pop()
            if key.endswith(".$"):
                self.dynamic_value(key, node, node_loc)
            elif isinstance(node, dict):
                stack.extend((k, v, f"{node_loc}/{k}") for k, v in reversed(node.items()))
            elif isinstance(node, list):
                items = [(key, v, f"{node_loc}[{i}]") for i, v in enumerate(node)]
                stack.extend(reversed(items))
        if len(self.errors) == found:
            # The template compiler may enforce more than the walk above; it has the last word.
            try:
                compile_template(value)
            except ExpressionSyntaxError as exc:
                self.fail(exc.message, loc)

    def dynamic_value(self, field: str, value: Any, loc: str) -> None:
        if not isinstance(value, str):
            self.fail(expected(STRING), loc)
        elif not self.compiles_path_or_intrinsic(value):
            self.fail(invalid_path(field, PATH_OR_INTRINSIC), loc)

    def assign(self, value: Any, loc: str, language: Language) -> None:
        if not isinstance(value, dict):
            self.fail(expected(OBJECT), loc)
            return
        for key in value:
            name = key[:-2] if language == JSONPATH and key.endswith(".$") else key
            # A variable is a whole value: "x.y" would assign a sub-path, which AWS refuses.
            if not name.isidentifier() or len(name) > schema.MAX_NAME_LENGTH:
                self.fail(f"The variable name '{name}' is not valid", f"{loc}/{key}")  # [ours]
            elif name == "states":  # $states is Step Functions' reserved variable [ours]
                self.fail("The variable name 'states' is reserved", f"{loc}/{key}")
        if language == JSONPATH:
            self.template(value, loc)

    def path(
        self,
        obj: dict[str, Any],
        field: str,
        loc: str,
        *,
        nullable: bool = False,
        reference: bool = False,
    ) -> None:
        value = obj[field]
        if value is None and nullable:
            return
        if not isinstance(value, str):
            self.fail(expected(STRING), f"{loc}/{field}")
            return
        try:
            (compile_reference_path if reference else compile_path)(value)
        except ExpressionSyntaxError:
            kind = "ReferencePath" if reference else "JSONPath"
            self.fail(invalid_path(field, kind), f"{loc}/{field}")

    def compiles_path_or_intrinsic(self, text: str) -> bool:
        try:
            if is_intrinsic(text):
                compile_intrinsic(text)
            else:
                compile_path(text)
        except ExpressionSyntaxError:
            return False
        return True

    def optional(self, obj: dict[str, Any], field: str, loc: str, kind: type, name: str) -> None:
        if field in obj and not isinstance(obj[field], kind):
            self.fail(expected(name), f"{loc}/{field}")

    def integer(
        self,
        obj: dict[str, Any],
        field: str,
        loc: str,
        low: int,
        high: int | None,
        jsonata: bool = False,
    ) -> None:
        value = obj[field]
        if jsonata and isinstance(value, str):
            self.jsonata_or(obj, field, loc, INTEGER)
        elif not is_int(value):
            self.fail(expected(INTEGER), f"{loc}/{field}")
        elif value < low or (high is not None and value > high):
            self.fail(out_of_range(field, low, high), f"{loc}/{field}")

    def number(
        self,
        obj: dict[str, Any],
        field: str,
        loc: str,
        low: float,
        high: float | None,
        jsonata: bool = False,
    ) -> None:
        value = obj[field]
        if jsonata and isinstance(value, str):
            self.jsonata_or(obj, field, loc, NUMBER)
        elif not is_number(value):
            self.fail(expected(NUMBER), f"{loc}/{field}")
        elif value < low or (high is not None and value > high):
            self.fail(out_of_range(field, low, high), f"{loc}/{field}")

    def jsonata_or(self, obj: dict[str, Any], field: str, loc: str, kind: str) -> None:
        """A JSONata field that takes a ``kind`` value or a ``{% %}`` expression."""
        value = obj[field]
        if not isinstance(value, str):
            self.fail(expected(kind), f"{loc}/{field}")
        elif not is_jsonata(value):
            self.fail(invalid_path(field, JSONATA_EXPRESSION), f"{loc}/{field}")

    def exclusive(self, obj: dict[str, Any], fields: tuple[str, str], loc: str) -> bool:
        if fields[0] in obj and fields[1] in obj:
            # Located at the first field, as floci-io/floci measured for MaxConcurrency.
            self.fail(only_one(fields), f"{loc}/{fields[0]}")
            return False
        return True

    def unknown_fields(
        self,
        obj: dict[str, Any],
        loc: str,
        allowed: frozenset[str],
        other_language: frozenset[str] = frozenset(),
        language: Language = JSONPATH,
    ) -> None:
        for key in obj:
            if key in allowed:
                continue
            if key in other_language:
                self.fail(wrong_language(language, key), loc)
            else:
                self.fail(not_supported(key), loc)

    def non_empty_array(self, obj: dict[str, Any], field: str, loc: str) -> list[Any]:
        """The array at ``field`` (required), or [] after reporting why it is unusable."""
        if field not in obj:
            self.fail(required([field]), loc)
            return []
        value = obj[field]
        if not isinstance(value, list):
            self.fail(expected(ARRAY), f"{loc}/{field}")
            return []
        if not value:
            self.fail(NON_EMPTY.format(field), f"{loc}/{field}")
        return value
