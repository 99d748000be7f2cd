"""Requests checked against botocore's bundled service models, as AWS checks them.

Step Functions' model by default; Lambda's REST operations pass their members (gathered from
the path, headers, query string and JSON body) through the same walk.

AWS reads a request in two passes, and so do we:

1. Deserialisation: a member of the wrong JSON type stops the request with a
   ``SerializationException`` ("NUMBER_VALUE cannot be converted to String"); ``null`` is the
   same as absent; members the model does not know are ignored; a fractional number given for
   an integer is truncated.
2. Validation: every broken constraint (required, length, enum, range, pattern) is listed in one
   ``ValidationException``: "2 validation errors detected: Value null at 'stateMachineArn'
   failed to satisfy constraint: Member must not be null; Value ...". Sensitive members (the
   definition, the input) are reported without their value.

Both run before the operation looks anything up, so a bad request stores nothing.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.model import OperationModel, ServiceModel, Shape  # type: ignore[import-untyped]

from statewright.api.protocol import SerializationException
from statewright.errors import ValidationException

#: Shapes whose length AWS counts in UTF-8 bytes (execution input and output), with its words.
_BYTE_SIZED = {"SensitiveData"}
#: Java type names AWS's deserialiser mentions in its messages.
_JAVA_TYPES = {"string": "String", "integer": "Integer", "long": "Long", "boolean": "Boolean",
               "float": "Float", "double": "Double", "timestamp": "Date", "list": "List",
               "blob": "ByteBuffer"}


@functools.cache
def service_model(service: str = "stepfunctions") -> ServiceModel:
    """A service's model as the installed botocore ships it (loaded once per service)."""
    return botocore.session.get_session().get_service_model(service)


def operation_model(name: str, service: str = "stepfunctions") -> OperationModel | None:
    """The operation's model, None when the API has no such operation."""
    model = service_model(service)
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


@functools.cache
def history_details_members() -> frozenset[str]:
    """The ``HistoryEvent`` members that hold an event's details."""
    members = service_model().shape_for("HistoryEvent").members
    return frozenset(name for name in members if name.endswith("EventDetails"))


def check_input(operation: OperationModel, body: dict[str, Any], *, camel_paths: bool = False
                ) -> dict[str, Any]:
    """The request's members, typed and within the model's constraints; raises
    ``SerializationException`` or ``ValidationException`` as AWS would. ``camel_paths``:
    messages name members in lowerCamelCase (``'functionName'``), as Lambda's do."""
    faults: list[str] = []
    value = _read(operation.input_shape, body, "", faults, camel_paths)
    if faults:
        count = len(faults)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(faults))
    assert isinstance(value, dict)
    return value


# ----------------------------------------------------------------------------- the walk


def _read(shape: Shape, value: Any, path: str, faults: list[str], camel: bool = False) -> Any:
    """``value`` deserialised as ``shape`` (or SerializationException); constraint faults are
    appended to ``faults``."""
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, _expect_object(value, shape), path, faults, camel)
    if kind == "list":
        items = _expect_list(value)
        _check_length(shape, value, len(items), path, faults)
        return [_read(shape.member, item, f"{path}.{i}.member", faults, camel)
                for i, item in enumerate(items, start=1) if item is not None]
    if kind == "map":
        entries = _expect_object(value, shape)
        _check_length(shape, value, len(entries), path, faults)
        return {key: _read(shape.value, item, f"{path}.{key}", faults, camel)
                for key, item in entries.items() if item is not None}
    scalar = _scalar(kind, value)
    _check_scalar(shape, scalar, path, faults)
    return scalar


def _structure(shape: Shape, value: dict[str, Any], path: str, faults: list[str],
               camel: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    required = set(shape.required_members)
    for name, member in shape.members.items():
        shown = name[:1].lower() + name[1:] if camel else name
        where = f"{path}.{shown}" if path else shown
        raw = value.get(name)
        if raw is None:
            if name in required:
                faults.append(_fault("null", where, "Member must not be null"))
            continue
        out[name] = _read(member, raw, where, faults, camel)
    return out


def _scalar(kind: str, value: Any) -> Any:
    """A scalar of the model type ``kind``, or the deserialiser's complaint."""
    if isinstance(value, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    java = _JAVA_TYPES.get(kind, kind)
    if isinstance(value, list):
        raise SerializationException(f"Unrecognized collection type class java.lang.{java}")
    if kind == "blob" and isinstance(value, str):
        # JSON carries binary members as base64 text (a zip in Code.ZipFile).
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException("Failed to decode a base64 value") from None
    if _is_a(kind, value):
        return value
    if kind in ("integer", "long") and isinstance(value, float):
        return int(value)  # AWS truncates rather than refuses
    raise SerializationException(f"{_json_kind(value)} cannot be converted to {java}")


def _is_a(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "string":
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int)
    return kind in ("float", "double", "timestamp") and isinstance(value, int | float)


def _expect_object(value: Any, shape: Shape) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        raise SerializationException("Start of list found where not expected")
    raise SerializationException(f"{_json_kind(value)} cannot be converted to {shape.name}")


def _expect_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    raise SerializationException(f"{_json_kind(value)} cannot be converted to List")


def _json_kind(value: Any) -> str:
    """The deserialiser's token names."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "NUMBER_VALUE"


# ----------------------------------------------------------------------------- constraints


def _check_scalar(shape: Shape, value: Any, path: str, faults: list[str]) -> None:
    meta = shape.metadata
    if isinstance(value, str):
        enum = meta.get("enum")
        if enum and value not in enum:
            faults.append(_fault(_shown(shape, value), path,
                                 "Member must satisfy enum value set: [" + ", ".join(enum) + "]"))
        if shape.name in _BYTE_SIZED:
            if "max" in meta and _utf8_size(value) > meta["max"]:
                faults.append(_fault(_shown(shape, value), path,
                                     f"Member must have size less than or equal to "
                                     f"{meta['max']} bytes in UTF-8 encoding"))
        elif "min" in meta or "max" in meta:
            _check_length(shape, value, _java_length(value), path, faults)
        pattern = meta.get("pattern")
        if pattern and not _matches(pattern, value):
            faults.append(_fault(_shown(shape, value), path,
                                 f"Member must satisfy regular expression pattern: {pattern}"))
    elif isinstance(value, int) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            faults.append(_fault(_shown(shape, value), path,
                                 f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            faults.append(_fault(_shown(shape, value), path,
                                 f"Member must have value less than or equal to {meta['max']}"))


def _check_length(shape: Shape, value: Any, length: int, path: str, faults: list[str]) -> None:
    meta = shape.metadata
    if "min" in meta and length < meta["min"]:
        faults.append(_fault(_shown(shape, value), path,
                             f"Member must have length greater than or equal to {meta['min']}"))
    if "max" in meta and length > meta["max"]:
        faults.append(_fault(_shown(shape, value), path,
                             f"Member must have length less than or equal to {meta['max']}"))


def _utf8_size(text: str) -> int:
    """UTF-8 bytes of ``text`` (a lone surrogate counts as its 3 bytes)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _java_length(text: str) -> int:
    """String length as AWS (Java) counts it: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # The model's patterns are Java regexes; translate the one class Python lacks.
    try:
        return re.compile(pattern.replace(r"\p{ASCII}", r"[\x00-\x7f]"))
    except re.error:
        return None  # a pattern we cannot read is not enforced rather than refusing requests


def _matches(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def _shown(shape: Shape, value: Any) -> str | None:
    """How the message shows the value: quoted, or not at all for sensitive members."""
    if shape.metadata.get("sensitive"):
        return None
    return f"'{_java_text(value)}'"


def _java_text(value: Any) -> str:
    """A value as Java's toString renders it, which is what AWS's messages quote."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fault(shown: str | None, path: str, constraint: str) -> str:
    value = "Value" if shown is None else f"Value {shown}"
    return f"{value} at '{path}' failed to satisfy constraint: {constraint}"
