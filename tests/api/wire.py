"""Checks raw answers against botocore's output shapes, strictly.

botocore's parser silently drops members it does not know and accepts wrong types in places,
so a wrong member name would pass a boto3 test unnoticed. ``ShapeChecker`` sees each raw answer
first (botocore's ``before-parse`` event) and records every departure from the model.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, Shape


class ShapeChecker:
    """Records faults of the answers it sees; ``faults`` stays empty when all is well."""

    def __init__(self) -> None:
        self.faults: list[str] = []

    def check(self, operation_model: OperationModel, response_dict: dict[str, Any],
              **_: Any) -> None:
        name = operation_model.name
        status = response_dict["status_code"]
        headers = {k.lower(): v for k, v in response_dict["headers"].items()}
        if not headers.get("x-amzn-requestid"):
            self.faults.append(f"{name}: no x-amzn-RequestId")
        if headers.get("content-type") != "application/x-amz-json-1.0":
            self.faults.append(f"{name}: content-type {headers.get('content-type')}")
        try:
            body = json.loads(response_dict["body"])
        except ValueError:
            self.faults.append(f"{name}: HTTP {status} body is not JSON")
            return
        if status == 200:
            if operation_model.output_shape is not None:
                self.faults += output_faults(operation_model.output_shape, body, name)
        elif status in (400, 503):
            if set(body) != {"__type", "message"} or not isinstance(body["message"], str):
                self.faults.append(f"{name}: error body {body}")
            else:
                known = {shape.name for shape in operation_model.error_shapes}
                generic = {"ValidationException", "SerializationException",
                           "UnknownOperationException", "ServiceUnavailable",
                           "ThrottlingException"}
                if body["__type"] not in known | generic:
                    self.faults.append(f"{name}: {body['__type']} is not a modelled error")
        else:
            self.faults.append(f"{name}: HTTP {status}: {body}")


def output_faults(shape: Shape, value: Any, path: str) -> list[str]:
    """Every way ``value`` departs from ``shape``: unknown or missing members, wrong types,
    values outside an enum."""
    kind = shape.type_name
    faults: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        for name in value:
            if name not in shape.members:
                faults.append(f"{path}.{name}: not in {shape.name}")
        for name in shape.required_members:
            if value.get(name) is None:
                faults.append(f"{path}.{name}: required, missing")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                faults += output_faults(member, value[name], f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        for i, item in enumerate(value):
            faults += output_faults(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        for key, item in value.items():
            faults += output_faults(shape.value, item, f"{path}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            faults.append(f"{path}: {value!r} is not a string")
        elif shape.enum and value not in shape.enum:
            faults.append(f"{path}: {value!r} not in {shape.name}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            faults.append(f"{path}: {value!r} is not an integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            faults.append(f"{path}: {value!r} is not a boolean")
    elif kind == "timestamp" and (not isinstance(value, int | float) or isinstance(value, bool)):
        faults.append(f"{path}: {value!r} is not epoch seconds")  # awsJson: a number
    return faults


class RestJsonChecker:
    """The Lambda side (restJson1): JSON answers match the output shapes, errors carry
    ``x-amzn-ErrorType`` and Lambda's ``{"Type", "message"}`` body, and nothing is a 500."""

    def __init__(self) -> None:
        self.faults: list[str] = []

    def check(self, operation_model: OperationModel, response_dict: dict[str, Any],
              **_: Any) -> None:
        name = operation_model.name
        status = response_dict["status_code"]
        headers = {k.lower(): v for k, v in response_dict["headers"].items()}
        if not headers.get("x-amzn-requestid"):
            self.faults.append(f"{name}: no x-amzn-RequestId")
        if status >= 500:
            self.faults.append(f"{name}: HTTP {status}: {response_dict['body'][:300]!r}")
            return
        if status in (202, 204) or (name == "Invoke" and status == 200):
            return  # no JSON body: Invoke's is the function's payload
        if headers.get("content-type") != "application/json":
            self.faults.append(f"{name}: content-type {headers.get('content-type')}")
        try:
            body = json.loads(response_dict["body"])
        except ValueError:
            self.faults.append(f"{name}: HTTP {status} body is not JSON")
            return
        if status < 300:
            if operation_model.output_shape is not None:
                body_members = {k: v for k, v in operation_model.output_shape.members.items()
                                if "location" not in v.serialization}
                shape = operation_model.output_shape
                faults = output_faults(shape, body, name)
                # Members the model places in headers or the status line are not in the body.
                faults = [f for f in faults
                          if not any(f.startswith(f"{name}.{m}: required") for m in
                                     set(shape.members) - set(body_members))]
                self.faults += faults
            return
        code = headers.get("x-amzn-errortype")
        if not code:
            self.faults.append(f"{name}: HTTP {status} without x-amzn-ErrorType")
        if not isinstance(body, dict) or body.get("Type") not in ("User", "Service") or not (
                isinstance(body.get("message"), str) or isinstance(body.get("Message"), str)):
            self.faults.append(f"{name}: error body {body}")
