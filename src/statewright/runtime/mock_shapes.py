"""TestState's ``mock.fieldValidationMode``: a mocked result checked against the API it mocks.

AWS (API reference, MockInput): "STRICT: All required fields must be present, and all present
fields must conform to the API's schema. PRESENT: All present fields must conform to the API's
schema. NONE: No validation is performed." The schema is the service's output shape in
botocore's bundled models, found from the Task's resource: ``arn:aws:states:::SERVICE:api``
(an optimized integration) or ``arn:aws:states:::aws-sdk:SERVICE:api``. Resources with no
model (a Lambda function ARN, an activity, an unknown service) are not checked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]
from botocore.model import OperationNotFoundError, Shape  # type: ignore[import-untyped]

from statewright.asl.resources import Resource

#: Integration service names (as in ``arn:aws:states:::NAME:api``) whose botocore model is
#: named otherwise.
_MODEL_NAMES = {"states": "stepfunctions", "sfn": "stepfunctions", "eventbridge": "events"}


def check_mocked_result(resource: Resource, result: Any, mode: str) -> list[str]:
    """Where ``result`` breaks the output shape of ``resource``'s API: one line per problem
    (empty when it conforms, when ``mode`` is NONE, or when no model is known)."""
    if mode == "NONE":
        return []
    shape = _output_shape(*_service_and_api(resource))
    if shape is None:
        return []
    problems: list[str] = []
    _check(shape, result, "", mode == "STRICT", problems)
    return problems


def _service_and_api(resource: Resource) -> tuple[str, str]:
    if resource.kind != "service":
        return "", ""
    if resource.service == "aws-sdk":
        service, _, api = resource.api.partition(":")
        return service, api
    return resource.service, resource.api


@lru_cache(maxsize=256)
def _output_shape(service: str, api: str) -> Shape | None:
    if not service or not api:
        return None
    session = _session()
    try:
        model = session.get_service_model(_MODEL_NAMES.get(service, service))
        operation = model.operation_model(api[:1].upper() + api[1:])
    except (UnknownServiceError, OperationNotFoundError):
        return None
    shape: Shape | None = operation.output_shape
    return shape


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "integer": (int,), "long": (int,),
    "float": (int, float), "double": (int, float), "timestamp": (str, int, float),
}


def _check(shape: Shape, value: Any, where: str, strict: bool, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{where or '/'}: expected an object ({shape.name})")
            return
        # AWS SDK integrations answer with PascalCase names whatever the model's case
        # (``ExecutionArn`` for StepFunctions' ``executionArn``): compare them so.
        members = {_pascal(name): member for name, member in shape.members.items()}
        given = {_pascal(name) for name in value}
        if strict:
            for name in shape.required_members:
                if _pascal(name) not in given:
                    problems.append(f"{where}/{_pascal(name)}: required by {shape.name}, "
                                    "missing")
        for name, item in value.items():
            member = members.get(_pascal(name))
            if member is None:
                problems.append(f"{where}/{name}: not a field of {shape.name}")
            else:
                _check(member, item, f"{where}/{name}", strict, problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list")
            return
        for index, item in enumerate(value):
            _check(shape.member, item, f"{where}/{index}", strict, problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: expected an object (a map)")
            return
        for key, item in value.items():
            _check(shape.value, item, f"{where}/{key}", strict, problems)
    elif kind in _TYPES:
        expected = _TYPES[kind]
        if not isinstance(value, expected) or (bool not in expected and isinstance(value, bool)):
            problems.append(f"{where}: expected {kind}, got {_json_type(value)}")
    # blob and document: any JSON (Step Functions decodes a Lambda Payload blob into JSON)


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)
