"""IAM's API, the subset a Step Functions + Lambda deployment uses, on the server's endpoint.

IAM speaks the Query protocol: ``POST /`` with a form body (``Action=CreateRole&Version=
2010-05-08&RoleName=...``), or the same parameters in a (presigned) GET's query string; answers
are XML (``<CreateRoleResponse><CreateRoleResult>...``) and errors are ``<ErrorResponse>``
with IAM's codes. Outputs are written by walking botocore's ``iam`` output shapes, so member
names, list wrappers (``<member>``) and timestamps are the ones botocore parses; policy
documents travel URL-encoded, as IAM sends them (botocore decodes them back to objects).

Operations: roles (Create/Get/List/Delete, UpdateAssumeRolePolicy), inline role policies
(Put/Get/List/Delete), managed policies (Create/Get/List/Delete, GetPolicyVersion) and their
attachment to roles (Attach/Detach/ListAttached). The rules live in ``runtime/iam.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

from botocore.model import Shape  # type: ignore[import-untyped]
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from statewright import errors
from statewright.api import protocol, shapes
from statewright.runtime.engine import Engine
from statewright.runtime.iam import IamOps, PolicyRecord, RoleRecord

log = logging.getLogger("statewright.api")

SERVICE = "iam"
NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
CONTENT_TYPE = "text/xml"
#: IAM requests are small forms (a policy document is at most 131,072 characters).
MAX_BODY_BYTES = 1 << 20

Params = dict[str, str]
Output = dict[str, Any]


def is_iam(request: Request) -> bool:
    """Whether a request to ``/`` is an IAM (Query protocol) call."""
    if "x-amz-target" in request.headers:
        return False
    content_type = request.headers.get("content-type", "")
    return (content_type.startswith("application/x-www-form-urlencoded")
            or "Action" in request.query_params)


async def handle(engine: Engine, request: Request) -> Response:
    request_id = protocol.new_request_id()
    try:
        params = await _params(request)
        action = params.get("Action", "")
        operation = OPERATIONS.get(action)
        if operation is None:
            raise _InvalidAction(f"Could not find operation {action} for version "
                                 f"{params.get('Version', 'NO_VERSION_SPECIFIED')}")
        _check_required(action, params)
        result = await run_in_threadpool(
            engine.call_iam, lambda ops: operation(ops, params))
        return _success(action, result, request_id)
    except errors.AwsError as exc:
        return failure(exc, request_id)
    except Exception:
        log.exception("request %s failed", request_id)
        return failure(errors.AwsError(
            f"An internal error occurred; see the server log for request {request_id}"),
            request_id)


async def _params(request: Request) -> Params:
    params: Params = dict(request.query_params)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise errors.ValidationError("Request body is too large")
    if body:
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise errors.ValidationError("The request body is not UTF-8 text") from None
    return params


class _InvalidAction(errors.AwsError):
    code = "InvalidAction"
    status = 400


def _check_required(action: str, params: Params) -> None:
    model = shapes.operation_model(action, SERVICE)
    assert model is not None
    missing = [name for name in model.input_shape.required_members if name not in params]
    if missing:
        faults = [f"Value null at '{name[0].lower()}{name[1:]}' failed to satisfy constraint: "
                  "Member must not be null" for name in missing]
        raise errors.ValidationError(
            f"{len(faults)} validation error{'s' if len(faults) > 1 else ''} detected: "
            + "; ".join(faults))


def _int(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.ValidationError(f"Invalid value for parameter {name}: {raw}") from None


# ----------------------------------------------------------------------------- operations


def _role(record: RoleRecord) -> Output:
    return {"Path": record.path, "RoleName": record.name, "RoleId": record.role_id,
            "Arn": record.arn, "CreateDate": record.created_at,
            "AssumeRolePolicyDocument": quote(record.assume_role_policy, safe=""),
            **({"Description": record.description} if record.description else {}),
            "MaxSessionDuration": record.max_session_duration}


def _policy(ops: IamOps, record: PolicyRecord) -> Output:
    return {"PolicyName": record.name, "PolicyId": record.policy_id, "Arn": record.arn,
            "Path": record.path, "DefaultVersionId": "v1",
            "AttachmentCount": ops.store.count_policy_attachments(record.arn),
            "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            **({"Description": record.description} if record.description else {}),
            "CreateDate": record.created_at, "UpdateDate": record.created_at}


def _page(items: list[Any], params: Params) -> tuple[list[Any], Output]:
    """IAM's Marker/MaxItems paging (the marker is an offset)."""
    start = _int(params, "Marker") or 0
    size = _int(params, "MaxItems") or 100
    page = items[start:start + size]
    more = start + size < len(items)
    return page, {"IsTruncated": more, **({"Marker": str(start + size)} if more else {})}


def create_role(ops: IamOps, p: Params) -> Output:
    record = ops.create_role(p["RoleName"], p["AssumeRolePolicyDocument"], p.get("Path"),
                             p.get("Description"), _int(p, "MaxSessionDuration"))
    return {"Role": _role(record)}


def get_role(ops: IamOps, p: Params) -> Output:
    return {"Role": _role(ops.get_role(p["RoleName"]))}


def list_roles(ops: IamOps, p: Params) -> Output:
    roles, paging = _page(ops.list_roles(p.get("PathPrefix", "/")), p)
    return {"Roles": [_role(r) for r in roles], **paging}


def delete_role(ops: IamOps, p: Params) -> Output:
    ops.delete_role(p["RoleName"])
    return {}


def update_assume_role_policy(ops: IamOps, p: Params) -> Output:
    ops.update_trust_policy(p["RoleName"], p["PolicyDocument"])
    return {}


def put_role_policy(ops: IamOps, p: Params) -> Output:
    ops.put_role_policy(p["RoleName"], p["PolicyName"], p["PolicyDocument"])
    return {}


def get_role_policy(ops: IamOps, p: Params) -> Output:
    document = ops.get_role_policy(p["RoleName"], p["PolicyName"])
    return {"RoleName": p["RoleName"], "PolicyName": p["PolicyName"],
            "PolicyDocument": quote(document, safe="")}


def list_role_policies(ops: IamOps, p: Params) -> Output:
    names, paging = _page(ops.list_role_policies(p["RoleName"]), p)
    return {"PolicyNames": names, **paging}


def delete_role_policy(ops: IamOps, p: Params) -> Output:
    ops.delete_role_policy(p["RoleName"], p["PolicyName"])
    return {}


def create_policy(ops: IamOps, p: Params) -> Output:
    record = ops.create_policy(p["PolicyName"], p["PolicyDocument"], p.get("Path"),
                               p.get("Description"))
    return {"Policy": _policy(ops, record)}


def get_policy(ops: IamOps, p: Params) -> Output:
    return {"Policy": _policy(ops, ops.get_policy(p["PolicyArn"]))}


def get_policy_version(ops: IamOps, p: Params) -> Output:
    record = ops.get_policy(p["PolicyArn"])
    if p["VersionId"] != "v1":
        raise errors.NoSuchEntity(f"Policy {record.arn} version {p['VersionId']} does not "
                                  "exist or is not attachable.")
    return {"PolicyVersion": {"Document": quote(record.document, safe=""), "VersionId": "v1",
                              "IsDefaultVersion": True, "CreateDate": record.created_at}}


def list_policies(ops: IamOps, p: Params) -> Output:
    found = ops.list_policies(p.get("Scope", "All"))
    if p.get("OnlyAttached") == "true":
        found = [r for r in found if ops.store.count_policy_attachments(r.arn)]
    policies, paging = _page(found, p)
    return {"Policies": [_policy(ops, r) for r in policies], **paging}


def delete_policy(ops: IamOps, p: Params) -> Output:
    ops.delete_policy(p["PolicyArn"])
    return {}


def attach_role_policy(ops: IamOps, p: Params) -> Output:
    ops.attach_role_policy(p["RoleName"], p["PolicyArn"])
    return {}


def detach_role_policy(ops: IamOps, p: Params) -> Output:
    ops.detach_role_policy(p["RoleName"], p["PolicyArn"])
    return {}


def list_attached_role_policies(ops: IamOps, p: Params) -> Output:
    arns, paging = _page(ops.list_attached_role_policies(p["RoleName"]), p)
    return {"AttachedPolicies": [{"PolicyName": arn.rsplit("/", 1)[1], "PolicyArn": arn}
                                 for arn in arns], **paging}


#: IAM's operations statewright serves: one function and one row each.
OPERATIONS: dict[str, Callable[[IamOps, Params], Output]] = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "ListRoles": list_roles,
    "DeleteRole": delete_role,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "PutRolePolicy": put_role_policy,
    "GetRolePolicy": get_role_policy,
    "ListRolePolicies": list_role_policies,
    "DeleteRolePolicy": delete_role_policy,
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "GetPolicyVersion": get_policy_version,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    "AttachRolePolicy": attach_role_policy,
    "DetachRolePolicy": detach_role_policy,
    "ListAttachedRolePolicies": list_attached_role_policies,
}


# ----------------------------------------------------------------------------- answers


def _success(action: str, result: Output, request_id: str) -> Response:
    model = shapes.operation_model(action, SERVICE)
    assert model is not None
    inner = ""
    if model.output_shape is not None:
        inner = f"<{action}Result>{_members(model.output_shape, result)}</{action}Result>"
    body = (f'<{action}Response xmlns="{NAMESPACE}">{inner}<ResponseMetadata><RequestId>'
            f"{request_id}</RequestId></ResponseMetadata></{action}Response>")
    return Response(body.encode("utf-8"), 200,
                    {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE})


def _members(shape: Shape, value: Output) -> str:
    parts = []
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            parts.append(f"<{name}>{_value(member, value[name])}</{name}>")
    return "".join(parts)


def _value(shape: Shape, value: Any) -> str:
    match shape.type_name:
        case "structure":
            return _members(shape, value)
        case "list":
            return "".join(f"<member>{_value(shape.member, item)}</member>" for item in value)
        case "timestamp":
            stamp = datetime.fromtimestamp(float(value), UTC)
            return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        case "boolean":
            return "true" if value else "false"
        case _:
            return escape(str(value))


def failure(error: errors.AwsError, request_id: str) -> Response:
    """An error as IAM sends it."""
    kind = "Sender" if error.status < 500 else "Receiver"
    body = (f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(body.encode("utf-8"), error.status,
                    {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE})
